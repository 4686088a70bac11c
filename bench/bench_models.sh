#!/bin/sh
# bench_models.sh: LeNet5 speed of stragsim next to PyTorch, in one run.
#
# usage: bench/bench_models.sh SOURCE_ROOT BUILD_ROOT
#   (after `meson compile -C BUILD_ROOT stragsim bench/bench_sgemm bench/bench_conv`)
#
# For T = 1 and 2 threads:
# 1. the machine's SGEMM peak at T threads: bench_sgemm (cblas_sgemm 2048^3,
#    best of 5), per wall second and per CPU second of the process;
# 2. stragsim, batch 256, with its direct conv kernels (the default: the
#    widest this CPU runs) and with STRAGSIM_CONV=im2col (im2col + GEMM),
#    taking turns:
#    - inference: `stragsim eval --model lenet5 --threads T` over the 10,000
#      test images with the shipped weights (forward passes only), best of
#      REPEATS runs, in images per wall second and per CPU second (all
#      threads: images_per_cpu_s);
#    - training: `stragsim train` for TRAIN_EPOCHS epochs over all 60,000
#      training images (SGD momentum 0.9, no validation), the fastest
#      epoch's wall time from the progress lines (0.1 s resolution);
# 3. PyTorch (bench/torch_lenet5.py, Debian python3-torch 1.13,
#    torch.set_num_threads(T), OPENBLAS_NUM_THREADS=1): the same network,
#    batch and data, best of REPEATS (training: TRAIN_EPOCHS) as well.
# FLOPs per image come from the model (a multiply-add is 2; training counts
# 3x the forward: forward, input gradient, weight gradient); the fraction of
# peak divides by the SGEMM of the same thread count, wall by wall and CPU
# by CPU. Then the stragsim/PyTorch ratios and the issue's goals (direct
# convs: inference >= 60% of the SGEMM peak and >= 2.5x PyTorch, on 1 and
# on 2 threads), judged in CPU time.
# 4. where the forward's time goes: `stragsim eval` (1 thread) PROFILE_RUNS
#    times under perf, per conv path, CPU samples by function
#    (bench/lenet5.buckets; loading the data set is left out).
# 5. bench_conv: the same inference per conv path on one thread in thread
#    CPU seconds (with the SGEMM peak in CPU seconds too).
#
# The machine may be shared: best-of-REPEATS filters short interruptions,
# not a steady load. Per CPU second, another process's load costs little;
# per wall second, a busy machine lowers everything, and the 2-thread rows
# only get 2 cores when nothing else runs: the "cores" column (CPU seconds
# over wall seconds of the best run) says how many the row got.
#
# The table goes into README.md between <!-- bench:lenet5 --> and
# <!-- /bench:lenet5 --> (bench/readme_table.sh).
#
# Environment: PYTHON (default /usr/bin/python3, Debian's, which has torch),
# BATCH (default 256), REPEATS (default 3), TRAIN_EPOCHS (default 2),
# PROFILE_RUNS (default 5; 0: no profile), BENCH_README (readme_table.sh).
set -eu

if [ $# -ne 2 ]; then
    echo "usage: bench_models.sh SOURCE_ROOT BUILD_ROOT" >&2
    exit 2
fi
SRC=$1
BUILD=$2
PYTHON=${PYTHON:-/usr/bin/python3}
BATCH=${BATCH:-256}
REPEATS=${REPEATS:-3}
TRAIN_EPOCHS=${TRAIN_EPOCHS:-2}
PROFILE_RUNS=${PROFILE_RUNS:-5}
STRAGSIM="$BUILD/stragsim"
WEIGHTS="$SRC/models/weights/lenet5.bin"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$SRC/bench/readme_table.sh"

# value KEY FILE: the value of the first "KEY=value" line of FILE
value() { sed -n "s/^$1=//p" "$2" | head -n 1; }
# larger A B
larger() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 > b + 0 ? a : b) }'; }
# epoch_rate LOG: the fastest epoch of a `stragsim train` log, in images/s
epoch_rate() { sed -n 's/^epoch .*(\([0-9.]*\) s)$/\1/p' "$1" |
               awk 'NR == 1 || $1 < min { min = $1 } END { printf "%.0f", 60000 / min }'; }

echo "== LeNet5 on Fashion-MNIST, batch $BATCH ($(uptime | sed 's/.*load/load/')) =="

# one row per contender: name threads infer/s infer/cpu-s cores train/s peak peak_cpu
: > "$TMP/rows"
for t in 1 2; do
    OPENBLAS_NUM_THREADS=$t "$BUILD/bench/bench_sgemm" "$t" > "$TMP/peak$t"
    peak=$(value sgemm_gflops "$TMP/peak$t")
    peak_cpu=$(value sgemm_cpu_gflops "$TMP/peak$t")

    for conv in auto im2col; do
        echo "0 0 0" > "$TMP/best$t-$conv"
    done
    for r in $(seq "$REPEATS"); do
        for conv in auto im2col; do
            STRAGSIM_CONV=$conv "$STRAGSIM" eval --model lenet5 --weights "$WEIGHTS" \
                --batch "$BATCH" --threads "$t" > "$TMP/eval$t-$conv"
            # keep the best wall rate with its run's cores, and the best CPU rate
            read -r w c k < "$TMP/best$t-$conv"
            nw=$(value images_per_s "$TMP/eval$t-$conv")
            nc=$(value images_per_cpu_s "$TMP/eval$t-$conv")
            if [ "$(larger "$nw" "$w")" = "$nw" ]; then
                w=$nw
                k=$(awk -v a="$(value cpu_seconds "$TMP/eval$t-$conv")" \
                        -v b="$(value seconds "$TMP/eval$t-$conv")" 'BEGIN { printf "%.2f", a / b }')
            fi
            echo "$w $(larger "$nc" "$c") $k" > "$TMP/best$t-$conv"
        done
    done
    flops=$(value flops_per_image "$TMP/eval$t-auto")
    direct=$(value conv "$TMP/eval$t-auto")

    cat > "$TMP/train$t.ini" <<EOF
[experiment]
seed = 1
[workload]
model = lenet5
[train]
epochs = $TRAIN_EPOCHS
batch = $BATCH
optimizer = sgd
learning_rate = 0.05
momentum = 0.9
validation = 0
threads = $t
output = $TMP/lenet5-$t.bin
EOF
    "$STRAGSIM" train "$TMP/train$t.ini" 2> "$TMP/train$t.log"
    STRAGSIM_CONV=im2col "$STRAGSIM" train "$TMP/train$t.ini" -o "$TMP/lenet5-$t-im2col.bin" \
        2> "$TMP/train$t-im2col.log"
    read -r w c k < "$TMP/best$t-auto"
    echo "direct-$direct $t $w $c $k $(epoch_rate "$TMP/train$t.log") $peak $peak_cpu" >> "$TMP/rows"
    read -r w c k < "$TMP/best$t-im2col"
    echo "im2col $t $w $c $k $(epoch_rate "$TMP/train$t-im2col.log") $peak $peak_cpu" >> "$TMP/rows"

    OPENBLAS_NUM_THREADS=1 "$PYTHON" "$SRC/bench/torch_lenet5.py" --threads "$t" \
        --batch "$BATCH" --repeats "$REPEATS" --train-epochs "$TRAIN_EPOCHS" > "$TMP/torch$t"
    tw=$(value infer_images_per_s "$TMP/torch$t")
    tc=$(value infer_images_per_cpu_s "$TMP/torch$t")
    echo "pytorch-$(value torch_version "$TMP/torch$t" | sed 's/+.*//') $t $tw $tc" \
         "$(awk -v a="$tw" -v b="$tc" 'BEGIN { printf "%.2f", a / b }')" \
         "$(value train_images_per_s "$TMP/torch$t") $peak $peak_cpu" >> "$TMP/rows"
done
cat "$TMP/rows"

# where the forward's time goes, per stragsim conv path (1 thread)
for conv in auto im2col; do
    if [ "$PROFILE_RUNS" = 0 ]; then
        echo "-" > "$TMP/split-$conv"
        continue
    fi
    OPENBLAS_NUM_THREADS=1 STRAGSIM_CONV=$conv bench_split_perf "$TMP/split-$conv" \
        "$SRC/bench/lenet5.buckets" sh -c 'for i in $(seq "$1"); do
            "$2" eval --model lenet5 --weights "$3" --batch "$4" --threads 1 || exit; done' \
        sh "$PROFILE_RUNS" "$STRAGSIM" "$WEIGHTS" "$BATCH"
    echo "profile $conv: $(cat "$TMP/split-$conv")"
done

echo "== inference per conv path, 1 thread, thread CPU seconds (bench_conv 10000 $BATCH $REPEATS) =="
"$BUILD/bench/bench_conv" 10000 "$BATCH" "$REPEATS" | tee "$TMP/conv"
echo "== end ($(uptime | sed 's/.*load/load/')) =="

awk -v f="$flops" -v batch="$BATCH" -v repeats="$REPEATS" -v epochs="$TRAIN_EPOCHS" \
    -v sd="$(cat "$TMP/split-auto")" -v si="$(cat "$TMP/split-im2col")" \
    -v runs="$PROFILE_RUNS" -v load1="$(uptime | sed 's/.*load average: //')" \
    -v conv_cpu="$(value sgemm_cpu_gflops "$TMP/conv")" \
    -v conv_path="$direct" -v conv_direct="$(value "${direct}_images_per_cpu_s" "$TMP/conv")" \
    -v conv_direct_pct="$(value "${direct}_peak_pct" "$TMP/conv")" \
    -v conv_im2col="$(value im2col_images_per_cpu_s "$TMP/conv")" \
    -v conv_im2col_pct="$(value im2col_peak_pct "$TMP/conv")" '
    function label(n) {
        if (n ~ /^direct-/) { sub(/^direct-/, "", n); return "stragsim, direct convs (" n ")" }
        if (n == "im2col") return "stragsim, im2col + GEMM"
        sub(/^pytorch-/, "", n); return "PyTorch " n
    }
    { name[NR] = $1; th[NR] = $2; w[NR] = $3; c[NR] = $4; k[NR] = $5; tr[NR] = $6
      pk[$2] = $7; pc[$2] = $8
      if ($1 ~ /^pytorch/) { tw[$2] = $3; tc[$2] = $4 }
      if ($1 ~ /^direct/) { dc[$2] = $4; dw[$2] = $3; dk[$2] = $5 } }
    END {
        printf "Forward: %.2f MFLOP per image (a multiply-add is 2). SGEMM peak (cblas_sgemm 2048^3, best of 5):", f / 1e6
        printf " 1 thread %.1f GFLOP/s and %.1f GFLOP per CPU-s, 2 threads %.1f GFLOP/s and %.1f per CPU-s.\n\n", pk[1], pc[1], pk[2], pc[2]
        print "| contender | threads | images per CPU-s | of SGEMM peak (CPU) | stragsim is (CPU) | images/s (wall) | of SGEMM peak (wall) | cores | training images/s (wall) |"
        print "|---|---|---|---|---|---|---|---|---|"
        for (i = 1; i <= NR; i++) {
            ci = 100 * f * c[i] / 1e9 / pc[th[i]]; wi = 100 * f * w[i] / 1e9 / pk[th[i]]
            ratio = name[i] ~ /^pytorch/ ? "-" : sprintf("%.2fx", c[i] / tc[th[i]])
            if (name[i] ~ /^direct/) { ratio = "**" ratio "**"; cis = sprintf("**%.1f%%**", ci) }
            else cis = sprintf("%.1f%%", ci)
            printf "| %s | %d | %.0f | %s | %s | %.0f | %.1f%% | %.2f | %.0f |\n", label(name[i]), th[i],
                   c[i], cis, ratio, w[i], wi, k[i], tr[i]
        }
        printf "\nInference: the 10,000 test images at batch %d, best of %d runs (training: fastest of %d epochs over 60,000 images, wall time).", batch, repeats, epochs
        printf " Images per CPU-s count the CPU time of all the process'"'"'s threads; \"of SGEMM peak\" divides by the SGEMM of the same thread count, CPU by CPU, wall by wall;"
        printf " \"cores\" is the CPU time over the wall time of the best wall run (2 when a 2-thread row got both cores).\n\n"
        for (t = 1; t <= 2; t++) {
            p = 100 * f * dc[t] / 1e9 / pc[t]; r = dc[t] / tc[t]
            printf "Goals on %d thread%s, in CPU time: >= 60%% of the SGEMM peak: %.1f%% (%s); >= 2.5x PyTorch: %.2fx (%s). In wall time: %.2fx PyTorch.\n",
                   t, (t > 1 ? "s" : ""), p, (p >= 60 ? "met" : "missed"), r, (r >= 2.5 ? "met" : "missed"), dw[t] / tw[t]
        }
        best_torch = tc[1] > tc[2] ? tc[1] : tc[2]
        printf "Against PyTorch'"'"'s higher CPU-time figure of the two thread counts (%.0f images per CPU-s; a PyTorch whose threads wait for each other on a busy machine loses CPU time): %.2fx on 1 thread, %.2fx on 2 threads.\n",
               best_torch, dc[1] / best_torch, dc[2] / best_torch
        short = ""
        for (i = 1; i <= NR; i++)
            if (k[i] < 0.9 * th[i])
                short = short sprintf("%s%s on %d thread%s (%.2f cores)", short == "" ? "" : ", ",
                                      label(name[i]), th[i], (th[i] > 1 ? "s" : ""), k[i])
        if (short != "")
            printf "\nLimited by the load: %s got less CPU than threads during their best wall run, so their wall figures (and their fractions of the wall peak, measured at another moment) say more about the other users than about the program; the CPU-time figures are what to compare. A 2-thread row that got about one core also loses CPU time to its threads waiting for each other.\n", short
        if (conv_cpu != "")
            printf "\n`bench_conv` (1 thread, thread CPU time, SGEMM %s GFLOP per CPU-s): direct (%s) %s images per CPU-s (%s%% of peak), im2col %s (%s%%).\n",
                   conv_cpu, conv_path, conv_direct, conv_direct_pct, conv_im2col, conv_im2col_pct
        if (runs > 0) {
            printf "\nWhere the forward'"'"'s CPU time goes (`stragsim eval`, 1 thread, %d runs under perf: CPU samples by function after inlining, bench/lenet5.buckets, loading the data left out):\n\n", runs
            print "| stragsim | where the forward'"'"'s CPU time goes |"
            print "|---|---|"
            printf "| direct convs | %s |\n| im2col + GEMM | %s |\n", sd, si
        }
        printf "\nLoad average at the end: %s.\n", load1
    }' "$TMP/rows" > "$TMP/table.md"
cat "$TMP/table.md"
bench_readme_write lenet5 "$TMP/table.md" "meson compile -C build bench-models"
