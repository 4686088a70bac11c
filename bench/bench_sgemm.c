/* bench_sgemm.c: the machine's measured single-precision GEMM peak, the
 * denominator of bench_models.sh's "fraction of peak".
 *
 * Times cblas_sgemm on square N x N matrices (default 2048) with OpenBLAS
 * at the given thread count and prints the best of several repetitions as
 * key=value lines: threads=, n=, sgemm_gflops= (per wall second) and
 * sgemm_cpu_gflops= (per CPU second of the process, all threads: what one
 * busy core computes, which another process's load disturbs far less). A
 * benchmark program, not a test; it does not know about models.
 *
 * usage: bench_sgemm [THREADS [N]]
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    int n = argc > 2 ? atoi(argv[2]) : 2048;
    if (threads < 1 || n < 64) {
        fprintf(stderr, "usage: bench_sgemm [THREADS [N]] (THREADS >= 1, N >= 64)\n");
        return 2;
    }
    openblas_set_num_threads(threads);
    size_t nn = (size_t)n * (size_t)n;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "bench_sgemm: out of memory for N = %d\n", n);
        return 2;
    }
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)(i % 7) * 0.25f - 0.75f;
        b[i] = (float)(i % 5) * 0.5f - 1.0f;
    }
    /* one warm-up call (thread start-up, page faults), then the best of 5:
     * on a shared machine the best run is the closest to the hardware */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double best = 1e30, best_cpu = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = now_seconds(), c0 = process_cpu_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        double t = now_seconds() - t0, tc = process_cpu_seconds() - c0;
        best = t < best ? t : best;
        best_cpu = tc < best_cpu ? tc : best_cpu;
    }
    double flops = 2.0 * n * (double)nn;
    printf("threads=%d\nn=%d\nsgemm_gflops=%.1f\nsgemm_cpu_gflops=%.1f\n", threads, n,
           flops / best / 1e9, flops / best_cpu / 1e9);
    free(a);
    free(b);
    free(c);
    return 0;
}
