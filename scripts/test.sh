#!/usr/bin/env bash
# test.sh: sets everything up, builds with warnings as errors, runs the whole
# test suite (every Criterion test reported through TAP) and ends with the
# line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
if [[ ! -f build-test/build.ninja ]]; then
  meson setup build-test -Dwerror_all=true >/dev/null || exit 1
fi
meson compile -C build-test || exit 1
meson test -C build-test --verbose --print-errorlogs "$@"
status=$?
# Count the individual TAP results of every suite from meson's log.
log=build-test/meson-logs/testlog.txt
passed=$(grep -E '^ok ' "$log" | grep -cv '# SKIP')
failed=$(grep -cE '^not ok ' "$log")
if ((status != 0 && failed == 0)); then
  failed=1 # a suite crashed or timed out before reporting
fi
echo "${passed} passed, ${failed} failed"
exit "$status"
