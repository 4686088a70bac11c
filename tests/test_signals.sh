#!/usr/bin/env bash
# test_signals.sh: stop signals at each stage of `stragsim run`. Each case
# waits for the sweep's own progress (its validation line on stderr, or the
# k-th point in the database) before it signals, and accepts wherever the
# signal lands after that: the invariant of each outcome is checked, not the
# timing. SIGTERM during validation stops with nothing written; SIGHUP
# during the run finishes the point in flight, exits 129, and --resume
# completes the sweep.
source "$(dirname "$0")/tap.sh"
command -v sqlite3 >/dev/null || tap_skip_all "sqlite3 not found"
cd "$scratch"

base() { # a small latency config
    printf '[experiment]\nname = sig\nseed = 1\n[cluster]\nworkers = 4\n'
    printf '[workload]\nkind = latency\njobs = %s\n[scheme]\nkind = kofn\nk = 3\n' "$1"
    printf '[latency]\nkind = exp\nrate = 1\n'
}
wait_for() { # COMMAND...: polls until it succeeds (or the run has ended)
    while ! "$@"; do
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.02
    done
}
runs() { sqlite3 "$1" "SELECT count(*) FROM runs" 2>/dev/null || echo 0; }
has_runs() { (($(runs "$1") >= $2)); } # DB K: at least K points are stored

# ---- SIGTERM while a 10^6-point sweep is being validated ----
vals=$(seq -s, 1 100)
{ base 5; printf '[sweep]\nexperiment.seed = %s\nworkload.jobs = %s\nlatency.rate = %s\n' \
    "$vals" "$vals" "$vals"; } >huge.ini
"$STRAGSIM" run huge.ini -o huge.db >/dev/null 2>huge.err &
pid=$!
wait_for grep -q '^validating: 0 of 1000000 points$' huge.err
kill -TERM "$pid"
wait "$pid"
status=$?
last=$(tail -n 1 huge.err)
if [[ $last == "stragsim run: stopped by signal while validating the 1000000 points; nothing written" ]]; then
    if ((status == 143)) && [[ ! -e huge.db ]]; then
        tap_ok "SIGTERM during validation: exit 143, nothing written"
    else
        tap_fail "SIGTERM during validation" "status $status, huge.db $(ls huge.db 2>&1)"
    fi
elif [[ $last =~ ^"stragsim run: stopped by signal after writing "([0-9]+)" points" ]]; then
    # validation was over before the signal landed: the run stopped between points
    n=${BASH_REMATCH[1]}
    if ((status == 143)) && (($(runs huge.db) == n)); then
        tap_ok "SIGTERM after validation: exit 143, the $n points written are stored"
    else
        tap_fail "SIGTERM after validation" "status $status, $(runs huge.db) runs, message $n"
    fi
else
    tap_fail "SIGTERM during validation" "status $status" "last line: $last"
fi

# ---- SIGHUP while points run: like SIGTERM, exit 129 ----
{ base 200000; printf '[sweep]\nexperiment.seed = %s\n' "$(seq -s, 1 40)"; } >run.ini
"$STRAGSIM" run run.ini -o run.db -q 2>run.err &
pid=$!
wait_for has_runs run.db 2
kill -HUP "$pid"
wait "$pid"
status=$?
msg=$(cat run.err)
if [[ $msg =~ ^"stragsim run: stopped by signal after writing "([0-9]+)" points; "([0-9]+)" of 40 are in run.db; rerun with --resume to finish"$ ]] &&
    ((status == 129 && BASH_REMATCH[1] == $(runs run.db) && BASH_REMATCH[1] >= 2)); then
    tap_ok "SIGHUP during the run: exit 129, every point written before the stop is stored"
else
    tap_fail "SIGHUP during the run" "status $status (want 129), $(runs run.db) runs" "stderr: $msg"
fi
if "$STRAGSIM" run run.ini -o run.db -q --resume 2>resume.err && (($(runs run.db) == 40)); then
    tap_ok "--resume after SIGHUP completes the sweep"
else
    tap_fail "--resume after SIGHUP" "$(runs run.db) runs" "$(cat resume.err)"
fi
tap_done
