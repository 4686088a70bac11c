#!/usr/bin/env bash
# test.sh: sets everything up, builds with warnings as errors and runs the
# whole test suite (every Criterion test and end-to-end test reported through
# TAP) twice: in build-test/, and in build-asan/ built with AddressSanitizer +
# UndefinedBehaviorSanitizer (any report fails the test that caused it).
# Arguments go to both `meson test` runs. Ends with the line
# "N passed, N failed" over both runs, and fails if either run fails.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1

# Sanitizer reports abort the process, so a test cannot pass with one;
# scripts/lsan.supp silences leaks inside OpenMPI's own libraries.
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=0

passed=0
failed=0
overall=0
# suite_run DIR [MESON SETUP OPTIONS]...: configure (once), build, test, count.
suite_run() {
    local dir=$1 status
    shift
    if [[ ! -f $dir/build.ninja ]]; then
        meson setup "$dir" "$@" >/dev/null || { failed=$((failed + 1)); return 1; }
    fi
    meson compile -C "$dir" || { failed=$((failed + 1)); return 1; }
    meson test -C "$dir" --verbose --print-errorlogs "${test_args[@]}"
    status=$?
    # Count the individual TAP results of every suite from meson's log.
    local log=$dir/meson-logs/testlog.txt p f
    p=$(grep -E '^ok ' "$log" | grep -cv '# SKIP')
    f=$(grep -cE '^not ok ' "$log")
    if ((status != 0 && f == 0)); then
        f=1 # a suite crashed or timed out before reporting
    fi
    echo "$dir: ${p} passed, ${f} failed" >&2
    passed=$((passed + p))
    failed=$((failed + f))
    return "$status"
}

test_args=("$@")
# Without link-time optimisation (release_lto): it adds minutes to the links
# of the test programs; scripts/compare-builds.sh checks that the LTO
# build's results are the same to the bit.
suite_run build-test -Dwerror_all=true -Drelease_lto=false || overall=1
# No -Werror here: GCC's warnings are checked above, and sanitizer
# instrumentation makes it report false ones (-Wformat-overflow).
suite_run build-asan -Db_sanitize=address,undefined -Db_lundef=false -Drelease_lto=false || overall=1
echo "${passed} passed, ${failed} failed"
exit "$overall"
