/* pipeline_timing.h: the simulated time of one pipeline iteration (private
 * to workloads/): P stages, M micro-batches, each stage a worker (or r
 * replicas of one) running its stage tasks one at a time in the order its
 * schedule gives; a task starts when its worker is free and its input has
 * arrived. The computation is pipeline_stages.c's; this file knows only
 * costs, durations and transfer times.
 *
 * Dependencies: forward (s, m) needs forward (s-1, m) plus the activation's
 * transfer; backward (P-1, m) needs forward (P-1, m); backward (s, m) needs
 * backward (s+1, m) plus the gradient's transfer. Transfers overlap compute
 * (each link is its own) and do not contend.
 *
 * Orders: gpipe, every stage F0..F(M-1) then B(M-1)..B0 (Huang et al.
 * 2019); 1f1b, stage s runs min(P-s-1, M) forwards, then alternates one
 * forward and one backward, then the remaining backwards (PipeDream-flush,
 * Narayanan et al. 2021). Both end with a flush: the iteration ends when
 * every stage is done. With deterministic forward times t_s, backward
 * times u_s and no transfers, gpipe takes
 * sum_s (t_s + u_s) + (M-1)(max_s t_s + max_s u_s).
 *
 * Replicas: each stage task runs on all r replicas of its stage at once, the
 * first to finish wins and the others are cancelled (their workers are free
 * at the winner's finish), so its duration is the least of r draws.
 */
#ifndef STRAG_PIPELINE_TIMING_H
#define STRAG_PIPELINE_TIMING_H

#include <stdbool.h>
#include <stddef.h>

enum pipeline_schedule { PIPELINE_GPIPE, PIPELINE_1F1B };

struct pipeline_timing {
    int stages, microbatches, replicas; /* P, M, r */
    enum pipeline_schedule schedule;
    /* (P x M), index s * M + m: the cost of stage s's forward and backward
     * of micro-batch m, and the transfer time of its output activation to
     * stage s+1 (the gradient back takes the same; row P-1 unused) */
    const double *forward_cost, *backward_cost, *transfer;
    /* Duration of a task of `cost` on replica `replica` of stage `stage`
     * (the latency source of its worker). */
    double (*duration)(void *ctx, int stage, int replica, double cost);
    void *ctx;
};

/* What one iteration took. */
struct pipeline_timing_result {
    double end;        /* when the last stage task finished */
    double busy;       /* sum of the winning task durations (stage-time busy) */
    double worker_seconds; /* busy x replicas: the losers run until the winner ends */
    int peak_inflight[64]; /* per stage: most micro-batches forwarded, not yet backwarded */
};

/* Simulates one iteration starting at `start` (P <= 64), with `scratch`
 * of pipeline_timing_scratch_bytes(P, M) bytes. Returns 0, or -1 if the
 * orders dead-lock (a programming error). */
size_t pipeline_timing_scratch_bytes(int P, int M);
int pipeline_timing_run(const struct pipeline_timing *t, double start, void *scratch,
                        struct pipeline_timing_result *out);

#endif
