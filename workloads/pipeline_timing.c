/* pipeline_timing.c: one pipeline iteration's simulated time (see
 * pipeline_timing.h). Each stage's tasks are a fixed order, so the
 * iteration is a small dependency graph: sweep the stages, running each
 * one's next task as soon as its input's finish time is known, until all
 * are placed. Every worker draws its durations in its own task order, so
 * the numbers do not depend on the sweep order. */
#include "workloads/pipeline_timing.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* A task in a stage's order: micro-batch m, forward (m >= 0) or backward
 * (encoded -1 - m). */
static void order_fill(enum pipeline_schedule schedule, int P, int M, int s, int *order)
{
    int n = 0;
    if (schedule == PIPELINE_GPIPE) {
        for (int m = 0; m < M; m++)
            order[n++] = m;
        for (int m = M; m-- > 0;)
            order[n++] = -1 - m;
        return;
    }
    int warmup = P - s - 1 < M ? P - s - 1 : M, f = 0, b = 0;
    while (f < warmup)
        order[n++] = f++;
    while (f < M) {
        order[n++] = f++;
        order[n++] = -1 - b++;
    }
    while (b < M)
        order[n++] = -1 - b++;
}

size_t pipeline_timing_scratch_bytes(int P, int M)
{
    size_t pm = (size_t)P * (size_t)M;
    return (2 * pm + (size_t)P) * sizeof(double) + (2 * pm + 2 * (size_t)P) * sizeof(int);
}

int pipeline_timing_run(const struct pipeline_timing *t, double start, void *scratch,
                        struct pipeline_timing_result *out)
{
    int P = t->stages, M = t->microbatches;
    size_t pm = (size_t)P * (size_t)M;
    double *fwd_done = scratch, *bwd_done = fwd_done + pm, *worker_free = bwd_done + pm;
    int *order = (int *)(worker_free + P), *next = order + 2 * pm, *inflight = next + P;
    for (size_t i = 0; i < pm; i++)
        fwd_done[i] = bwd_done[i] = NAN; /* not computed yet */
    for (int s = 0; s < P; s++) {
        order_fill(t->schedule, P, M, s, order + (size_t)s * 2 * M);
        next[s] = 0;
        inflight[s] = 0;
        worker_free[s] = start;
        out->peak_inflight[s] = 0;
    }
    out->busy = 0.0;
    out->worker_seconds = 0.0;
    out->end = start;
    long left = 2 * (long)pm;
    while (left > 0) {
        long placed = 0;
        for (int s = 0; s < P; s++) {
            while (next[s] < 2 * M) {
                int task = order[(size_t)s * 2 * M + next[s]];
                bool forward = task >= 0;
                int m = forward ? task : -1 - task;
                size_t at = (size_t)s * M + m;
                double ready;
                if (forward)
                    ready = s == 0 ? start : fwd_done[at - M] + t->transfer[at - M];
                else
                    ready = s == P - 1 ? fwd_done[at] : bwd_done[at + M] + t->transfer[at];
                if (isnan(ready))
                    break; /* its input is not computed yet */
                double cost = forward ? t->forward_cost[at] : t->backward_cost[at];
                double d = INFINITY;
                for (int r = 0; r < t->replicas; r++)
                    d = fmin(d, t->duration(t->ctx, s, r, cost));
                double begin = fmax(worker_free[s], ready);
                worker_free[s] = begin + d;
                out->busy += d;
                out->worker_seconds += d * t->replicas;
                if (forward) {
                    fwd_done[at] = begin + d;
                    if (++inflight[s] > out->peak_inflight[s])
                        out->peak_inflight[s] = inflight[s];
                } else {
                    bwd_done[at] = begin + d;
                    inflight[s]--;
                }
                next[s]++;
                placed++;
            }
        }
        if (placed == 0)
            return -1;
        left -= placed;
    }
    for (int s = 0; s < P; s++)
        out->end = fmax(out->end, worker_free[s]);
    return 0;
}
