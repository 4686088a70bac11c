/* rng.h: deterministic random streams, one per purpose.
 *
 * Every stream is seeded from (experiment seed, point key, purpose, index),
 * never from the order points run in, so a sweep point gives the same numbers
 * whether it ran first, last or on another MPI rank. The generator is
 * xoshiro256** (fast, 2^256 period); seeding mixes the four inputs through
 * splitmix64. Header-inline because the service-time draw is the simulator's
 * hottest path. No GSL here (GSL's randist and OpenBLAS's cblas clash).
 */
#ifndef STRAG_RNG_H
#define STRAG_RNG_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* What a stream is for; with `index` (a worker number, say) it names the stream. */
enum rng_purpose {
    RNG_ARRIVALS = 1,   /* job arrival times */
    RNG_SERVICE = 2,    /* task durations, index = worker */
    RNG_STATE = 3,      /* straggler-state chains (markov), index = worker */
    RNG_STRAGGLERS = 4, /* straggler choice ("S chosen uniformly at random") */
    RNG_DATA = 5,       /* data sampling: queries, mini-batches, shuffles */
    RNG_PLACEMENT = 6,  /* which worker a task goes to */
    RNG_INIT = 7,       /* model initialisation */
    RNG_SCHEME = 8,     /* a scheme's own randomness (random codes, ...) */
    RNG_DROPOUT = 9,    /* dropout masks of a training run */
    RNG_TUNER = 10,     /* a hyperparameter tuner (random search, exploration) */
};

struct rng {
    uint64_t s[4];
};

/* 64-bit hash of a string (FNV-1a then splitmix64 finaliser): point keys. */
uint64_t rng_hash_string(const char *s);

void rng_seed(struct rng *r, uint64_t experiment_seed, uint64_t point_key,
              uint32_t purpose, uint32_t index);

static inline uint64_t rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

/* The extremes of the samplers below, for bounds on what a draw can be
 * (traces/dist.c): rng_uniform lies in [RNG_UNIFORM_MIN, 1 - RNG_UNIFORM_MIN];
 * rng_exp1 is at most RNG_EXP1_MAX (the ziggurat's tail start 7.69712 minus
 * log RNG_UNIFORM_MIN = 45.1272); |rng_normal| is at most RNG_NORMAL_MAX
 * (sqrt(-2 log s) for the smallest s = u^2 + v^2 > 0 the polar method can
 * form, 2^-105: 12.065). Rounded up. */
#define RNG_UNIFORM_MIN 0x1.0p-54
#define RNG_EXP1_MAX 45.13
#define RNG_NORMAL_MAX 12.07

/* Uniform on the open interval (0, 1): safe for log(). */
static inline double rng_uniform(struct rng *r)
{
    return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* Standard exponential by the ziggurat method (Marsaglia and Tsang 2000),
 * 256 layers over 53-bit integers: ~98.9% of draws cost one rng_next, a
 * compare and a multiply, no log(). The tables are built once at start-up. */
struct rng_zig_exp {
    uint64_t k[256]; /* acceptance thresholds, scaled by 2^53 */
    double w[256];   /* layer widths / 2^53 */
    double f[256];   /* exp(-x_i) */
};
extern struct rng_zig_exp rng_zig_exp_table;
double rng_exp1_tail(struct rng *r, uint64_t bits); /* the rare slow path */

static inline double rng_exp1(struct rng *r)
{
    uint64_t bits = rng_next(r);
    unsigned layer = (unsigned)(bits & 255);
    uint64_t j = bits >> 11;
    if (j < rng_zig_exp_table.k[layer])
        return (double)j * rng_zig_exp_table.w[layer];
    return rng_exp1_tail(r, bits);
}

/* Exponential with the given rate (mean 1/rate). */
static inline double rng_exp(struct rng *r, double rate)
{
    return rng_exp1(r) / rate;
}

/* Standard normal (polar Box-Muller; the spare value is discarded so a
 * stream's state is a pure function of how many draws were made). */
double rng_normal(struct rng *r);

/* Uniform integer in [0, n), unbiased (Lemire). n > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);

/* Fisher-Yates shuffle of an int array. */
void rng_shuffle_int(struct rng *r, int *a, size_t n);

#endif
