/* clock.h: wall time for progress lines and timings (never for simulated
 * time, which is the engine's). */
#ifndef STRAG_CLOCK_H
#define STRAG_CLOCK_H

/* Seconds on a monotonic clock (CLOCK_MONOTONIC): only differences mean
 * anything. */
double now_seconds(void);

#endif
