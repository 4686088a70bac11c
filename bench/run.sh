#!/bin/sh
# run.sh: runs the benchmarks side by side and prints the table the README
# quotes. Called by `meson compile -C BUILD bench` as run.sh SOURCE_ROOT BUILD_ROOT.
#
# 1. bench_engine: hold model, 10^3 pending events, engine vs a bare binary heap.
# 2. kofn-queue (12 workers, Poisson 0.5, k = 9 of 12, 0.2 + Exp(1.25)):
#    - stragsim: the real tool, `stragsim run configs/bench-kofn-queue.ini`
#      (wall time of the whole command: config, simulation, SQLite);
#    - bench_kofn: the same model straight on sim/cluster.h (no driver);
#    - SimPy 3, idiomatic (processes, Resources, interrupts) and with bare
#      callbacks (bench/simpy_kofn.py, Debian python3-simpy3).
#    Jobs/s are compared; mean latencies must agree within standard errors.
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

now() { date +%s.%N; }

echo "== event engine: hold model =="
"$BUILD/bench/bench_engine" 1000 "$BENCH_EVENTS"
echo

echo "== kofn-queue: 12 workers, Poisson 0.5, 9 of 12, 0.2 + Exp(1.25) =="
# Each contender appends one line: name jobs seconds latency_mean latency_se
: > "$TMP/rows"

t0=$(now)
"$BUILD/stragsim" run "$SRC/configs/bench-kofn-queue.ini" -o "$TMP/kofn.db" --quiet \
    --set "workload.jobs=$BENCH_JOBS"
t1=$(now)
"$PYTHON" - "$TMP/kofn.db" "$t0" "$t1" >> "$TMP/rows" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
m = dict(db.execute("select name, value from metrics"))
print("stragsim", int(m["jobs"]), float(sys.argv[3]) - float(sys.argv[2]),
      m["latency_mean"], m["latency_se"])
EOF
awk '{ printf "stragsim run: %d jobs in %.3f s, latency_mean %.4f +- %.4f\n", $2, $3, $4, $5 }' "$TMP/rows"

"$BUILD/bench/bench_kofn" "$BENCH_JOBS" | tee "$TMP/direct"
awk '{ for (i = 1; i <= NF; i++) { if ($i == "jobs" && $(i-1) ~ /^[0-9]+$/) n = $(i-1);
       if ($i == "in") s = $(i+1); if ($i == "latency_mean") { m = $(i+1); se = $(i+3) } }
       print "bench_kofn", n, s, m, se }' "$TMP/direct" >> "$TMP/rows"

if "$PYTHON" -c 'import simpy' 2>/dev/null; then
    "$PYTHON" "$SRC/bench/simpy_kofn.py" --jobs "$SIMPY_JOBS" | tee "$TMP/simpy"
    sed 's/[a-z_]*=//g' "$TMP/simpy" | awk '{ print $1, $2, $3, $5, $6 }' >> "$TMP/rows"
else
    echo "(SimPy not found for $PYTHON: apt-get install python3-simpy3)" >&2
fi

echo
awk 'NR == 1 { base = $2 / $3; bm = $4; bse = $5 }
     { rate = $2 / $3; z = ($5 > 0 || bse > 0) ? ($4 - bm) / sqrt($5 * $5 + bse * bse) : 0;
       if (NR == 1) printf "%-18s %9s %9s %12s %18s %14s %8s\n",
                           "contender", "jobs", "seconds", "jobs/s", "latency mean+-se",
                           "stragsim/this", "z";
       printf "%-18s %9d %9.3f %12.0f %10.4f+-%.4f %14.1f %8.2f\n",
              $1, $2, $3, rate, $4, $5, base / rate, z }' "$TMP/rows"
echo "(z: difference of mean latency from stragsim's in standard errors; |z| < 4 agrees)"
