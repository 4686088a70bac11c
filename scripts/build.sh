#!/usr/bin/env bash
# build.sh: configures (once) and builds stragsim in build/. Extra arguments
# go to `meson setup` the first time (e.g. -Dwerror_all=true).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  meson setup build "$@" >/dev/null
fi
meson compile -C build >/dev/null
