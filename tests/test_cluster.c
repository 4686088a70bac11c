/* test_cluster.c: the cluster model (sim/cluster.c) with deterministic
 * durations (duration = cost x a per-worker factor), so every time below is
 * exact: FIFO order, parallel slots, network delay both ways, cancellation of
 * travelling, queued and running tasks (times and worker_seconds), timers,
 * the idle hook, job handle reuse, cancel = false; plus one statistical check
 * of k-of-n against the closed form (doc/theory.md §2). */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "sim/cluster.h"
#include "base/rng.h"

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
    struct rng *streams; /* non-NULL: the hook draws cost * (shift + Exp(rate)) from streams[worker] */
    double shift, rate;
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
    if (h->streams)
        return cost * (h->shift + rng_exp(&h->streams[worker], h->rate));
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

/* Linked with -Wl,--wrap=realloc (tests/meson.build): the cluster's arrays
 * grow through here, and fail while realloc_fails is set. */
void *__real_realloc(void *p, size_t size);
void *__wrap_realloc(void *p, size_t size);
static bool realloc_fails;

void *__wrap_realloc(void *p, size_t size) { return realloc_fails ? NULL : __real_realloc(p, size); }

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
    /* tag 2's completion (scheduled at 0.5) precedes tag 1's (scheduled at 1.5) */
    int tags[] = {0, 2, 1};
    double start[] = {0.5, 0.5, 1.5}, end[] = {1.5, 3.5, 3.5}, at[] = {2.0, 4.0, 4.0};
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
    cr_assert_eq(engine_now(H.engine), 2.0,
                 "preempted completions are cancelled, not popped: the clock stops at 2");
    cr_assert_eq(engine_events(H.engine), 2 + 2, "fired completions plus cancelled ones");
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

/* two slots: preempting one of them starts the next queued task in it */
Test(cluster, preemption_frees_one_of_two_slots)
{
    harness_start(1, 2, 0.0, true);
    H.finish_after = 1;
    uint32_t a = cluster_job_open(H.cl, 0), b = cluster_job_open(H.cl, 1);
    submit(a, 0, 1.0, 0); /* slot 1: 0..1, finishes a */
    submit(b, 0, 6.0, 1); /* slot 2: 0..6, finishes b */
    submit(a, 0, 3.0, 2); /* queued; removed at 1 */
    submit(a, 0, 3.0, 3); /* queued; removed at 1 */
    submit(b, 0, 2.0, 4); /* queued; starts at 1 in slot 1, done at 3: finishes b */
    engine_run(H.engine);
    cr_assert_eq(H.n, 2);
    cr_assert_eq(H.tag[1], 4);
    cr_assert_eq(H.started[1], 1.0);
    cr_assert_eq(H.at[1], 3.0);
    /* b's finish at 3 preempts tag 1 (0..3) */
    cr_assert_eq(cluster_worker_seconds(H.cl), 1.0 + 2.0 + 3.0);
    cr_assert_eq(H.durations, 3);
    /* each slot has its own completion timer: slot 1's was set twice, slot
     * 2's cancelled at 3, so nothing fires at 6 */
    cr_assert_eq(engine_now(H.engine), 3.0);
    cr_assert_eq(engine_events(H.engine), 2 + 1, "two completions fired, one cancelled");
    harness_stop();
}

/* A job with a running and a queued task on one worker: finishing it must
 * not start its own queued task in the freed slot. */
Test(cluster, finish_never_starts_its_own_queued_task)
{
    harness_start(2, 1, 0.0, true);
    H.finish_after = 1;
    uint32_t a = cluster_job_open(H.cl, 0), b = cluster_job_open(H.cl, 1);
    submit(a, 1, 1.0, 0); /* worker 1: 0..1, finishes a */
    submit(a, 0, 5.0, 1); /* worker 0: running, preempted at 1 */
    submit(a, 0, 5.0, 2); /* worker 0: queued behind it, removed */
    submit(b, 0, 1.0, 3); /* worker 0: starts at 1 */
    engine_run(H.engine);
    cr_assert_eq(H.n, 2);
    cr_assert_eq(H.tag[1], 3);
    cr_assert_eq(H.started[1], 1.0);
    cr_assert_eq(H.durations, 3, "tag 2 never drew a duration");
    cr_assert_eq(cluster_worker_seconds(H.cl), 3.0);
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
    cr_assert_eq(H.nidle, 1, "emptied from outside a handler: idle via its own event");
    cr_assert_eq(H.idle_at[0], 0.0);
    harness_stop();
}

/* Emptied from outside a handler and busy again before the idle event
 * fires: no idle call until it really is idle. */
Test(cluster, idle_hook_skips_a_cluster_busy_again)
{
    harness_start(1, 1, 0.0, true);
    uint32_t a = cluster_job_open(H.cl, 0);
    submit(a, 0, 1.0, 0);
    cluster_job_finish(H.cl, a);
    uint32_t b = cluster_job_open(H.cl, 1);
    submit(b, 0, 2.0, 1);
    engine_run(H.engine);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(H.nidle, 1);
    cr_assert_eq(H.idle_at[0], 2.0);
    harness_stop();
}

/* An engine event that cancels task `arg` (a test-side handler). */
static void cancel_event(struct engine *e, void *ctx, uint32_t arg, uint32_t gen)
{
    (void)e, (void)ctx, (void)gen;
    cluster_task_cancel(H.cl, arg);
}

Test(cluster, task_cancel_moves_the_worker_on)
{
    harness_start(1, 1, 0.0, true);
    int kind = engine_register(H.engine, cancel_event, NULL);
    uint32_t j = cluster_job_open(H.cl, 0);
    uint32_t t0 = submit(j, 0, 4.0, 0); /* 0..4 */
    uint32_t t1 = submit(j, 0, 2.0, 1); /* cancelled while queued */
    uint32_t t2 = submit(j, 0, 3.0, 2); /* 4..7, preempted at 5 */
    submit(j, 0, 1.0, 3);               /* 5..6 */
    cluster_task_cancel(H.cl, t1);
    cr_assert_eq(cluster_worker_load(H.cl, 0), 3);
    engine_schedule(H.engine, 4.5, kind, t0, 0); /* already done: nothing */
    engine_schedule(H.engine, 5.0, kind, t2, 0);
    engine_schedule(H.engine, 5.5, kind, t2, 0); /* twice: nothing */
    engine_run(H.engine);
    cr_assert_eq(H.n, 2);
    cr_assert_eq(H.tag[0], 0);
    cr_assert_eq(H.at[0], 4.0);
    cr_assert_eq(H.tag[1], 3);
    cr_assert_eq(H.started[1], 5.0);
    cr_assert_eq(H.at[1], 6.0);
    cr_assert_eq(cluster_worker_seconds(H.cl), 4.0 + 1.0 + 1.0);
    cr_assert_eq(H.nidle, 1);
    cr_assert_eq(H.idle_at[0], 6.0);
    harness_stop();
}

Test(cluster, timers_fire_only_while_the_job_is_open)
{
    harness_start(1, 1, 0.0, true);
    H.finish_after = 1;
    uint32_t a = cluster_job_open(H.cl, 0);
    submit(a, 0, 5.0, 0);
    cluster_timer(H.cl, a, 2.0, 7);
    cluster_timer(H.cl, a, 0.0, 8);
    cluster_timer(H.cl, a, 10.0, 9); /* after a finishes at 5: dropped */
    engine_run(H.engine);
    cr_assert_eq(H.ntimers, 2);
    cr_assert_eq(H.timer_tag[0], 8);
    cr_assert_eq(H.timer_at[0], 0.0);
    cr_assert_eq(H.timer_tag[1], 7);
    cr_assert_eq(H.timer_at[1], 2.0);
    cr_assert_eq(H.timer_job[1], a);
    harness_stop();
}

/* A reused handle must not inherit the old job's timers. */
static void open_next_job(struct harness *h, const struct cluster_result *r)
{
    if (r->tag != 0)
        return;
    uint32_t b = cluster_job_open(h->cl, 1);
    cr_assert_eq(b, r->job, "the finished job's handle is reused");
    struct job_scratch *s = cluster_job_state(h->cl, b);
    cr_assert_eq(s->results, 0, "scratch zeroed at open");
    cr_assert_eq(s->marker, 0);
    cr_assert_eq(cluster_job_index(h->cl, b), 1);
    cr_assert_eq(cluster_job_opened_at(h->cl, b), 5.0);
    cluster_submit(h->cl, b, 0, 10.0, 1);
}

Test(cluster, job_handles_are_reused_without_stale_timers)
{
    harness_start(1, 1, 0.0, true);
    H.finish_after = 1;
    H.after_result = open_next_job;
    uint32_t a = cluster_job_open(H.cl, 0);
    ((struct job_scratch *)cluster_job_state(H.cl, a))->marker = 42;
    cr_assert_eq(cluster_job_index(H.cl, a), 0);
    submit(a, 0, 5.0, 0);
    cluster_timer(H.cl, a, 10.0, 99); /* would fire at 10, inside job b's life */
    engine_run(H.engine);
    cr_assert_eq(H.n, 2);
    cr_assert_eq(H.at[1], 15.0);
    cr_assert_eq(H.ntimers, 0);
    harness_stop();
}

/* Jobs of four tasks on three workers (two queue on worker 0), one after
 * the other, each finished at its second result: the rest are cancelled,
 * queued ones before they start (so they draw nothing). */
enum { DRAW_JOBS = 40 };
static void open_draw_job(struct harness *h)
{
    static const double cost[4] = {1.0, 0.5, 2.0, 0.25};
    static const int worker[4] = {0, 1, 2, 0};
    uint64_t index = (uint64_t)h->nidle;
    if (index >= DRAW_JOBS)
        return;
    uint32_t job = cluster_job_open(h->cl, index);
    for (int i = 0; i < 4; i++)
        cluster_submit(h->cl, job, worker[i], cost[i], i);
}

static void run_draw_jobs(bool in_cluster, struct rng streams[3])
{
    harness_start(3, 1, 0.0, true);
    H.finish_after = 2;
    H.on_idle = open_draw_job;
    for (int w = 0; w < 3; w++)
        rng_seed(&streams[w], 7, 11, RNG_SERVICE, (uint32_t)w);
    if (in_cluster) {
        cr_assert_eq(cluster_use_shifted_exp(H.cl, 0.2, 1.25, streams), 0);
    } else {
        H.streams = streams;
        H.shift = 0.2;
        H.rate = 1.25;
    }
    open_draw_job(&H);
    engine_run(H.engine);
}

/* cluster_use_shifted_exp draws what a duration hook drawing the same
 * streams would, task by task, to the last bit; the hook is never asked. */
Test(cluster, shifted_exp_in_the_cluster_draws_what_the_hook_draws)
{
    struct rng hook_streams[3], cluster_streams[3];
    run_draw_jobs(false, hook_streams);
    struct harness by_hook = H;
    harness_stop();
    run_draw_jobs(true, cluster_streams);
    cr_assert_eq(H.durations, 0, "the duration hook is not called");
    cr_assert_eq(H.n, by_hook.n);
    cr_assert_eq(H.n, 2 * DRAW_JOBS);
    for (int i = 0; i < H.n; i++) {
        cr_assert_eq(H.worker[i], by_hook.worker[i], "result %d", i);
        cr_assert_eq(H.started[i], by_hook.started[i], "result %d", i);
        cr_assert_eq(H.finished[i], by_hook.finished[i], "result %d", i);
    }
    for (int w = 0; w < 3; w++) /* one draw ahead: the next one, already taken */
        cr_assert_eq(rng_next(&cluster_streams[w]), (rng_exp(&hook_streams[w], 1.25), rng_next(&hook_streams[w])));
    harness_stop();
}

/* Three jobs opened at once, each sending a task to workers 0-2 of 4 (so
 * tasks queue), under a network delay, finished at their second result:
 * by cluster_submit_fanout or by a loop of cluster_submit. */
static void run_fanout_jobs(bool bulk)
{
    harness_start(4, 1, 0.5, true);
    static const double factor[4] = {1.0, 2.0, 3.0, 0.5};
    memcpy(H.factor, factor, sizeof factor);
    H.finish_after = 2;
    for (uint64_t i = 0; i < 3; i++) {
        uint32_t job = cluster_job_open(H.cl, i);
        if (bulk) {
            cr_assert_eq(cluster_submit_fanout(H.cl, job, 3, 1.0 + (double)i), 0);
        } else {
            for (int w = 0; w < 3; w++)
                submit(job, w, 1.0 + (double)i, w);
        }
    }
    engine_run(H.engine);
}

/* cluster_submit_fanout is the loop of cluster_submit it stands for: the
 * same results at the same times, to the bit. */
Test(cluster, fanout_submit_is_a_loop_of_submits)
{
    run_fanout_jobs(false);
    struct harness by_loop = H;
    double busy = cluster_worker_seconds(H.cl);
    harness_stop();
    run_fanout_jobs(true);
    cr_assert_eq(H.n, 6, "two results per job");
    cr_assert_eq(H.n, by_loop.n);
    for (int i = 0; i < H.n; i++) {
        cr_assert_eq(H.job[i], by_loop.job[i], "result %d", i);
        cr_assert_eq(H.worker[i], by_loop.worker[i], "result %d", i);
        cr_assert_eq(H.tag[i], H.worker[i], "result %d: tagged with its worker", i);
        cr_assert_eq(H.submitted[i], by_loop.submitted[i], "result %d", i);
        cr_assert_eq(H.started[i], by_loop.started[i], "result %d", i);
        cr_assert_eq(H.finished[i], by_loop.finished[i], "result %d", i);
        cr_assert_eq(H.at[i], by_loop.at[i], "result %d", i);
    }
    cr_assert_eq(cluster_worker_seconds(H.cl), busy);
    harness_stop();
}

Test(cluster, job_scratch_stays_put_while_jobs_open)
{
    harness_start(1, 1, 0.0, true);
    uint32_t first = cluster_job_open(H.cl, 0);
    struct job_scratch *s = cluster_job_state(H.cl, first);
    s->marker = 1234;
    for (uint64_t i = 1; i < 1000; i++) {
        uint32_t j = cluster_job_open(H.cl, i);
        ((struct job_scratch *)cluster_job_state(H.cl, j))->marker = (int)i;
    }
    cr_assert_eq(cluster_job_state(H.cl, first), s, "scratch does not move");
    cr_assert_eq(s->marker, 1234);
    cr_assert_eq(cluster_job_index(H.cl, 999), 999);
    harness_stop();
}

/* The idle hook fires once per idle period, at the instant the last worker
 * goes idle; here it starts the next round (the closed-loop pattern). */
static void next_round(struct harness *h)
{
    if (h->nidle >= 3)
        return;
    uint32_t j = cluster_job_open(h->cl, (uint64_t)h->nidle);
    cluster_submit(h->cl, j, 0, 1.0, h->nidle);
    cluster_submit(h->cl, j, 1, 2.0, h->nidle);
}

Test(cluster, idle_hook_once_per_idle_period)
{
    harness_start(2, 1, 0.0, true);
    H.on_idle = next_round;
    uint32_t j = cluster_job_open(H.cl, 0);
    submit(j, 0, 1.0, 0);
    submit(j, 1, 2.0, 0);
    engine_run(H.engine);
    cr_assert_eq(H.nidle, 3);
    cr_assert_eq(H.idle_at[0], 2.0);
    cr_assert_eq(H.idle_at[1], 4.0);
    cr_assert_eq(H.idle_at[2], 6.0);
    cr_assert_eq(H.n, 6);
    harness_stop();
}

/* cancel = false: the finished job's queued and running tasks run on (slots
 * busy, results dropped) and its handle waits for them. */
static void open_after_finish(struct harness *h, const struct cluster_result *r)
{
    if (r->tag != 0)
        return;
    uint32_t b = cluster_job_open(h->cl, 1);
    cr_assert_neq(b, r->job, "handle held while the old job's tasks still run");
    cluster_submit(h->cl, b, 0, 1.0, 5);
}

Test(cluster, no_cancel_keeps_tasks_running_and_drops_results)
{
    harness_start(1, 1, 0.0, false);
    H.finish_after = 1;
    H.after_result = open_after_finish;
    uint32_t a = cluster_job_open(H.cl, 0);
    submit(a, 0, 1.0, 0); /* 0..1: finishes a */
    submit(a, 0, 2.0, 1); /* 1..3, result dropped */
    submit(a, 0, 0.5, 2); /* 3..3.5, result dropped */
    engine_run(H.engine);
    cr_assert_eq(H.n, 2);
    cr_assert_eq(H.tag[1], 5);
    cr_assert_eq(H.started[1], 3.5, "queued behind the leftover tasks");
    cr_assert_eq(H.at[1], 4.5);
    cr_assert_eq(cluster_worker_seconds(H.cl), 4.5);
    cr_assert_eq(H.durations, 4);
    /* both jobs finished: a's handle was recycled after its last task */
    uint32_t c = cluster_job_open(H.cl, 2), d = cluster_job_open(H.cl, 3);
    cr_assert(c <= 1 && d <= 1 && c != d, "handles %u %u", c, d);
    harness_stop();
}

Test(cluster, no_cancel_with_delay_drops_late_results)
{
    harness_start(2, 1, 0.25, false);
    H.finish_after = 1;
    uint32_t a = cluster_job_open(H.cl, 0);
    submit(a, 0, 1.0, 0); /* 0.25..1.25, master 1.5 */
    submit(a, 1, 2.0, 1); /* 0.25..2.25, dropped */
    engine_run(H.engine);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(H.at[0], 1.5);
    cr_assert_eq(cluster_worker_seconds(H.cl), 3.0);
    cr_assert_eq(H.nidle, 1);
    cr_assert_eq(H.idle_at[0], 2.25);
    harness_stop();
}

Test(cluster, rejects_bad_arguments)
{
    harness_start(2, 1, 0.0, true);
    uint32_t a = cluster_job_open(H.cl, 0);
    cr_assert_eq(cluster_submit(H.cl, a, 2, 1.0, 0), UINT32_MAX, "no worker 2");
    cr_assert_eq(cluster_submit(H.cl, a, -1, 1.0, 0), UINT32_MAX);
    cr_assert_eq(cluster_submit(H.cl, a + 1, 0, 1.0, 0), UINT32_MAX, "never opened");
    cr_assert_eq(cluster_submit_fanout(H.cl, a, 3, 1.0), -1, "three workers of two");
    cr_assert_eq(cluster_submit_fanout(H.cl, a, -1, 1.0), -1);
    cr_assert_eq(cluster_submit_fanout(H.cl, a + 1, 1, 1.0), -1, "never opened");
    cr_assert_eq(cluster_worker_load(H.cl, 0) + cluster_worker_load(H.cl, 1), 0, "none sent");
    cluster_job_finish(H.cl, a);
    cr_assert_eq(cluster_submit(H.cl, a, 0, 1.0, 0), UINT32_MAX, "finished");
    cr_assert_eq(cluster_submit_fanout(H.cl, a, 1, 1.0), -1, "finished");
    cluster_job_finish(H.cl, a); /* twice: nothing */
    cr_assert(!cluster_failed(H.cl));
    harness_stop();
    struct engine *e = engine_new();
    struct cluster_hooks hooks = {NULL, h_duration, NULL, NULL, NULL};
    struct cluster_config bad[] = {{0, 1, 0, true, 0}, {1, 0, 0, true, 0}, {1, 1, -1, true, 0},
                                   {1, 1, NAN, true, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_null(cluster_new(e, &bad[i], &hooks), "config %zu", i);
    engine_free(e);
}

/* A submit that cannot allocate its task fails the cluster, so a driver
 * never reports the numbers of a run whose job went short of a task. */
Test(cluster, a_submit_out_of_memory_fails_the_run)
{
    for (int fanout = 0; fanout <= 1; fanout++) {
        harness_start(2, 1, 0.0, true);
        uint32_t a = cluster_job_open(H.cl, 0);
        cr_assert_neq(a, UINT32_MAX);
        cr_assert(!cluster_failed(H.cl));
        realloc_fails = true; /* the task array is still empty: the first task needs it */
        if (fanout)
            cr_assert_eq(cluster_submit_fanout(H.cl, a, 2, 1.0), -1);
        else
            cr_assert_eq(cluster_submit(H.cl, a, 1, 1.0, 0), UINT32_MAX);
        realloc_fails = false;
        cr_assert(cluster_failed(H.cl), "fanout %d: the run is void", fanout);
        cr_assert_eq(cluster_worker_load(H.cl, 0) + cluster_worker_load(H.cl, 1), 0);
        cr_assert_eq(cluster_job_open(H.cl, 1), UINT32_MAX, "a failed cluster opens no job");
        harness_stop();
    }
}

/* k-of-n, one job at a time (the next opens when every worker is idle),
 * i.i.d. Exp(rate) durations: the latency is the k-th order statistic of n
 * exponentials, mean sum_{i=n-k+1}^{n} 1/(i rate). */
struct kofn {
    struct engine *e;
    struct cluster *cl;
    struct rng rng[4];
    int n, k, done;
    uint64_t jobs, max_jobs;
    double sum, sumsq;
};

static double kofn_duration(void *ctx, int worker, uint64_t job_index, double cost)
{
    (void)job_index;
    struct kofn *s = ctx;
    return cost * rng_exp(&s->rng[worker], 1.5);
}

static void kofn_result(void *ctx, struct cluster *cl, const struct cluster_result *r)
{
    struct kofn *s = ctx;
    int *count = cluster_job_state(cl, r->job);
    if (++*count == s->k) {
        double latency = engine_now(s->e) - cluster_job_opened_at(cl, r->job);
        s->sum += latency;
        s->sumsq += latency * latency;
        cluster_job_finish(cl, r->job);
    }
}

static void kofn_open(struct kofn *s)
{
    uint32_t j = cluster_job_open(s->cl, s->jobs++);
    for (int w = 0; w < s->n; w++)
        cluster_submit(s->cl, j, w, 1.0, w);
}

static void kofn_idle(void *ctx, struct cluster *cl)
{
    (void)cl;
    struct kofn *s = ctx;
    if (s->jobs < s->max_jobs)
        kofn_open(s);
}

Test(cluster, kofn_mean_matches_order_statistic)
{
    static struct kofn s = {.n = 4, .k = 3, .max_jobs = 40000};
    s.e = engine_new();
    for (int w = 0; w < s.n; w++)
        rng_seed(&s.rng[w], 7, 0, RNG_SERVICE, (uint32_t)w);
    struct cluster_config cfg = {s.n, 1, 0.0, true, sizeof(int)};
    struct cluster_hooks hooks = {&s, kofn_duration, kofn_result, NULL, kofn_idle};
    s.cl = cluster_new(s.e, &cfg, &hooks);
    kofn_open(&s);
    engine_run(s.e);
    cr_assert_eq(s.jobs, s.max_jobs);
    double m = (double)s.max_jobs, mean = s.sum / m;
    double se = sqrt((s.sumsq / m - mean * mean) / m);
    double exact = (1.0 / 4 + 1.0 / 3 + 1.0 / 2) / 1.5;
    cr_assert_lt(fabs(mean - exact), 4 * se, "mean %g exact %g se %g", mean, exact, se);
    cluster_free(s.cl);
    engine_free(s.e);
}
