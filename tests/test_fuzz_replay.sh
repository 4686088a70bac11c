#!/usr/bin/env bash
# test_fuzz_replay.sh: the four fuzz harnesses (fuzz/, linked with
# replay_main.c) over their regression inputs (fuzz/regressions/TARGET/,
# bugs the fuzzers found) and their seeds (the shipped configs, traces and
# weights, and a tiny IDX pair). Each input must give a result or one error
# line; a crash, a trap or a sanitizer report fails the target.
source "$(dirname "$0")/tap.sh"
root=${STRAGSIM_SOURCE_ROOT:?}
bin=${FUZZ_REPLAY_DIR:?}

# A minimal Fashion-MNIST pair as fuzz_idx reads it (as fuzz/run.sh seeds it).
printf '\x30\x06\x00\x00' >"$scratch/pair"
printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x1c\x00\x00\x00\x1c' >>"$scratch/pair"
head -c 1568 /dev/zero | tr '\0' '\200' >>"$scratch/pair"
printf '\x00\x00\x08\x01\x00\x00\x00\x02\x03\x07' >>"$scratch/pair"

replay() { # TARGET INPUTS...
    local t=$1 out
    shift
    (($# > 0)) || { tap_fail "fuzz_$t: no inputs to replay"; return; }
    if out=$("$bin/fuzz_${t}_replay" "$@" 2>&1) && [[ $out == "replayed $# inputs" ]]; then
        tap_ok "fuzz_$t: $# regression and seed inputs replay clean"
    else
        tap_fail "fuzz_$t: an input fails its harness" "$(printf '%s\n' "$out" | tail -n 20)"
    fi
}

shopt -s nullglob
replay ini "$root"/fuzz/regressions/ini/* "$root"/configs/*.ini
replay csv "$root"/fuzz/regressions/csv/* "$root"/traces/data/*/*.csv
replay idx "$root"/fuzz/regressions/idx/* "$scratch/pair"
replay weights "$root"/fuzz/regressions/weights/* "$root"/models/weights/*.bin
tap_done
