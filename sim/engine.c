/* engine.c: the future-event set, the clock and the handler table.
 *
 * The event set is an implicit binary min-heap of 24-byte events keyed by
 * (time, seq) in one array that grows by doubling; nothing is allocated per
 * event. It does not know what events mean (handlers do). Heap events are
 * never cancelled (callers use generation counters, see engine.h); timers,
 * below, are: a cancelled timer is gone at once.
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
 * Timers (engine.h), up to SCAN_TIMERS_MAX (64) of them, live in two
 * arrays indexed by timer id, a time (+inf when unset) and a seq_kind. Set
 * and cancel are stores; the earliest set timer is remembered and compared
 * with each timer set after it. When it fires, the next earliest is found
 * at once, before its handler runs, by a scan over the other timers
 * (sim/timer_scan.h: the minimum of the times without a branch, its
 * holders as a bit mask, equal times settled by seq); the handler's new
 * timers are then compared with that one. When the earliest is cancelled
 * or moved later it is looked for again only when next needed (a job's
 * cancellations come several at a time).
 *
 * Why the scan comes before the handler: the run waits on a chain of
 * dependent loads and compares from one event to the next, not on the
 * number of instructions. A scan after the handler reads the timers the
 * handler just set, so each event waited for its own handler's stores and
 * then the scan; a scan before it reads nothing the handler writes and
 * runs alongside it, leaving only a compare per new timer on the chain.
 * Measured on kofn-queue (`stragsim run configs/bench-kofn-queue.ini`, 12
 * timers, 10^6 jobs, 30 alternating pairs of runs, CPU time, 2026-12-03,
 * before over after with the 95% interval of the geometric mean):
 * scanning when the earliest fires instead of after its handler, 1.163
 * (1.147 to 1.179), for 2% more instructions (callgrind, 10^5 jobs: 556.5
 * M against 566.9 M; a scan at every fire, 9 per job, against 8.5, and
 * the lanes it skips). Measured and dropped: scanning again at once when
 * the earliest is cancelled (0.981, 0.971 to 0.992: three cancels in a
 * row each scanned); keeping a copy of the earliest's key beside its
 * index, so a new timer compares with it without two dependent loads
 * (0.980, 0.972 to 0.988: more stores). Before, with the scan after the
 * handler, the wider AVX2 scan took 24 M instructions off for 10^5 jobs
 * and no measurable CPU time (1.015, 0.998 to 1.032): what pointed at the
 * chain.
 *
 * History of the scan, kept for the next person: it replaced the heap
 * below for the cluster's timers (bench_kofn, 10^6 jobs, seven alternating
 * runs, 2026-12-03: at least 0.74 CPU-s with the heap, 0.62 with the scan,
 * median ratio 1.16); its loop-free bodies per size took 622.6 M
 * instructions for 10^5 jobs to 591.1 M (1.036, 1.004 to 1.068). Whether
 * a newly set timer becomes the earliest is a coin flip to the branch
 * predictor (about 3 mispredicted branches per kofn-queue job under
 * valgrind's branch simulation), so scan_set decides it by a select, and
 * two sentinel entries after the timers stand for "find it again" and
 * "none set" so no other case needs a branch (1.017, 0.979 to 1.057: no
 * measurable gain on its own, kept for the mispredictions it removes).
 *
 * More timers live in a second binary heap beside the events, keyed the
 * same way, that knows where each timer sits (pos[id]), so cancelling one
 * removes it at once (the last timer fills its place and sifts). Each step
 * fires whichever root comes first by (time, seq). Like the event root, a
 * fired timer's root is left as a hole while its handler runs: the first
 * timer the handler sets (a worker starting its next task) drops into it
 * with one sift-down. An engine whose timers grow past SCAN_TIMERS_MAX
 * moves the set ones into the heap, keys unchanged.
 *
 * Measured and dropped for the timers: a tournament tree over the slots
 * (log2(P) matches on every set and cancel: kofn-queue about 10% more CPU
 * time than the lazy single heap); a heap whose sifts pick the way by
 * masks instead of branches (no gain: more instructions offset the
 * mispredictions saved, and sift-downs got slower); an earlier scan that
 * compared (time, seq) pairs one by one (0.77 CPU-s before, 0.80 after).
 * With callgrind on the 10^5-job run above (591.1 M instructions): also
 * remembering the second earliest timer (found by the same scan with
 * running second minima and a second mask, taking the first's place when
 * it fires or is cancelled): scans halved (852,865 to 425,279) but each
 * cost about 122 instructions, and every set compared with the second
 * too: 611.9 M. Timed later, with the scan at the fire (a fire then takes
 * the second as the next earliest and scans only for a new second, off
 * the chain): 0.974 (0.965 to 0.982), slower. The scan is called through
 * a pointer (the function for this CPU and size), so never inlined: where
 * LTO inlined it into a caller's own event loop (bench_kofn's main), that
 * loop took 58 M instructions more and 35% more CPU time.
 */
#include "sim/engine.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NO_TIMER UINT32_MAX

enum {
    HEAP_MIN_CAPACITY = 64,
    SCAN_TIMERS_MAX = 64, /* up to this many timers: arrays and a scan (one bit each in a mask) */
    KIND_BITS = 5, /* ENGINE_MAX_KINDS = 32 kinds fit below the seq */
    /* scan mode's two sentinel entries, after the timers: e->tmin names one
     * when no earliest timer is known. TMIN_UNKNOWN's key is the least
     * possible, (+0.0, 0): some timers are set but the earliest must be
     * found again. TMIN_NONE's is an unset entry's, (+inf, UINT64_MAX),
     * after every timer: none is set. */
    TMIN_UNKNOWN = SCAN_TIMERS_MAX,
    TMIN_NONE = SCAN_TIMERS_MAX + 1,
    SCAN_ENTRIES = SCAN_TIMERS_MAX + 2,
    SCAN_NO_SKIP = SCAN_TIMERS_MAX, /* past every timer: the scan skips none */
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
    struct timer_payload *payload; /* [ntimers] */
    uint32_t ntimers, timers_set;
    bool scan;           /* ntimers <= SCAN_TIMERS_MAX: timers in arrays, found by a scan */
    /* scan mode: key of timer id, padded to a multiple of 4 with unset entries */
    double *ttime;       /* +inf when unset */
    uint64_t *tseq;      /* seq_kind, UINT64_MAX when unset */
    uint32_t tmin;       /* the earliest set timer, or TMIN_UNKNOWN (find it again), or TMIN_NONE */
    enum timer_scan_isa isa;
    timer_scan_fn scan_fn; /* timer_scan_choose(padded ntimers, isa) */
    /* heap mode */
    struct event *timers; /* heap of set timers [0 .. ntimers_set); .arg is the timer id */
    uint32_t *pos;       /* [ntimers]: index of timer id in `timers`, NO_TIMER when unset */
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
    e->tmin = TMIN_NONE;
    e->scan = true;
    e->isa = timer_scan_isa_best();
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
    free(e->ttime);
    free(e->tseq);
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

/* ---- timers, scan mode: per timer a time and a seq_kind in arrays; the
 * earliest is found by a scan (sim/timer_scan.h) when the one known is gone ---- */

static inline size_t scan_padded(uint32_t ntimers) { return ((size_t)ntimers + 3) / 4 * 4; }

/* The earliest set timer but `skip` (SCAN_NO_SKIP: any); one is set. */
static inline uint32_t scan_earliest(const struct engine *e, uint32_t skip)
{
    return e->scan_fn(e->ttime, e->tseq, (uint32_t)scan_padded(e->ntimers), skip);
}

static inline bool scan_before(const struct engine *e, uint32_t a, uint32_t b)
{
    return key_before(time_bits(e->ttime[a]), e->tseq[a], time_bits(e->ttime[b]), e->tseq[b]);
}

/* Unsets timer id; the caller settles e->tmin. */
static inline void scan_unset(struct engine *e, uint32_t id)
{
    e->ttime[id] = (double)INFINITY;
    e->tseq[id] = UINT64_MAX;
    e->timers_set--;
}

static void scan_set(struct engine *e, uint32_t id, double time, uint64_t seq_kind)
{
    if (__builtin_expect(e->tseq[id] != UINT64_MAX, 0)) /* replaced: counts as cancelled */
        e->cancelled++;
    else
        e->timers_set++;
    e->ttime[id] = time;
    e->tseq[id] = seq_kind;
    if (__builtin_expect(e->tmin == id, 0)) {
        e->tmin = TMIN_UNKNOWN; /* moved later: maybe no longer the earliest */
        return;
    }
    /* The sentinels answer the cases with no earliest timer known: nothing
     * is before TMIN_UNKNOWN, everything before TMIN_NONE. Whether a new
     * timer comes first is a coin flip to the branch predictor, so it is a
     * select (the empty asm keeps GCC from turning it back into a branch). */
    uint32_t earlier = 0u - (uint32_t)scan_before(e, id, e->tmin);
    __asm__("" : "+r"(earlier));
    e->tmin = (id & earlier) | (e->tmin & ~earlier);
}

/* ---- timers, heap mode ---- */

/* Moves the set timers from the arrays into the heap (timers added past
 * SCAN_TIMERS_MAX); their keys, so their order, stay. */
static void timers_to_heap(struct engine *e, uint32_t old_count)
{
    e->timers_set = 0;
    for (uint32_t id = 0; id < old_count; id++) {
        if (e->tseq[id] != UINT64_MAX) {
            struct event ev = {e->ttime[id], e->tseq[id], id, 0};
            timer_sift_up(e->timers, e->pos, e->timers_set++, ev);
        }
    }
    free(e->ttime);
    free(e->tseq);
    e->ttime = NULL;
    e->tseq = NULL;
    e->tmin = TMIN_NONE;
    e->scan = false;
}

int64_t engine_timers_add(struct engine *e, uint32_t count)
{
    uint32_t first = e->ntimers;
    if (count > UINT32_MAX / 4 - first)
        return -1;
    uint32_t need = first + count;
    struct timer_payload *payload = realloc(e->payload, (need ? need : 1) * sizeof *payload);
    if (!payload)
        return -1;
    e->payload = payload;
    if (e->scan && need <= SCAN_TIMERS_MAX) {
        if (!e->ttime) { /* the arrays at their largest, every entry unset, and the sentinels */
            double *ttime = malloc(SCAN_ENTRIES * sizeof *ttime);
            uint64_t *tseq = malloc(SCAN_ENTRIES * sizeof *tseq);
            if (!ttime || !tseq) { /* both or neither: a retry must not find one of them */
                free(ttime);
                free(tseq);
                return -1;
            }
            for (size_t i = 0; i < SCAN_ENTRIES; i++) {
                ttime[i] = (double)INFINITY;
                tseq[i] = UINT64_MAX;
            }
            ttime[TMIN_UNKNOWN] = 0.0; /* key (+0.0, 0): no timer comes before it */
            tseq[TMIN_UNKNOWN] = 0;
            e->ttime = ttime;
            e->tseq = tseq;
        }
        e->ntimers = need;
        e->scan_fn = timer_scan_choose((uint32_t)scan_padded(need), e->isa);
        return first;
    }
    struct event *timers = realloc(e->timers, need * sizeof *timers);
    if (timers)
        e->timers = timers;
    uint32_t *pos = realloc(e->pos, need * sizeof *pos);
    if (pos)
        e->pos = pos;
    if (!timers || !pos)
        return -1;
    for (uint32_t i = e->scan ? 0 : first; i < need; i++) /* all of them when entering */
        pos[i] = NO_TIMER;
    if (e->scan)
        timers_to_heap(e, first);
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
    if (e->scan)
        return id < e->ntimers && e->tseq[id] != UINT64_MAX;
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
    uint64_t seq_kind = e->seq++ << KIND_BITS | (uint64_t)kind;
    e->payload[id] = (struct timer_payload){arg, gen};
    if (e->scan) {
        scan_set(e, id, time, seq_kind);
        return 0;
    }
    struct event ev = {time, seq_kind, id, 0};
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
    if (e->scan) {
        e->cancelled++;
        scan_unset(e, id);
        if (id == e->tmin) /* found again when needed: more cancels may follow */
            e->tmin = TMIN_UNKNOWN;
        if (e->timers_set == 0)
            e->tmin = TMIN_NONE;
        return;
    }
    if (e->timer_hole != NO_TIMER)
        engine_fill_timer_hole(e);
    e->cancelled++;
    timer_remove(e, id);
}

int engine_scan_isa_set(struct engine *e, enum timer_scan_isa isa)
{
    if (!timer_scan_isa_supported(isa))
        return -1;
    e->isa = isa;
    if (e->scan && e->ntimers > 0)
        e->scan_fn = timer_scan_choose((uint32_t)scan_padded(e->ntimers), isa);
    return 0;
}

/* Pops and fires the earliest event, from the heap or the timers
 * (engine_step's body, inlined into the engine_run loop). */
static inline int engine_fire_next(struct engine *e)
{
    if (e->root_hole)
        engine_fill_hole(e);
    if (e->scan && e->timers_set > 0) {
        if (e->tmin == TMIN_UNKNOWN)
            e->tmin = scan_earliest(e, SCAN_NO_SKIP);
        uint32_t id = e->tmin;
        if (e->n == 0 || key_before(time_bits(e->ttime[id]), e->tseq[id],
                                    time_bits(e->heap[0].time), e->heap[0].seq_kind)) {
            e->now = e->ttime[id];
            e->fired++;
            const struct handler_entry *h = &e->kinds[e->tseq[id] & (ENGINE_MAX_KINDS - 1)];
            /* The next earliest, found now over the other timers rather than
             * after the handler: the scan then runs alongside the handler,
             * whose new timers scan_set compares with it, instead of waiting
             * for them (header comment). Then id is unset, before its
             * handler runs, which may set it again. */
            e->tmin = e->timers_set > 1 ? scan_earliest(e, id) : TMIN_NONE;
            scan_unset(e, id);
            h->fn(e, h->ctx, e->payload[id].arg, e->payload[id].gen);
            return 1;
        }
    }
    if (e->timer_hole != NO_TIMER)
        engine_fill_timer_hole(e);
    if (!e->scan && e->timers_set > 0) {
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
