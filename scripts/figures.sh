#!/usr/bin/env bash
# figures.sh: redraws every figure in doc/figures/: the parts of
# scripts/reproduce.sh that draw figures (quickstart, training, pipeline,
# approx-coded), which also regenerate the tables of the same runs.
set -euo pipefail
exec "$(dirname "$0")/reproduce.sh" --figures
