#!/usr/bin/env bash
# test_configs.sh: every file in configs/ (found by a glob: a new config is
# tested without being listed) runs end to end at smoke size, and its
# numbers depend on nothing but its points.
#
# Run configs (`stragsim run --smoke`): exit 0, every point stored once
# (the progress lines' count and the database's agree), and the metrics its
# workload promises stored and finite in every run. Then determinism, each
# against the whole run (default OpenBLAS and --threads) with stragsim
# check --rtol 0: a selection of points (every point of a small sweep, six
# spread over a large one, first and last included) in reverse order with
# OPENBLAS_NUM_THREADS=1 --threads 1 (the first point runs after the
# others), and the last point alone in its own process with
# OPENBLAS_NUM_THREADS=2 --threads 2 (it ran after all others in the whole
# run). Each variant changes two things at once: a process costs up to 2 s
# of loading Fashion-MNIST, and a difference in either shows.
# Training-only configs (train-*.ini; any config named so goes through
# `stragsim train`, any other through `stragsim run`) train with --smoke into
# the scratch directory on 1 and on 2 threads: byte-identical weights that
# `stragsim eval` loads. Run configs with a [train] target (the learned
# codes) also train with --smoke into the scratch directory. The shipped
# weights are never written: their checksums are the same at the end.
#
# Reduced variant (sanitizer builds, ~4x slower: STRAGSIM_SANITIZED is set
# to anything but "none"): three points in the reverse selection and no
# learned-code training; every config still runs whole.
source "$(dirname "$0")/tap.sh"
command -v sqlite3 >/dev/null || tap_skip_all "sqlite3 not found"
root=${STRAGSIM_SOURCE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
data=/usr/share/datasets/fashion-mnist
[[ -e $data/t10k-images-idx3-ubyte.gz ]] || tap_skip_all "Fashion-MNIST is not installed"
reduced=false
[[ ${STRAGSIM_SANITIZED:-none} != none && -n ${STRAGSIM_SANITIZED:-} ]] && reduced=true
cd "$scratch"

# The metrics each workload promises (README, workload.h), in every run:
# all of them the time and work metrics, the job-based ones (latency,
# inference) the job latency metrics; training's (synchronous or SSP) come
# per iteration (SSP's asynchronous updates have no job latency).
promised_all="worker_seconds events"
promised_jobs="jobs latency_mean latency_p50 latency_p99 latency_p999 latency_se"
promised_inference="accuracy agreement rmse base_accuracy"
promised_training="iterations iteration_time_mean final_loss final_accuracy grad_rel_err_max"
promised_pipeline="iterations iteration_time_mean iteration_time_se final_loss final_accuracy bubble_fraction throughput peak_activation_bytes"

weights_sum() { find "$root/models/weights" -type f -print0 | sort -z | xargs -0 md5sum | md5sum; }
weights_before=$(weights_sum)

# "run kind name" rows for every promised metric that a run of DB lacks (or
# stored as NULL: not finite).
missing_metrics() {
    local need="" kind name
    for kind in all jobs inference training pipeline; do
        local list="promised_$kind"
        for name in ${!list}; do need+="${need:+,}('$kind','$name')"; done
    done
    sqlite3 "$1" "WITH need(kind, name) AS (VALUES $need)
        SELECT r.id || ' ' || r.workload || ' ' || need.name FROM runs r JOIN need
          ON need.kind IN ('all', r.workload)
          OR (need.kind = 'jobs' AND r.workload IN ('latency', 'inference'))
        WHERE NOT EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = r.id
                          AND m.name = need.name AND m.value IS NOT NULL)
        UNION ALL SELECT 'run ' || r.id || ': unknown workload ' || ifnull(r.workload, 'NULL')
        FROM runs r WHERE ifnull(r.workload, '') NOT IN ('latency', 'inference', 'training', 'pipeline')"
}

# cpu_note: cpu="cpu 12.3 s", the user + system time of every command run
# so far (`times` must run in this shell, not in a $(...) subshell).
cpu_note() {
    times >"$scratch/times"
    cpu=$(tail -1 "$scratch/times" | awk '{ gsub(/[ms]/, " "); print "cpu", $1 * 60 + $2 + $3 * 60 + $4, "s" }')
}

# spread N K: up to K point numbers spread over 1..N, 1 and N included.
spread() {
    local n=$1 k=$2 j prev=0 p
    ((k > n)) && k=$n
    for ((j = 0; j < k; j++)); do
        p=$((k > 1 ? 1 + j * (n - 1) / (k - 1) : n))
        ((p != prev)) && echo "$p"
        prev=$p
    done
}

# same NAME WHAT DB: the runs of DB have the metrics of whole.db, bit for bit.
same() {
    local out
    if out=$("$STRAGSIM" check whole.db --baseline "$3" --rtol 0 2>&1); then
        tap_ok "$1: $2 gives the whole run's metrics bit for bit"
    else
        tap_fail "$1: $2 gives the whole run's metrics bit for bit" "$out"
    fi
}

# variant NAME WHAT DB ENV... -- ARGS...: one more run of the config into DB.
variant() {
    local name=$1 what=$2 db=$3 envs=()
    shift 3
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    if env "${envs[@]}" "$STRAGSIM" run "$cfg" --smoke -q -o "$db" "$@" 2>"$db.err"; then
        return 0
    fi
    tap_fail "$name: $what runs" "$(head -3 "$db.err")"
    return 1
}

run_config() {
    local cfg=$1 name
    name=$(basename "$cfg")
    rm -f ./*.db ./*.err
    local t0=$SECONDS
    # the whole sweep with the defaults: OpenBLAS's own thread count, --threads unset
    env -u OPENBLAS_NUM_THREADS "$STRAGSIM" run "$cfg" --smoke -o whole.db >/dev/null 2>whole.err
    local rc=$?
    if ((rc != 0)); then
        tap_fail "configs/$name runs with --smoke" "exit $rc" "$(tail -3 whole.err)"
        return
    fi
    tap_ok "configs/$name runs with --smoke"

    # every point stored once: N points ("[i/N] ..." progress lines) less
    # those the run notes as the same simulation as an earlier one, each a
    # progress line, a run and a key of its own
    local n lines stored repeated want
    n=$(sed -n 's|^\[[0-9]*/\([0-9]*\)\].*|\1|p' whole.err | head -1)
    repeated=$(sed -n 's/^note: \([0-9]*\) points of the sweep are the same simulation.*/\1/p' \
        whole.err)
    want=$((${n:-0} - ${repeated:-0}))
    lines=$(grep -c '^\[[0-9]*/[0-9]*\]' whole.err)
    stored=$(sqlite3 whole.db "SELECT count(*) || ' ' || count(DISTINCT point_key) FROM runs")
    if [[ -n $n && $lines == "$want" && $stored == "$want $want" ]]; then
        tap_ok "$name: all $n points stored (${repeated:-0} of them the same simulation as another)"
    else
        tap_fail "$name: all points stored" "points: ${n:-?}, repeats: ${repeated:-0}," \
            "progress lines: $lines, runs and distinct keys: $stored"
        return
    fi
    local missing
    missing=$(missing_metrics whole.db)
    if [[ -z $missing ]]; then
        tap_ok "$name: every run has its workload's metrics"
    else
        tap_fail "$name: every run has its workload's metrics" "missing (run workload metric):" \
            "$(head -5 <<<"$missing")"
    fi

    # determinism over a selection of points
    local k=6
    $reduced && k=3
    local sel list
    sel=$(spread "$n" "$k")
    list=$(paste -sd, <<<"$sel")
    variant "$name" "--reverse" reverse.db OPENBLAS_NUM_THREADS=1 -- --points "$list" --reverse \
        --threads 1 &&
        same "$name" "points $list in reverse order, OPENBLAS_NUM_THREADS=1 --threads 1" reverse.db
    variant "$name" "point $n alone" single.db OPENBLAS_NUM_THREADS=2 -- --points "$n" \
        --threads 2 &&
        same "$name" "point $n alone in its process, OPENBLAS_NUM_THREADS=2 --threads 2" single.db
    cpu_note
    echo "# $name: $n points, $((SECONDS - t0)) s, $cpu in all"
}

train_config() {
    local cfg=$1 name model t
    name=$(basename "$cfg")
    model=$(sed -n 's/^model *= *\([a-z0-9]*\).*/\1/p' "$cfg" | head -1)
    local t0=$SECONDS
    for t in 1 2; do
        if ! OPENBLAS_NUM_THREADS=$t "$STRAGSIM" train "$cfg" --smoke \
            --set train.output="$scratch/$name.$t.bin" --set train.threads=$t 2>"train.$t.err"; then
            tap_fail "configs/$name trains with --smoke on $t threads" "$(tail -3 "train.$t.err")"
            return
        fi
    done
    if grep -Eq '^epoch 1/1 loss=[0-9.]+ val_accuracy=0\.[0-9]+' train.1.err; then
        tap_ok "configs/$name trains with --smoke: $(grep '^epoch' train.1.err | head -1)"
    else
        tap_fail "configs/$name trains with --smoke (a finite loss and validation accuracy)" \
            "$(cat train.1.err)"
    fi
    tap_check "$name: the same weights on 1 and 2 threads" \
        cmp "$scratch/$name.1.bin" "$scratch/$name.2.bin"
    local out
    if out=$("$STRAGSIM" eval --model "$model" --weights "$scratch/$name.1.bin" 2>&1) &&
        grep -q 'accuracy=0\.[0-9]' <<<"$out"; then
        tap_ok "$name: stragsim eval loads the weights ($model)"
    else
        tap_fail "$name: stragsim eval loads the weights ($model)" "$out"
    fi
    cpu_note
    echo "# $name: $((SECONDS - t0)) s, $cpu in all"
}

# A run config with a [train] target: its learned code trains at smoke size.
train_learned_config() {
    local cfg=$1 name
    name=$(basename "$cfg" .ini)
    mkdir -p learned
    if "$STRAGSIM" train "$cfg" --smoke --quiet \
        --set scheme.learned_weights="$scratch/learned/$name" 2>learned.err &&
        compgen -G "learned/$name.*.bin" >/dev/null; then
        tap_ok "$name.ini: its learned code trains with --smoke ($(ls learned | paste -sd' '))"
    else
        tap_fail "$name.ini: its learned code trains with --smoke" "$(tail -3 learned.err)"
    fi
    rm -rf learned
}

configs=("$root"/configs/*.ini)
((${#configs[@]} > 0)) || tap_fail "configs/*.ini finds the configs"
for cfg in "${configs[@]}"; do
    case $(basename "$cfg") in
    train-*.ini) train_config "$cfg" ;;
    *)
        run_config "$cfg"
        if ! $reduced && grep -Eq '^target *= *' "$cfg"; then train_learned_config "$cfg"; fi
        ;;
    esac
done
tap_check "the shipped weights are unchanged" test "$(weights_sum)" == "$weights_before"
tap_done
