/* test_engine.c: the event engine (sim/engine.c): time order, FIFO ties by
 * schedule order, many random events pop sorted, stop/resume, counts,
 * handler table limits, clamping of past times; timers: ties with heap
 * events, cancel and replace, a differential run against the lazy
 * cancellation they replace, and random programs over 1..65 timers checked
 * fire by fire against a linear search for the least (time, seq). */
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

/* ---- timers ---- */

Test(engine, timers_tie_with_events_in_schedule_order)
{
    struct recorder r = {.stop_at_arg = UINT32_MAX};
    struct engine *e = engine_with_recorder(&r);
    cr_assert_eq(engine_timers_add(e, 3), 0);
    cr_assert_eq(engine_timers_add(e, 2), 3, "ids continue");
    /* all at t = 2 except one: schedule order is 10, 11, 12, 13, 14 */
    cr_assert_eq(engine_schedule(e, 2.0, r.kind, 10, 0), 0);
    cr_assert_eq(engine_timer_set(e, 4, 2.0, r.kind, 11, 7), 0);
    cr_assert_eq(engine_schedule(e, 2.0, r.kind, 12, 0), 0);
    cr_assert_eq(engine_timer_set(e, 0, 2.0, r.kind, 13, 0), 0);
    cr_assert_eq(engine_timer_set(e, 2, 1.0, r.kind, 14, 0), 0);
    cr_assert_eq(engine_pending(e), 5);
    cr_assert(engine_timer_is_set(e, 4));
    cr_assert_not(engine_timer_is_set(e, 1));
    engine_run(e);
    cr_assert_eq(log_.n, 5);
    uint32_t want[] = {14, 10, 11, 12, 13};
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(log_.arg[i], want[i], "fire %zu", i);
    cr_assert_eq(log_.gen[2], 7, "a timer passes its gen");
    cr_assert_eq(engine_events(e), 5);
    cr_assert_eq(engine_pending(e), 0);
    cr_assert_not(engine_timer_is_set(e, 4), "a fired timer is unset");
    engine_free(e);
}

Test(engine, timer_cancel_and_replace)
{
    struct recorder r = {.stop_at_arg = UINT32_MAX};
    struct engine *e = engine_with_recorder(&r);
    cr_assert_eq(engine_timers_add(e, 4), 0);
    cr_assert_eq(engine_timer_set(e, 4, 1.0, r.kind, 0, 0), -1, "unknown id");
    cr_assert_eq(engine_timer_set(e, 0, 1.0, r.kind + 1, 0, 0), -1, "unregistered kind");
    engine_timer_set(e, 0, 1.0, r.kind, 100, 0);
    engine_timer_set(e, 1, 2.0, r.kind, 101, 0);
    engine_timer_set(e, 2, 3.0, r.kind, 102, 0);
    engine_timer_set(e, 3, 4.0, r.kind, 103, 0);
    engine_timer_cancel(e, 1);
    engine_timer_cancel(e, 1); /* already unset: nothing */
    engine_timer_set(e, 3, 0.5, r.kind, 104, 0); /* replaces 103 */
    cr_assert_eq(engine_pending(e), 3);
    engine_run(e);
    cr_assert_eq(log_.n, 3);
    cr_assert_eq(log_.arg[0], 104);
    cr_assert_eq(log_.arg[1], 100);
    cr_assert_eq(log_.arg[2], 102);
    cr_assert_eq(engine_now(e), 3.0, "cancelled timers never fire");
    cr_assert_eq(engine_events(e), 3 + 2, "fired plus cancelled (one cancel, one replace)");
    engine_free(e);
}

/* Differential test: timers against the lazy scheme they replace (heap
 * events carrying a generation, stale ones ignored when they fire). The
 * same random program (set, cancel, plain events, ties on a 1/8 grid, all
 * from inside handlers) must fire the same events in the same order, and
 * count the same engine_events. Run with few timers (the engine keeps them
 * in arrays) and with many (a heap, entered with timers already set when
 * the second batch of ids is added). */
enum { DIFF_TIMERS_MAX = 100, DIFF_FIRES = 2000 };

struct diff_state {
    bool lazy;
    struct rng rng;
    int kind_timer, kind_plain;
    uint32_t ntimers;
    uint32_t gen[DIFF_TIMERS_MAX];
    bool set[DIFF_TIMERS_MAX];
    uint32_t next_plain;
    struct fired *log;
};

static double diff_later(struct diff_state *s, struct engine *e)
{
    return engine_now(e) + floor(rng_exp(&s->rng, 1.0) * 8.0) / 8.0;
}

static void diff_set(struct diff_state *s, struct engine *e, uint32_t id, double t)
{
    if (s->lazy) {
        s->gen[id]++;
        cr_assert_eq(engine_schedule(e, t, s->kind_timer, id, s->gen[id]), 0);
    } else {
        cr_assert_eq(engine_timer_set(e, id, t, s->kind_timer, id, 0), 0);
    }
    s->set[id] = true;
}

static void diff_cancel(struct diff_state *s, struct engine *e, uint32_t id)
{
    if (s->lazy)
        s->gen[id] += s->set[id];
    else
        engine_timer_cancel(e, id);
    s->set[id] = false;
}

/* What every fired event does: log itself, then a few random actions. */
static void diff_act(struct diff_state *s, struct engine *e, uint32_t arg, int kind)
{
    struct fired *f = s->log;
    cr_assert_lt(f->n, 4096);
    f->time[f->n] = engine_now(e);
    f->arg[f->n] = arg;
    f->kind[f->n++] = kind;
    if (f->n >= DIFF_FIRES)
        return;
    for (int actions = 1 + (int)rng_below(&s->rng, 3); actions > 0; actions--) {
        uint32_t id = (uint32_t)rng_below(&s->rng, s->ntimers);
        double u = rng_uniform(&s->rng);
        if (u < 0.5)
            diff_set(s, e, id, diff_later(s, e));
        else if (u < 0.7)
            diff_cancel(s, e, id);
        else
            cr_assert_eq(engine_schedule(e, diff_later(s, e), s->kind_plain, s->next_plain++, 0), 0);
    }
}

static void diff_timer(struct engine *e, void *ctx, uint32_t id, uint32_t gen)
{
    struct diff_state *s = ctx;
    if (s->lazy && gen != s->gen[id])
        return; /* stale */
    s->set[id] = false;
    diff_act(s, e, id, s->kind_timer);
}

static void diff_plain(struct engine *e, void *ctx, uint32_t arg, uint32_t gen)
{
    (void)gen;
    diff_act(ctx, e, arg, ((struct diff_state *)ctx)->kind_plain);
}

static uint64_t diff_run(struct diff_state *s, struct fired *log, bool lazy, uint32_t ntimers)
{
    *s = (struct diff_state){.lazy = lazy, .log = log, .next_plain = 1000, .ntimers = ntimers};
    log->n = 0;
    rng_seed(&s->rng, 7, 0, RNG_ARRIVALS, 0);
    struct engine *e = engine_new();
    s->kind_timer = engine_register(e, diff_timer, s);
    s->kind_plain = engine_register(e, diff_plain, s);
    uint32_t first_batch = ntimers / 2;
    cr_assert_eq(engine_timers_add(e, first_batch), 0);
    for (uint32_t id = 0; id < first_batch; id += 2)
        diff_set(s, e, id, floor(rng_uniform(&s->rng) * 16.0) / 8.0);
    cr_assert_eq(engine_timers_add(e, ntimers - first_batch), first_batch);
    for (uint32_t id = first_batch; id < ntimers; id += 2)
        diff_set(s, e, id, floor(rng_uniform(&s->rng) * 16.0) / 8.0);
    engine_schedule(e, 0.0, s->kind_plain, s->next_plain++, 0);
    engine_run(e);
    uint64_t events = engine_events(e);
    engine_free(e);
    return events;
}

static void diff_check(uint32_t ntimers)
{
    static struct diff_state s;
    static struct fired lazy_log, timer_log;
    uint64_t lazy_events = diff_run(&s, &lazy_log, true, ntimers);
    uint64_t timer_events = diff_run(&s, &timer_log, false, ntimers);
    cr_assert_geq(lazy_log.n, DIFF_FIRES);
    cr_assert_eq(timer_log.n, lazy_log.n);
    size_t ties = 0;
    for (size_t i = 0; i < lazy_log.n; i++) {
        cr_assert_eq(timer_log.time[i], lazy_log.time[i], "fire %zu", i);
        cr_assert_eq(timer_log.arg[i], lazy_log.arg[i], "fire %zu", i);
        cr_assert_eq(timer_log.kind[i], lazy_log.kind[i], "fire %zu", i);
        ties += i > 0 && lazy_log.time[i] == lazy_log.time[i - 1];
    }
    cr_assert_gt(ties, 100, "the program makes ties (%zu)", ties);
    cr_assert_eq(timer_events, lazy_events, "cancelled timers count as the stale events they were");
}

Test(engine, timers_fire_like_lazy_cancellation) { diff_check(13); }

Test(engine, many_timers_fire_like_lazy_cancellation) { diff_check(DIFF_TIMERS_MAX); }

/* Reference test: a random program of sets, cancels and fires over 1..64
 * timers (the sizes around the scan's vector widths and its 16-timer
 * bound, and the 64 past which timers move to a heap), times on a 1/4 grid
 * so that many are equal, a few at +inf or in the past, checked before
 * every fire against a linear search for the least (time, seq). The engine
 * takes one seq per set from its counter, so the reference counts sets. */
enum { REF_TIMERS_MAX = 65, REF_FIRES = 3000 };

struct ref_state {
    struct rng rng;
    int kind;
    uint32_t ntimers;
    bool set[REF_TIMERS_MAX];
    double time[REF_TIMERS_MAX];
    uint64_t seq[REF_TIMERS_MAX];
    uint64_t next_seq;
    uint32_t expect; /* the id the next fire must be */
    size_t fired, ties;
};

static void ref_set(struct ref_state *s, struct engine *e, uint32_t id)
{
    double now = engine_now(e), u = rng_uniform(&s->rng);
    double t = u < 0.02 ? (double)INFINITY
             : u < 0.05 ? now - 1.0 /* clamped to now */
                        : now + floor(rng_uniform(&s->rng) * 8.0) / 4.0;
    cr_assert_eq(engine_timer_set(e, id, t, s->kind, id, (uint32_t)s->next_seq), 0);
    s->set[id] = true;
    s->time[id] = t < now ? now : t;
    s->seq[id] = s->next_seq++;
}

static void ref_actions(struct ref_state *s, struct engine *e, int actions)
{
    for (; actions > 0; actions--) {
        uint32_t id = (uint32_t)rng_below(&s->rng, s->ntimers);
        if (rng_uniform(&s->rng) < 0.7) {
            ref_set(s, e, id);
        } else {
            engine_timer_cancel(e, id);
            s->set[id] = false;
        }
    }
}

/* The least (time, seq) among set timers, or UINT32_MAX when none is. */
static uint32_t ref_earliest(const struct ref_state *s)
{
    uint32_t best = UINT32_MAX;
    for (uint32_t id = 0; id < s->ntimers; id++)
        if (s->set[id] && (best == UINT32_MAX || s->time[id] < s->time[best] ||
                           (s->time[id] == s->time[best] && s->seq[id] < s->seq[best])))
            best = id;
    return best;
}

static void ref_fire(struct engine *e, void *ctx, uint32_t id, uint32_t gen)
{
    struct ref_state *s = ctx;
    cr_assert_eq(id, s->expect, "%u timers, fire %zu: timer %u fired, %u is earliest",
                 s->ntimers, s->fired, id, s->expect);
    cr_assert_eq(gen, (uint32_t)s->seq[id]);
    cr_assert_eq(engine_now(e), s->time[id]);
    cr_assert_not(engine_timer_is_set(e, id), "unset before its handler runs");
    s->set[id] = false;
    for (uint32_t other = 0; other < s->ntimers; other++)
        s->ties += s->set[other] && s->time[other] == s->time[id];
    s->fired++;
    if (rng_uniform(&s->rng) < 0.6) /* mostly: the same timer again, as a worker's next task */
        ref_set(s, e, id);
    ref_actions(s, e, (int)rng_below(&s->rng, 3));
}

static void ref_check(uint32_t ntimers, enum timer_scan_isa isa)
{
    static struct ref_state s;
    s = (struct ref_state){.ntimers = ntimers};
    rng_seed(&s.rng, 11, ntimers, RNG_ARRIVALS, 0);
    struct engine *e = engine_new();
    cr_assert_eq(engine_scan_isa_set(e, isa), 0);
    s.kind = engine_register(e, ref_fire, &s);
    cr_assert_eq(engine_timers_add(e, ntimers), 0);
    while (s.fired < REF_FIRES) {
        ref_actions(&s, e, (int)rng_below(&s.rng, 4));
        s.expect = ref_earliest(&s);
        size_t before = s.fired;
        cr_assert_eq(engine_step(e), s.expect != UINT32_MAX, "%u timers: a fire iff one is set",
                     ntimers);
        cr_assert_eq(s.fired, before + (s.expect != UINT32_MAX));
    }
    if (ntimers > 1)
        cr_assert_gt(s.ties, REF_FIRES / 20, "%u timers: the program makes ties (%zu)", ntimers,
                     s.ties);
    engine_free(e);
}

/* Every search the CPU has (portable, SSE2, AVX2) on every size. */
Test(engine, timers_fire_earliest_by_time_then_seq)
{
    uint32_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 15, 16, 17, 20, 31, 32, 33, 63, 64, 65};
    enum timer_scan_isa isas[] = {TIMER_SCAN_PORTABLE, TIMER_SCAN_SSE2, TIMER_SCAN_AVX2};
    cr_assert(timer_scan_isa_supported(TIMER_SCAN_PORTABLE));
    int checked = 0;
    for (size_t k = 0; k < sizeof isas / sizeof *isas; k++) {
        if (!timer_scan_isa_supported(isas[k]))
            continue;
        checked++;
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
            ref_check(sizes[i], isas[k]);
    }
#ifdef __SSE2__
    cr_assert_geq(checked, 2, "SSE2 is checked where the compiler has it");
#endif
}

/* Pinning a search the CPU lacks is refused, and the engine keeps its own. */
Test(engine, scan_isa_set_refuses_what_the_cpu_lacks)
{
    struct engine *e = engine_new();
    for (int isa = TIMER_SCAN_PORTABLE; isa <= TIMER_SCAN_AVX2; isa++)
        cr_assert_eq(engine_scan_isa_set(e, (enum timer_scan_isa)isa),
                     timer_scan_isa_supported((enum timer_scan_isa)isa) ? 0 : -1);
    engine_free(e);
}
