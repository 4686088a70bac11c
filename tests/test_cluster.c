/* test_cluster.c: the cluster model (sim/cluster.c) with deterministic
 * durations (duration = cost x a per-worker factor), so every time below is
 * exact: FIFO order, parallel slots, network delay both ways, cancellation of
 * travelling, queued and running tasks (times and worker_seconds), timers,
 * the idle hook, job handle reuse, cancel = false; plus one statistical check
 * of k-of-n against the closed form. */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "sim/cluster.h"
#include "sim/rng.h"

enum { LOG_MAX = 256 };

struct harness {
    struct engine *engine;
    struct cluster *cl;
    double factor[8];   /* duration = cost * factor[worker] */
    int finish_after;   /* finish a job at its n-th result (0: never) */
    /* results, in arrival order at the master */
    int n;
    double at[LOG_MAX], started[LOG_MAX], finished[LOG_MAX], submitted[LOG_MAX];
    uint32_t job[LOG_MAX];
    int tag[LOG_MAX], worker[LOG_MAX];
    uint64_t durations; /* duration hook calls */
    /* timers and idle calls */
    int ntimers, nidle;
    double timer_at[LOG_MAX], idle_at[LOG_MAX];
    int timer_tag[LOG_MAX];
    uint32_t timer_job[LOG_MAX];
    /* optional extra action after a result is logged (and the job maybe finished) */
    void (*after_result)(struct harness *h, const struct cluster_result *r);
    void (*on_idle)(struct harness *h);
};

/* per-job scratch */
struct job_scratch {
    int results;
    int marker;
};

static double h_duration(void *ctx, int worker, uint64_t job_index, double cost)
{
    (void)job_index;
    struct harness *h = ctx;
    h->durations++;
    return cost * h->factor[worker];
}

static void h_result(void *ctx, struct cluster *cl, const struct cluster_result *r)
{
    struct harness *h = ctx;
    cr_assert_lt(h->n, LOG_MAX);
    int i = h->n++;
    h->at[i] = engine_now(h->engine);
    h->started[i] = r->started;
    h->finished[i] = r->finished;
    h->submitted[i] = r->submitted;
    h->job[i] = r->job;
    h->tag[i] = r->tag;
    h->worker[i] = r->worker;
    struct job_scratch *s = cluster_job_state(cl, r->job);
    if (++s->results == h->finish_after)
        cluster_job_finish(cl, r->job);
    if (h->after_result)
        h->after_result(h, r);
}

static void h_timer(void *ctx, struct cluster *cl, uint32_t job, int tag)
{
    (void)cl;
    struct harness *h = ctx;
    int i = h->ntimers++;
    h->timer_at[i] = engine_now(h->engine);
    h->timer_job[i] = job;
    h->timer_tag[i] = tag;
}

static void h_idle(void *ctx, struct cluster *cl)
{
    (void)cl;
    struct harness *h = ctx;
    cr_assert(cluster_all_idle(cl));
    h->idle_at[h->nidle++] = engine_now(h->engine);
    if (h->on_idle)
        h->on_idle(h);
}

static struct harness H;

static void harness_start(int workers, int slots, double delay, bool cancel)
{
    memset(&H, 0, sizeof H);
    for (int i = 0; i < 8; i++)
        H.factor[i] = 1.0;
    H.engine = engine_new();
    cr_assert_not_null(H.engine);
    struct cluster_config cfg = {workers, slots, delay, cancel, sizeof(struct job_scratch)};
    struct cluster_hooks hooks = {&H, h_duration, h_result, h_timer, h_idle};
    H.cl = cluster_new(H.engine, &cfg, &hooks);
    cr_assert_not_null(H.cl);
}

static void harness_stop(void)
{
    cluster_free(H.cl);
    engine_free(H.engine);
}

static uint32_t submit(uint32_t job, int worker, double cost, int tag)
{
    uint32_t t = cluster_submit(H.cl, job, worker, cost, tag);
    cr_assert_neq(t, UINT32_MAX);
    return t;
}

Test(cluster, fifo_order_on_one_worker_across_jobs)
{
    harness_start(1, 1, 0.0, true);
    uint32_t a = cluster_job_open(H.cl, 0), b = cluster_job_open(H.cl, 1);
    cr_assert_neq(a, b);
    submit(a, 0, 1.0, 10);
    submit(b, 0, 2.0, 20);
    submit(a, 0, 3.0, 11);
    cr_assert_eq(cluster_worker_load(H.cl, 0), 3);
    engine_run(H.engine);
    cr_assert_eq(H.n, 3);
    int tags[] = {10, 20, 11};
    double start[] = {0, 1, 3}, end[] = {1, 3, 6};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(H.tag[i], tags[i]);
        cr_assert_eq(H.started[i], start[i]);
        cr_assert_eq(H.finished[i], end[i]);
        cr_assert_eq(H.at[i], end[i], "no delay: result at the master when done");
        cr_assert_eq(H.submitted[i], 0.0);
    }
    cr_assert_eq(H.job[1], b);
    cr_assert_eq(cluster_worker_seconds(H.cl), 6.0);
    cr_assert_eq(cluster_worker_load(H.cl, 0), 0);
    cr_assert(cluster_all_idle(H.cl));
    harness_stop();
}

Test(cluster, two_slots_run_in_parallel)
{
    harness_start(1, 2, 0.0, true);
    uint32_t j = cluster_job_open(H.cl, 0);
    submit(j, 0, 3.0, 0);
    submit(j, 0, 1.0, 1);
    submit(j, 0, 1.0, 2);
    submit(j, 0, 1.0, 3);
    engine_run(H.engine);
    cr_assert_eq(H.n, 4);
    /* slot A: tag0 0..3; slot B: tag1 0..1, tag2 1..2, tag3 2..3; tie at 3
     * resolves by scheduling order (tag0's completion was scheduled first) */
    int tags[] = {1, 2, 0, 3};
    double start[] = {0, 1, 0, 2}, end[] = {1, 2, 3, 3};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(H.tag[i], tags[i], "result %d", i);
        cr_assert_eq(H.started[i], start[i]);
        cr_assert_eq(H.finished[i], end[i]);
    }
    cr_assert_eq(cluster_worker_seconds(H.cl), 6.0);
    harness_stop();
}

Test(cluster, network_delay_both_ways)
{
    harness_start(2, 1, 0.5, true);
    H.factor[1] = 3.0;
    uint32_t j = cluster_job_open(H.cl, 0);
    submit(j, 0, 1.0, 0); /* arrives 0.5, runs 0.5..1.5, master at 2.0 */
    submit(j, 0, 2.0, 1); /* arrives 0.5, queued, runs 1.5..3.5, master at 4.0 */
    submit(j, 1, 1.0, 2); /* arrives 0.5, runs 0.5..3.5 (factor 3), master at 4.0 */
    cr_assert_eq(cluster_worker_load(H.cl, 0), 2, "travelling tasks count as load");
    engine_run(H.engine);
    cr_assert_eq(H.n, 3);
    int tags[] = {0, 1, 2};
    double start[] = {0.5, 1.5, 0.5}, end[] = {1.5, 3.5, 3.5}, at[] = {2.0, 4.0, 4.0};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(H.tag[i], tags[i]);
        cr_assert_eq(H.started[i], start[i]);
        cr_assert_eq(H.finished[i], end[i]);
        cr_assert_eq(H.at[i], at[i]);
    }
    cr_assert_eq(cluster_worker_seconds(H.cl), 6.0);
    cr_assert_eq(H.nidle, 1);
    cr_assert_eq(H.idle_at[0], 3.5, "idle when the workers are done, not when results land");
    harness_stop();
}

Test(cluster, finish_cancels_queued_and_running_tasks)
{
    harness_start(2, 1, 0.0, true);
    H.finish_after = 1;
    uint32_t a = cluster_job_open(H.cl, 0), b = cluster_job_open(H.cl, 1);
    submit(a, 0, 1.0, 0); /* runs 0..1, finishes job a */
    submit(a, 1, 5.0, 1); /* running 0..1, preempted at 1 */
    submit(a, 0, 4.0, 2); /* queued behind tag 0, removed at 1 */
    submit(b, 1, 2.0, 3); /* queued behind tag 1; starts at 1 when it is preempted */
    submit(b, 0, 1.0, 4); /* queued behind tag 2; starts at 1 when it is removed */
    engine_run(H.engine);
    cr_assert_eq(H.n, 2, "job a's other tasks never report; job b finishes at its first");
    cr_assert_eq(H.tag[0], 0);
    cr_assert_eq(H.at[0], 1.0);
    cr_assert_eq(H.tag[1], 4);
    cr_assert_eq(H.started[1], 1.0);
    cr_assert_eq(H.at[1], 2.0);
    /* job b finished at 2 preempts tag 3 (running 1..2 on worker 1) */
    cr_assert_eq(cluster_worker_seconds(H.cl), 1.0 + 1.0 + 1.0 + 1.0);
    cr_assert_eq(H.durations, 4, "the removed queued task never drew a duration");
    cr_assert(cluster_all_idle(H.cl));
    cr_assert_eq(H.nidle, 1);
    cr_assert_eq(H.idle_at[0], 2.0);
    cr_assert_eq(engine_now(H.engine), 5.0, "stale completion events still pop, ignored");
    harness_stop();
}

Test(cluster, cancellation_is_immediate_under_network_delay)
{
    harness_start(3, 1, 0.5, true);
    H.finish_after = 1;
    uint32_t a = cluster_job_open(H.cl, 0);
    submit(a, 0, 1.0, 0); /* at worker 0.5, done 1.5, master 2.0: finishes a */
    submit(a, 1, 5.0, 1); /* running 0.5..2.0, preempted at 2.0 */
    engine_run(H.engine);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(H.at[0], 2.0);
    cr_assert_eq(cluster_worker_seconds(H.cl), 1.0 + 1.5);
    cr_assert_eq(H.nidle, 1);
    cr_assert_eq(H.idle_at[0], 2.0);
    harness_stop();
}

/* finishing a job whose task is still travelling: it never reaches a worker */
Test(cluster, finish_cancels_travelling_tasks)
{
    harness_start(2, 1, 1.0, true);
    uint32_t a = cluster_job_open(H.cl, 0);
    submit(a, 0, 1.0, 0);
    cluster_job_finish(H.cl, a);
    cr_assert(cluster_all_idle(H.cl));
    cr_assert_eq(cluster_worker_load(H.cl, 0), 0);
    engine_run(H.engine);
    cr_assert_eq(H.n, 0);
    cr_assert_eq(H.durations, 0);
    cr_assert_eq(cluster_worker_seconds(H.cl), 0.0);
    harness_stop();
}

Test(cluster, task_cancel_moves_the_worker_on)
{
    harness_start(1, 1, 0.0, true);
    uint32_t j = cluster_job_open(H.cl, 0);
    uint32_t t0 = submit(j, 0, 4.0, 0);
    uint32_t t1 = submit(j, 0, 2.0, 1);
    uint32_t t2 = submit(j, 0, 1.0, 2);
    cluster_task_cancel(H.cl, t1); /* queued: removed */
    cr_assert_eq(cluster_worker_load(H.cl, 0), 2);
    cr_assert_eq(engine_step(H.engine), 1); /* t0 done at 4 */
    cluster_task_cancel(H.cl, t0);          /* done: nothing */
    cr_assert_eq(engine_step(H.engine), 0, "t2 started at 4 and is the only event left? no:");
}
