#!/usr/bin/env bash
# Benchmark: slowdown of memcheck (and of Valgrind, when installed) versus native.
#
# usage: bench/run.sh [--tool none|memcheck] [--runs N] [--option OPT]... [--skip-valgrind] [--warm] [WORKLOAD...]
#
#   --tool T   the tool to measure: memcheck runs as './memcheck --tool T --',
#              valgrind as 'valgrind -q --tool=T' (default: none)
#   --runs N   rounds per workload (each runs native, memcheck and valgrind once,
#              in turn, so a change in the machine's speed hits all of them); the
#              minimum wall time of each configuration is kept (default: 3)
#   --option OPT  an extra memcheck option (repeatable), e.g.
#              --option --check-uninitialized=no --option --track-origins=yes
#   --skip-valgrind  measure memcheck and native only (a second configuration)
#   --warm     memcheck keeps its translations across runs (--translation-cache=bench/out/xlt,
#              emptied first): the first round translates and saves, the later ones start
#              from it, so with --runs 2 or more the minimum is a warm run. Without it every
#              run translates from scratch.
#   WORKLOAD   run only these (default: all): alloc cxxalloc numeric strsort
#              sort gzip python sqlite xz cc1plus threads1 threads2 churn
#
# cxxalloc is C++ allocation-heavy work (small objects in std::map,
# std::unordered_map, std::string, std::vector). cc1plus is large code: GCC's
# C++ compiler proper compiling a short template-heavy file at -O1 (over 100k
# fragments); the file is preprocessed once with g++ -E into bench/out/data.
#
# threads1/threads2 are the same CPU-bound work on 1 and 2 threads: with threads
# that run in parallel, threads2 takes about half of threads1's time (the ratio
# is printed at the end for each tool). churn creates and joins 2000 short-lived
# threads, two at a time: what a thread's start and end cost (an 8 MB stack given
# back at each end cost 25 ms under memcheck before session 34, unseen by the rest).
#
# Peak resident memory (MB) is printed next to each time, with memcheck's and
# valgrind's ratio to native's: the largest ru_maxrss over the runs of that
# workload and configuration. bench/workloads/measure.c runs each command and
# reads it from wait4 (so /usr/bin/time is not needed), and times the command
# itself, fork to wait4: timing around it in the shell would add the shell's
# forks (a few ms here), which flattered short runs. The start-up lines give
# the same for /bin/true: the fixed cost in time and memory. The last lines take
# that fixed cost off each workload's peak and divide the rest by native's peak:
# the memory a tool adds in proportion to the program.
#
# memcheck is built through ./memcheck once at the start; the runs then use the
# binary it built (.build/memcheck/memcheck) directly, so the launcher's own
# cost isn't counted and edits under src/ during a run don't rebuild it.
#
# Every run's stdout and exit status must match the native run's, or the row
# says MISMATCH/FAIL and the workload is left out of that column's geometric
# mean. Builds, generated inputs and outputs go to bench/out/ (ignored by git).
# Not run by CI.
#
# To see where a workload's time goes inside the code cache (by fragment, routine and
# instruction form): bench/tools/cache-profile.py (perf samples mapped through MEMCHECK_TRACE=1).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
bench="$root/bench"
out="$bench/out"

tool=none
runs=3
selected=()
extra_options=()
skip_valgrind=
warm=
while (($#)); do
    case "$1" in
        --tool) tool="${2:?--tool needs a value}"; shift 2 ;;
        --tool=*) tool="${1#--tool=}"; shift ;;
        --runs) runs="${2:?--runs needs a value}"; shift 2 ;;
        --runs=*) runs="${1#--runs=}"; shift ;;
        --option) extra_options+=("${2:?--option needs a value}"); shift 2 ;;
        --option=*) extra_options+=("${1#--option=}"); shift ;;
        --skip-valgrind) skip_valgrind=1; shift ;;
        --warm) warm=1; shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "bench: unknown option $1" >&2; exit 2 ;;
        *) selected+=("$1"); shift ;;
    esac
done

all_workloads=(alloc cxxalloc numeric strsort sort gzip python sqlite xz cc1plus threads1 threads2 churn)
if ((${#selected[@]} == 0)); then
    selected=("${all_workloads[@]}")
fi
for w in "${selected[@]}"; do
    if [[ " ${all_workloads[*]} " != *" $w "* ]]; then
        echo "bench: unknown workload $w (have: ${all_workloads[*]})" >&2
        exit 2
    fi
done

export LC_ALL=C TZ=UTC
python=/usr/bin/python3
mkdir -p "$out/bin" "$out/data" "$out/runs"

# --- build the C and C++ workloads and the RSS helper ---------------------------
for src in alloc.c numeric.c strsort.c threads.c churn.c measure.c cxxalloc.cpp; do
    exe="$out/bin/${src%.*}"
    src="$bench/workloads/$src"
    if [[ ! -x "$exe" || "$src" -nt "$exe" ]]; then
        case "$src" in
            *.c) gcc -O2 -pthread -o "$exe" "$src" ;;
            *.cpp) g++ -O2 -pthread -o "$exe" "$src" ;;
        esac || { echo "bench: cannot compile $src" >&2; exit 1; }
    fi
done
measure="$out/bin/measure"

# --- generated inputs (deterministic: fixed seeds) ------------------------------
gen_lines() { # gen_lines BYTES FILE: lines "word number word,word"
    "$python" - "$1" > "$2" <<'EOF'
import random, sys
size = int(sys.argv[1])
rng = random.Random(42)
syl = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "xe", "zo", "bra", "qui", "st", "ph", "ong", "ell"]
def word():
    return "".join(rng.choice(syl) for _ in range(rng.randint(1, 4)))
parts, n = [], 0
while n < size:
    line = f"{word()} {rng.randint(0, 999999)} {word()},{word()}\n"
    parts.append(line)
    n += len(line)
sys.stdout.write("".join(parts))
EOF
}

gen_sql() { # gen_sql ROWS FILE: a script for sqlite3 :memory:
    "$python" - "$1" > "$2" <<'EOF'
import random, sys
rows = int(sys.argv[1])
rng = random.Random(7)
out = ["CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT, cat INTEGER, price REAL, qty INTEGER);",
       "CREATE TABLE cat(id INTEGER PRIMARY KEY, label TEXT);",
       "BEGIN;"]
out += [f"INSERT INTO cat VALUES ({c}, 'category-{c:02d}');" for c in range(50)]
for i in range(rows):
    out.append(f"INSERT INTO item(name, cat, price, qty) VALUES ('item{i:07d}-{rng.randint(0, 1 << 30):x}', "
               f"{rng.randint(0, 49)}, {rng.uniform(1, 1000):.2f}, {rng.randint(1, 100)});")
out += ["COMMIT;",
        "CREATE INDEX item_cat ON item(cat);",
        "SELECT c.label, count(*), printf('%.2f', sum(i.price * i.qty)), max(i.price) "
        "FROM item i JOIN cat c ON c.id = i.cat GROUP BY c.label ORDER BY c.label;",
        "SELECT count(*) FROM item WHERE name LIKE '%ab%';",
        "SELECT cat, count(DISTINCT qty) FROM item GROUP BY cat ORDER BY 2 DESC, 1 LIMIT 5;",
        "SELECT name FROM item ORDER BY price DESC, name LIMIT 3;"]
print("\n".join(out))
EOF
}

sort_input="$out/data/lines-20M.v1.txt"
gzip_input="$out/data/lines-20M.v1.txt"
sql_input="$out/data/items-70k.v1.sql"
need_data() { [[ " ${selected[*]} " == *" $1 "* ]]; }
if (need_data sort || need_data gzip || need_data xz) && [[ ! -s "$sort_input" ]]; then
    echo "bench: generating $sort_input" >&2
    gen_lines 20000000 "$sort_input.tmp" && mv "$sort_input.tmp" "$sort_input" || exit 1
fi
if need_data sqlite && [[ ! -s "$sql_input" ]]; then
    echo "bench: generating $sql_input" >&2
    gen_sql 70000 "$sql_input.tmp" && mv "$sql_input.tmp" "$sql_input" || exit 1
fi
# cc1plus: the compiler proper g++ runs, on the preprocessed source (so the
# measured run reads no headers). Preprocessed again when the source changes,
# from its own directory: the line markers then name it without the checkout's
# path, so every clone and worktree compiles the same input (the compiler's
# work, and memcheck's report of it, changed with the path's length).
cxx_source="$bench/workloads/templates.cpp"
cxx_input="$out/data/templates.ii"
if need_data cc1plus; then
    cc1plus="$(g++ -print-prog-name=cc1plus)"
    if [[ "$cc1plus" != /* || ! -x "$cc1plus" ]]; then
        echo "bench: g++ -print-prog-name=cc1plus gives '$cc1plus', not an executable path" >&2
        exit 1
    fi
    if [[ ! -s "$cxx_input" || "$cxx_source" -nt "$cxx_input" ]]; then
        echo "bench: preprocessing $cxx_source" >&2
        (cd "$(dirname "$cxx_source")" && g++ -E -o "$cxx_input.tmp" "$(basename "$cxx_source")") && mv "$cxx_input.tmp" "$cxx_input" || exit 1
    fi
fi

python_script='
d = {}
total = 0
for i in range(1200000):
    k = (i * 7919) % 10007
    d[k] = d.get(k, 0) + i
    total += len(str(i)) * (i & 7)
words = sorted(("w%d" % (v % 997)) for v in d.values())
print(len(d), total, words[0], words[-1], sum(len(w) for w in words))
'

# workload_command NAME: sets cmd (argv array) and input (stdin file)
workload_command() {
    input=/dev/null
    case "$1" in
        alloc) cmd=("$out/bin/alloc") ;;
        cxxalloc) cmd=("$out/bin/cxxalloc") ;;
        numeric) cmd=("$out/bin/numeric") ;;
        strsort) cmd=("$out/bin/strsort") ;;
        sort) cmd=(/usr/bin/sort -S 512M "$sort_input") ;;
        xz) cmd=(/usr/bin/xz -T2 -1 -c "$gzip_input") ;;
        threads1) cmd=("$out/bin/threads" 1) ;;
        threads2) cmd=("$out/bin/threads" 2) ;;
        churn) cmd=("$out/bin/churn" 2000) ;;
        gzip) cmd=(/usr/bin/gzip -1 -c "$gzip_input") ;;
        python) cmd=("$python" -I -B -c "$python_script") ;;
        sqlite) cmd=(/usr/bin/sqlite3 :memory:); input="$sql_input" ;;
        cc1plus) cmd=("$cc1plus" -quiet -O1 "$cxx_input" -o /dev/null) ;;
    esac
}

# --- configurations -------------------------------------------------------------
valgrind="$(command -v valgrind || true)"
[[ -n "$skip_valgrind" ]] && valgrind=""
if ! CHECKER_BUILD_ONLY=1 "$root/memcheck"; then
    echo "bench: cannot build memcheck" >&2
    exit 1
fi
memcheck="$root/.build/memcheck/memcheck"
if [[ -n "$warm" ]]; then
    rm -rf "$out/xlt"
    extra_options+=("--translation-cache=$out/xlt")
fi

# prefix_for CONFIG: sets prefix (argv array put before the workload's)
prefix_for() {
    case "$1" in
        native) prefix=() ;;
        memcheck) prefix=("$memcheck" --tool "$tool" "${extra_options[@]}" --) ;;
        valgrind) prefix=("$valgrind" -q "--tool=$tool") ;;
    esac
}

seconds() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }
megabytes() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# run_once CONFIG NAME: one run of the workload under CONFIG; keeps the minimum
# wall time (ns) in best[CONFIG], the largest peak RSS (KiB) in peak[CONFIG] and
# the status in state[CONFIG] ("ok", "FAIL(rc=N)" or "MISMATCH"; a failed
# configuration is not run again). The native run's output is the reference.
run_once() {
    local config="$1" name="$2" elapsed rc kb
    local result="$out/runs/$name.$config.out" reference="$out/runs/$name.native.out"
    local errors="$out/runs/$name.$config.err" rss="$out/runs/$name.$config.rss"
    [[ "${state[$config]}" == ok ]] || return
    workload_command "$name"
    prefix_for "$config"
    "$measure" "$rss" "${prefix[@]}" "${cmd[@]}" <"$input" >"$result" 2>"$errors"
    rc=$?
    if [[ "$config" == native ]]; then
        echo "$rc" > "$out/runs/$name.native.rc"
        if ((rc != 0)); then state[$config]="FAIL(rc=$rc)"; fi
    else
        if [[ "$rc" != "$(cat "$out/runs/$name.native.rc")" ]]; then
            state[$config]="FAIL(rc=$rc)"
        elif ! cmp -s "$result" "$reference"; then
            state[$config]=MISMATCH
        fi
    fi
    [[ "${state[$config]}" == ok ]] || return
    read -r kb elapsed <"$rss"
    if [[ -z "${best[$config]}" ]] || ((elapsed < best[$config])); then best[$config]=$elapsed; fi
    if ((kb > peak[$config])); then peak[$config]=$kb; fi
}

# measure_all NAME CONFIG...: $runs rounds, each running every configuration once
# in turn (native first: its output is the reference). Interleaved rounds, not
# one configuration's runs after another's: this VM's speed changes by up to 2x
# over tens of seconds, and the ratios must compare runs made under one regime.
measure_all() {
    local name="$1" config i
    shift
    for config in "$@"; do best[$config]=""; peak[$config]=0; state[$config]=ok; done
    for ((i = 0; i < runs; i++)); do
        for config in "$@"; do run_once "$config" "$name"; done
        [[ "${state[native]}" == ok ]] || return
    done
}

# tool_columns CONFIG NAME: a tool's configuration measured by measure_all: sets
# t_time, t_slow and t_mem (peak MB and its ratio to native's) for the table;
# appends to CONFIG_slowdowns and CONFIG_memory for the geometric means.
tool_columns() {
    local config="$1" name="$2" slow mem
    local -n slowdowns="${config}_slowdowns" memory="${config}_memory"
    if [[ "${state[$config]}" != ok ]]; then
        t_time="${state[$config]}"; t_slow="-"; t_mem="-"
        return
    fi
    times["$config.$name"]=${best[$config]}
    peaks["$config.$name"]=${peak[$config]}
    slow=$(ratio "${best[$config]}" "$native_ns")
    mem=$(ratio "${peak[$config]}" "$native_kb")
    slowdowns+=("$slow")
    memory+=("$mem")
    t_time=$(seconds "${best[$config]}")
    t_slow="${slow}x"
    t_mem="$(megabytes "${peak[$config]}") ($(awk -v r="$mem" 'BEGIN { printf "%.1f", r }')x)"
}

row() { printf '%-9s %9s %10s %11s %9s %14s %11s %9s %14s\n' "$@"; }
row workload "native s" "native MB" "memcheck s" slowdown "memcheck MB" "valgrind s" slowdown "valgrind MB"
memcheck_slowdowns=() memcheck_memory=()
valgrind_slowdowns=() valgrind_memory=()
declare -A times   # CONFIG.NAME -> best ns, for the thread ratio
declare -A peaks   # CONFIG.NAME -> peak kB, for the memory beyond the fixed cost
declare -A best peak state   # CONFIG -> the current workload's figures (measure_all)
configs=(native memcheck)
[[ -n "$valgrind" ]] && configs+=(valgrind)
for name in "${selected[@]}"; do
    measure_all "$name" "${configs[@]}"
    if [[ "${state[native]}" != ok ]]; then
        printf '%-9s %9s  (native run failed; see bench/out/runs/%s.native.err)\n' "$name" "${state[native]}" "$name"
        continue
    fi
    native_ns=${best[native]}
    native_kb=${peak[native]}
    peaks["native.$name"]=$native_kb
    times["native.$name"]=$native_ns

    tool_columns memcheck "$name"
    m_time=$t_time m_slow=$t_slow m_mem=$t_mem
    if [[ -n "$valgrind" ]]; then
        tool_columns valgrind "$name"
        v_time=$t_time v_slow=$t_slow v_mem=$t_mem
    else
        v_time="n/a" v_slow="-" v_mem="-"
    fi
    row "$name" "$(seconds "$native_ns")" "$(megabytes "$native_kb")" \
        "$m_time" "$m_slow" "$m_mem" "$v_time" "$v_slow" "$v_mem"
done

# Parallel threads: the 2-thread run's time over the 1-thread run's, per configuration.
for config in native memcheck valgrind; do
    if [[ -n "${times[$config.threads1]:-}" && -n "${times[$config.threads2]:-}" ]]; then
        echo "threads2 / threads1 under $config: $(awk -v a="${times[$config.threads2]}" -v b="${times[$config.threads1]}" 'BEGIN { printf "%.2f", a / b }')"
    fi
done

geomean() {
    (($#)) || { echo "-"; return; }
    printf '%s\n' "$@" | awk '{ s += log($1); n++ } END { printf "%.2fx (%d workloads)", exp(s / n), n }'
}
echo
echo "geometric mean slowdown, memcheck --tool $tool ${extra_options[*]}${warm:+ (warm)}: $(geomean "${memcheck_slowdowns[@]}")"
echo "geometric mean peak RSS over native's, memcheck: $(geomean "${memcheck_memory[@]}")"
if [[ -n "$valgrind" ]]; then
    echo "geometric mean slowdown, valgrind --tool=$tool: $(geomean "${valgrind_slowdowns[@]}")"
    echo "geometric mean peak RSS over native's, valgrind: $(geomean "${valgrind_memory[@]}")"
elif [[ -n "$skip_valgrind" ]]; then
    echo "geometric mean slowdown, valgrind: not measured (--skip-valgrind)"
else
    echo "geometric mean slowdown, valgrind: valgrind is not installed"
fi

# --- start-up cost --------------------------------------------------------------
startup() { # startup ARGV...: min wall time of 5 runs in seconds and peak RSS, or FAIL
    local i elapsed min="" kb peak=0 rss="$out/runs/startup.rss"
    for ((i = 0; i < 5; i++)); do
        "$measure" "$rss" "$@" </dev/null >/dev/null 2>&1 || { echo "FAIL(rc=$?)"; return; }
        read -r kb elapsed <"$rss"
        if [[ -z "$min" ]] || ((elapsed < min)); then min=$elapsed; fi
        if ((kb > peak)); then peak=$kb; fi
    done
    echo "$(seconds "$min") s, $(megabytes "$peak") MB"
}
echo
echo "start-up, min time and peak RSS of 5 runs of /bin/true:"
printf '  %-40s %s\n' "native" "$(startup /bin/true)"
memcheck_startup=$(startup "$memcheck" --tool "$tool" "${extra_options[@]}" -- /bin/true)
printf '  %-40s %s\n' "memcheck --tool $tool -- /bin/true" "$memcheck_startup"
printf '  %-40s %s\n' "./memcheck --tool $tool -- /bin/true" "$(startup "$root/memcheck" --tool "$tool" "${extra_options[@]}" -- /bin/true)"
if [[ -n "$valgrind" ]]; then
    valgrind_startup=$(startup "$valgrind" -q "--tool=$tool" /bin/true)
    printf '  %-40s %s\n' "valgrind -q --tool=$tool /bin/true" "$valgrind_startup"
fi

# --- memory beyond the fixed cost ---------------------------------------------------
# Each workload's peak RSS less the tool's own /bin/true peak (its fixed cost: runtime, code,
# tables), over native's peak: what the tool adds in proportion to the program (shadow, heap
# redzones and quarantine, translated code and its side tables). Issue 12 asks for at most 2x.
beyond_fixed() { # beyond_fixed CONFIG STARTUP_LINE
    local config="$1" fixed_mb name list="" ratios=()
    fixed_mb=$(awk '{ print $3 }' <<<"$2")
    [[ "$fixed_mb" =~ ^[0-9.]+$ ]] || return
    for name in "${selected[@]}"; do
        [[ -n "${peaks[$config.$name]:-}" && -n "${peaks[native.$name]:-}" ]] || continue
        r=$(awk -v p="${peaks[$config.$name]}" -v f="$fixed_mb" -v n="${peaks[native.$name]}" \
            'BEGIN { b = p / 1024 - f; if (b < 0.01 * n / 1024) b = 0.01 * n / 1024; printf "%.2f", b / (n / 1024) }')
        ratios+=("$r")
        list+=" $name ${r}x"
    done
    ((${#ratios[@]})) || return
    echo "  $config (less its /bin/true's $fixed_mb MB): $(geomean "${ratios[@]}"), $(printf '%s\n' "${ratios[@]}" | awk '$1 <= 2 { n++ } END { printf "%d", n }') at most 2x;$list"
}
echo
echo "peak RSS beyond the fixed cost, over native's (geometric mean; per workload):"
beyond_fixed memcheck "$memcheck_startup"
if [[ -n "$valgrind" ]]; then beyond_fixed valgrind "$valgrind_startup"; fi
