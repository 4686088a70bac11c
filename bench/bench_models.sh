#!/bin/sh
# bench_models.sh: LeNet5 speed of stragsim next to PyTorch, in one run.
#
# usage: bench/bench_models.sh SOURCE_ROOT BUILD_ROOT
#   (after `meson compile -C BUILD_ROOT stragsim bench/bench_sgemm`)
#
# 1. the machine's SGEMM peak: bench_sgemm (cblas_sgemm 2048^3, best of 5)
#    on 1 and 2 OpenBLAS threads;
# 2. stragsim, 1 and 2 threads, batch 256, with its direct conv kernels
#    (the default: the widest this CPU runs) and with STRAGSIM_CONV=im2col
#    (im2col + GEMM), taking turns:
#    - inference: `stragsim eval --model lenet5` over the 10,000 test images
#      with the shipped weights (forward passes only), best of REPEATS runs;
#    - training: `stragsim train` for REPEATS epochs over all 60,000
#      training images (SGD momentum 0.9, no validation), the fastest
#      epoch's wall time from the progress lines (0.1 s resolution);
# 3. PyTorch (bench/torch_lenet5.py, Debian python3-torch 1.13,
#    torch.set_num_threads(T), OPENBLAS_NUM_THREADS=1): the same network,
#    batch and data, T = 1 and 2, best of REPEATS as well.
# Prints images/s, GFLOP/s (FLOPs per image from the model x images/s;
# training counted as 3x the forward FLOPs: forward, input gradient, weight
# gradient) and the fraction of the SGEMM peak at the same thread count,
# then stragsim/PyTorch ratios. Targets: inference >= 1.5x, training >= 1.2x
# PyTorch at 2 threads; direct convs: inference >= 60% of the SGEMM peak
# and >= 2.5x PyTorch at 1 thread.
# 4. bench_conv: the same inference per conv path on one thread in CPU
#    seconds (with the SGEMM peak in CPU seconds too), which a machine
#    shared with other processes disturbs far less than wall time. The machine may be shared: best-of-REPEATS filters
# short interruptions, not a steady load; read `uptime` (printed first and
# last) before trusting a number.
#
# The table also goes into README.md between <!-- bench:lenet5 --> and
# <!-- /bench:lenet5 --> (bench/readme_table.sh).
#
# Environment: PYTHON (default /usr/bin/python3, Debian's, which has torch),
# BATCH (default 256), REPEATS (default 3), BENCH_README (readme_table.sh).
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
STRAGSIM="$BUILD/stragsim"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# value KEY FILE: the value of the first "KEY=value" line of FILE
value() { sed -n "s/^$1=//p" "$2" | head -n 1; }

echo "== LeNet5 on Fashion-MNIST, batch $BATCH =="
uptime

# one row per contender: name threads infer_per_s train_per_s peak_gflops
: > "$TMP/rows"
for t in 1 2; do
    OPENBLAS_NUM_THREADS=$t "$BUILD/bench/bench_sgemm" "$t" > "$TMP/peak$t"
    peak=$(value sgemm_gflops "$TMP/peak$t")

    infer=0 infer_im2col=0
    for r in $(seq "$REPEATS"); do
        for conv in auto im2col; do
            STRAGSIM_CONV=$conv "$STRAGSIM" eval --model lenet5 \
                --weights "$SRC/models/weights/lenet5.bin" --batch "$BATCH" --threads "$t" \
                > "$TMP/eval$t-$conv"
        done
        infer=$(awk -v a="$infer" -v b="$(value images_per_s "$TMP/eval$t-auto")" \
                'BEGIN { print (a > b ? a : b) }')
        infer_im2col=$(awk -v a="$infer_im2col" -v b="$(value images_per_s "$TMP/eval$t-im2col")" \
                       'BEGIN { print (a > b ? a : b) }')
    done
    flops=$(value flops_per_image "$TMP/eval$t-auto")
    direct=$(value conv "$TMP/eval$t-auto")

    cat > "$TMP/train$t.ini" <<EOF
[experiment]
seed = 1
[workload]
model = lenet5
[train]
epochs = $REPEATS
batch = $BATCH
optimizer = sgd
learning_rate = 0.05
momentum = 0.9
validation = 0
threads = $t
output = $TMP/lenet5-$t.bin
EOF
    # fastest epoch -> images/s
    epoch_rate() { sed -n 's/^epoch .*(\([0-9.]*\) s)$/\1/p' "$1" |
                   awk 'NR == 1 || $1 < min { min = $1 } END { printf "%.0f", 60000 / min }'; }
    "$STRAGSIM" train "$TMP/train$t.ini" 2> "$TMP/train$t.log"
    STRAGSIM_CONV=im2col "$STRAGSIM" train "$TMP/train$t.ini" -o "$TMP/lenet5-$t-im2col.bin" \
        2> "$TMP/train$t-im2col.log"
    echo "stragsim-$direct $t $infer $(epoch_rate "$TMP/train$t.log") $peak" >> "$TMP/rows"
    echo "stragsim-im2col $t $infer_im2col $(epoch_rate "$TMP/train$t-im2col.log") $peak" >> "$TMP/rows"

    OPENBLAS_NUM_THREADS=1 "$PYTHON" "$SRC/bench/torch_lenet5.py" --threads "$t" \
        --batch "$BATCH" --repeats "$REPEATS" > "$TMP/torch$t"
    echo "pytorch-$(value torch_version "$TMP/torch$t") $t $(value infer_images_per_s "$TMP/torch$t")" \
         "$(value train_images_per_s "$TMP/torch$t") $peak" >> "$TMP/rows"
done

echo "forward FLOPs per image: $flops (a multiply-add is 2); SGEMM peak 1 thread" \
     "$(value sgemm_gflops "$TMP/peak1") GFLOP/s, 2 threads $(value sgemm_gflops "$TMP/peak2") GFLOP/s" |
    tee "$TMP/table"
echo | tee -a "$TMP/table"
awk -v f="$flops" '
    NR == 1 { printf "%-18s %7s %12s %8s %6s %12s %8s %6s\n", "contender", "threads",
              "infer img/s", "GFLOP/s", "peak", "train img/s", "GFLOP/s", "peak" }
    { gi = f * $3 / 1e9; gt = 3 * f * $4 / 1e9;
      printf "%-18s %7d %12.0f %8.2f %5.1f%% %12.0f %8.2f %5.1f%%\n", $1, $2, $3, gi,
             100 * gi / $5, $4, gt, 100 * gt / $5 }' "$TMP/rows" | tee -a "$TMP/table"
echo | tee -a "$TMP/table"
awk -v f="$flops" '$1 ~ /^stragsim-im2col/ { ci[$2] = $3; ct[$2] = $4; next }
     $1 ~ /^stragsim/ { si[$2] = $3; st[$2] = $4; pk[$2] = $5; next }
     { ti[$2] = $3; tt[$2] = $4 }
     END { for (t = 1; t <= 2; t++) {
               printf "stragsim/pytorch at %d thread%s: inference %.2fx, training %.2fx\n",
                      t, (t > 1 ? "s" : ""), si[t] / ti[t], st[t] / tt[t];
               printf "direct/im2col at %d thread%s: inference %.2fx, training %.2fx\n",
                      t, (t > 1 ? "s" : ""), si[t] / ci[t], st[t] / ct[t] }
           printf "targets at 2 threads: inference >= 1.5x (%s), training >= 1.2x (%s)\n",
                  (si[2] / ti[2] >= 1.5 ? "met" : "MISSED"), (st[2] / tt[2] >= 1.2 ? "met" : "MISSED");
           p = 100 * f * si[1] / 1e9 / pk[1];
           printf "direct-conv targets at 1 thread: >= 60%% of peak (%.1f%%: %s), >= 2.5x pytorch (%.2fx: %s)\n",
                  p, (p >= 60 ? "met" : "MISSED"), si[1] / ti[1], (si[1] / ti[1] >= 2.5 ? "met" : "MISSED") }' \
    "$TMP/rows" | tee -a "$TMP/table"
echo | tee -a "$TMP/table"
echo "== inference per conv path, 1 thread, CPU seconds (bench_conv 10000 $BATCH $REPEATS) ==" | tee -a "$TMP/table"
"$BUILD/bench/bench_conv" 10000 "$BATCH" "$REPEATS" | tee -a "$TMP/table"
uptime

. "$SRC/bench/readme_table.sh"
{ echo '```'; cat "$TMP/table"; echo '```'; } > "$TMP/table.md"
bench_readme_write lenet5 "$TMP/table.md" "meson compile -C build bench-models"
