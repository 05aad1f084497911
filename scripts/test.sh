#!/bin/bash
# Runs every tincan test suite and ends with one line "N passed, N failed".
#
#   unit         cmocka tests, plain and under ASan+UBSan, and the function
#                length check (scripts/fnlen.py: none over 60 lines in src/)
#   fuzz         each libFuzzer target briefly (FUZZ_SMOKE_SECONDS, default 10)
#   integration  node --test against the ASan+UBSan build of the real binary
#   e2e          node --test driving headless Chromium against ./tincan
#
# Suites can be picked: scripts/test.sh unit integration
# Output of every suite is kept under test-output/.
set -u
cd "$(dirname "$0")/.."
OUT=test-output
mkdir -p "$OUT"
SUITES=${*:-unit fuzz integration e2e}
passed=0
failed=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

count() { # count PASS FAIL LABEL
  passed=$((passed + $1))
  failed=$((failed + $2))
  printf '%-40s %d passed, %d failed\n' "$3" "$1" "$2"
}

run_fnlen() { # one check: every function in src/ within 60 lines (scripts/fnlen.py)
  log="$OUT/unit-fnlen.log"
  /usr/bin/python3 scripts/fnlen.py src >"$log" 2>&1
  rc=$?
  ok=$(sed -n 's/^fnlen: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$log")
  over=$(sed -n 's/^fnlen: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$log")
  if [ "$rc" -eq 0 ] && [ -n "$ok" ]; then
    count 1 0 "fnlen src/ ($ok functions, none over 60 lines)"
  else
    cat "$log"
    count 0 1 "fnlen src/ (${over:-?} functions over 60 lines)"
  fi
}

run_unit() {
  run_fnlen
  for t in build/rel/unit/test_* build/asan/unit/test_*; do
    [ -x "$t" ] || continue
    log="$OUT/unit-$(echo "$t" | tr / _).log"
    "$t" >"$log" 2>&1
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    p=${p:-0}
    f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # a crash or sanitizer report
    [ "$f" -ne 0 ] && cat "$log"
    count "$p" "$f" "$t"
  done
}

fuzz_one() { # fuzz_one TARGET SECONDS: runs one target on a scratch corpus; its status is the target's
  name=$(basename "$1")
  work=$(mktemp -d)
  "$1" -max_total_time="$2" "$work" "fuzz/corpus/$name" >"$OUT/fuzz-$name.log" 2>&1
  rc=$?
  rm -rf "$work"
  return $rc
}

run_fuzz() { # two targets at a time (libFuzzer uses one core each); results in order
  secs=${FUZZ_SMOKE_SECONDS:-10}
  jobs=${FUZZ_JOBS:-2}
  targets=()
  for t in build/fuzz/fuzz_*; do
    [ -x "$t" ] && targets+=("$t")
  done
  declare -A pid
  for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    fuzz_one "$t" "$secs" &
    pid[$t]=$!
  done
  for t in "${targets[@]}"; do
    name=$(basename "$t")
    if wait "${pid[$t]}"; then
      count 1 0 "fuzz $name (${secs}s)"
    else
      tail -40 "$OUT/fuzz-$name.log"
      count 0 1 "fuzz $name (${secs}s)"
    fi
  done
}

run_node() { # run_node SUITE DIR BIN [FILES AT ONCE]
  log="$OUT/$1.log"
  TINCAN_BIN="$3" node --test --test-concurrency="${4:-1}" --test-reporter=tap "$2" >"$log" 2>&1
  rc=$?
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
  p=${p:-0}
  f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  [ "$f" -ne 0 ] && grep -B2 -A30 '^not ok\|^    not ok\|^  not ok' "$log" | head -150
  count "$p" "$f" "$1 ($2)"
}

for s in $SUITES; do
  case "$s" in
    unit) run_unit ;;
    fuzz) run_fuzz ;;
    # Integration files mostly wait on sockets and timers: two at a time
    # (INTEGRATION_JOBS) halves the suite; browsers stay one file at a time.
    integration) run_node integration tests/integration/ "$PWD/build/asan/tincan" "${INTEGRATION_JOBS:-2}" ;;
    e2e) run_node e2e tests/e2e/ "$PWD/tincan" ;;
    *) echo "unknown suite $s" >&2; exit 2 ;;
  esac
done

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
