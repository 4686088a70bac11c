/* gradcode.h: the linear algebra of gradient coding (Tandon, Lei, Dimakis,
 * Karampatziakis, ICML'17) and of its approximate variants: the encoding
 * matrix B, the decoding vector a_F for a set F of workers that reported,
 * and the decoding residual. Double precision throughout.
 *
 * Data is split into n partitions, one per worker (k = n). The full gradient
 * is g = sum_j g_j over the partition gradients g_j. Worker i holds the
 * partitions in the support of row i of B and sends f_i = sum_j B_ij g_j.
 * For the workers F that reported, the master picks a (nonzero only on F)
 * and uses sum_{i in F} a_i f_i = (a^T B) g; the code is exact on F when
 * a^T B = 1^T, and the residual ||a^T B - 1^T||_2 measures how far it is.
 *
 * Codes (the `kind`):
 *   naive   B = I, wait for all n.
 *   ignore  B = I, wait for the first n - s, rescaled by n / (n - s).
 *   frc     fractional repetition, (s+1) | n: n/(s+1) groups of s+1 workers,
 *           every worker of group t holds block t (s+1 partitions) and sends
 *           their plain sum: B = I_{n/(s+1)} (x) 1_{(s+1)x(s+1)}. Exact as soon
 *           as every group has reported once (possibly before n - s results).
 *   crc     cyclic repetition, the random-H construction: H (s x n) has
 *           i.i.d. N(0,1) entries in its first n-1 columns and a last column
 *           making H 1 = 0; row i of B has support {i, ..., i+s} mod n,
 *           B_ii = 1 and the other s entries solve H[:, S_i \ i] x = -H[:, i],
 *           so every row lies in null(H) (dimension n - s, containing 1) and
 *           any n - s rows span it (with probability 1): exact at n - s results.
 *   approx  graph-based approximate code: B = Adj(G) / d for a random
 *           d-regular bipartite graph G between workers and partitions (each
 *           worker holds d partitions, each partition is held by d workers),
 *           drawn as d disjoint random permutation matrices. Waits for n - s.
 *
 * Decoders (how a_F is chosen):
 *   optimal   least squares, min ||a^T B_F - 1||_2 (minimum-norm solution
 *             through an SVD, so rank-deficient patterns are fine);
 *   rescaled  the least-squares a, scaled so that a^T B 1 = n (the estimate
 *             carries the weight of n partitions: unbiased when the missing
 *             partitions are like the others; ignore-s's n / (n - s));
 *   equal     every reported worker gets the same weight n^2 / (|F| sum(B)),
 *             the "linear-time" decoder: with every column of B summing to
 *             c this is n / (|F| c), exact at |F| = n and unbiased when F
 *             is a uniformly random set (n / (n - s) for B = I).
 * For exact patterns optimal and rescaled agree. Decoding vectors depend
 * only on F and are cached by F's bitmask (decode_cache).
 *
 * This file knows nothing about time, the cluster, models or config keys.
 */
#ifndef STRAG_GRADCODE_H
#define STRAG_GRADCODE_H

#include <stdbool.h>

#include "base/error.h"
#include "base/rng.h"

enum gradcode_kind {
    GRADCODE_NAIVE,
    GRADCODE_IGNORE,
    GRADCODE_FRC,
    GRADCODE_CRC,
    GRADCODE_APPROX,
};

enum gradcode_decoder {
    GRADCODE_OPTIMAL,
    GRADCODE_RESCALED,
    GRADCODE_EQUAL,
};

struct decode_cache;

struct gradcode {
    enum gradcode_kind kind;
    enum gradcode_decoder decoder;
    int n;          /* workers = partitions */
    int s;          /* stragglers: the code's design (frc, crc) or the wait (ignore, approx) */
    int load;       /* partitions per worker: the size of every row's support */
    double *B;      /* (n, n) row-major: row i = worker i's coefficients on the partitions */
    int *support;   /* (n, load): the partitions worker i holds (frc, crc: in cyclic order) */
    double total;   /* sum of all entries of B */
    struct decode_cache *cache;
};

/* Parses "naive|ignore|frc|crc|approx-gc" and "optimal|rescaled|equal";
 * 0, or -1 for anything else. */
int gradcode_kind_parse(const char *name, enum gradcode_kind *kind);
int gradcode_decoder_parse(const char *name, enum gradcode_decoder *dec);

/* Builds the code for n workers and s stragglers. `degree` is the number of
 * partitions per worker of the approximate code (ignored by the others). r
 * draws crc's H and approx's graph (may be NULL for the deterministic codes).
 * Errors (STRAG_EINPUT, no location: the caller adds the key's) name the
 * violated condition, e.g. "frc needs s+1 to divide n (n = 10, s = 3)". */
int gradcode_new(struct gradcode **out, enum gradcode_kind kind, enum gradcode_decoder dec,
                 int n, int s, int degree, struct rng *r, struct error *err);
void gradcode_free(struct gradcode *g);

/* Results the master waits for before it decodes (the recovery rule by
 * count): n for naive, n - s otherwise. frc may finish earlier, as soon as
 * every group has reported once (gradcode_ready). */
int gradcode_wait(const struct gradcode *g);

/* Groups of workers sending the same thing: frc's n/(s+1) groups (worker i
 * is in group i/(s+1)); every other code has n groups of one. */
int gradcode_groups(const struct gradcode *g);
int gradcode_group(const struct gradcode *g, int worker);

/* True when the master can decode: nf results, of which `groups_covered`
 * distinct groups; frc when every group is covered, every code at
 * gradcode_wait results. */
bool gradcode_ready(const struct gradcode *g, int nf, int groups_covered);

/* The decoding vector for the reported workers F = reported[0..nf-1]
 * (strictly increasing): *a points to nf coefficients, a[l] for worker
 * reported[l], valid until the next call. Cached by pattern. nf = 0 gives
 * an empty vector. */
int gradcode_decode(struct gradcode *g, const int *reported, int nf, const double **a,
                    struct error *err);

/* ||a^T B_F - 1^T||_2 for the reported workers and their coefficients. */
double gradcode_residual(const struct gradcode *g, const int *reported, int nf,
                         const double *a);

/* Decoding-vector lookups served from the cache / built, since creation. */
unsigned long gradcode_cache_hits(const struct gradcode *g);
unsigned long gradcode_cache_misses(const struct gradcode *g);

#endif
