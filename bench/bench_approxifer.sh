#!/bin/sh
# bench_approxifer.sh: the whole ApproxIFER grid (configs/approxifer-fmnist.ini:
# lenet5 and mlp, K in {8,10,12}, S in {1,2,3}, 1000 trials each) through
# stragsim, next to the same protocol in numpy + PyTorch
# (bench/approxifer_torch.py), in one run; prints wall and CPU seconds of
# each and the ratio (target: stragsim >= 4x faster).
#
# usage: bench/bench_approxifer.sh SOURCE_ROOT BUILD_ROOT
# Environment: PYTHON (default /usr/bin/python3, Debian's, which has torch).
set -eu
if [ $# -ne 2 ]; then
    echo "usage: bench_approxifer.sh SOURCE_ROOT BUILD_ROOT" >&2
    exit 2
fi
SRC=$1
BUILD=$2
PYTHON=${PYTHON:-/usr/bin/python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Times a command as a child: prints "wall_s cpu_s" (cpu = user + system).
timed() {
    "$PYTHON" - "$@" <<'PYEOF'
import resource, subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{t:.2f} {ru.ru_utime + ru.ru_stime:.2f}")
PYEOF
}

echo "== ApproxIFER grid: 18 points x 1000 trials (uptime: $(uptime | sed 's/.*load/load/')) =="
ours=$(OPENBLAS_NUM_THREADS=1 timed "$BUILD/stragsim" run "$SRC/configs/approxifer-fmnist.ini" \
       -o "$TMP/a.db" --quiet)
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
    echo "stragsim: wall ${ours% *} s, cpu ${ours#* } s (PyTorch not found: apt-get install python3-torch)"
    exit 0
fi
theirs=$(OPENBLAS_NUM_THREADS=1 timed "$PYTHON" "$SRC/bench/approxifer_torch.py" --trials 1000 \
         --threads 1)
echo "$ours $theirs" | awk '{ printf "%-16s %8s %8s\n", "contender", "wall s", "cpu s";
    printf "%-16s %8.2f %8.2f\n", "stragsim", $1, $2;
    printf "%-16s %8.2f %8.2f\n", "numpy+pytorch", $3, $4;
    printf "stragsim is %.1fx faster (wall), %.1fx (cpu)\n", $3 / $1, $4 / $2 }'
