#!/usr/bin/env bash
# test_tuner_e2e.sh: the hyperparameter tuner end to end (issue #15): a
# fixed tuner reproduces the untuned run bit for bit (parameter server and a
# gradient code); the tuner never reads the test set (its decisions do not
# move when the test set does, and do move when its validation set does);
# the tuner table goes through export, merge and rm; the same for the
# pipeline workload (fixed == untuned with dropout tuned, the test set
# never read), and its per_worker (ConvLSTM) lstm tuner runs. Bad input:
# test_bad_input.sh; the decision rules: test_tuner.c.
source "$(dirname "$0")/tap.sh"
command -v sqlite3 >/dev/null || tap_skip_all "sqlite3 not found"
S=$STRAGSIM
cd "$scratch"
write_ini() { # FILE NAME WORKERS WORKLOAD SCHEME BATCH_LINES...: the mlp under Markov stragglers
    local f=$1 name=$2 workers=$3 workload=$4 scheme=$5
    shift 5
    {
        cat <<INI
[experiment]
name = $name
seed = 5
[cluster]
workers = $workers
[latency]
kind = markov
p_active_to_slow = 0.1
p_slow_to_active = 0.3
active.kind = shifted_exp
active.shift = 1
active.rate = 1
slow.kind = shifted_exp
slow.shift = 5
slow.rate = 0.2
[workload]
kind = $workload
model = mlp
iterations = 24
INI
        printf '%s\n' "$@"
        cat <<INI
learning_rate = 0.1
eval_every = 6
train_limit = 4000
test_limit = 300
[scheme]
kind = $scheme
INI
    } >"$f"
}
write_ini ssp.ini tuner 4 training ssp "batch = 64"
write_ini crc.ini tuner 4 training crc "batch = 64"
rows() { # DB: every iteration row and metric of its one run, to 17 digits
    sqlite3 "$1" "SELECT iteration, printf('%!.17g', loss), printf('%!.17g', accuracy),
                  printf('%!.17g', sim_time), staleness FROM iterations ORDER BY 1;
                  SELECT name, printf('%!.17g', value) FROM metrics ORDER BY 1" | md5sum
}
losses() { sqlite3 "$1" "SELECT group_concat(printf('%!.17g', loss)) FROM iterations"; }
decisions() { sqlite3 "$1" "SELECT iteration, key, printf('%!.17g', value), reason FROM tuner ORDER BY decision"; }

# ---- fixed == untuned, bit for bit ----
for scheme in ssp crc; do
    tune=learning_rate,batch,weight_decay
    [[ $scheme == ssp ]] && tune=$tune,staleness || tune=$tune,dropout
    "$S" run $scheme.ini -o $scheme-plain.db -q || tap_fail "$scheme: the untuned run"
    "$S" run $scheme.ini -o $scheme-fixed.db -q --set workload.tuner.kind=fixed \
        --set workload.tuner.window=4 --set workload.tuner.tune=$tune ||
        tap_fail "$scheme: the fixed tuner's run"
    n=$(sqlite3 $scheme-fixed.db "SELECT count(*) FROM tuner")
    if [[ $(rows $scheme-plain.db) == "$(rows $scheme-fixed.db)" && $n == 20 ]]; then
        tap_ok "$scheme: a fixed tuner ($tune) reproduces the untuned run bit for bit"
    else
        tap_fail "$scheme: a fixed tuner reproduces the untuned run" "$n decisions (want 5 x 4)"
    fi
done

# ---- the tuner reads validation images, never the test set ----
# The same keys (so the same streams and point key) over a data directory
# whose test set is swapped for other images between two runs: the test
# accuracies move, the training and the decisions must not.
real=/usr/share/datasets/fashion-mnist
mkdir data
ln -s "$real"/train-* data/
ln -s "$real"/t10k-* data/
rule() { # DB SETTINGS...: the rule tuner on the parameter server, a quick plateau rule
    local db=$1
    shift
    "$S" run ssp.ini -o "$db" -q --set workload.data_dir="${DATA:-data}" --set workload.tuner.kind=rule \
        --set workload.tuner.window=2 --set workload.tuner.patience=1 \
        --set workload.tuner.min_delta=0.01 --set workload.tuner.tune=learning_rate "$@"
}
rule test-a.db --set workload.tuner.validation=300
# Validation sets are compared over the installed data directory (its path,
# as typed, is part of the point key and so of the streams): whether one
# validation set happens to give the same decisions was checked for those
# streams.
DATA=$real rule val-300.db --set workload.tuner.validation=300
for v in 20 50 100; do DATA=$real rule val-$v.db --set workload.tuner.validation=$v; done
rm data/t10k-*
ln -s "$real"/train-images-idx3-ubyte.gz data/t10k-images-idx3-ubyte.gz
ln -s "$real"/train-labels-idx1-ubyte.gz data/t10k-labels-idx1-ubyte.gz
rule test-b.db --set workload.tuner.validation=300
acc() { sqlite3 "$1" "SELECT group_concat(accuracy) FROM iterations WHERE accuracy IS NOT NULL"; }
if [[ $(acc test-a.db) != "$(acc test-b.db)" && $(losses test-a.db) == "$(losses test-b.db)" &&
      $(decisions test-a.db) == "$(decisions test-b.db)" ]]; then
    tap_ok "another test set: other test accuracies, the same training and decisions"
else
    tap_fail "another test set: other test accuracies, the same training and decisions" \
        "test accuracies: $(acc test-a.db) vs $(acc test-b.db)"
fi
other=0
for v in 20 50 100; do [[ $(decisions val-300.db) != "$(decisions val-$v.db)" ]] && other=1; done
if ((other)); then
    tap_ok "another validation set: other decisions (the test above can fail)"
else
    tap_fail "another validation set: other decisions" "$(decisions val-100.db)"
fi

# ---- the pipeline (model-parallel) workload ----
write_ini pp.ini tuner-pp 3 pipeline none "batch = 32" "microbatches = 4"
"$S" run pp.ini -o pp-plain.db -q || tap_fail "pipeline: the untuned run"
"$S" run pp.ini -o pp-fixed.db -q --set workload.tuner.kind=fixed --set workload.tuner.window=4 \
    --set workload.tuner.tune=learning_rate,batch,weight_decay,dropout || tap_fail "pipeline: the fixed tuner's run"
n=$(sqlite3 pp-fixed.db "SELECT count(*) FROM tuner")
if [[ $(rows pp-plain.db) == "$(rows pp-fixed.db)" && $n == 20 ]]; then
    tap_ok "pipeline: a fixed tuner (learning_rate,batch,weight_decay,dropout) reproduces the untuned run bit for bit"
else
    tap_fail "pipeline: a fixed tuner reproduces the untuned run" "$n decisions (want 5 x 4)"
fi
pp_rule() { # DB SETTINGS...: the rule tuner on the pipeline, every key, a quick plateau rule
    local db=$1
    shift
    "$S" run pp.ini -o "$db" -q --set workload.data_dir="${DATA:-data}" --set workload.tuner.kind=rule \
        --set workload.tuner.window=2 --set workload.tuner.patience=1 \
        --set workload.tuner.min_delta=0.01 --set workload.tuner.straggler_share=0.3 \
        --set workload.tuner.batch_min=16 --set workload.tuner.batch_max=128 \
        --set workload.tuner.tune=learning_rate,batch,weight_decay,dropout "$@"
}
pp_rule pp-test-b.db --set workload.tuner.validation=300 # the swapped test set (above)
ln -sf "$real"/t10k-images-idx3-ubyte.gz data/t10k-images-idx3-ubyte.gz
ln -sf "$real"/t10k-labels-idx1-ubyte.gz data/t10k-labels-idx1-ubyte.gz
pp_rule pp-test-a.db --set workload.tuner.validation=300
DATA=$real pp_rule pp-val-300.db --set workload.tuner.validation=300 # as above: the installed data
for v in 20 50 100; do DATA=$real pp_rule pp-val-$v.db --set workload.tuner.validation=$v; done
if [[ $(acc pp-test-a.db) != "$(acc pp-test-b.db)" && $(losses pp-test-a.db) == "$(losses pp-test-b.db)" &&
      $(decisions pp-test-a.db) == "$(decisions pp-test-b.db)" && -n $(decisions pp-test-a.db) ]]; then
    tap_ok "pipeline: another test set, other test accuracies, the same training and decisions"
else
    tap_fail "pipeline: another test set, the same training and decisions" \
        "test accuracies: $(acc pp-test-a.db) vs $(acc pp-test-b.db)"
fi
other=0
for v in 20 50 100; do [[ $(decisions pp-val-300.db) != "$(decisions pp-val-$v.db)" ]] && other=1; done
if ((other)); then
    tap_ok "pipeline: another validation set, other decisions (the test above can fail)"
else
    tap_fail "pipeline: another validation set, other decisions" "$(decisions pp-val-100.db)"
fi
"$S" run pp.ini -o pp-conv.db -q --set workload.tuner.kind=lstm --set workload.tuner.window=2 \
    --set workload.tuner.lstm_input=per_worker --set workload.tuner.tune=learning_rate,batch ||
    tap_fail "pipeline: the per_worker lstm tuner's run"
"$S" run pp.ini -o pp-lstm.db -q --set workload.tuner.kind=lstm --set workload.tuner.window=2 \
    --set workload.tuner.tune=learning_rate,batch
n=$(sqlite3 pp-conv.db "SELECT count(*) FROM tuner")
if [[ $n == 22 && $(decisions pp-conv.db) != "$(decisions pp-lstm.db)" ]]; then
    tap_ok "pipeline: the per_worker (ConvLSTM) tuner decides every window, not as the summary one"
else
    tap_fail "pipeline: the per_worker (ConvLSTM) tuner" "$n decisions (want 11 x 2)"
fi

# ---- under MPI the decisions travel from the rank that ran the point ----
if command -v mpirun >/dev/null; then
    mpirun_test --oversubscribe -np 2 "$S" run ssp.ini -o test-mpi.db -q --set workload.data_dir=data \
        --set workload.tuner.kind=rule --set workload.tuner.window=2 \
        --set workload.tuner.patience=1 --set workload.tuner.min_delta=0.01 \
        --set workload.tuner.tune=learning_rate --set workload.tuner.validation=300 >mpi.out 2>&1
    if [[ -n $(decisions test-mpi.db) && $(decisions test-mpi.db) == "$(decisions test-a.db)" ]]; then
        tap_ok "mpirun -np 2: the same tuner decisions"
    else
        tap_fail "mpirun -np 2: the same tuner decisions" "$(cat mpi.out)"
    fi
fi

# ---- export, merge, rm ----
"$S" export test-a.db --table tuner -o tuner.csv
header=$(head -1 tuner.csv | tr -d '\r')
lines=$(($(wc -l <tuner.csv) - 1))
want=$(sqlite3 test-a.db "SELECT count(*) FROM tuner")
if [[ $header == run_id,point_key,repeat,*decision,iteration,sim_time,key,value,reason && $lines == "$want" && $want -gt 0 ]]; then
    tap_ok "export --table tuner: $lines decisions"
else
    tap_fail "export --table tuner" "header: $header" "$lines lines, want $want"
fi
"$S" merge merged.db ssp-fixed.db val-100.db >/dev/null
m=$(sqlite3 merged.db "SELECT count(*) FROM tuner")
w=$(($(sqlite3 ssp-fixed.db "SELECT count(*) FROM tuner") + $(sqlite3 val-100.db "SELECT count(*) FROM tuner")))
if [[ $m == "$w" && $(decisions val-100.db) == "$(sqlite3 merged.db "SELECT iteration, key, printf('%!.17g', value), reason FROM tuner
        WHERE run_id = (SELECT id FROM runs WHERE point_key = '$(sqlite3 val-100.db "SELECT point_key FROM runs")') ORDER BY decision")" ]]; then
    tap_ok "merge copies the tuner table ($m decisions)"
else
    tap_fail "merge copies the tuner table" "$m decisions, want $w"
fi
out=$("$S" rm merged.db --where workload.tuner.kind=rule)
left=$(sqlite3 merged.db "SELECT count(*) FROM tuner")
keep=$(sqlite3 ssp-fixed.db "SELECT count(*) FROM tuner")
if [[ $out == *"tuner decisions"* && $left == "$keep" ]]; then
    tap_ok "rm deletes a run's tuner decisions with it"
else
    tap_fail "rm deletes a run's tuner decisions" "$out" "$left left, want $keep"
fi
tap_done
