#!/usr/bin/env bash
# A/B timing of two memcheck builds on a machine whose speed swings (a shared VM): each round runs
# A and B at the same time, pinned to different cores (swapped every round), so a slow phase of
# the machine hits both; the ratio B/A of each round's user+sys time is what is compared.
# Alternating runs one after the other (min/median of each) needed ~10 pairs to see a 5% change
# on cc1plus; the phases here move a run by 10-30% within minutes.
#
# usage: bench/tools/ab-pairs.sh [-n ROUNDS] [-w] [-s] A B -- ARGS...
#   -w      compare wall time (nanosecond clock) instead of user+sys (GNU time: 10 ms steps, too
#           coarse for start-up: /bin/true)
#   -s      a layout of its own each round (MEMCHECK_LAYOUT_SEED=round for A and B alike, see
#           BlockTranslator.LayoutSeed): a workload whose time hangs on a few hot fragments
#           moves by several percent with their alignment (sqlite +-4%), so a change that moves
#           every fragment (bytes added or removed at each entry) is measured over many layouts,
#           not judged by the one both builds happen to get. The padding costs both alike.
#   A, B    two memcheck executables (e.g. from `dotnet publish ... -o DIR`: DIR/memcheck)
#   ARGS    the command line after the executable, the same for both
#           (e.g. -q --log-file=/dev/null -- /usr/lib/gcc/x86_64-linux-gnu/12/cc1plus ...)
# Prints each round's times and ratio, then the geometric mean of B/A with a 95% interval
# (t distribution over the log ratios). Needs 2 cores; both processes' other threads (the
# populating thread, the GC) share their process's core. Not run by CI.
set -euo pipefail

rounds=10 wall=0 seeds=0
while [[ ${1:-} == -n || ${1:-} == -w || ${1:-} == -s ]]; do
    if [[ $1 == -n ]]; then rounds=$2; shift 2; elif [[ $1 == -w ]]; then wall=1; shift; else seeds=1; shift; fi
done
if [[ $# -lt 3 || $3 != -- ]]; then
    sed -n '2,21p' "$0" >&2
    exit 2
fi
a=$1 b=$2
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ratios=()
for ((i = 1; i <= rounds; i++)); do
    if ((i % 2)); then ca=0 cb=1; else ca=1 cb=0; fi
    if ((seeds)); then export MEMCHECK_LAYOUT_SEED=$i; fi
    if ((wall)); then
        (s=$(date +%s%N); taskset -c $ca "$a" "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo "$(( (e - s) / 1000 ))e-6 0" >"$tmp/a") &
        (s=$(date +%s%N); taskset -c $cb "$b" "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo "$(( (e - s) / 1000 ))e-6 0" >"$tmp/b") &
    else
        /usr/bin/time -o "$tmp/a" -f "%U %S" taskset -c $ca "$a" "$@" >/dev/null 2>&1 &
        /usr/bin/time -o "$tmp/b" -f "%U %S" taskset -c $cb "$b" "$@" >/dev/null 2>&1 &
    fi
    wait
    ta=$(awk 'END { printf "%.4f", $1 + $2 }' "$tmp/a")
    tb=$(awk 'END { printf "%.4f", $1 + $2 }' "$tmp/b")
    r=$(awk -v a="$ta" -v b="$tb" 'BEGIN { printf "%.4f", b / a }')
    ratios+=("$r")
    printf 'round %2d: A %7.4f s  B %7.4f s  B/A %s\n' "$i" "$ta" "$tb" "$r"
done
printf '%s\n' "${ratios[@]}" | awk '
    { l[NR] = log($1); s += l[NR] }
    END {
        n = NR; m = s / n
        for (i = 1; i <= n; i++) v += (l[i] - m) ^ 2
        sd = n > 1 ? sqrt(v / (n - 1)) : 0
        # two-sided 95% t quantiles for n-1 degrees of freedom (beyond 30: the normal 1.96)
        split("12.71 4.30 3.18 2.78 2.57 2.45 2.36 2.31 2.26 2.23 2.20 2.18 2.16 2.14 2.13 2.12 2.11 2.10 2.09 2.09 2.08 2.07 2.07 2.06 2.06 2.06 2.05 2.05 2.05 2.04", t, " ")
        q = n - 1 <= 30 && n > 1 ? t[n - 1] : 1.96
        h = n > 1 ? q * sd / sqrt(n) : 0
        printf "B/A geometric mean %.3f (95%%: %.3f-%.3f) over %d rounds\n", exp(m), exp(m - h), exp(m + h), n
    }'
