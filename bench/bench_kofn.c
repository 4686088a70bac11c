/* bench_kofn.c: the kofn-queue scenario straight on sim/cluster.h, without
 * the driver (no config, no scheme table, no metrics): the floor the real
 * tool's `stragsim run configs/bench-kofn-queue.ini` can approach, and the
 * harness used to tune sim/cluster.c. A program, not a test.
 *
 * Scenario (same as bench/simpy_kofn.py): N = 12 FIFO workers, Poisson job
 * arrivals at rate 0.5, each job sends one task of cost 1 to every worker,
 * task duration 0.2 + Exp(1.25), the job is done at its 9th completion and
 * its 3 other tasks are cancelled (queued: removed, running: preempted).
 *
 * Usage: bench_kofn [jobs (1e6)] [seed (1)]
 * Prints wall and CPU seconds, jobs per CPU second, CPU ns per task, mean
 * latency +- standard error, events.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim/cluster.h"
#include "sim/engine.h"
#include "base/rng.h"

enum { WORKERS = 12, K = 9 };
static const double ARRIVAL_RATE = 0.5, SHIFT = 0.2, SERVICE_RATE = 1.25;

struct bench {
    struct engine *engine;
    struct cluster *cl;
    struct rng arrivals;
    struct rng service[WORKERS];
    int kind_arrival;
    uint64_t opened, jobs;
    double sum, sumsq;
};

static double seconds_on(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Shifted exponential of Lee et al.: cost * shift + Exp(rate / cost). */
static double bench_duration(void *ctx, int worker, uint64_t job_index, double cost)
{
    (void)job_index;
    struct bench *b = ctx;
    return cost * SHIFT + rng_exp(&b->service[worker], SERVICE_RATE / cost);
}

static void bench_result(void *ctx, struct cluster *cl, const struct cluster_result *r)
{
    struct bench *b = ctx;
    int *completions = cluster_job_state(cl, r->job);
    if (++*completions < K)
        return;
    double latency = engine_now(b->engine) - cluster_job_opened_at(cl, r->job);
    b->sum += latency;
    b->sumsq += latency * latency;
    cluster_job_finish(cl, r->job);
}

static void bench_arrival(struct engine *e, void *ctx, uint32_t arg, uint32_t gen)
{
    (void)arg, (void)gen;
    struct bench *b = ctx;
    uint32_t job = cluster_job_open(b->cl, b->opened++);
    cluster_submit_fanout(b->cl, job, WORKERS, 1.0);
    if (b->opened < b->jobs)
        engine_schedule(e, engine_now(e) + rng_exp(&b->arrivals, ARRIVAL_RATE), b->kind_arrival, 0, 0);
}

int main(int argc, char **argv)
{
    static struct bench b;
    b.jobs = argc > 1 ? (uint64_t)strtod(argv[1], NULL) : 1000000;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    if (b.jobs < 2) {
        fprintf(stderr, "usage: bench_kofn [jobs >= 2] [seed]\n");
        return 2;
    }
    rng_seed(&b.arrivals, seed, 0, RNG_ARRIVALS, 0);
    for (int w = 0; w < WORKERS; w++)
        rng_seed(&b.service[w], seed, 0, RNG_SERVICE, (uint32_t)w);
    b.engine = engine_new();
    struct cluster_config cfg = {WORKERS, 1, 0.0, true, sizeof(int)};
    struct cluster_hooks hooks = {&b, bench_duration, bench_result, NULL, NULL};
    b.cl = b.engine ? cluster_new(b.engine, &cfg, &hooks) : NULL;
    if (!b.cl) {
        fprintf(stderr, "bench_kofn: out of memory\n");
        return 3;
    }
    b.kind_arrival = engine_register(b.engine, bench_arrival, &b);
    engine_schedule(b.engine, rng_exp(&b.arrivals, ARRIVAL_RATE), b.kind_arrival, 0, 0);

    double wall0 = seconds_on(CLOCK_MONOTONIC), cpu0 = seconds_on(CLOCK_PROCESS_CPUTIME_ID);
    engine_run(b.engine);
    double wall = seconds_on(CLOCK_MONOTONIC) - wall0;
    double cpu = seconds_on(CLOCK_PROCESS_CPUTIME_ID) - cpu0;

    double n = (double)b.jobs, mean = b.sum / n;
    double se = sqrt((b.sumsq / n - mean * mean) / n);
    printf("kofn-queue direct: %llu jobs in %.3f s (cpu %.3f s): %.0f jobs/cpu-s, %.1f ns/task, "
           "latency_mean %.4f +- %.4f, events %llu\n",
           (unsigned long long)b.jobs, wall, cpu, n / cpu, cpu / (n * WORKERS) * 1e9, mean, se,
           (unsigned long long)engine_events(b.engine));
    int status = cluster_failed(b.cl) ? 3 : 0;
    cluster_free(b.cl);
    engine_free(b.engine);
    return status;
}
