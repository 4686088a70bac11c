#!/usr/bin/env bash
# test_resume_kill.sh: a sweep killed with SIGKILL at seeded random moments
# and resumed with --resume ends with every point stored exactly once, the
# metrics of an uninterrupted run (stragsim check --rtol 0, both ways) and an
# intact database (PRAGMA integrity_check); SIGTERM finishes and writes the
# point in flight, exits 143 with its message, and --resume completes.
source "$(dirname "$0")/tap.sh"
command -v sqlite3 >/dev/null || tap_skip_all "sqlite3 not found"
cd "$scratch"
RANDOM=8 # the kill moments below are drawn from this seed

# 16 points of a few tens of milliseconds each, with job rows (bigger transactions).
cat > sweep.ini <<'INI'
[experiment]
name = kill
seed = 3
[cluster]
workers = 10
cancel = true
[latency]
kind = shifted_exp
shift = 1
rate = 2
[workload]
kind = latency
jobs = 20000
arrival = poisson
rate = 0.5
job_rows = true
[scheme]
kind = kofn
k = 8
[sweep]
scheme.k = 5, 6, 7, 8
experiment.seed = 1, 2, 3, 4
INI
npoints=16

start=$(date +%s%N)
"$STRAGSIM" run sweep.ini -o clean.db -q 2>clean.err
tap_check "uninterrupted run" test $? -eq 0
clean_ms=$((($(date +%s%N) - start) / 1000000))
echo "# uninterrupted run: ${clean_ms} ms"

runs_once() { # DB -> "N|N" when every stored point is stored once
    sqlite3 "$1" "SELECT count(*), count(DISTINCT point_key) FROM runs"
}

# Kill, look, resume (which may itself be killed), until a run completes.
kills=0
partial=0 # kills that left some but not all points stored
for attempt in $(seq 1 12); do
    args=(run sweep.ini -o killed.db -q)
    [[ -e killed.db ]] && args+=(--resume)
    delay_ms=$((RANDOM % (clean_ms > 100 ? clean_ms / 4 : 50)))
    "$STRAGSIM" "${args[@]}" 2>>killed.err &
    pid=$!
    sleep "$(printf '0.%03d' "$delay_ms")"
    if kill -KILL "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        kills=$((kills + 1))
        echo "# attempt $attempt: SIGKILL after ${delay_ms} ms"
        if [[ -e killed.db ]]; then
            ic=$(sqlite3 killed.db "PRAGMA integrity_check" 2>&1)
            n=$(runs_once killed.db)
            ((${n%|*} > 0 && ${n%|*} < npoints)) && partial=$((partial + 1))
            [[ $ic == ok && ${n%|*} == "${n#*|}" ]] ||
                tap_fail "after SIGKILL $kills: database intact, no point twice" "$ic" "$n"
        fi
    else
        wait "$pid"
        status=$?
        echo "# attempt $attempt: finished before the kill (${delay_ms} ms), status $status"
        break
    fi
done
((kills >= 2 && partial >= 1)) && tap_ok "killed $kills times at random moments, $partial mid-sweep" ||
    tap_fail "killed at least twice, once mid-sweep" "$kills kills, $partial mid-sweep"
"$STRAGSIM" run sweep.ini -o killed.db -q --resume 2>>killed.err
tap_check "final --resume completes" test $? -eq 0
n=$(runs_once killed.db)
[[ $n == "$npoints|$npoints" ]] && tap_ok "every point present exactly once" ||
    tap_fail "every point present exactly once" "$n"
ic=$(sqlite3 killed.db "PRAGMA integrity_check")
[[ $ic == ok ]] && tap_ok "PRAGMA integrity_check ok" || tap_fail "PRAGMA integrity_check ok" "$ic"
out=$("$STRAGSIM" check killed.db --baseline clean.db --rtol 0 2>&1)
tap_check "metrics equal the uninterrupted run (check --rtol 0)" grep -q "^check: $npoints points compared, .*, 0 regressions" <<<"$out"
out=$("$STRAGSIM" check clean.db --baseline killed.db --rtol 0 2>&1)
tap_check "and the other way round" grep -q "^check: $npoints points compared, .*, 0 regressions" <<<"$out"
[[ $(db_jobs_digest killed.db) == "$(db_jobs_digest clean.db)" ]] &&
    tap_ok "job rows equal the uninterrupted run" || tap_fail "job rows equal the uninterrupted run"
n=$(sqlite3 killed.db "SELECT count(*) FROM jobs WHERE run_id NOT IN (SELECT id FROM runs)")
[[ $n == 0 ]] && tap_ok "no orphan job rows" || tap_fail "no orphan job rows" "$n"

# SIGTERM: the point in flight is finished and written, then exit 143.
"$STRAGSIM" run sweep.ini -o term.db 2>term.err >/dev/null &
pid=$!
for _ in $(seq 1 500); do
    grep -q '^\[1/16\]' term.err 2>/dev/null && break
    sleep 0.01
done
kill -TERM "$pid"
wait "$pid"
status=$?
written=$(grep -c '^\[' term.err)
stored=$(sqlite3 term.db "SELECT count(*) FROM runs")
msg="stragsim run: stopped by signal after writing $written points; $written of 16 are in term.db; rerun with --resume to finish"
if ((status == 143)) && grep -qxF "$msg" term.err && ((stored == written && written < 16)); then
    tap_ok "SIGTERM: exit 143, message, $written announced points written"
else
    tap_fail "SIGTERM: exit 143, message, announced points written" "status $status, stored $stored" "$(cat term.err)"
fi
"$STRAGSIM" run sweep.ini -o term.db -q --resume 2>>term.err
out=$("$STRAGSIM" check term.db --baseline clean.db --rtol 0 2>&1)
tap_check "SIGTERM then --resume: equal to the uninterrupted run" grep -q "^check: 16 points compared, .*, 0 regressions" <<<"$out"
tap_done
