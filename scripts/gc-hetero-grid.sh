#!/usr/bin/env bash
# gc-hetero-grid.sh: runs configs/gc-hetero-shuffle.ini over the grid of
# slow fractions pi and straggler correlations rho of issue 6, one database.
# A [sweep] axis sets one key, and the Markov chain's two probabilities move
# together (p_active_to_slow = pi (1 - rho), p_slow_to_active =
# (1 - pi)(1 - rho)), so each (pi, rho) is one run with --set. rho = 1 (fixed
# classes) has no stationary start, so it is run as rho = 1 - 1e-6 (a
# chain's slow count is random; for exactly n_s slow workers, permanent or
# re-drawn, see latency.slow_nodes and configs/gc-hetero-exact.ini).
# Usage: scripts/gc-hetero-grid.sh [DB] [extra stragsim run arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-gc-hetero.db}
shift || true
stragsim=${STRAGSIM:-build/stragsim}
for pi in 0.1 0.25 0.5; do
  for rho in 0 0.5 0.9 0.999999; do
    q=$(awk -v p="$pi" -v r="$rho" 'BEGIN { printf "%.9g", p * (1 - r) }')
    r=$(awk -v p="$pi" -v r="$rho" 'BEGIN { printf "%.9g", (1 - p) * (1 - r) }')
    echo "pi=$pi rho=$rho: p_active_to_slow=$q p_slow_to_active=$r" >&2
    "$stragsim" run configs/gc-hetero-shuffle.ini -o "$db" --resume \
      --set "experiment.name=gc-hetero pi=$pi rho=$rho" \
      --set "latency.p_active_to_slow=$q" --set "latency.p_slow_to_active=$r" "$@"
  done
done
