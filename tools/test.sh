#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run every test, then
# the same suite again with every read through pread instead of io_uring, then
# under AddressSanitizer and UndefinedBehaviorSanitizer, then the tests whose
# threads share a store under ThreadSanitizer, then a short libFuzzer run of
# every fuzz target (ANPR_FUZZ_SECONDS each, default 10).
# Ends with one line "N passed, N failed" over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh --fuzz || exit 1

run_suite() { # build-dir, extra meson options... ($only: the tests to run, default all)
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" -Dwerror=true "$@" >/dev/null || return 1
  fi
  meson compile -C "$dir" || return 1
  # shellcheck disable=SC2086
  meson test -C "$dir" -v --print-errorlogs --num-processes 2 ${only:-}
}

run_suite build
plain=$?
# The same build again with reads forced through pread, the fallback for kernels that refuse io_uring.
cp build/meson-logs/testlog.json build/meson-logs/testlog-uring.json 2>/dev/null
ANPR_IO=pread meson test -C build -v --print-errorlogs --num-processes 2 || plain=1
cp build/meson-logs/testlog.json build/meson-logs/testlog-pread.json 2>/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run_suite build-san -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
san=$?
# The in-process threads (readers beside a writer; writers sharing a handle; a query's blocks shared among
# threads, and a damaged file or a failed read met by one of them) under ThreadSanitizer.
TSAN_OPTIONS=halt_on_error=1 only="test_threads test_store test_corrupt test_faults" \
  run_suite build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug -Dbench=disabled
tsan=$?

# libFuzzer (clang): each target from its corpus for a few seconds; a crash fails the suite and its
# input is left in build-fuzz/ (keep it in tests/fuzz/corpus once fixed).
fuzz_one() { # target
  local t=$1 scratch=build-fuzz/corpus-$1
  rm -rf "$scratch" && mkdir -p "$scratch" && cp tests/fuzz/corpus/"$t"/* "$scratch"/ 2>/dev/null
  echo "fuzz: $t for ${ANPR_FUZZ_SECONDS:-10} s"
  build-fuzz/tests/"$t"_fuzzer -max_total_time="${ANPR_FUZZ_SECONDS:-10}" -max_len=65536 \
    -artifact_prefix=build-fuzz/"$t"- -print_final_stats=1 "$scratch" 2>&1 | grep -E "^(stat::number_of_executed_units|==[0-9]+==|SUMMARY)"
  return "${PIPESTATUS[0]}"
}
fuzz=0
: >fuzz-results.json
if [ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false -Dbench=disabled >/dev/null; then
  if meson compile -C build-fuzz >/dev/null; then
    for t in fuzz_manifest fuzz_journal fuzz_encode fuzz_segment fuzz_segment_signed fuzz_csv fuzz_plate fuzz_query; do
      if fuzz_one "$t"; then r=OK; else r=FAIL; fuzz=1; fi
      echo "{\"name\": \"$t (libFuzzer)\", \"result\": \"$r\"}" >>fuzz-results.json
    done
  else
    fuzz=1
  fi
else
  fuzz=1
fi

# One closing line over all the runs, from meson's own logs and the fuzz results.
python3 - build/meson-logs/testlog-uring.json build/meson-logs/testlog-pread.json build-san/meson-logs/testlog.json \
  build-tsan/meson-logs/testlog.json fuzz-results.json <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"): passed += 1  # a should_fail test that failed as it should
        elif r == "SKIP": skipped += 1
        else: failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
[ $plain -eq 0 ] && [ $san -eq 0 ] && [ $tsan -eq 0 ] && [ $fuzz -eq 0 ]
