#!/usr/bin/env bash
# figures.sh: regenerates every figure in doc/figures/ from its config, with
# the commands the README and doc/*.md show next to each figure. Runs the
# sweeps into figures/*.db under a scratch directory (a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
out=doc/figures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
s=build/stragsim

# README: the quickstart's job-latency CDFs.
$s run configs/quickstart.ini -o "$tmp/quickstart.db" --quiet
$s plot "$tmp/quickstart.db" --cdf --group scheme.kind --logx -o $out/quickstart-cdf.png

# doc/training.md: ignore-2-of-10 on the Alibaba job_3 replay, with and
# without shuffling class-sorted partitions.
$s run configs/gc-alibaba.ini -o "$tmp/alibaba.db" --quiet \
    --set latency.file=traces/data/alibaba-pai/job_3_norm.csv --set scheme.kind=ignore
$s plot "$tmp/alibaba.db" --iterations --y accuracy --group scheme.shuffle \
    --title "ignore-2-of-10 on Alibaba PAI job_3 (persistent stragglers), class-sorted partitions" \
    -o $out/training-alibaba-job3-shuffle.png

# doc/training.md: gradient codes under bimodal stragglers, n = 12, s = 2.
$s run configs/gc-fmnist.ini -o "$tmp/gc.db" --quiet --set latency.kind=bimodal \
    --set cluster.workers=12 --set scheme.stragglers=2
$s plot "$tmp/gc.db" --iterations --y loss --group scheme.kind \
    --title "training loss, n = 12, s = 2, bimodal stragglers (10x slow w.p. 0.1)" \
    -o $out/training-gc-bimodal-loss.png
$s plot "$tmp/gc.db" --iterations --y accuracy --group scheme.kind \
    --title "test accuracy, n = 12, s = 2, bimodal stragglers (10x slow w.p. 0.1)" \
    -o $out/training-gc-bimodal-accuracy.png
echo "figures written to $out/"
