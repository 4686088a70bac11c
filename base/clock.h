/* clock.h: wall and CPU time for progress lines and timings (never for
 * simulated time, which is the engine's). */
#ifndef STRAG_CLOCK_H
#define STRAG_CLOCK_H

/* Seconds on a monotonic clock (CLOCK_MONOTONIC): only differences mean
 * anything. */
double now_seconds(void);

/* CPU seconds (user + system) of the whole process, all its threads
 * (CLOCK_PROCESS_CPUTIME_ID): only differences mean anything. On a machine
 * shared with other processes they move far less than wall time. */
double process_cpu_seconds(void);

#endif
