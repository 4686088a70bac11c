/* engine.h: the discrete-event core. It schedules and fires; what an event
 * means belongs to the handler the caller registered (Redis ae.c style).
 *
 * The future-event set is an array binary heap keyed by (time, seq); seq is a
 * monotone counter, so events at equal times fire in the order they were
 * scheduled and every run is deterministic. No allocation per event: events
 * are 24-byte values in the heap array, which grows by doubling.
 *
 * Cancellation of heap events is the caller's business: handlers receive the
 * (arg, gen) pair they were scheduled with; a caller that wants to cancel
 * bumps its own generation counter for `arg` and ignores stale events when
 * they fire.
 *
 * Timers are the cancellable alternative for events that are often
 * cancelled (a cluster's task completions): a fixed set of slots, each
 * holding at most one event, kept beside the heap (up to 64 timers in
 * arrays searched by a scan, more in a second heap; engine.c says why).
 * engine_timer_cancel removes the event at once, so no stale event is ever
 * popped. A timer event takes its seq from the same counter as the heap, so
 * ties between timers and heap events fire in schedule order too.
 */
#ifndef STRAG_ENGINE_H
#define STRAG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/timer_scan.h"

struct engine;

typedef void (*engine_handler)(struct engine *e, void *ctx, uint32_t arg, uint32_t gen);

struct engine *engine_new(void);
void engine_free(struct engine *e);

/* Registers a handler; returns its event kind (0, 1, ...), or -1 when the
 * table is full (ENGINE_MAX_KINDS). */
enum { ENGINE_MAX_KINDS = 32 };
int engine_register(struct engine *e, engine_handler handler, void *ctx);

/* Schedules event `kind` at absolute time `time` (>= engine_now(); an
 * earlier time or NaN is taken as now). Returns 0, or -1 when out of memory
 * or `kind` was never registered. */
int engine_schedule(struct engine *e, double time, int kind, uint32_t arg, uint32_t gen);

double engine_now(const struct engine *e);
size_t engine_pending(const struct engine *e); /* heap events plus set timers */
/* Events fired so far plus timers cancelled before they fired: what a lazy
 * engine, firing every cancelled event as a stale no-op, would have counted
 * once run to the end (the `events` metric keeps its meaning). */
uint64_t engine_events(const struct engine *e);

/* Adds `count` timer slots, all unset; returns the first one's id (ids
 * first .. first + count - 1), or -1 when out of memory. */
int64_t engine_timers_add(struct engine *e, uint32_t count);
/* Sets timer `id` to fire event `kind` at `time` (clamped like
 * engine_schedule); a timer already set is replaced (counted as cancelled).
 * Returns 0, or -1 for an unregistered kind or unknown id. */
int engine_timer_set(struct engine *e, uint32_t id, double time, int kind, uint32_t arg,
                     uint32_t gen);
/* Unsets timer `id`; nothing when it is not set. A timer is unset before its
 * handler runs, so the handler may set it again. */
void engine_timer_cancel(struct engine *e, uint32_t id);
bool engine_timer_is_set(const struct engine *e, uint32_t id);

/* The instruction set of the timer search (sim/timer_scan.h): an engine
 * starts with the widest this CPU has; engine_scan_isa_set pins another
 * (tests compare them). It changes the speed only, never which event fires.
 * Returns 0, or -1 when this CPU (or build) lacks `isa`. */
int engine_scan_isa_set(struct engine *e, enum timer_scan_isa isa);

/* Pops and fires the earliest event; returns 0 when there was none. */
int engine_step(struct engine *e);
/* Fires events until none is left or engine_stop() was called. */
void engine_run(struct engine *e);
void engine_stop(struct engine *e);

#endif
