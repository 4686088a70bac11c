#!/usr/bin/env bash
# quickstart.sh: sets everything up, builds, runs configs/quickstart.ini into
# results.db and prints the summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
rm -f results.db results.db-wal results.db-shm
build/stragsim run configs/quickstart.ini -o results.db
