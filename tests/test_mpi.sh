#!/usr/bin/env bash
# test_mpi.sh: a sweep run under mpirun with P = 1, 2 and 4 ranks gives the
# same metric values and job rows, bit for bit, as a plain single-process
# run; --resume under MPI skips what is there and completes the rest; a bad
# config under MPI is reported once with exit status 2, and so are ranks
# that loaded different configs. Needs mpirun and a
# stragsim built with MPI (meson registers this test only then).
source "$(dirname "$0")/tap.sh"
command -v mpirun >/dev/null || tap_skip_all "mpirun not found"
command -v sqlite3 >/dev/null || tap_skip_all "sqlite3 not found"
mpi() { mpirun_test --oversubscribe -np "$@"; } # P COMMAND...: tap.sh's mpirun on P ranks

cd "$scratch"
# 2 x 3 x 2 = 12 points of unequal cost (workers 6 and 12), with job rows.
cat > sweep.ini <<'INI'
[experiment]
name = mpi
seed = 11
repeats = 2
[cluster]
workers = 6
cancel = true
[latency]
kind = markov
p_active_to_slow = 0.05
p_slow_to_active = 0.3
active.kind = shifted_exp
active.shift = 1
active.rate = 2
slow.kind = exp
slow.rate = 0.2
[workload]
kind = latency
jobs = 1500
arrival = poisson
rate = 0.3
job_rows = true
[scheme]
kind = kofn
k = 3
r = 2
[sweep]
cluster.workers = 6, 12
scheme.kind = uncoded, kofn, replication
INI

"$STRAGSIM" run sweep.ini -o serial.db -q 2>serial.err
tap_check "serial run" test -s serial.db
want_metrics=$(db_metrics_digest serial.db)
want_jobs=$(db_jobs_digest serial.db)
for p in 1 2 4; do
    if ! mpi "$p" "$STRAGSIM" run sweep.ini -o "p$p.db" -q >"p$p.out" 2>&1; then
        tap_fail "mpirun -np $p runs the sweep" "$(cat "p$p.out")"
        continue
    fi
    tap_ok "mpirun -np $p runs the sweep"
    n=$(sqlite3 "p$p.db" "SELECT count(*), count(DISTINCT point_key) FROM runs")
    [[ $n == "12|12" ]] && tap_ok "P=$p: 12 runs, each once" || tap_fail "P=$p: 12 runs, each once" "got $n"
    got=$(db_metrics_digest "p$p.db")
    [[ $got == "$want_metrics" ]] && tap_ok "P=$p: metrics identical to the serial run" ||
        tap_fail "P=$p: metrics identical to the serial run" "$got != $want_metrics"
    got=$(db_jobs_digest "p$p.db")
    [[ $got == "$want_jobs" ]] && tap_ok "P=$p: job rows identical to the serial run" ||
        tap_fail "P=$p: job rows identical to the serial run" "$got != $want_jobs"
    out=$("$STRAGSIM" check "p$p.db" --baseline serial.db --rtol 0 2>&1)
    tap_check "P=$p: stragsim check --rtol 0 passes" grep -q ", 0 regressions" <<<"$out"
done

# Resume under MPI: half the points first (same keys: the sweep's scheme axis cut short).
"$STRAGSIM" run sweep.ini -o resume.db -q --set sweep.scheme.kind=uncoded 2>/dev/null
before=$(sqlite3 resume.db "SELECT count(*) FROM runs")
out=$(mpi 2 "$STRAGSIM" run sweep.ini -o resume.db -q 2>&1)
status=$?
msg="resume.db: already holds $before of the 12 points of this config; use --resume to skip them, or -o another database"
if ((status == 2)) && [[ $(grep -c "already holds" <<<"$out") == 1 ]] && grep -qxF "$msg" <<<"$out"; then
    tap_ok "P=2 without --resume: refused once, exit 2"
else
    tap_fail "P=2 without --resume: refused once, exit 2" "status $status" "$out"
fi
mpi 2 "$STRAGSIM" run sweep.ini -o resume.db -q --resume >resume.out 2>&1
tap_check "P=2 --resume completes" test $? -eq 0
n=$(sqlite3 resume.db "SELECT count(*), count(DISTINCT point_key) FROM runs")
[[ $before == 4 && $n == "12|12" ]] && tap_ok "P=2 --resume: 4 then 12 runs, each once" ||
    tap_fail "P=2 --resume: 4 then 12 runs, each once" "before $before, after $n"
got=$(db_metrics_digest resume.db)
[[ $got == "$want_metrics" ]] && tap_ok "P=2 --resume: metrics identical to the serial run" ||
    tap_fail "P=2 --resume: metrics identical to the serial run" "$got != $want_metrics"

# A bad config: every rank finds it, rank 0 alone says so.
printf '[experiment]\nname = x\n[cluster]\nworkers = -3\n' >bad.ini
out=$(mpi 2 "$STRAGSIM" run bad.ini -o bad.db -q 2>&1)
status=$?
lines=$(grep -c '^bad.ini:' <<<"$out")
if ((status == 2)) && [[ $lines == 1 ]] && [[ ! -e bad.db ]]; then
    tap_ok "P=2 bad config: one message, exit 2, no database"
else
    tap_fail "P=2 bad config: one message, exit 2, no database" "status $status" "$out"
fi
# Ranks that load different configs (a file that differs between nodes): refused.
mkdir -p node0 node1
cp sweep.ini node0/x.ini
sed 's/^seed = 11/seed = 12/' sweep.ini >node1/x.ini
printf -- '-np 1 -wdir %s %s run x.ini -o %s -q\n' "$scratch/node0" "$STRAGSIM" "$scratch/apps.db" \
    "$scratch/node1" "$STRAGSIM" "$scratch/apps.db" >apps.txt
out=$(mpirun_test --app apps.txt 2>&1)
status=$?
want="rank 1: loaded another config than rank 0 (is the file the same on every node?)"
if ((status == 2)) && grep -qxF "$want" <<<"$out" && [[ ! -e apps.db ]]; then
    tap_ok "ranks with different configs: refused, no database"
else
    tap_fail "ranks with different configs: refused, no database" "status $status" "$out"
fi
tap_done
