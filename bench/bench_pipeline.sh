#!/bin/sh
# bench_pipeline.sh: what simulating a pipeline costs next to its compute.
#
# usage: bench/bench_pipeline.sh SOURCE_ROOT BUILD_ROOT
#   (after `meson compile -C BUILD_ROOT stragsim`)
#
# Side by side in one run, OPENBLAS_NUM_THREADS=1: 100 iterations of LeNet5
# on batches of 64 Fashion-MNIST images as
#   - the pipeline workload, P = 4 stages (balanced by FLOPs), M = 8
#     micro-batches of 8, gpipe, shifted-exponential stage times: every
#     stage's forward and backward of every micro-batch, the activations
#     handed from stage model to stage model, and the event bookkeeping;
#   - the same 100 batches on one worker, one forward and backward of 64
#     each, twice: the pipeline workload with one stage and one micro-batch
#     (the same code around the compute), and the training workload with
#     one worker (naive, cluster.workers = 1).
# Both evaluate once (the last iteration, on 1,000 test images). Each runs
# REPEATS times in one process (the data set is loaded once per process);
# the best run's wall_seconds from the results database is taken, and the
# ratios pipeline / one worker printed. Target: about 1.3 or less. The
# machine may be shared: read `uptime` (printed first) before trusting it.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: bench_pipeline.sh SOURCE_ROOT BUILD_ROOT" >&2
    exit 2
fi
BUILD=$2
REPEATS=${REPEATS:-5}
STRAGSIM="$BUILD/stragsim"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export OPENBLAS_NUM_THREADS=1

cat > "$TMP/bench.ini" <<INI
[experiment]
name = bench-pipeline
repeats = $REPEATS
[cluster]
workers = 4
[latency]
kind = shifted_exp
shift = 1
rate = 1
[scheme]
kind = none
[workload]
kind = pipeline
model = lenet5
iterations = 100
batch = 64
microbatches = 8
eval_every = 100
test_limit = 1000
INI

# best DB: the least wall_seconds of DB's runs
best() { sqlite3 "$1" "select printf('%.4f', min(wall_seconds)) from runs"; }

echo "== pipeline simulation against one worker's compute: LeNet5, 100 batches of 64 =="
uptime
"$STRAGSIM" run "$TMP/bench.ini" -o "$TMP/pp.db" --quiet
"$STRAGSIM" run "$TMP/bench.ini" -o "$TMP/stage.db" --quiet --set workload.stage_count=1 \
    --set workload.microbatches=1 --set cluster.workers=1
"$STRAGSIM" run "$TMP/bench.ini" -o "$TMP/one.db" --quiet --set workload.kind=training \
    --set scheme.kind=naive --set cluster.workers=1
pp=$(best "$TMP/pp.db")
stage=$(best "$TMP/stage.db")
one=$(best "$TMP/one.db")
printf '%-48s %8s s\n' "pipeline, P = 4, M = 8 (best of $REPEATS)" "$pp"
printf '%-48s %8s s\n' "pipeline, P = 1, M = 1 (best of $REPEATS)" "$stage"
printf '%-48s %8s s\n' "training workload, one worker (best of $REPEATS)" "$one"
awk -v a="$pp" -v b="$stage" -v c="$one" 'BEGIN {
    printf "%-48s %8.2f   (target <= 1.3)\n", "ratio P = 4, M = 8 / P = 1, M = 1", a / b
    printf "%-48s %8.2f\n", "ratio P = 4, M = 8 / training, one worker", a / c }'
