#!/usr/bin/env bash
# test_advise.sh: `stragsim advise` end to end on the latency workload, where
# the answer is known in closed form: for k-of-n on n shifted-exponential
# workers (shift 1, rate r) in a closed loop, a job takes the k-th of n draws
# scaled by 1/k, so
#   E[latency](k)        = (1 + (H_n - H_{n-k}) / r) / k
#   E[worker_seconds](k) = (sum_{i<=k} E[X_(i)] + (n - k) E[X_(k)]) / k,
#   E[X_(i)] = 1 + (H_n - H_{n-i}) / r
# (the n - k cancelled workers are busy until the k-th result). The test
# computes the best k with awk and asks advise for it: unconstrained, and
# under a worker_seconds bound that rules the unconstrained best out. Also:
# an infeasible constraint exits 1 with its message, so does a training target
# never reached; the same seed gives the
# same advice; a rerun reuses every batch; the ini it writes runs the same
# points (relative paths kept next to the config, rewritten elsewhere); the search costs at most 3/4 of an exhaustive sweep of its
# candidates at the winner's batches (job counts read from the database).
source "$(dirname "$0")/tap.sh"
command -v sqlite3 >/dev/null || tap_skip_all "sqlite3 not found"
cd "$scratch"

write_ini() { # FILE WORKERS RATE [ADVISE LINE]...
    local f=$1 n=$2 r=$3
    shift 3
    printf '[experiment]\nseed = 1\n[cluster]\nworkers = %s\n[latency]\nkind = shifted_exp\n' "$n" >"$f"
    printf 'shift = 1\nrate = %s\n[workload]\nkind = latency\narrival = closed\njobs = 200\n' "$r" >>"$f"
    printf '[advise]\nobjective = latency_mean\nschemes = kofn\n' >>"$f"
    if (($#)); then printf '%s\n' "$@" >>"$f"; fi
}

# closed_form N RATE [WS_BOUND]: "K GAP LATENCY": the best k (latency, under the
# bound), the relative gap to the next best, and its mean latency
closed_form() {
    awk -v n="$1" -v r="$2" -v bound="${3:-inf}" 'BEGIN {
        H[0] = 0; for (i = 1; i <= n; i++) H[i] = H[i - 1] + 1 / i
        best = 1e9; second = 1e9
        for (k = 1; k <= n; k++) {
            s = 0; for (i = 1; i <= k; i++) s += 1 + (H[n] - H[n - i]) / r
            ws = (s + (n - k) * (1 + (H[n] - H[n - k]) / r)) / k
            lat = (1 + (H[n] - H[n - k]) / r) / k
            if (bound != "inf" && ws > bound) continue
            if (lat < best) { second = best; best = lat; bk = k } else if (lat < second) second = lat
        }
        printf "%d %.4f %.4f\n", bk, (second - best) / best, best }'
}

recommended() { sed -n 's/^recommended: kofn k=\([0-9]*\)$/\1/p' "$1"; }

for case in "6 2" "10 1"; do
    set -- $case
    read -r want gap _ < <(closed_form "$1" "$2")
    write_ini "k$1.ini" "$1" "$2"
    "$STRAGSIM" advise "k$1.ini" --db "k$1.db" -o "best$1.ini" >"k$1.out" 2>"k$1.err"
    status=$?
    got=$(recommended "k$1.out")
    if ((status == 0)) && [[ $got == "$want" ]] && awk -v g="$gap" 'BEGIN { exit !(g >= 0.01) }'; then
        tap_ok "n=$1 rate=$2: advise picks the closed-form best k=$want (next best $gap worse)"
    else
        tap_fail "n=$1 rate=$2: advise picks the closed-form best k=$want" "status $status, got k=$got, gap $gap" "$(cat "k$1.out" "k$1.err")"
    fi
done

# under worker_seconds <= 2.18 (between the closed-form 2.25 of k=8 and 2.11 of k=9)
read -r want gap _ < <(closed_form 10 1 2.18)
write_ini ws.ini 10 1 'constraints = worker_seconds <= 2.18'
"$STRAGSIM" advise ws.ini --db ws.db >ws.out 2>ws.err
got=$(recommended ws.out)
if [[ $got == "$want" && $want == 9 ]] && grep -q '^  binding constraint: worker_seconds <= 2.18: .*(met by its 95% interval)$' ws.out; then
    tap_ok "worker_seconds <= 2.18: advise picks k=$want, the bound binding"
else
    tap_fail "worker_seconds <= 2.18: advise picks k=$want" "got k=$got" "$(cat ws.out ws.err)"
fi

write_ini inf.ini 10 1 'constraints = latency_mean <= 0.2'
"$STRAGSIM" advise inf.ini --db inf.db >inf.out 2>inf.err
status=$?
if ((status == 1)) && [[ $(cat inf.err) == "stragsim advise: no candidate meets the constraints (the front above shows how near they came)" ]]; then
    tap_ok "an infeasible constraint: exit 1 with its message"
else
    tap_fail "an infeasible constraint: exit 1 with its message" "status $status" "$(cat inf.err)"
fi

# a cluster-size range ([sweep] cluster.workers = 4, 8): the candidates are
# k-of-n at each size; the closed-form best of both sizes is at n = 8
read -r want4 _ lat4 < <(closed_form 4 2)
read -r want8 _ lat8 < <(closed_form 8 2)
write_ini sweep.ini 6 2
printf '[sweep]\ncluster.workers = 4, 8\n' >>sweep.ini
"$STRAGSIM" advise sweep.ini --db sweep.db -o sweep-best.ini >sweep.out 2>&1
got=$(sed -n 's/^recommended: kofn k=\([0-9]*\) (cluster.workers=8)$/\1/p' sweep.out)
if [[ $got == "$want8" ]] && grep -qx 'workers = 8' sweep-best.ini &&
    awk -v a="$lat8" -v b="$lat4" 'BEGIN { exit !(a < b) }'; then
    tap_ok "cluster.workers = 4, 8: advise picks n = 8, k = $want8 (closed form $lat8 against $lat4 at n = 4, k = $want4)"
else
    tap_fail "cluster.workers = 4, 8: advise picks n = 8, k = $want8" "got '$got'" "$(cat sweep.out)"
fi

# the grids (scheme.h) at n = 12: replication r = 2..n, of which 2, 3, 4, 6
# and 12 divide 12 (the six others are refused by the scheme, listed, not
# run); barycentric d = 1..2 x stragglers = 1..n/4 = 1..3
printf '[cluster]\nworkers = 12\n[latency]\nkind = exp\n[workload]\nkind = latency\njobs = 50\n' >grid.ini
printf '[advise]\nschemes = replication, barycentric\n' >>grid.ini
"$STRAGSIM" advise grid.ini --db grid.db --explain >grid.out 2>&1
refused=$(sed -n 's/^  not valid here: replication r=\([0-9]*\): .* does not divide cluster.workers (12)$/\1/p' grid.out | tr '\n' ' ')
first=$(sed -n 's/^round 1: \([0-9]*\) candidates x 3 batches (50 jobs each)$/\1/p' grid.out)
if [[ $first == 17 && $refused == "5 7 8 9 10 11 " ]] &&
    (($(sqlite3 grid.db 'SELECT count(DISTINCT scheme) FROM runs') == 2)) &&
    (($(sqlite3 grid.db "SELECT count(*) FROM params WHERE key = 'scheme.r' AND CAST(value AS INTEGER) IN (5, 7, 8, 9, 10, 11)") == 0)); then
    tap_ok "the grids: 17 candidates at n = 12, replication r = 5, 7-11 refused and not run"
else
    tap_fail "the grids: 17 candidates at n = 12" "round 1: '$first', refused: '$refused'" "$(cat grid.out)"
fi

# training whose target is never reached: no time_to_target, no advice
printf '[cluster]\nworkers = 4\n[latency]\nkind = exp\n[workload]\nkind = training\nmodel = logreg\n' >train.ini
printf 'iterations = 5\neval_every = 5\nbatch = 16\ntarget_accuracy = 0.99\n' >>train.ini
printf '[advise]\nobjective = time_to_target\nschemes = naive\nbatches = 2\nmax_batches = 2\n' >>train.ini
"$STRAGSIM" advise train.ini --db train.db >train.out 2>train.err
status=$?
if ((status == 1)) && [[ $(cat train.err) == "stragsim advise: no candidate has time_to_target in every batch (a target never reached?)" ]]; then
    tap_ok "a training target never reached: exit 1 with its message"
else
    tap_fail "a training target never reached: exit 1 with its message" "status $status" "$(cat train.out train.err)"
fi

"$STRAGSIM" advise k10.ini --db again.db -o again.ini >again.out 2>&1
tap_check "the same seed gives the same advice (and the same ini)" \
    cmp -s <(sed 's/again/best10/' again.out) k10.out
tap_check "the same ini" cmp -s <(sed 's/again/best10/' again.ini) best10.ini

runs=$(sqlite3 k10.db 'SELECT count(*) FROM runs')
"$STRAGSIM" advise k10.ini --db k10.db >rerun.out 2>&1
tap_check "a rerun reuses every batch (no new runs) and gives the same advice" \
    test "$(sqlite3 k10.db 'SELECT count(*) FROM runs')" = "$runs" -a "$(recommended rerun.out)" = "$(recommended k10.out)"
"$STRAGSIM" run best10.ini -o k10.db --resume -q 2>run.err
tap_check "the written ini runs the recommended batches, all already in the database" \
    test "$(sqlite3 k10.db 'SELECT count(*) FROM runs')" = "$runs"

# relative paths in the written ini: next to the config they keep their text
# (and so the point keys: resuming on the advise database runs nothing new);
# elsewhere they are rewritten to name the same file from there.
mkdir -p rel/cfg rel/traces rel/out/deep
awk 'BEGIN { print "worker,it,t"; for (i = 0; i < 400; i++) for (w = 0; w < 4; w++)
             printf "%d,%d,%.3f\n", w, i, 1 + ((i * 7 + w * 3) % 11) / 5 }' >rel/traces/t.csv
printf '[experiment]\nseed = 1\n[cluster]\nworkers = 4\n[latency]\nkind = replay\nfile = ../traces/t.csv\n' >rel/cfg/r.ini
printf 'worker_column = worker\niteration_column = it\nvalue_column = t\n' >>rel/cfg/r.ini
printf '[workload]\nkind = latency\narrival = closed\njobs = 100\n[advise]\nobjective = latency_mean\nschemes = kofn\n' >>rel/cfg/r.ini
"$STRAGSIM" advise rel/cfg/r.ini --db rel/r.db -o rel/cfg/best.ini >rel.out 2>&1 &&
    "$STRAGSIM" advise rel/cfg/r.ini --db rel/r.db -o rel/out/deep/best.ini >>rel.out 2>&1
rel_runs=$(sqlite3 rel/r.db 'SELECT count(*) FROM runs')
(cd rel && "$STRAGSIM" run cfg/best.ini -o r.db --resume -q) 2>>rel.out
if grep -qx 'file = ../traces/t.csv' rel/cfg/best.ini && [[ $(sqlite3 rel/r.db 'SELECT count(*) FROM runs') == "$rel_runs" ]]; then
    tap_ok "next to the config, the ini keeps its relative path and its point keys"
else
    tap_fail "next to the config, the ini keeps its relative path and its point keys" \
        "$(grep '^file' rel/cfg/best.ini)" "runs $rel_runs -> $(sqlite3 rel/r.db 'SELECT count(*) FROM runs')" "$(cat rel.out)"
fi
if grep -qx 'file = ../../traces/t.csv' rel/out/deep/best.ini &&
    (cd / && "$STRAGSIM" run "$scratch/rel/out/deep/best.ini" -o "$scratch/rel/deep.db" -q --smoke) 2>>rel.out; then
    tap_ok "elsewhere, the ini names the same file relative to itself and runs from any directory"
else
    tap_fail "elsewhere, the ini names the same file relative to itself" "$(grep '^file' rel/out/deep/best.ini)" "$(cat rel.out)"
fi

# cost: batches run (the database's runs) against every valid candidate at the winner's batches
read -r searched exhaustive < <(sed -n 's/^  search: [0-9]* rounds*, \([0-9]*\) batches .* each: \([0-9]*\) batches .*/\1 \2/p' k10.out)
if [[ $searched == "$runs" ]] && ((4 * searched <= 3 * exhaustive)); then
    tap_ok "the search ran $searched batches, at most 3/4 of an exhaustive sweep's $exhaustive"
else
    tap_fail "the search costs at most 3/4 of an exhaustive sweep" "searched $searched (runs $runs), exhaustive $exhaustive"
fi
# --plot: the figure and its data (FIG.dat: block 0 a row per evaluated candidate,
# block 1 the front, block 2 the recommendation); hostile names run nothing
if command -v gnuplot >/dev/null; then
    "$STRAGSIM" advise k10.ini --db k10.db --explain --plot fig.png >plot.out 2>&1
    evaluated=$(sed -n 's/^round 1: \([0-9]*\) candidates x .*/\1/p' plot.out)
    front=$(sed -n '/^Pareto front/,/^$/p' plot.out | grep -c '^kofn')
    rows=$(awk '/^# series 1/ { exit } /^[0-9]/ { n++ } END { print n + 0 }' fig.dat)
    front_rows=$(awk '/^# series 1/ { f = 1; next } /^# series 2/ { f = 0 } f && /^[0-9]/ { n++ } END { print n + 0 }' fig.dat)
    marked=$(awk '/^# series 2/ { getline; print $NF }' fig.dat | tr -dc '0-9')
    tap_check "--plot fig.png: a PNG, the recommendation k=$marked marked" \
        test "$(head -c 8 fig.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a -a \
        "$marked" = "$(recommended plot.out)"
    tap_check "fig.dat: a row per evaluated candidate ($rows of $evaluated), the front's $front_rows as the table's $front" \
        test -n "$evaluated" -a "$rows" = "$evaluated" -a "$front_rows" = "$front"
    "$STRAGSIM" advise k10.ini --db k10.db --plot fig.svg >/dev/null 2>&1
    tap_check "--plot fig.svg: an SVG" grep -q '<svg' fig.svg
    hostile=$'x\'; system("touch PWNED1"); print \'"; system("touch PWNED2") #.svg'
    "$STRAGSIM" advise k10.ini --db k10.db --plot "$hostile" >/dev/null 2>&1
    status=$?
    "$STRAGSIM" advise k10.ini --db k10.db --plot 'y`touch PWNED3`.svg' >/dev/null 2>y.err
    tap_check "names with quotes and gnuplot commands are a file name, nothing runs; a backquote is refused" \
        test "$status" = 0 -a -s "$hostile" -a ! -e PWNED1 -a ! -e PWNED2 -a ! -e PWNED3 -a "$(wc -l <y.err)" = 1
    "$STRAGSIM" advise k10.ini --db k10.db --plot nodir/f.png >/dev/null 2>nodir.err
    status=$?
    tap_check "--plot into a missing directory: exit 2, one line" \
        test "$status" = 2 -a "$(cat nodir.err)" = "nodir/f.dat: cannot write: No such file or directory"
else
    tap_ok "--plot # SKIP gnuplot not found"
fi
tap_done
