/* bench_conv.c: LeNet5 inference per conv forward path, in CPU seconds.
 *
 * Builds LeNet5 once per path (im2col and every direct path this CPU runs),
 * He-initialised, and times model_infer over IMAGES random 28x28 images in
 * batches of BATCH on this one thread; the paths take turns within each of
 * ROUNDS rounds and each keeps its best round. Time is the thread's CPU
 * time (CLOCK_THREAD_CPUTIME_ID), so a machine shared with other processes
 * slows every path alike instead of whichever ran while the load peaked;
 * cblas_sgemm 1024^3 is timed the same way as the peak. Prints key=value
 * lines: sgemm_cpu_gflops=, then per path <path>_images_per_cpu_s= and
 * <path>_peak_pct=. A benchmark program, not a test.
 *
 * usage: bench_conv [IMAGES [BATCH [ROUNDS]]]   (default 10000 256 5)
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "models/layers.h"
#include "models/model.h"
#include "base/rng.h"

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double sgemm_cpu_gflops(void)
{
    const int n = 1024;
    size_t nn = (size_t)n * n;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    if (!a || !b || !c)
        return 0.0;
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)(i % 7) * 0.25f - 0.75f;
        b[i] = (float)(i % 5) * 0.5f - 1.0f;
    }
    double best = 1e30;
    for (int r = 0; r < 6; r++) { // the first is a warm-up
        double t0 = cpu_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double t = cpu_seconds() - t0;
        if (r > 0 && t < best)
            best = t;
    }
    free(a), free(b), free(c);
    return 2.0 * n * (double)nn / best / 1e9;
}

int main(int argc, char **argv)
{
    int images = argc > 1 ? atoi(argv[1]) : 10000;
    int batch = argc > 2 ? atoi(argv[2]) : 256;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    if (images < 1 || batch < 1 || rounds < 1) {
        fprintf(stderr, "usage: bench_conv [IMAGES [BATCH [ROUNDS]]] (all >= 1)\n");
        return 2;
    }
    openblas_set_num_threads(1);
    double peak = sgemm_cpu_gflops();
    printf("sgemm_cpu_gflops=%.1f\n", peak);

    enum conv2d_path paths[] = { CONV2D_IM2COL, CONV2D_PORTABLE, CONV2D_AVX2, CONV2D_AVX512 };
    enum { NPATHS = sizeof paths / sizeof paths[0] };
    struct model *m[NPATHS] = { 0 };
    double best[NPATHS];
    struct rng r;
    rng_seed(&r, 1, 0, RNG_INIT, 0);
    float *x = malloc(sizeof(float) * (size_t)images * 784);
    if (!x)
        return 2;
    for (size_t i = 0; i < (size_t)images * 784; i++)
        x[i] = (float)rng_uniform(&r);
    struct error err;
    for (int p = 0; p < NPATHS; p++) {
        best[p] = 1e30;
        // the portable path is a reference, ~50x slower: not timed
        if (paths[p] == CONV2D_PORTABLE || !conv2d_path_supported(paths[p]))
            continue;
        conv2d_path_set_default(paths[p]);
        struct rng init;
        rng_seed(&init, 1, 0, RNG_INIT, 1);
        if (model_new(&m[p], "lenet5", &err) || model_reserve(m[p], batch, &err)) {
            fprintf(stderr, "bench_conv: %s\n", err.msg);
            return 2;
        }
        model_init(m[p], &init);
    }
    double flops = m[0]->flops;
    for (int round = 0; round < rounds; round++)
        for (int p = 0; p < NPATHS; p++) {
            if (!m[p])
                continue;
            double t0 = cpu_seconds();
            for (int b0 = 0; b0 < images; b0 += batch) {
                int B = images - b0 < batch ? images - b0 : batch;
                const float *logits;
                if (model_infer(m[p], x + (size_t)b0 * 784, B, &logits, &err)) {
                    fprintf(stderr, "bench_conv: %s\n", err.msg);
                    return 2;
                }
            }
            double t = cpu_seconds() - t0;
            best[p] = t < best[p] ? t : best[p];
        }
    printf("flops_per_image=%.0f\n", flops);
    for (int p = 0; p < NPATHS; p++) {
        if (!m[p])
            continue;
        double per_s = images / best[p];
        printf("%s_images_per_cpu_s=%.0f\n%s_peak_pct=%.1f\n", conv2d_path_name(paths[p]), per_s,
               conv2d_path_name(paths[p]), 100.0 * flops * per_s / 1e9 / peak);
        model_free(m[p]);
    }
    free(x);
    return 0;
}
