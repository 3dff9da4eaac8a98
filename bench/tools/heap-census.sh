#!/usr/bin/env bash
# What memcheck's managed heap holds, by type, at a moment of a run (a developer's measurement;
# not run by CI).
#
# usage: bench/tools/heap-census.sh [--at SECONDS] [--top N] -- MEMCHECK_ARGUMENTS...
#   e.g. bench/tools/heap-census.sh --at 4.5 -- -q --log-file=/dev/null -- \
#          /usr/lib/gcc/x86_64-linux-gnu/12/cc1plus -quiet -O1 bench/out/data/templates.ii -o /dev/null
#
# NativeAOT's diagnostics need EventSource support compiled in, so this publishes its own memcheck
# (-p:EventSourceSupport=true) into bench/out/census/ and installs the dotnet-gcdump tool into
# bench/out/tools/ (both once). It starts the run, takes a heap dump SECONDS later (default 2; the
# dump forces a full collection, so it counts live objects only), and prints the types holding the
# most bytes. The dump names types by MethodTable address only; bench/tools/heap-census/ maps them
# to names through memcheck.dbg's symbols. Take the moment near the end of the run for its peak.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
at=2
top=30
while [[ $# -gt 0 ]]; do
    case "$1" in
        --at) at="$2"; shift 2 ;;
        --top) top="$2"; shift 2 ;;
        --) shift; break ;;
        *) echo "heap-census: unknown option $1 (usage: heap-census.sh [--at SECONDS] [--top N] -- MEMCHECK_ARGUMENTS...)" >&2; exit 2 ;;
    esac
done
[[ $# -gt 0 ]] || { echo "heap-census: no memcheck arguments (usage: heap-census.sh [--at SECONDS] [--top N] -- MEMCHECK_ARGUMENTS...)" >&2; exit 2; }

out="$root/bench/out"
tools="$out/tools"
build="$out/census"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [[ ! -x "$tools/dotnet-gcdump" ]]; then
    echo "heap-census: installing dotnet-gcdump into $tools" >&2
    dotnet tool install --tool-path "$tools" dotnet-gcdump >/dev/null
fi
gcdump_dir="$(dirname "$(find "$tools/.store/dotnet-gcdump" -name dotnet-gcdump.dll | head -1)")"

echo "heap-census: publishing memcheck with EventSource support into $build" >&2
dotnet publish "$root/src/Memcheck/Memcheck.csproj" -c Release --artifacts-path "$build/artifacts" \
    -o "$build/memcheck" -nologo -v q -p:UseAppHost=true -p:EventSourceSupport=true >/dev/null
dotnet build "$root/bench/tools/heap-census/HeapCensus.csproj" -c Release --artifacts-path "$build/artifacts" \
    -nologo -v q "-p:GcdumpDir=$gcdump_dir" >/dev/null
census="$(find "$build/artifacts/bin/HeapCensus" -name HeapCensus.dll | head -1)"

dump="$(mktemp -d)/memcheck.gcdump"
"$build/memcheck/memcheck" "$@" &
pid=$!
sleep "$at"
if ! kill -0 "$pid" 2>/dev/null; then
    echo "heap-census: the run ended before ${at}s: take an earlier moment" >&2
    wait "$pid" || true
    exit 1
fi
"$tools/dotnet-gcdump" collect -p "$pid" -o "$dump" >/dev/null
wait "$pid" || true
dotnet "$census" "$dump" "$build/memcheck/memcheck.dbg" "$top"
rm -rf "$(dirname "$dump")"
