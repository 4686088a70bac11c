#!/usr/bin/env bash
# compare-builds.sh: are two stragsim binaries' results bit-identical? For
# a change that must not move a number (a refactoring, a speed-up).
#
#   scripts/compare-builds.sh BEFORE AFTER [OUTDIR]
#
# Runs, with each binary: every config in configs/ at --smoke size (train-*.ini
# through `stragsim train --smoke`, the others through `stragsim run
# --smoke`, and those with a [train] target also through `stragsim train
# --smoke`: the learned codes' trainers), the quickstart at 2,000 jobs with 2 repeats and the validation
# sweep whole. Then compares every database with `AFTER check --rtol 0` (the
# metrics) and its job, iteration and param rows to the last bit, and every
# weights file with cmp. Databases go to OUTDIR/before and OUTDIR/after
# (default: a temporary directory, removed at the end). Prints one line per
# comparison; exits 1 if anything differs or the after binary refuses a
# config. Configs the before binary refuses (added since) are listed, not
# compared.
#
# To compare a commit against main:
#   git worktree add /tmp/old main && meson setup /tmp/old/build /tmp/old && ninja -C /tmp/old/build
#   scripts/compare-builds.sh /tmp/old/build/stragsim build/stragsim
set -euo pipefail
(($# >= 2)) || { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
before=$(realpath "$1") after=$(realpath "$2")
cd "$(dirname "$0")/.."
if [[ -n ${3:-} ]]; then
    out=$3
    mkdir -p "$out"
else
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
export OPENBLAS_NUM_THREADS=1

# produce BIN DIR: every result of BIN into DIR.
produce() {
    local bin=$1 dir=$2 cfg name
    rm -rf "$dir"
    mkdir -p "$dir"
    for cfg in configs/*.ini; do
        name=$(basename "$cfg" .ini)
        # A config the binary refuses (exit 2: e.g. a scheme added since)
        # is listed, not compared; any other failure stops the script.
        local rc=0
        case $name in
        train-*) "$bin" train "$cfg" --smoke -q -o "$dir/$name.bin" 2>"$dir/$name.err" || rc=$? ;;
        *) "$bin" run "$cfg" --smoke -q -o "$dir/$name.db" 2>"$dir/$name.err" || rc=$? ;;
        esac
        # a learned code's trainer: its weights files, NAME.PART.bin
        if ((rc == 0)) && grep -Eq '^target *= *' "$cfg"; then
            "$bin" train "$cfg" --smoke -q --set scheme.learned_weights="$(realpath "$dir")/$name" \
                2>"$dir/$name.err" || rc=$?
        fi
        if ((rc == 2)); then
            rm -f "$dir/$name".*.bin "$dir/$name.db" "$dir/$name.bin"
            echo "$name: $(head -1 "$dir/$name.err")" >>"$dir/refused"
        elif ((rc != 0)); then
            cat "$dir/$name.err" >&2
            exit "$rc"
        fi
        rm -f "$dir/$name.err"
    done
    "$bin" run configs/quickstart.ini -q -o "$dir/quickstart-2000.db" \
        --set workload.jobs=2000 --set workload.warmup=200 --set experiment.repeats=2
    "$bin" run configs/validation.ini -q -o "$dir/validation-whole.db"
}
produce "$before" "$out/before"
produce "$after" "$out/after"

# rows DB: every per-job and per-iteration row and every stored param, by
# point key, to 17 significant digits (check compares the metrics).
rows() {
    sqlite3 "$1" "SELECT r.point_key, j.job, printf('%!.17g|%!.17g|%d|%!.17g', j.arrival,
                         j.latency, j.tasks, j.extra)
                  FROM jobs j JOIN runs r ON r.id = j.run_id ORDER BY 1, 2;
                  SELECT r.point_key, i.iteration, printf('%!.17g|%!.17g|%!.17g|%d|%!.17g|%!.17g|%!.17g',
                         i.sim_time, i.loss, i.accuracy, i.waited, i.residual, i.grad_rel_err, i.staleness)
                  FROM iterations i JOIN runs r ON r.id = i.run_id ORDER BY 1, 2;
                  SELECT r.point_key, p.key, p.value FROM params p JOIN runs r ON r.id = p.run_id
                  ORDER BY 1, 2;"
}

status=0
[[ -f $out/before/refused ]] && sed 's/^/not compared (the before binary refuses it): /' "$out/before/refused"
if [[ -f $out/after/refused ]]; then
    sed 's/^/REFUSED by the after binary: /' "$out/after/refused"
    status=1
fi
for f in "$out"/before/*; do
    name=$(basename "$f")
    [[ $name == refused ]] && continue
    if [[ $name == *.db ]]; then
        if ! cmp -s <(rows "$f") <(rows "$out/after/$name"); then
            echo "DIFFERENT: $name (job, iteration or param rows)"
            status=1
        elif msg=$("$after" check "$out/after/$name" --baseline "$f" --rtol 0 2>&1); then
            echo "same: $name (${msg##*$'\n'}; $(rows "$f" | wc -l) rows)"
        else
            echo "DIFFERENT: $name"
            printf '%s\n' "$msg" | sed 's/^/  /'
            status=1
        fi
    elif cmp -s "$f" "$out/after/$name"; then
        echo "same: $name (byte for byte)"
    else
        echo "DIFFERENT: $name (weights differ)"
        status=1
    fi
done
exit $status
