#!/usr/bin/env bash
# run.sh: builds the libFuzzer harnesses of fuzz/ (clang, AddressSanitizer +
# UndefinedBehaviorSanitizer, the whole build instrumented for coverage) in
# build-fuzz/ and runs each in turn for RUNS executions (default 10^6), at
# low priority so the machine stays usable. Seeds come from the repository
# (configs, traces, weights) plus a tiny IDX pair; the growing corpus stays
# in build-fuzz/corpus/, and any crashing, hanging or leaking input is saved
# in build-fuzz/findings/ (turn each into a regression test of its reader,
# and keep the input in fuzz/regressions/TARGET/: every run replays those
# first).
#
#   fuzz/run.sh [RUNS] [ini|csv|idx|weights]...
#
# Exit status: 0 when every harness ran RUNS executions clean.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --fuzz
runs=${1:-1000000}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(ini csv idx weights)

if [[ ! -f build-fuzz/build.ninja ]]; then
    CC=clang meson setup build-fuzz -Dfuzz=true -Dmpi=disabled -Dbuildtype=debugoptimized -Db_lto=false \
        -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=all' >/dev/null
fi
meson compile -C build-fuzz $(printf 'fuzz/fuzz_%s ' "${targets[@]}") >/dev/null

# A minimal Fashion-MNIST pair as fuzz_idx reads it: u32 LE split, images, labels.
idx_seed() {
    printf '\x30\x06\x00\x00' >"$1"
    printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x1c\x00\x00\x00\x1c' >>"$1"
    head -c 1568 /dev/zero | tr '\0' '\200' >>"$1"
    printf '\x00\x00\x08\x01\x00\x00\x00\x02\x03\x07' >>"$1"
}

seed() { # TARGET DIR: copies the seeds of TARGET into DIR
    case $1 in
    ini) cp configs/*.ini "$2/" ;;
    csv) for f in traces/data/*/*.csv; do head -c 4000 "$f" >"$2/$(basename "$f")"; done ;;
    idx) idx_seed "$2/pair" ;;
    weights) cp models/weights/logreg.bin "$2/" ;;
    esac
}

max_len() {
    case $1 in
    weights) echo 40000 ;;
    idx) echo 8192 ;;
    *) echo 4096 ;;
    esac
}

mkdir -p build-fuzz/findings
status=0
for t in "${targets[@]}"; do
    corpus=build-fuzz/corpus/$t
    if [[ ! -d $corpus ]]; then
        mkdir -p "$corpus"
        seed "$t" "$corpus"
    fi
    # Past findings first: each must now run clean.
    if [[ -d fuzz/regressions/$t ]] && ! "build-fuzz/fuzz/fuzz_$t" fuzz/regressions/$t/* \
        >"build-fuzz/findings/regressions_$t.log" 2>&1; then
        status=1
        echo "fuzz_$t: a past finding fails again, see build-fuzz/findings/regressions_$t.log" >&2
        continue
    fi
    echo "fuzz_$t: $runs runs" >&2
    log=build-fuzz/findings/fuzz_$t.log
    # -timeout: an input taking 10 s is a hang; -rss_limit_mb: so is 2 GB.
    if nice -n 10 env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "build-fuzz/fuzz/fuzz_$t" "$corpus" -runs="$runs" -max_len="$(max_len "$t")" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="build-fuzz/findings/fuzz_$t-" >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^Done' "$log" | sed "s/^/fuzz_$t: /" >&2
    else
        status=1
        echo "fuzz_$t: FAILED, see $log and build-fuzz/findings/" >&2
        grep -E 'ERROR|SUMMARY' "$log" | head -5 >&2
    fi
done
exit "$status"
