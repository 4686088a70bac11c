/* decode_cache.h: decoding matrices D_F cached by straggler pattern.
 *
 * A linear code's decoder depends only on which workers returned (the set F),
 * so each D_F (rows x |F|, row-major) is built once by the scheme's builder
 * and then looked up by F's bitmask. The key is a bitset of ceil(N/64)
 * 64-bit words: for N <= 64 that is one uint64 (the common case); larger N
 * works the same with longer keys, there is no cap on N.
 * The number of patterns grows like C(N, S), so the cache holds at most
 * `max_entries` matrices; when it is full the next miss empties it (a simple
 * epoch flush: patterns seen again are rebuilt, results never change).
 * Not thread-safe: one cache per scheme instance. It does not know what
 * code it caches (berrut, spline, lagrange all use it).
 */
#ifndef STRAG_DECODE_CACHE_H
#define STRAG_DECODE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Writes D_F (rows x nf, row-major) for the returned workers returned[0..nf-1]
 * (strictly increasing). */
typedef int (*decode_build_fn)(void *ctx, const int *returned, int nf, double *D,
                               struct error *err);

struct decode_cache;

/* NULL when out of memory or workers < 1. max_entries 0 means 4096. */
struct decode_cache *decode_cache_new(int workers, int rows, size_t max_entries,
                                      decode_build_fn build, void *ctx);
void decode_cache_free(struct decode_cache *c);

/* *D = the cached or newly built D_F for returned[0..nf-1] (strictly
 * increasing worker numbers < workers). *D stays valid until the next call.
 * Returns the builder's status (or STRAG_EFAIL when out of memory). */
int decode_cache_get(struct decode_cache *c, const int *returned, int nf, const double **D,
                     struct error *err);

/* Lookups that found / had to build their matrix, since creation. */
uint64_t decode_cache_hits(const struct decode_cache *c);
uint64_t decode_cache_misses(const struct decode_cache *c);

#endif
