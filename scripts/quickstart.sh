#!/usr/bin/env bash
# quickstart.sh: sets everything up, builds, runs configs/quickstart.ini into
# results.db, prints the summary table and draws the schemes' job-latency
# CDF into results-latency-cdf.png.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
rm -f results.db results.db-wal results.db-shm
build/stragsim run configs/quickstart.ini -o results.db
build/stragsim plot results.db --cdf --group scheme.kind --logx -o results-latency-cdf.png
echo "figure: $(pwd)/results-latency-cdf.png (latency CDF of each scheme; query results.db with sqlite3)"
