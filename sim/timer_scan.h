/* timer_scan.h: the earliest of a small set of timers by (time, seq), the
 * search behind the engine's scan mode (engine.c). Timers are two arrays,
 * times and seqs, padded to a multiple of 4 with unset entries (+inf,
 * UINT64_MAX); times are +0.0 or more, never NaN. One function per
 * instruction set and, up to 16 timers, per padded size, so the engine
 * calls the one that fits through a pointer. Which function runs changes
 * the speed only, never the answer.
 */
#ifndef STRAG_TIMER_SCAN_H
#define STRAG_TIMER_SCAN_H

#include <stdbool.h>
#include <stdint.h>

/* The instruction sets a scan can use. */
enum timer_scan_isa { TIMER_SCAN_PORTABLE, TIMER_SCAN_SSE2, TIMER_SCAN_AVX2 };

/* The index of the least (time[i], seq[i]) among i < n, i != skip (skip
 * past n: none skipped); n is a multiple of 4, at most 64. When the least
 * time is +inf every entry but skip is, and seq (UINT64_MAX when unset)
 * picks a set one. At least one entry but skip must be set. */
typedef uint32_t (*timer_scan_fn)(const double *time, const uint64_t *seq, uint32_t n,
                                  uint32_t skip);

bool timer_scan_isa_supported(enum timer_scan_isa isa);
/* The widest instruction set this CPU has. */
enum timer_scan_isa timer_scan_isa_best(void);
/* The scan for n timers (padded) with `isa`, which must be supported. */
timer_scan_fn timer_scan_choose(uint32_t n, enum timer_scan_isa isa);

#endif
