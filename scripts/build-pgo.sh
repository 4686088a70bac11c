#!/usr/bin/env bash
# build-pgo.sh: a release build of stragsim compiled twice, the second time
# with the profile of training runs (GCC profile-guided optimisation: the
# hot paths of the engine, the cluster and the draws laid out and inlined by
# what the training runs did). Results are the same bit for bit: the
# profile moves code, never arithmetic (-ffp-contract stays off under
# -std=c17; scripts/compare-builds.sh checks it).
#
#   scripts/build-pgo.sh [BUILD_DIR]    (default build-pgo)
#
# Training: the latency workload's small shipped configs whole (validation,
# kofn, replication, hedged, uncoded, the Alibaba replay) and the
# quickstart and logistic-regression training at --smoke size, a few
# seconds in all; never the benchmark's own config. Functions the training
# does not reach are optimised as in the plain release build
# (-fprofile-partial-training). Builds only the stragsim binary.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-pgo}

configure() { # configure B_PGO [C_ARGS]
    if [[ -f $build/build.ninja ]]; then
        meson configure "$build" -Db_pgo="$1" -Dc_args="${2:-}" >/dev/null
    else
        meson setup "$build" --buildtype=release -Db_pgo="$1" -Dc_args="${2:-}" >/dev/null
    fi
}

configure generate
find "$build" -name '*.gcda' -delete
ninja -C "$build" stragsim >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OPENBLAS_NUM_THREADS=1
for config in validation kofn replication hedged uncoded replay-alibaba; do
    "$build/stragsim" run "configs/$config.ini" -o "$work/$config.db" --quiet
done
"$build/stragsim" run configs/quickstart.ini -o "$work/quickstart.db" --quiet --smoke
"$build/stragsim" train configs/train-logreg.ini -o "$work/train-logreg.db" --quiet --smoke

configure use -fprofile-partial-training
ninja -C "$build" stragsim >/dev/null
echo "build-pgo: $build/stragsim"
