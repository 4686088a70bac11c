#!/usr/bin/env bash
# setup.sh: installs, idempotently, every Debian 12 package stragsim needs to
# build, test and run its quickstart (OpenMPI included: the MPI runner and
# its test; numpy and scipy: the tests' reference oracles in tests/oracles/,
# never stragsim itself; chromium: the headless browser that loads
# `report --format html` pages in tests/test_html_report.sh); `--bench` adds the benchmark peers (SimPy, PyTorch), `--fuzz`
# clang and its libFuzzer runtime (fuzz/run.sh). Runs apt-get only when something is missing; uses sudo
# when not root.
set -euo pipefail

packages=(
  gcc pkg-config meson ninja-build
  libgsl-dev libopenblas-dev libinih-dev libcriterion-dev zlib1g-dev
  libsqlite3-dev sqlite3 gnuplot-nox dataset-fashion-mnist
  libopenmpi-dev openmpi-bin
  python3-numpy python3-scipy
  chromium
)
case "${1:-}" in
--bench) packages+=(python3 python3-simpy3 python3-torch python3-numpy) ;;
--fuzz) packages+=(clang libclang-rt-14-dev) ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi
echo "setup: installing ${missing[*]}" >&2
"${sudo_cmd[@]}" apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
