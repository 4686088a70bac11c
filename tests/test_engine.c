/* test_engine.c: the event engine (sim/engine.c): time order, FIFO ties by
 * schedule order, many random events pop sorted, stop/resume, counts,
 * handler table limits, clamping of past times. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>

#include "sim/engine.h"
#include "base/rng.h"

/* A log of fired events: (time, arg, gen, kind) in firing order. */
struct fired {
    double time[4096];
    uint32_t arg[4096], gen[4096];
    int kind[4096];
    size_t n;
};

struct recorder {
    struct fired *log;
    int kind;
    uint32_t stop_at_arg; /* engine_stop() when this arg fires (UINT32_MAX: never) */
};

static void record(struct engine *e, void *ctx, uint32_t arg, uint32_t gen)
{
    struct recorder *r = ctx;
    struct fired *f = r->log;
    cr_assert_lt(f->n, 4096);
    f->time[f->n] = engine_now(e);
    f->arg[f->n] = arg;
    f->gen[f->n] = gen;
    f->kind[f->n] = r->kind;
    f->n++;
    if (arg == r->stop_at_arg)
        engine_stop(e);
}

static struct fired log_;

static struct engine *engine_with_recorder(struct recorder *r)
{
    struct engine *e = engine_new();
    cr_assert_not_null(e);
    log_.n = 0;
    r->log = &log_;
    r->kind = engine_register(e, record, r);
    cr_assert_eq(r->kind, 0);
    return e;
}

Test(engine, fires_in_time_order_and_passes_arg_gen)
{
    struct recorder r = {.stop_at_arg = UINT32_MAX};
    struct engine *e = engine_with_recorder(&r);
    double times[] = {5.0, 1.5, 3.25, 0.0, 2.0};
    for (uint32_t i = 0; i < 5; i++)
        cr_assert_eq(engine_schedule(e, times[i], r.kind, i, 100 + i), 0);
    cr_assert_eq(engine_pending(e), 5);
    engine_run(e);
    uint32_t want[] = {3, 1, 4, 2, 0};
    cr_assert_eq(log_.n, 5);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(log_.arg[i], want[i]);
        cr_assert_eq(log_.gen[i], 100 + want[i]);
        cr_assert_eq(log_.time[i], times[want[i]]);
    }
    cr_assert_eq(engine_now(e), 5.0);
    cr_assert_eq(engine_pending(e), 0);
    cr_assert_eq(engine_events(e), 5);
    cr_assert_eq(engine_step(e), 0, "an empty engine has nothing to step");
    engine_free(e);
}

/* Equal times fire in the order they were scheduled, across kinds too, and
 * also for events scheduled from inside a handler at the current time. */
struct tie_state {
    struct fired *log;
    int kind_a, kind_b;
};

static void tie_a(struct engine *e, void *ctx, uint32_t arg, uint32_t gen)
{
    struct tie_state *s = ctx;
    struct fired *f = s->log;
    f->arg[f->n] = arg;
    f->kind[f->n] = s->kind_a;
    f->time[f->n++] = engine_now(e);
    if (gen == 1) /* re-schedule at "now": must come after everything already at now */
        engine_schedule(e, engine_now(e), s->kind_b, arg + 1000, 0);
}

static void tie_b(struct engine *e, void *ctx, uint32_t arg, uint32_t gen)
{
    (void)gen;
    struct tie_state *s = ctx;
    struct fired *f = s->log;
    f->arg[f->n] = arg;
    f->kind[f->n] = s->kind_b;
    f->time[f->n++] = engine_now(e);
}

Test(engine, ties_are_fifo_by_schedule_order)
{
    struct engine *e = engine_new();
    struct tie_state s = {.log = &log_};
    log_.n = 0;
    s.kind_a = engine_register(e, tie_a, &s);
    s.kind_b = engine_register(e, tie_b, &s);
    cr_assert_eq(s.kind_b, 1);
    /* 200 events at t = 1 alternating kinds, then one earlier event that
     * spawns an event at its own time. */
    for (uint32_t i = 0; i < 200; i++)
        engine_schedule(e, 1.0, i % 2 ? s.kind_b : s.kind_a, i, 0);
    engine_schedule(e, 0.5, s.kind_a, 7777, 1);
    engine_schedule(e, 0.5, s.kind_b, 8888, 0);
    engine_run(e);
    cr_assert_eq(log_.n, 203);
    cr_assert_eq(log_.arg[0], 7777);
    cr_assert_eq(log_.arg[1], 8888, "scheduled before the spawned event");
    cr_assert_eq(log_.arg[2], 8777, "spawned at now: after the event already at now");
    cr_assert_eq(log_.time[2], 0.5);
    for (uint32_t i = 0; i < 200; i++) {
        cr_assert_eq(log_.arg[3 + i], i);
        cr_assert_eq(log_.kind[3 + i], i % 2 ? s.kind_b : s.kind_a);
    }
    engine_free(e);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Random times, scheduled in bulk and from inside handlers (hold model):
 * the firing times are exactly the sorted multiset of scheduled times. */
struct hold_state {
    struct rng rng;
    double scheduled[4096];
    size_t nscheduled;
    struct fired *log;
    int kind;
};

static void hold_fire(struct engine *e, void *ctx, uint32_t arg, uint32_t gen)
{
    (void)gen;
    struct hold_state *s = ctx;
    struct fired *f = s->log;
    f->time[f->n] = engine_now(e);
    f->arg[f->n++] = arg;
    if (s->nscheduled < 4000) {
        /* some ties on purpose: rounded to 1/8 */
        double t = engine_now(e) + floor(rng_exp(&s->rng, 0.5) * 8.0) / 8.0;
        s->scheduled[s->nscheduled] = t;
        engine_schedule(e, t, s->kind, (uint32_t)s->nscheduled++, 0);
    }
}

Test(engine, many_random_events_pop_sorted)
{
    static struct hold_state s;
    struct engine *e = engine_new();
    s.log = &log_;
    s.nscheduled = 0;
    log_.n = 0;
    rng_seed(&s.rng, 42, 0, RNG_ARRIVALS, 0);
    s.kind = engine_register(e, hold_fire, &s);
    for (; s.nscheduled < 1000; s.nscheduled++) {
        s.scheduled[s.nscheduled] = floor(rng_uniform(&s.rng) * 80.0) / 8.0;
        engine_schedule(e, s.scheduled[s.nscheduled], s.kind, (uint32_t)s.nscheduled, 0);
    }
    engine_run(e);
    cr_assert_eq(log_.n, 4000);
    cr_assert_eq(engine_events(e), 4000);
    qsort(s.scheduled, s.nscheduled, sizeof(double), cmp_double);
    for (size_t i = 0; i < log_.n; i++)
        cr_assert_eq(log_.time[i], s.scheduled[i], "event %zu", i);
    /* ties: an event scheduled earlier (smaller arg: args are schedule order) fires first */
    for (size_t i = 1; i < log_.n; i++)
        if (log_.time[i] == log_.time[i - 1])
            cr_assert_lt(log_.arg[i - 1], log_.arg[i], "tie at %zu", i);
    engine_free(e);
}

Test(engine, stop_returns_and_run_resumes)
{
    struct recorder r = {.stop_at_arg = 2};
    struct engine *e = engine_with_recorder(&r);
    for (uint32_t i = 0; i < 6; i++)
        engine_schedule(e, (double)i, r.kind, i, 0);
    engine_run(e);
    cr_assert_eq(log_.n, 3, "stopped after the event that called stop");
    cr_assert_eq(engine_now(e), 2.0);
    cr_assert_eq(engine_pending(e), 3);
    cr_assert_eq(engine_events(e), 3);
    cr_assert_eq(engine_step(e), 1);
    cr_assert_eq(log_.arg[3], 3);
    engine_run(e);
    cr_assert_eq(log_.n, 6);
    cr_assert_eq(engine_pending(e), 0);
    cr_assert_eq(engine_events(e), 6);
    engine_free(e);
}

Test(engine, pending_counts_while_a_handler_runs)
{
    struct recorder r = {.stop_at_arg = 0};
    struct engine *e = engine_with_recorder(&r);
    engine_schedule(e, 1.0, r.kind, 0, 0);
    engine_schedule(e, 2.0, r.kind, 1, 0);
    cr_assert_eq(engine_step(e), 1);
    cr_assert_eq(engine_pending(e), 1, "the fired event is no longer pending");
    engine_schedule(e, 1.5, r.kind, 2, 0);
    cr_assert_eq(engine_pending(e), 2);
    engine_run(e);
    cr_assert_eq(log_.n, 3);
    cr_assert_eq(log_.arg[1], 2);
    cr_assert_eq(log_.arg[2], 1);
    engine_free(e);
}

Test(engine, past_and_nan_times_clamp_to_now)
{
    struct recorder r = {.stop_at_arg = 0};
    struct engine *e = engine_with_recorder(&r);
    engine_schedule(e, 3.0, r.kind, 0, 0);
    engine_run(e);
    cr_assert_eq(engine_now(e), 3.0);
    engine_schedule(e, 1.0, r.kind, 1, 0);
    engine_schedule(e, NAN, r.kind, 2, 0);
    engine_schedule(e, 3.5, r.kind, 3, 0);
    engine_run(e);
    cr_assert_eq(log_.n, 4);
    cr_assert_eq(log_.time[1], 3.0);
    cr_assert_eq(log_.time[2], 3.0);
    cr_assert_eq(log_.arg[3], 3);
    engine_free(e);
}

Test(engine, negative_zero_orders_as_zero)
{
    struct recorder r = {.stop_at_arg = UINT32_MAX};
    struct engine *e = engine_with_recorder(&r);
    engine_schedule(e, 1.0, r.kind, 0, 0);
    engine_schedule(e, -0.0, r.kind, 1, 0);
    engine_schedule(e, 0.0, r.kind, 2, 0);
    engine_run(e);
    cr_assert_eq(log_.arg[0], 1);
    cr_assert_eq(log_.arg[1], 2);
    cr_assert_eq(log_.arg[2], 0);
    engine_free(e);
}

static void noop(struct engine *e, void *ctx, uint32_t arg, uint32_t gen)
{
    (void)e, (void)ctx, (void)arg, (void)gen;
}

Test(engine, handler_table_limits)
{
    struct engine *e = engine_new();
    cr_assert_eq(engine_schedule(e, 1.0, 0, 0, 0), -1, "no kind registered yet");
    for (int i = 0; i < ENGINE_MAX_KINDS; i++)
        cr_assert_eq(engine_register(e, noop, NULL), i);
    cr_assert_eq(engine_register(e, noop, NULL), -1);
    cr_assert_eq(engine_schedule(e, 1.0, ENGINE_MAX_KINDS - 1, 0, 0), 0);
    cr_assert_eq(engine_schedule(e, 1.0, ENGINE_MAX_KINDS, 0, 0), -1);
    cr_assert_eq(engine_schedule(e, 1.0, -1, 0, 0), -1);
    engine_run(e);
    cr_assert_eq(engine_events(e), 1);
    engine_free(e);
}

Test(engine, grows_past_initial_capacity)
{
    struct engine *e = engine_new();
    int kind = engine_register(e, noop, NULL);
    for (uint32_t i = 0; i < 100000; i++)
        cr_assert_eq(engine_schedule(e, (double)(i % 977), kind, i, 0), 0);
    cr_assert_eq(engine_pending(e), 100000);
    double last = -1;
    while (engine_step(e)) {
        cr_assert_geq(engine_now(e), last);
        last = engine_now(e);
    }
    cr_assert_eq(engine_events(e), 100000);
    cr_assert_eq(last, 976.0);
    engine_free(e);
}
