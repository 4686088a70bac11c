#!/bin/sh
# run.sh: runs the benchmarks side by side and prints the table the README
# quotes. Called by `meson compile -C BUILD bench` as run.sh SOURCE_ROOT BUILD_ROOT.
#
# 1. bench_engine: hold model, 10^3 pending events, engine vs a bare binary heap.
# 2. kofn-queue (12 workers, Poisson 0.5, k = 9 of 12, 0.2 + Exp(1.25)):
#    - stragsim: the real tool, `stragsim run configs/bench-kofn-queue.ini`
#      (the whole command: config, simulation, statistics, SQLite);
#    - bench_kofn: the same model straight on sim/cluster.h (no driver);
#    - SimPy 3, idiomatic (processes, Resources, interrupts) and with bare
#      callbacks (bench/simpy_kofn.py, Debian python3-simpy3).
#    The figure is jobs per CPU second (user + system): on a shared machine
#    wall time measures the neighbours. Wall seconds are printed too. Mean
#    latencies must agree within standard errors (the z column). The
#    contenders run in BENCH_ROUNDS rounds, one after the other in each;
#    each one's figure is its median round by CPU time, and stragsim's
#    speed over each other contender is paired by round: the geometric
#    mean of the rounds' ratios with its 95% t-interval (the machine's
#    speed drifts between rounds more than within one).
# 3. where each contender's time goes: a second, untimed run of each under
#    perf (stragsim, bench_kofn: CPU samples by function, grouped into
#    engine, cluster, draws, ...) or cProfile (SimPy, SIMPY_PROFILE_JOBS
#    jobs: own time per source file), see readme_table.sh.
# The table and the hold-model line go into README.md between
# <!-- bench:kofn-queue --> and <!-- /bench:kofn-queue --> (readme_table.sh).
#
# Environment: BENCH_JOBS (stragsim and bench_kofn, default 1000000),
# SIMPY_JOBS (default 100000), BENCH_EVENTS (hold model, default 20000000),
# SIMPY_PROFILE_JOBS (default 20000), BENCH_PROFILE=0 (no profiles),
# BENCH_ROUNDS (default 9, at least 2 for the intervals),
# BENCH_README (readme_table.sh), PYTHON (default /usr/bin/python3,
# Debian's, which has simpy).
set -eu

if [ $# -ne 2 ]; then
    echo "usage: run.sh SOURCE_ROOT BUILD_ROOT" >&2
    exit 2
fi
SRC=$1
BUILD=$2
BENCH_JOBS=${BENCH_JOBS:-1000000}
SIMPY_JOBS=${SIMPY_JOBS:-100000}
BENCH_EVENTS=${BENCH_EVENTS:-20000000}
SIMPY_PROFILE_JOBS=${SIMPY_PROFILE_JOBS:-20000}
BENCH_PROFILE=${BENCH_PROFILE:-1}
BENCH_ROUNDS=${BENCH_ROUNDS:-9}
PYTHON=${PYTHON:-/usr/bin/python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$SRC/bench/readme_table.sh"

echo "== event engine: hold model =="
"$BUILD/bench/bench_engine" 1000 "$BENCH_EVENTS" | tee "$TMP/hold"
echo

echo "== kofn-queue: 12 workers, Poisson 0.5, 9 of 12, 0.2 + Exp(1.25) =="
# stragsim_run: one timed `stragsim run` of the benchmark config, printed as
# a row "stragsim jobs wall_s cpu_s latency_mean latency_se", CPU time as a
# child process. OPENBLAS_NUM_THREADS=1: the latency workload
# makes no BLAS call, but OpenBLAS's thread pool, started when the library
# loads, spins about 0.1 CPU-second on the other core.
stragsim_run() {
    rm -f "$TMP/kofn.db" # a database that holds the point would be resumed, not rerun
    OPENBLAS_NUM_THREADS=1 "$PYTHON" - "$BUILD/stragsim" "$SRC/configs/bench-kofn-queue.ini" \
        "$TMP/kofn.db" "$BENCH_JOBS" <<'PYEOF'
import resource, sqlite3, subprocess, sys, time
tool, config, db, jobs = sys.argv[1:]
wall = time.perf_counter()
subprocess.run([tool, "run", config, "-o", db, "--quiet", "--set", "workload.jobs=" + jobs],
               check=True)
wall = time.perf_counter() - wall
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
m = dict(sqlite3.connect(db).execute("select name, value from metrics"))
print("stragsim", int(m["jobs"]), wall, ru.ru_utime + ru.ru_stime, m["latency_mean"], m["latency_se"])
PYEOF
}

# bench_kofn_run: one timed bench_kofn, the same row.
bench_kofn_run() {
    "$BUILD/bench/bench_kofn" "$BENCH_JOBS" > "$TMP/direct"
    # "kofn-queue direct: N jobs in W s (cpu C s): ... latency_mean M +- SE, ..."
    sed 's/[(),:]/ /g' "$TMP/direct" | awk '{ for (i = 1; i <= NF; i++) {
            if ($i == "jobs" && $(i+1) == "in") { n = $(i-1); w = $(i+2) }
            if ($i == "cpu") c = $(i+1);
            if ($i == "latency_mean") { m = $(i+1); se = $(i+3) } }
          print "bench_kofn", n, w, c, m, se }'
}

# simpy_run MODEL: one timed SimPy model, the same row.
simpy_run() {
    # simpy-<model> jobs= seconds= cpu_seconds= jobs_per_cpu_s= latency_mean= latency_se=
    "$PYTHON" "$SRC/bench/simpy_kofn.py" --jobs "$SIMPY_JOBS" --model "$1" |
        sed 's/[a-z_]*=//g' | awk '{ print $1, $2, $3, $4, $6, $7 }'
}

# Each round runs every contender once, one after the other; each one's
# figure is its median round by CPU time, so a neighbour's burst in one
# round moves no contender's figure alone. stragsim runs next to the
# callback SimPy, the closest pair, and every other round runs the order
# backwards, so a drift of the machine's speed within a round does not
# favour whoever runs first.
contenders="stragsim simpy-callbacks bench_kofn simpy-idiomatic"
if ! "$PYTHON" -c 'import simpy' 2>/dev/null; then
    echo "(SimPy not found for $PYTHON: apt-get install python3-simpy3)"
    contenders="stragsim bench_kofn"
fi
backwards=$(echo $contenders | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')
: > "$TMP/runs"
round=1
while [ "$round" -le "$BENCH_ROUNDS" ]; do
    echo "-- round $round of $BENCH_ROUNDS"
    order=$contenders
    [ $((round % 2)) = 0 ] && order=$backwards
    for name in $order; do
        case $name in
        stragsim) stragsim_run ;;
        bench_kofn) bench_kofn_run ;;
        simpy-*) simpy_run "${name#simpy-}" ;;
        esac | tee -a "$TMP/runs"
    done
    round=$((round + 1))
done
# rows: each contender's median round by CPU seconds, stragsim first
: > "$TMP/rows"
for name in stragsim bench_kofn simpy-idiomatic simpy-callbacks; do
    grep -q "^$name " "$TMP/runs" || continue
    awk -v n="$name" '$1 == n' "$TMP/runs" | sort -g -k4,4 |
        awk '{ line[NR] = $0 } END { print line[int((NR + 1) / 2)] }' >> "$TMP/rows"
done

# ratios: "name mean low high" per contender, stragsim's jobs per CPU
# second over this one's, paired by round: the k-th row of a contender in
# runs is its round k. Geometric mean and 95% t-interval of the ratios.
awk '{ k = ++seen[$1]; rate[$1, k] = $2 / $4; if (k == 1) order[++n] = $1 }
     END {
       split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 " \
             "2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086", t, " ")
       for (i = 1; i <= n; i++) {
         c = order[i]; m = 0; ss = 0; r = 0
         for (k = 1; (("stragsim", k) in rate) && ((c, k) in rate); k++) {
           x = log(rate["stragsim", k] / rate[c, k]); r++; d = x - m; m += d / r; ss += d * (x - m) }
         # t quantiles for 1-20 degrees of freedom; beyond, 20'\''s (a little wide)
         h = r > 1 ? t[r - 1 <= 20 ? r - 1 : 20] * sqrt(ss / (r - 1) / r) : 0
         print c, exp(m), exp(m - h), exp(m + h) } }' "$TMP/runs" > "$TMP/ratios"

echo
awk 'FNR == NR { gm[$1] = $2; lo[$1] = $3; hi[$1] = $4; next }
     FNR == 1 { bm = $5; bse = $6
               printf "%-16s %8s %8s %8s %12s %18s %19s %6s\n", "contender", "jobs", "wall s",
                      "cpu s", "jobs/cpu-s", "latency mean+-se", "stragsim/ (95%)", "z" }
     { rate = $2 / $4; d = sqrt($6 * $6 + bse * bse); z = d > 0 ? ($5 - bm) / d : 0
       printf "%-16s %8d %8.3f %8.3f %12.0f %10.4f+-%.4f %6.1fx (%.1f-%.1f) %6.2f\n",
              $1, $2, $3, $4, rate, $5, $6, gm[$1], lo[$1], hi[$1], z }' "$TMP/ratios" "$TMP/rows"
echo "(stragsim/: stragsim's jobs per CPU second over this one's in the same round, the"
echo " 95% interval of the geometric mean over rounds;"
echo " z: this mean latency minus stragsim's, in standard errors; |z| < 4 agrees)"

# ---- where the time goes: untimed runs under a profiler ----
# kofn.buckets: function names (after LTO's inlining) -> parts of the simulator.
for name in $(awk '{ print $1 }' "$TMP/rows"); do
    split="$TMP/split-$name"
    if [ "$BENCH_PROFILE" = 0 ]; then
        echo "-" > "$split"
        continue
    fi
    case $name in
    stragsim)
        rm -f "$TMP/profile.db"
        OPENBLAS_NUM_THREADS=1 bench_split_perf "$split" "$SRC/bench/kofn.buckets" \
            "$BUILD/stragsim" run "$SRC/configs/bench-kofn-queue.ini" -o "$TMP/profile.db" \
            --quiet --set workload.jobs="$BENCH_JOBS" ;;
    bench_kofn)
        bench_split_perf "$split" "$SRC/bench/kofn.buckets" "$BUILD/bench/bench_kofn" "$BENCH_JOBS" ;;
    simpy-*)
        bench_split_python "$split" "$SRC/bench/simpy_kofn.py" --jobs "$SIMPY_PROFILE_JOBS" \
            --model "${name#simpy-}" ;;
    esac
    echo "profile $name: $(cat "$split")"
done

# ---- the README block ----
{
    awk '/^engine  *[0-9]/ { e = $(NF - 2) } /^bare binary heap  *[0-9]/ { b = $(NF - 2) }
         END { printf "Hold model, 10^3 pending events: the engine runs %.1f M events/s, ", e
               printf "a bare binary heap %.1f M/s in the same run (%.2fx).\n\n", b, e / b }' "$TMP/hold"
    echo "| contender | jobs | jobs/CPU-s | stragsim is (95% interval) | mean latency ± SE | where the CPU time goes |"
    echo "|---|---|---|---|---|---|"
    while read -r name jobs wall cpu mean se; do
        ratio=$(awk -v n="$name" '$1 == n { print $2, $3, $4 }' "$TMP/ratios")
        case $name in
        stragsim) label='`stragsim run configs/bench-kofn-queue.ini`' ;;
        bench_kofn) label='the same model straight on `sim/cluster.h` (`bench_kofn`)' ;;
        simpy-idiomatic) label='SimPy, idiomatic (processes, Resources, interrupts)' ;;
        simpy-callbacks) label='SimPy, bare timeouts and callbacks' ;;
        *) label=$name ;;
        esac
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$jobs" "$cpu" "$mean" "$se" \
            "$(cat "$TMP/split-$name")" "$ratio"
    done < "$TMP/rows" | awk -F '\t' '
        function commas(x,   s, out) {
            s = sprintf("%.0f", x); out = ""
            while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
            return s out }
        { rate = $2 / $3
          split($7, r, " ") # geometric mean, low, high
          printf "| %s | %s | %s | %s | %.4f ± %.4f | %s |\n", $1, commas($2), commas(rate),
                 NR == 1 ? "-" : sprintf(r[2] > 1 ? "**%.1fx** (%.1f to %.1f)" : "%.2fx (%.2f to %.2f)",
                                         r[1], r[2], r[3]), $4, $5, $6 }'
    echo
    echo "Jobs per CPU second (user + system): each contender's median of $BENCH_ROUNDS rounds by CPU time;" \
         "in each round the contenders run one after the other." \
         "\"stragsim is\": stragsim's jobs per CPU second over the contender's in the same round," \
         "the geometric mean over the $BENCH_ROUNDS rounds with its 95% t-interval (bold where the interval is above 1)." \
         "The profiles come from separate, untimed runs (SimPy at $SIMPY_PROFILE_JOBS jobs):" \
         "for stragsim and \`bench_kofn\`, perf's CPU samples by function after inlining" \
         "(bench/kofn.buckets; \`scheme\` includes the submits inlined into the scheme's job start, \`bench_kofn\`'s engine loop is inlined into \`main\`;" \
         "stragsim's draws are inlined into the cluster's task start, so \`cluster\` includes them);" \
         "for SimPy, cProfile's own time per source file."
} > "$TMP/table.md"
bench_readme_write kofn-queue "$TMP/table.md" "meson compile -C build bench-engine"
