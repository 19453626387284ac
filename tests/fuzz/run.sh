#!/usr/bin/env bash
# Runs one libFuzzer target of tests/fuzz over its committed seed corpus (docs/fuzzing.md):
#   tests/fuzz/run.sh BINARY CORPUS_DIR WORK_DIR [libFuzzer flags, e.g. -runs=N or -max_total_time=S]
# WORK_DIR is emptied first; inputs the run finds go to WORK_DIR/corpus, never into the committed
# corpus. A crash, leak, timeout or sanitizer report fails the run and leaves the input as
# WORK_DIR/crash-* (leak-*, timeout-*, oom-*); the full log is WORK_DIR/log. The last line printed
# is "fuzz NAME: N execs in S s (R execs/s), corpus C inputs" (scripts/stress collects them).
set -euo pipefail
[[ $# -ge 3 ]] || { echo "usage: $0 BINARY CORPUS_DIR WORK_DIR [libFuzzer flags]" >&2; exit 2; }
bin=$1 corpus=$2 work=$3
shift 3
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
name=$(basename "$bin")
name=${name%_fuzz}

# The sanitizer settings of scripts/test, unless the caller chose its own.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

rm -rf "$work"
mkdir -p "$work/corpus"
start=$(date +%s%N)
rc=0
"$bin" -artifact_prefix="$work/" -print_final_stats=1 "$@" "$work/corpus" "$corpus" >"$work/log" 2>&1 &
pid=$!
wait "$pid" || rc=$?
# The target removes its scratch directory (fuzz_util.h) at exit, but not when it crashed.
rm -rf "/dev/shm/mosaic-fuzz-$pid" "${TMPDIR:-/tmp}/mosaic-fuzz-$pid"
ms=$((($(date +%s%N) - start) / 1000000))
if [[ $rc -ne 0 ]]; then
  tail -n 80 "$work/log"
  echo "fuzz $name: FAILED (exit $rc); input and log in $work"
  exit 1
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
inputs=$(($(find "$corpus" -type f | wc -l) + $(find "$work/corpus" -type f | wc -l)))
printf 'fuzz %s: %s execs in %d.%d s (%s execs/s), corpus %s inputs\n' "$name" "${execs:-?}" \
  $((ms / 1000)) $((ms % 1000 / 100)) \
  "${rate:-?}" "$inputs"
