/* engine.c: the future-event set, the clock and the handler table.
 *
 * The event set is an implicit binary min-heap of 24-byte events keyed by
 * (time, seq) in one array that grows by doubling; nothing is allocated per
 * event. It does not know what events mean (handlers do) and does not cancel
 * anything (callers use generation counters, see engine.h).
 *
 * Measured speed-ups over a textbook binary heap (bench/bench_engine.c, hold
 * model, 10^3 pending: about 17 M events/s against 11 M):
 * - the popped root is left as a hole while its handler runs: the first event
 *   the handler schedules drops into the hole with one sift-down, instead of
 *   the last leaf being sifted down and the new event sifted up. The hold
 *   model (pop one, push one) and most simulation handlers do exactly that;
 * - branch-free comparisons: times are >= 0, so their IEEE bit patterns order
 *   like unsigned integers and (time, seq) compares as one 128-bit key; the
 *   smaller child is picked without a branch. Heap comparisons are coin
 *   flips, so mispredicted branches were the main cost.
 * - sifts move a hole and write the moving event once, at its final place.
 * A 4-ary heap was measured too: equal at 10^3-10^4 pending, slower at the
 * tens of events a cluster simulation keeps, faster only beyond 10^5.
 *
 * Timers (engine.h) live in a second binary heap beside the events, keyed
 * the same way, that knows where each timer sits (pos[id]), so cancelling
 * one removes it at once (the last timer fills its place and sifts). Each
 * step fires whichever root comes first by (time, seq). Like the event
 * root, a fired timer's root is left as a hole while its handler runs: the
 * first timer the handler sets (a worker starting its next task) drops into
 * it with one sift-down. A tournament tree over the slots was measured
 * first: its log2(P) matches on every set and cancel cost more than the
 * short sifts of a heap whose new keys are mostly the latest (kofn-queue
 * about 10% more CPU time than the lazy single heap; this heap is level
 * with it: the stale pops it saves cost about what the cancels do).
 */
#include "sim/engine.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NO_TIMER UINT32_MAX

enum {
    HEAP_MIN_CAPACITY = 64,
    KIND_BITS = 5, /* ENGINE_MAX_KINDS = 32 kinds fit below the seq */
};

/* 24 bytes: the key is (time, seq_kind); seq_kind = seq << KIND_BITS | kind,
 * and seq is unique, so comparing seq_kind orders by seq. */
struct event {
    double time;
    uint64_t seq_kind;
    uint32_t arg, gen;
};

/* What a timer fires with. */
struct timer_payload {
    uint32_t arg, gen;
};

struct handler_entry {
    engine_handler fn;
    void *ctx;
};

struct engine {
    struct event *heap; /* heap[0 .. n); heap[0] is a hole while root_hole */
    size_t n, capacity;
    bool root_hole;     /* the root was popped and its handler is running */
    bool stopped;
    double now;
    uint64_t seq;       /* next sequence number */
    uint64_t fired;
    uint64_t cancelled;  /* timers cancelled (or replaced) while set */
    struct event *timers; /* heap of set timers [0 .. ntimers_set); .arg is the timer id */
    uint32_t *pos;       /* [ntimers]: index of timer id in `timers`, NO_TIMER when unset */
    struct timer_payload *payload; /* [ntimers] */
    uint32_t ntimers, timers_set;
    uint32_t timer_hole; /* the fired timer whose handler runs (its root is a hole), or NO_TIMER */
    int nkinds;
    struct handler_entry kinds[ENGINE_MAX_KINDS];
};

#ifdef __SIZEOF_INT128__
__extension__ typedef unsigned __int128 event_key; /* GCC/Clang; quiet under -Wpedantic */
#endif

static inline uint64_t time_bits(double t)
{
    uint64_t b; /* times are >= +0.0 (see engine_schedule): bits order like values */
    memcpy(&b, &t, sizeof b);
    return b;
}

static inline bool key_before(uint64_t ta, uint64_t sa, uint64_t tb, uint64_t sb)
{
#ifdef __SIZEOF_INT128__
    return ((event_key)ta << 64 | sa) < ((event_key)tb << 64 | sb);
#else
    return (ta < tb) | ((ta == tb) & (sa < sb));
#endif
}

static inline bool event_before(const struct event *a, const struct event *b)
{
    return key_before(time_bits(a->time), a->seq_kind, time_bits(b->time), b->seq_kind);
}

/* Sifts for the timer heap: as heap_sift_down/up, keeping pos[] current. */
static inline void timer_sift_down(struct event *h, uint32_t *pos, size_t n, size_t i,
                                   struct event ev)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n)
            c += event_before(&h[c + 1], &h[c]);
        if (!event_before(&h[c], &ev))
            break;
        h[i] = h[c];
        pos[h[i].arg] = (uint32_t)i;
        i = c;
    }
    h[i] = ev;
    pos[ev.arg] = (uint32_t)i;
}

static inline void timer_sift_up(struct event *h, uint32_t *pos, size_t i, struct event ev)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!event_before(&ev, &h[parent]))
            break;
        h[i] = h[parent];
        pos[h[i].arg] = (uint32_t)i;
        i = parent;
    }
    h[i] = ev;
    pos[ev.arg] = (uint32_t)i;
}

/* Puts `ev` at index i (a hole, or the place of a timer just removed) of a
 * timer heap of n and restores the order in whichever direction it moves. */
static inline void timer_place(struct event *h, uint32_t *pos, size_t n, size_t i, struct event ev)
{
    if (i > 0 && event_before(&ev, &h[(i - 1) / 2]))
        timer_sift_up(h, pos, i, ev);
    else
        timer_sift_down(h, pos, n, i, ev);
}

/* Places `ev` in the hole at index i and restores the heap below it. */
static inline void heap_sift_down(struct event *h, size_t n, size_t i, struct event ev)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n)
            c += event_before(&h[c + 1], &h[c]);
        if (!event_before(&h[c], &ev))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = ev;
}

/* Places `ev` in the hole at index i and restores the heap above it. */
static inline void heap_sift_up(struct event *h, size_t i, struct event ev)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!event_before(&ev, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = ev;
}

/* Fills a pending root hole with the last event (the classic pop). */
static void engine_fill_hole(struct engine *e)
{
    e->root_hole = false;
    e->n--;
    if (e->n > 0)
        heap_sift_down(e->heap, e->n, 0, e->heap[e->n]);
}

struct engine *engine_new(void)
{
    struct engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->heap = malloc(HEAP_MIN_CAPACITY * sizeof *e->heap);
    if (!e->heap) {
        free(e);
        return NULL;
    }
    e->capacity = HEAP_MIN_CAPACITY;
    e->timer_hole = NO_TIMER;
    return e;
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    free(e->heap);
    free(e->timers);
    free(e->pos);
    free(e->payload);
    free(e);
}

int engine_register(struct engine *e, engine_handler handler, void *ctx)
{
    if (e->nkinds >= ENGINE_MAX_KINDS)
        return -1;
    e->kinds[e->nkinds] = (struct handler_entry){handler, ctx};
    return e->nkinds++;
}

/* An earlier time (or NaN) would break the heap order and time's
 * monotonicity: clamp it to now. Adding +0.0 turns -0.0 into +0.0, whose
 * bit pattern event_before needs. */
static inline double clamp_time(const struct engine *e, double time)
{
    if (!(time >= e->now))
        time = e->now;
    return time + 0.0;
}

int engine_schedule(struct engine *e, double time, int kind, uint32_t arg, uint32_t gen)
{
    time = clamp_time(e, time);
    if ((unsigned)kind >= (unsigned)e->nkinds) /* an unregistered kind is refused */
        return -1;
    struct event ev = {time, e->seq++ << KIND_BITS | (uint64_t)kind, arg, gen};
    if (e->root_hole) {
        e->root_hole = false;
        heap_sift_down(e->heap, e->n, 0, ev);
        return 0;
    }
    if (e->n == e->capacity) {
        struct event *grown = realloc(e->heap, 2 * e->capacity * sizeof *grown);
        if (!grown)
            return -1;
        e->heap = grown;
        e->capacity *= 2;
    }
    heap_sift_up(e->heap, e->n++, ev);
    return 0;
}

double engine_now(const struct engine *e) { return e->now; }

size_t engine_pending(const struct engine *e)
{
    return e->n - (size_t)e->root_hole + e->timers_set - (e->timer_hole != NO_TIMER);
}

uint64_t engine_events(const struct engine *e) { return e->fired + e->cancelled; }

/* ---- timers ---- */

int64_t engine_timers_add(struct engine *e, uint32_t count)
{
    uint32_t first = e->ntimers;
    if (count > UINT32_MAX / 4 - first)
        return -1;
    uint32_t need = first + count;
    struct event *timers = realloc(e->timers, (need ? need : 1) * sizeof *timers);
    if (timers)
        e->timers = timers;
    uint32_t *pos = realloc(e->pos, (need ? need : 1) * sizeof *pos);
    if (pos)
        e->pos = pos;
    struct timer_payload *payload = realloc(e->payload, (need ? need : 1) * sizeof *payload);
    if (payload)
        e->payload = payload;
    if (!timers || !pos || !payload)
        return -1;
    for (uint32_t i = first; i < need; i++)
        pos[i] = NO_TIMER;
    e->ntimers = need;
    return first;
}

/* Removes the fired timer whose root was left as a hole: the last timer
 * fills it (the classic pop). */
static inline void engine_fill_timer_hole(struct engine *e)
{
    e->pos[e->timer_hole] = NO_TIMER;
    e->timer_hole = NO_TIMER;
    uint32_t n = --e->timers_set;
    if (n > 0)
        timer_sift_down(e->timers, e->pos, n, 0, e->timers[n]);
}

bool engine_timer_is_set(const struct engine *e, uint32_t id)
{
    return id < e->ntimers && id != e->timer_hole && e->pos[id] != NO_TIMER;
}

/* Takes set timer `id` out of the heap (no hole pending). */
static void timer_remove(struct engine *e, uint32_t id)
{
    uint32_t i = e->pos[id], n = --e->timers_set;
    e->pos[id] = NO_TIMER;
    if (i < n)
        timer_place(e->timers, e->pos, n, i, e->timers[n]);
}

int engine_timer_set(struct engine *e, uint32_t id, double time, int kind, uint32_t arg,
                     uint32_t gen)
{
    time = clamp_time(e, time);
    if ((unsigned)kind >= (unsigned)e->nkinds || id >= e->ntimers)
        return -1;
    struct event ev = {time, e->seq++ << KIND_BITS | (uint64_t)kind, id, 0};
    e->payload[id] = (struct timer_payload){arg, gen};
    if (e->timer_hole != NO_TIMER && (id == e->timer_hole || e->pos[id] == NO_TIMER)) {
        /* the hole takes it: the fired timer is gone, this one is new */
        e->pos[e->timer_hole] = NO_TIMER;
        e->timer_hole = NO_TIMER;
        timer_sift_down(e->timers, e->pos, e->timers_set, 0, ev);
        return 0;
    }
    if (e->timer_hole != NO_TIMER)
        engine_fill_timer_hole(e);
    if (e->pos[id] != NO_TIMER) { /* replaced: the old event counts as cancelled */
        e->cancelled++;
        timer_remove(e, id);
    }
    timer_sift_up(e->timers, e->pos, e->timers_set++, ev);
    return 0;
}

void engine_timer_cancel(struct engine *e, uint32_t id)
{
    if (!engine_timer_is_set(e, id))
        return;
    if (e->timer_hole != NO_TIMER)
        engine_fill_timer_hole(e);
    e->cancelled++;
    timer_remove(e, id);
}

/* Pops and fires the earliest event, from the heap or the timers
 * (engine_step's body, inlined into the engine_run loop). */
static inline int engine_fire_next(struct engine *e)
{
    if (e->root_hole)
        engine_fill_hole(e);
    if (e->timer_hole != NO_TIMER)
        engine_fill_timer_hole(e);
    if (e->timers_set > 0) {
        const struct event *top = &e->timers[0];
        if (e->n == 0 || event_before(top, &e->heap[0])) {
            uint32_t id = top->arg;
            e->timer_hole = id;
            e->now = top->time;
            e->fired++;
            const struct handler_entry *h = &e->kinds[top->seq_kind & (ENGINE_MAX_KINDS - 1)];
            h->fn(e, h->ctx, e->payload[id].arg, e->payload[id].gen);
            return 1;
        }
    }
    if (e->n == 0)
        return 0;
    struct event ev = e->heap[0];
    e->root_hole = true;
    e->now = ev.time;
    e->fired++;
    const struct handler_entry *h = &e->kinds[ev.seq_kind & (ENGINE_MAX_KINDS - 1)];
    h->fn(e, h->ctx, ev.arg, ev.gen);
    return 1;
}

int engine_step(struct engine *e) { return engine_fire_next(e); }

/* engine_stop() makes the current engine_run() return after the event being
 * fired; a later engine_run() carries on from there. */
void engine_run(struct engine *e)
{
    e->stopped = false;
    while (!e->stopped && engine_fire_next(e)) {
    }
    e->stopped = false;
}

void engine_stop(struct engine *e) { e->stopped = true; }
