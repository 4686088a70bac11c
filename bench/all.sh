#!/bin/sh
# all.sh: every benchmark, one after the other (run by `meson compile -C
# BUILD bench`): the event engine and kofn-queue against SimPy (run.sh),
# LeNet5 against PyTorch (bench_models.sh), the ApproxIFER grid against
# numpy + PyTorch (bench_approxifer.sh), the pipeline workload against one
# worker's compute (bench_pipeline.sh), encode / forward / decode per coded
# scheme at N = 100 (bench_decode). Each prints its own table.
set -eu
dir=$(dirname "$0")
"$dir/run.sh" "$@"
echo
"$dir/bench_models.sh" "$@"
echo
"$dir/bench_approxifer.sh" "$@"
echo
"$dir/bench_pipeline.sh" "$@"
echo
OPENBLAS_NUM_THREADS=1 "$2/bench/bench_decode"
