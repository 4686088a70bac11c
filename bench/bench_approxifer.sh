#!/bin/sh
# bench_approxifer.sh: the whole ApproxIFER grid (configs/approxifer-fmnist.ini:
# lenet5 and mlp, K in {8,10,12}, S in {1,2,3}, 1000 trials each) through
# stragsim, next to the same protocol in numpy + PyTorch
# (bench/approxifer_torch.py), in one run, both on one thread (stragsim
# --threads 1, torch.set_num_threads(1), OPENBLAS_NUM_THREADS=1); prints
# wall and CPU seconds of each and the ratio (target: stragsim >= 8x faster
# in CPU time). Then where each one's
# time goes, from a second, untimed run under perf (stragsim: CPU samples by
# library and function, bench/approxifer.buckets) or cProfile (the Python
# peer at APPROXIFER_PROFILE_TRIALS trials: own time per source file), and
# the table into README.md between <!-- bench:approxifer --> and
# <!-- /bench:approxifer --> (readme_table.sh).
#
# usage: bench/bench_approxifer.sh SOURCE_ROOT BUILD_ROOT
# Environment: PYTHON (default /usr/bin/python3, Debian's, which has torch),
# APPROXIFER_PROFILE_TRIALS (default 200), BENCH_PROFILE=0 (no profiles),
# BENCH_README (readme_table.sh).
set -eu
if [ $# -ne 2 ]; then
    echo "usage: bench_approxifer.sh SOURCE_ROOT BUILD_ROOT" >&2
    exit 2
fi
SRC=$1
BUILD=$2
PYTHON=${PYTHON:-/usr/bin/python3}
APPROXIFER_PROFILE_TRIALS=${APPROXIFER_PROFILE_TRIALS:-200}
BENCH_PROFILE=${BENCH_PROFILE:-1}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$SRC/bench/readme_table.sh"

echo "== ApproxIFER grid: 18 points x 1000 trials (uptime: $(uptime | sed 's/.*load/load/')) =="
ours=$(OPENBLAS_NUM_THREADS=1 bench_timed "$BUILD/stragsim" run "$SRC/configs/approxifer-fmnist.ini" \
       -o "$TMP/a.db" --quiet --threads 1)
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
    echo "stragsim: wall ${ours% *} s, cpu ${ours#* } s (PyTorch not found: apt-get install python3-torch)"
    exit 0
fi
theirs=$(OPENBLAS_NUM_THREADS=1 bench_timed "$PYTHON" "$SRC/bench/approxifer_torch.py" --trials 1000 \
         --threads 1)
echo "$ours $theirs" | awk '{ printf "%-16s %8s %8s\n", "contender", "wall s", "cpu s";
    printf "%-16s %8.2f %8.2f\n", "stragsim", $1, $2;
    printf "%-16s %8.2f %8.2f\n", "numpy+pytorch", $3, $4;
    printf "stragsim is %.1fx faster (wall), %.1fx (cpu)\n", $3 / $1, $4 / $2 }'

if [ "$BENCH_PROFILE" = 0 ]; then
    echo "-" > "$TMP/split-ours"
    echo "-" > "$TMP/split-theirs"
else
    OPENBLAS_NUM_THREADS=1 bench_split_perf "$TMP/split-ours" "$SRC/bench/approxifer.buckets" \
        "$BUILD/stragsim" run "$SRC/configs/approxifer-fmnist.ini" -o "$TMP/profile.db" --quiet \
        --threads 1
    OPENBLAS_NUM_THREADS=1 bench_split_python "$TMP/split-theirs" "$SRC/bench/approxifer_torch.py" \
        --trials "$APPROXIFER_PROFILE_TRIALS" --threads 1
fi
echo "profile stragsim: $(cat "$TMP/split-ours")"
echo "profile numpy+pytorch: $(cat "$TMP/split-theirs")"
echo "$ours $theirs" | awk -v ours="$(cat "$TMP/split-ours")" -v theirs="$(cat "$TMP/split-theirs")" \
    -v trials="$APPROXIFER_PROFILE_TRIALS" '{
    print "| contender | wall s | CPU s | where the CPU time goes |"
    print "|---|---|---|---|"
    printf "| stragsim | %.2f | %.2f | %s |\n", $1, $2, ours
    printf "| numpy + PyTorch | %.2f | %.2f | %s |\n", $3, $4, theirs
    printf "\nstragsim is **%.1fx** faster in CPU time (%.1fx in wall time).", $4 / $2, $3 / $1
    printf " The profiles come from separate, untimed runs: stragsim under perf (CPU samples by library"
    printf " and function, bench/approxifer.buckets), the Python peer under cProfile at %d trials (own time per source file).\n", trials
    }' > "$TMP/table.md"
bench_readme_write approxifer "$TMP/table.md" "meson compile -C build bench-approxifer"
