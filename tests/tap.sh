# tap.sh: sourced by the end-to-end shell tests (test_*.sh): TAP output
# helpers, a scratch directory removed on exit, and the binary under test
# ($STRAGSIM, set by meson test). Each test prints "ok N - ..." or
# "not ok N - ..." with the evidence as "# " lines, and the plan at the end.
set -u
: "${STRAGSIM:?STRAGSIM must name the stragsim binary (meson test sets it)}"
tap_n=0
tap_failed=0
scratch=$(mktemp -d "${TMPDIR:-/tmp}/stragsim-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

tap_ok() {
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - $1"
}

# tap_fail DESCRIPTION [EVIDENCE LINE]...
tap_fail() {
    tap_n=$((tap_n + 1))
    tap_failed=$((tap_failed + 1))
    echo "not ok $tap_n - $1"
    shift
    local line
    for line in "$@"; do
        printf '%s\n' "$line" | sed 's/^/# /'
    done
}

# tap_check DESCRIPTION COMMAND...: ok when the command succeeds.
tap_check() {
    local desc=$1
    shift
    if "$@"; then tap_ok "$desc"; else tap_fail "$desc" "failed: $*"; fi
}

tap_skip_all() {
    echo "1..0 # SKIP $1"
    exit 0
}

tap_done() {
    echo "1..$tap_n"
    ((tap_failed == 0))
}

# Every metric value of every run, to 17 significant digits (bit for bit),
# sorted by point key: two databases with the same digest hold the same numbers.
db_metrics_digest() {
    sqlite3 "$1" "SELECT r.point_key, m.name, printf('%!.17g', m.value) FROM metrics m
                  JOIN runs r ON r.id = m.run_id ORDER BY 1, 2;" | md5sum | cut -d' ' -f1
}

db_jobs_digest() {
    sqlite3 "$1" "SELECT r.point_key, j.job, printf('%!.17g|%!.17g|%d|%!.17g', j.arrival,
                         j.latency, j.tasks, j.extra)
                  FROM jobs j JOIN runs r ON r.id = j.run_id ORDER BY 1, 2;" | md5sum | cut -d' ' -f1
}

# mpirun_test ARGS...: mpirun ARGS as the tests run it. The CI box runs as
# root, and 4 ranks on 2 cores need oversubscribing. Under AddressSanitizer
# (scripts/test.sh's second run) OpenMPI's plugins, unloaded at exit, leak
# what LeakSanitizer can no longer name, let alone suppress: leak checking is
# off for MPI runs (every other check stays on; the single-process paths are
# leak-checked by the other tests).
mpirun_test() {
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 mpirun "$@"
}

# wait_stopped PID: returns 0 once the process has stopped itself (the
# test-only STRAGSIM_TEST_STOP_AT_POINT hook, app/test_hook.h), 1 if it
# exited first. Waits on the process's state, not on a clock; the cap of
# 10 minutes only turns a hang into a failure.
wait_stopped() {
    local i pid comm state
    for ((i = 0; i < 60000; i++)); do
        read -r pid comm state _ <"/proc/$1/stat" 2>/dev/null || return 1
        [[ $state == T ]] && return 0
        [[ $state == Z ]] && return 1
        sleep 0.01
    done
    return 1
}
