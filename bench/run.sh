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
#    latencies must agree within standard errors (the z column).
#
# Environment: BENCH_JOBS (stragsim and bench_kofn, default 1000000),
# SIMPY_JOBS (default 100000), BENCH_EVENTS (hold model, default 20000000),
# PYTHON (default /usr/bin/python3, Debian's, which has simpy).
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
PYTHON=${PYTHON:-/usr/bin/python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "== event engine: hold model =="
"$BUILD/bench/bench_engine" 1000 "$BENCH_EVENTS"
echo

echo "== kofn-queue: 12 workers, Poisson 0.5, 9 of 12, 0.2 + Exp(1.25) =="
# Each contender appends one row: name jobs wall_s cpu_s latency_mean latency_se
: > "$TMP/rows"

# stragsim, timed by its CPU usage as a child process. OPENBLAS_NUM_THREADS=1:
# the latency workload makes no BLAS call, but OpenBLAS's thread pool, started
# when the library loads, spins about 0.1 CPU-second on the other core.
OPENBLAS_NUM_THREADS=1 "$PYTHON" - "$BUILD/stragsim" "$SRC/configs/bench-kofn-queue.ini" "$TMP/kofn.db" "$BENCH_JOBS" \
    >> "$TMP/rows" <<'PYEOF'
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
awk '{ printf "stragsim run: %d jobs in %.3f s (cpu %.3f s), latency_mean %.4f +- %.4f\n",
       $2, $3, $4, $5, $6 }' "$TMP/rows"

"$BUILD/bench/bench_kofn" "$BENCH_JOBS" | tee "$TMP/direct"
# "kofn-queue direct: N jobs in W s (cpu C s): ... latency_mean M +- SE, ..."
sed 's/[(),:]/ /g' "$TMP/direct" | awk '{ for (i = 1; i <= NF; i++) {
        if ($i == "jobs" && $(i+1) == "in") { n = $(i-1); w = $(i+2) }
        if ($i == "cpu") c = $(i+1);
        if ($i == "latency_mean") { m = $(i+1); se = $(i+3) } }
      print "bench_kofn", n, w, c, m, se }' >> "$TMP/rows"

if "$PYTHON" -c 'import simpy' 2>/dev/null; then
    "$PYTHON" "$SRC/bench/simpy_kofn.py" --jobs "$SIMPY_JOBS" | tee "$TMP/simpy"
    # simpy-<model> jobs= seconds= cpu_seconds= jobs_per_cpu_s= latency_mean= latency_se=
    sed 's/[a-z_]*=//g' "$TMP/simpy" | awk '{ print $1, $2, $3, $4, $6, $7 }' >> "$TMP/rows"
else
    echo "(SimPy not found for $PYTHON: apt-get install python3-simpy3)"
fi

echo
awk 'NR == 1 { base = $2 / $4; bm = $5; bse = $6
               printf "%-16s %8s %8s %8s %12s %18s %9s %6s\n", "contender", "jobs", "wall s",
                      "cpu s", "jobs/cpu-s", "latency mean+-se", "stragsim/", "z" }
     { rate = $2 / $4; d = sqrt($6 * $6 + bse * bse); z = d > 0 ? ($5 - bm) / d : 0
       printf "%-16s %8d %8.3f %8.3f %12.0f %10.4f+-%.4f %8.1fx %6.2f\n",
              $1, $2, $3, $4, rate, $5, $6, base / rate, z }' "$TMP/rows"
echo "(stragsim/: stragsim's jobs per CPU second over this one's;"
echo " z: this mean latency minus stragsim's, in standard errors; |z| < 4 agrees)"
