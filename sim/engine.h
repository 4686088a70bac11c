/* engine.h: the discrete-event core. It schedules and fires; what an event
 * means belongs to the handler the caller registered (Redis ae.c style).
 *
 * The future-event set is an array binary heap keyed by (time, seq); seq is a
 * monotone counter, so events at equal times fire in the order they were
 * scheduled and every run is deterministic. No allocation per event: events
 * are 24-byte values in the heap array, which grows by doubling.
 *
 * Cancellation is the caller's business: handlers receive the (arg, gen)
 * pair they were scheduled with; a caller that wants to cancel bumps its own
 * generation counter for `arg` and ignores stale events when they fire.
 */
#ifndef STRAG_ENGINE_H
#define STRAG_ENGINE_H

#include <stddef.h>
#include <stdint.h>

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
size_t engine_pending(const struct engine *e);
uint64_t engine_events(const struct engine *e); /* events fired so far */

/* Pops and fires the earliest event; returns 0 when there was none. */
int engine_step(struct engine *e);
/* Fires events until none is left or engine_stop() was called. */
void engine_run(struct engine *e);
void engine_stop(struct engine *e);

#endif
