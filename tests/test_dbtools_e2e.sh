#!/usr/bin/env bash
# test_dbtools_e2e.sh: the database commands end to end (issue #19): rm leaves
# a consistent database and `run --resume` reruns exactly the deleted
# points, bit for bit; merge of a sweep's halves is the whole sweep and
# refuses a conflicting point without writing; run --dry-run counts points
# and writes nothing; every --format json parses. Bad input: test_bad_input.sh.
source "$(dirname "$0")/tap.sh"
command -v sqlite3 >/dev/null || tap_skip_all "sqlite3 not found"
S=$STRAGSIM
cd "$scratch"
cat >sweep.ini <<'INI'
[experiment]
name = dbtools
seed = 3
repeats = 2
[cluster]
workers = 6
[workload]
kind = latency
jobs = 300
job_rows = true
[scheme]
kind = kofn
k = 3
[latency]
kind = exp
rate = 1
[sweep]
scheme.k = 2,3,4
INI
"$S" run sweep.ini -o full.db -q || tap_fail "the full sweep runs"
points() { sqlite3 "$1" "SELECT point_key FROM runs ORDER BY point_key"; }

# ---- rm, then run --resume ----
cp full.db pruned.db
gone=$(sqlite3 pruned.db "SELECT r.point_key FROM runs r JOIN params p ON p.run_id = r.id
                          WHERE p.key = 'scheme.k' AND p.value = '3' ORDER BY 1")
before_max=$(sqlite3 pruned.db "SELECT max(id) FROM runs")
out=$("$S" rm pruned.db --where scheme.k=3 --dry-run)
if [[ $out == "rm: would delete 2 runs (36 params, 16 metrics, 600 job rows, 0 iteration rows) from pruned.db (dry run: nothing changed)"* &&
    $(points pruned.db) == "$(points full.db)" ]]; then
    tap_ok "rm --dry-run: says what would go, changes nothing"
else
    tap_fail "rm --dry-run: says what would go, changes nothing" "got: $out"
fi
out=$("$S" rm pruned.db --where scheme.k=3)
left=$(sqlite3 pruned.db "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM jobs),
       (SELECT count(*) FROM params WHERE run_id NOT IN (SELECT id FROM runs)),
       (SELECT count(*) FROM metrics WHERE run_id NOT IN (SELECT id FROM runs))")
fk=$(sqlite3 pruned.db "PRAGMA foreign_key_check")
if [[ $? == 0 && -z $fk && $left == "4|1200|0|0" && $out == "rm: deleted 2 runs"* ]]; then
    tap_ok "rm --where: runs and their rows gone, foreign_key_check clean"
else
    tap_fail "rm --where: runs and their rows gone, foreign_key_check clean" "left: $left" \
        "foreign_key_check: $fk" "got: $out"
fi
err=$("$S" run sweep.ini -o pruned.db --resume 2>&1 >/dev/null)
rerun=$(sqlite3 pruned.db "SELECT point_key FROM runs WHERE id > $before_max ORDER BY 1")
if [[ $rerun == "$gone" && $err == *"skipped 4 points already in pruned.db"* &&
    $(db_metrics_digest pruned.db) == "$(db_metrics_digest full.db)" &&
    $(db_jobs_digest pruned.db) == "$(db_jobs_digest full.db)" ]]; then
    tap_ok "run --resume after rm reruns exactly the deleted points, bit for bit"
else
    tap_fail "run --resume after rm reruns exactly the deleted points, bit for bit" \
        "deleted: $gone" "rerun: $rerun" "stderr: $err"
fi
cp full.db exp.db
"$S" rm exp.db --experiment 1 >/dev/null
left=$(sqlite3 exp.db "SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM experiments)
       + (SELECT count(*) FROM jobs) + (SELECT count(*) FROM params)")
if [[ $left == 0 && -z $(sqlite3 exp.db "PRAGMA foreign_key_check") ]]; then
    tap_ok "rm --experiment: the experiment and all under it gone"
else
    tap_fail "rm --experiment: the experiment and all under it gone" "rows left: $left"
fi

# ---- merge ----
"$S" run sweep.ini -o part1.db -q --points 1-4
"$S" run sweep.ini -o part2.db -q --points 3-6
out=$("$S" merge merged.db part1.db part2.db)
if [[ $out == "merge: 2 databases into merged.db: 6 runs copied, 2 identical duplicates kept once, 1 experiment added" &&
    $(db_metrics_digest merged.db) == "$(db_metrics_digest full.db)" &&
    $(db_jobs_digest merged.db) == "$(db_jobs_digest full.db)" ]] &&
    "$S" check merged.db --baseline full.db --rtol 0 >/dev/null; then
    tap_ok "merge: two halves of a sweep (overlapping) are the whole sweep"
else
    tap_fail "merge: two halves of a sweep (overlapping) are the whole sweep" "got: $out"
fi
ls_out=$("$S" ls merged.db)
if [[ $ls_out == *" 6  yes" ]]; then
    tap_ok "ls: the merged experiment is finished"
else
    tap_fail "ls: the merged experiment is finished" "got: $ls_out"
fi
cp part2.db bent.db
sqlite3 bent.db "UPDATE metrics SET value = value * (1 + 1e-15) WHERE name = 'latency_p99'
                 AND run_id = (SELECT min(id) FROM runs)"
dump_before=$(sqlite3 merged.db .dump | md5sum)
err=$("$S" merge merged.db bent.db 2>&1)
status=$?
if ((status == 2)) && [[ $err == "stragsim merge: point "*" has latency_p99 "*" in bent.db but "*" in merged.db or an earlier input; nothing merged" &&
    $(sqlite3 merged.db .dump | md5sum) == "$dump_before" ]]; then
    tap_ok "merge: a point with other metrics is refused, nothing written"
else
    tap_fail "merge: a point with other metrics is refused, nothing written" "status $status: $err"
fi
err=$("$S" merge new.db part1.db bent.db 2>&1)
if [[ $? == 2 && ! -e new.db ]]; then
    tap_ok "merge: a refused merge leaves no new output file"
else
    tap_fail "merge: a refused merge leaves no new output file" "$err" "$(ls)"
fi

# ---- run --dry-run ----
out=$("$S" run sweep.ini -o pruned.db --dry-run --set sweep.scheme.k=2,3,4,5 --show 2)
if [[ $out == "dry run of sweep.ini: 8 points; 6 already in pruned.db; 2 to run"* &&
    $out == *"  ... 6 more (--show 0 lists every point)"* && $out == *"time: about "* &&
    $out == *"note: without --resume, run refuses pruned.db: it holds 6 of these points"* &&
    $(db_metrics_digest pruned.db) == "$(db_metrics_digest full.db)" ]]; then
    tap_ok "run --dry-run: counts, stored points, an estimate; nothing run"
else
    tap_fail "run --dry-run: counts, stored points, an estimate; nothing run" "got: $out"
fi
out=$("$S" run sweep.ini -o fresh.db --dry-run --show 0)
if [[ $(grep -c '  to run$' <<<"$out") == 6 && ! -e fresh.db ]]; then
    tap_ok "run --dry-run: a new database is not created"
else
    tap_fail "run --dry-run: a new database is not created" "got: $out"
fi

# ---- --format json parses ----
json_ok() { # DESCRIPTION COMMAND...: stdout is one JSON value
    local desc=$1 out
    shift
    out=$("$@")
    if /usr/bin/python3 -c 'import json, sys; json.load(sys.stdin)' <<<"$out"; then
        tap_ok "$desc"
    else
        tap_fail "$desc" "got: $out"
    fi
}
json_ok "report --format json" "$S" report full.db --format json
json_ok "report --aggregate --format json" "$S" report full.db --aggregate --format json
json_ok "ls --runs --format json" "$S" ls full.db --runs --format json
json_ok "diff --format json" "$S" diff full.db part1.db --format json
json_ok "check --format json (regressions)" "$S" check bent.db --baseline full.db --format json
json_ok "check --intervals --format json" "$S" check merged.db --baseline full.db --intervals --format json
tap_done
