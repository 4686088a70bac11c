#!/usr/bin/env bash
# test_concurrent_readers.sh: while a sweep writes its database (WAL mode),
# other processes read it: the sqlite3 CLI and `stragsim report` succeed
# every time, see the runs grow point by point and never a
# half-written run, and a reader holding a read transaction open does not
# stop the writer.
source "$(dirname "$0")/tap.sh"
command -v sqlite3 >/dev/null || tap_skip_all "sqlite3 not found"
cd "$scratch"
# A WAL reader can meet SQLITE_BUSY for an instant while the writer rewrites
# the WAL index header (a commit, a checkpoint); a reader that waits a little
# never fails. stragsim's own readers wait up to 30 s, and so do these;
# users of the sqlite3 CLI do the same with .timeout (README: "Querying
# while a sweep runs").
db_read() { sqlite3 -cmd ".timeout 30000" "$@"; }

cat > sweep.ini <<'INI'
[experiment]
name = readers
seed = 5
[cluster]
workers = 10
[latency]
kind = exp
rate = 1
[workload]
kind = latency
jobs = 30000
arrival = poisson
rate = 0.5
job_rows = true
[scheme]
kind = kofn
k = 8
[sweep]
experiment.seed = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
INI

# The run stops itself as it begins point 5 (test-only hook
# STRAGSIM_TEST_STOP_AT_POINT, app/test_hook.h): a known state to read, on
# any machine. Nothing below waits on a clock except to poll.
STRAGSIM_TEST_STOP_AT_POINT=5 "$STRAGSIM" run sweep.ini -o w.db 2>w.err >/dev/null &
pid=$!
wait_stopped "$pid" || tap_fail "the sweep reaches point 5" "$(cat w.err)"
mode=$(db_read w.db "PRAGMA journal_mode")
[[ $mode == wal ]] && tap_ok "database is in WAL mode" || tap_fail "database is in WAL mode" "$mode"
n=$(db_read w.db "SELECT count(*) FROM runs")
[[ $n == 4 ]] && tap_ok "a reader sees the 4 points committed before point 5" ||
    tap_fail "a reader sees the 4 points committed before point 5" "$n"

# A reader that holds a read transaction (a snapshot of 4 runs) until the
# writer has written all 16: the writer is not stopped by it, and the reader
# keeps its snapshot. The wait polls the database; its cap only turns a
# blocked writer into a failure instead of a hang.
cat >all_written.sh <<'SH'
for i in $(seq 1 60000); do
    n=$(sqlite3 -cmd ".timeout 30000" w.db "SELECT count(*) FROM runs")
    [ "$n" = 16 ] && break
    sleep 0.01
done
echo "$n" >held.waited
SH
db_read w.db "BEGIN; SELECT count(*) FROM runs;" ".shell touch held.started" ".shell sh all_written.sh" \
    "SELECT count(*) FROM runs; COMMIT;" >held.out 2>held.err &
held=$!
while [[ ! -e held.started ]] && kill -0 "$held" 2>/dev/null; do sleep 0.01; done
kill -CONT "$pid"

# Readers while the sweep goes on: however many queries fit in before it
# ends (at least one), every one succeeds and sees whole runs only.
queries=0 failures=0 torn=0 last=0 shrank=0 reports=0
declare -A seen=()
while :; do
    # Every stored run has all its metrics and all its job rows: one snapshot.
    if out=$(db_read w.db "SELECT count(*),
                 sum((SELECT count(*) FROM metrics m WHERE m.run_id = r.id) = 0),
                 sum((SELECT count(*) FROM jobs j WHERE j.run_id = r.id) != 30000)
                 FROM runs r" 2>&1); then
        IFS='|' read -r n no_metrics short_jobs <<<"$out"
        ((${no_metrics:-0} + ${short_jobs:-0} > 0)) && torn=$((torn + 1))
        ((n < last)) && shrank=$((shrank + 1))
        last=$n
        seen[$n]=1
    else
        failures=$((failures + 1))
        echo "# sqlite3 failed: $out"
    fi
    queries=$((queries + 1))
    if ((queries % 10 == 1)); then
        if "$STRAGSIM" report w.db >/dev/null 2>report.err; then
            reports=$((reports + 1))
        else
            failures=$((failures + 1))
            echo "# stragsim report failed: $(cat report.err)"
        fi
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
done
wait "$pid"
status=$?
wait "$held"
held_status=$?
echo "# $queries queries and $reports reports while writing; run counts seen: ${!seen[*]}"
tap_check "the sweep completes while being read" test "$status" -eq 0
((failures == 0)) && tap_ok "$queries sqlite3 queries and $reports reports, none failed" ||
    tap_fail "every concurrent query succeeds" "$failures of $queries failed"
((torn == 0)) && tap_ok "no reader saw a half-written run" || tap_fail "no reader saw a half-written run" "$torn"
((shrank == 0)) && tap_ok "run count never goes backwards" || tap_fail "run count never goes backwards"
held_counts="$(tr '\n' ' ' <held.out)while it waited the writer wrote $(cat held.waited)"
((held_status == 0)) && [[ $held_counts == "4 4 while it waited the writer wrote 16" ]] &&
    tap_ok "a held read transaction keeps its snapshot (4) while the writer writes all 16" ||
    tap_fail "a held read transaction keeps its snapshot while the writer writes all 16" \
        "counts: $held_counts" "$(cat held.err)"
n=$(sqlite3 w.db "SELECT count(*) FROM runs")
[[ $n == 16 ]] && tap_ok "all 16 points written" || tap_fail "all 16 points written" "$n"
tap_done
