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
 * Timers (engine.h) live in a tournament tree beside the heap: nodes
 * P .. 2P-1 are the timer slots (padded to a power of two P with unset
 * ones), internal node i holds the key and timer id of the earlier of its
 * two children, node 1 the earliest of all. Keys are copied up rather than
 * referenced by index, so a match loads its two children side by side
 * instead of chasing ids, and the winner is picked by index arithmetic, not
 * a branch. An unset slot has time bits all ones, above every real time
 * (times are clamped, never NaN), so it never wins against a set one.
 * Setting or cancelling a slot replays the log2(P) matches above it. Each
 * step fires whichever of the heap root and the tree winner comes first by
 * (time, seq). Like the root hole, a fired timer stays in the tree while its
 * handler runs: a handler that sets the same timer again (a worker starting
 * its next task) replays the matches once, not twice.
 */
#include "sim/engine.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NO_TIMER UINT32_MAX
#define UNSET_TIME_BITS UINT64_MAX

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

/* A tournament node: (time bits, seq_kind) of the earliest timer below it. */
struct timer_key {
    uint64_t time_bits; /* UNSET_TIME_BITS when unset */
    uint64_t seq_kind;
};

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
    struct timer_key *tree; /* [2 * tree_size]; slot id at tree_size + id; ids >= ntimers stay unset */
    uint32_t *winner;    /* [2 * tree_size]: the timer id whose key tree[i] holds */
    struct timer_payload *payload; /* [tree_size] */
    uint32_t ntimers, tree_size, timers_set;
    uint32_t timer_hole; /* the fired timer whose handler runs, or NO_TIMER */
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

/* Plays the match at internal node `node`. */
static inline void tree_match(struct timer_key *tree, uint32_t *winner, uint32_t node)
{
    const struct timer_key *l = &tree[2 * node], *r = l + 1;
    uint32_t c = 2 * node + key_before(r->time_bits, r->seq_kind, l->time_bits, l->seq_kind);
    tree[node] = tree[c];
    winner[node] = winner[c];
}

/* Writes slot `id`'s key and replays the matches on its path to the root.
 * The key climbing the path stays in registers and meets each sibling
 * (which this walk never writes), so the loads do not wait on the stores of
 * the level below; the selects are masks, not branches. */
static inline void tree_set(struct engine *e, uint32_t id, uint64_t time_bits, uint64_t seq_kind)
{
    struct timer_key *tree = e->tree;
    uint32_t *winner = e->winner;
    uint32_t node = e->tree_size + id, w = id;
    tree[node] = (struct timer_key){time_bits, seq_kind};
    for (; node > 1; node >>= 1) {
        const struct timer_key *sib = &tree[node ^ 1];
        uint64_t st = sib->time_bits, ss = sib->seq_kind;
        uint32_t sw = winner[node ^ 1];
        uint64_t mask = -(uint64_t)key_before(st, ss, time_bits, seq_kind);
        time_bits = (st & mask) | (time_bits & ~mask);
        seq_kind = (ss & mask) | (seq_kind & ~mask);
        w = (sw & (uint32_t)mask) | (w & ~(uint32_t)mask);
        tree[node >> 1] = (struct timer_key){time_bits, seq_kind};
        winner[node >> 1] = w;
    }
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
    free(e->tree);
    free(e->winner);
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
    uint32_t need = first + count, size = e->tree_size ? e->tree_size : 1;
    while (size < need)
        size *= 2;
    if (size != e->tree_size) {
        /* new arrays: the slots move to new node numbers, every match is replayed */
        struct timer_key *tree = malloc(2 * (size_t)size * sizeof *tree);
        uint32_t *winner = malloc(2 * (size_t)size * sizeof *winner);
        struct timer_payload *payload = realloc(e->payload, size * sizeof *payload);
        if (payload)
            e->payload = payload;
        if (!tree || !winner || !payload) {
            free(tree);
            free(winner);
            return -1;
        }
        for (uint32_t i = 0; i < size; i++) {
            tree[size + i] = i < e->tree_size ? e->tree[e->tree_size + i]
                                              : (struct timer_key){UNSET_TIME_BITS, UINT64_MAX};
            winner[size + i] = i;
        }
        for (uint32_t node = size - 1; node > 0; node--)
            tree_match(tree, winner, node);
        free(e->tree);
        free(e->winner);
        e->tree = tree;
        e->winner = winner;
        e->tree_size = size;
    }
    e->ntimers = need;
    return first;
}

/* Unsets the fired timer left in the tree while its handler ran. */
static inline void engine_fill_timer_hole(struct engine *e)
{
    uint32_t id = e->timer_hole;
    e->timer_hole = NO_TIMER;
    e->timers_set--;
    tree_set(e, id, UNSET_TIME_BITS, UINT64_MAX);
}

bool engine_timer_is_set(const struct engine *e, uint32_t id)
{
    return id < e->ntimers && id != e->timer_hole &&
           e->tree[e->tree_size + id].time_bits != UNSET_TIME_BITS;
}

int engine_timer_set(struct engine *e, uint32_t id, double time, int kind, uint32_t arg,
                     uint32_t gen)
{
    time = clamp_time(e, time);
    if ((unsigned)kind >= (unsigned)e->nkinds || id >= e->ntimers)
        return -1;
    if (id == e->timer_hole)
        e->timer_hole = NO_TIMER; /* the fired timer is reused: still counted as set */
    else if (e->tree[e->tree_size + id].time_bits != UNSET_TIME_BITS)
        e->cancelled++;
    else
        e->timers_set++;
    e->payload[id] = (struct timer_payload){arg, gen};
    tree_set(e, id, time_bits(time), e->seq++ << KIND_BITS | (uint64_t)kind);
    return 0;
}

void engine_timer_cancel(struct engine *e, uint32_t id)
{
    if (!engine_timer_is_set(e, id))
        return;
    e->cancelled++;
    e->timers_set--;
    tree_set(e, id, UNSET_TIME_BITS, UINT64_MAX);
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
        const struct timer_key *top = &e->tree[1];
        if (e->n == 0 || key_before(top->time_bits, top->seq_kind, time_bits(e->heap[0].time),
                                    e->heap[0].seq_kind)) {
            uint32_t id = e->winner[1];
            e->timer_hole = id;
            memcpy(&e->now, &top->time_bits, sizeof e->now);
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
