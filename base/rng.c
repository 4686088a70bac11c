/* rng.c: seeding and the non-inline draws of rng.h. */
#include "base/rng.h"

#include <stddef.h>

/* ---- ziggurat tables for rng_exp1 (Marsaglia and Tsang 2000) ---- */

struct rng_zig_exp rng_zig_exp_table;

enum { ZIG_LAYERS = 256 };
static const double zig_r = 7.69711747013104972;    /* start of the tail */
static const double zig_v = 3.949659822581572e-3;   /* area of each layer */
static const double zig_scale = 9007199254740992.0; /* 2^53 */

__attribute__((constructor)) static void rng_zig_exp_init(void)
{
    struct rng_zig_exp *t = &rng_zig_exp_table;
    double de = zig_r, te = zig_r;
    double q = zig_v / exp(-de);
    t->k[0] = (uint64_t)((de / q) * zig_scale);
    t->k[1] = 0;
    t->w[0] = q / zig_scale;
    t->w[ZIG_LAYERS - 1] = de / zig_scale;
    t->f[0] = 1.0;
    t->f[ZIG_LAYERS - 1] = exp(-de);
    for (int i = ZIG_LAYERS - 2; i >= 1; i--) {
        de = -log(zig_v / de + exp(-de));
        t->k[i + 1] = (uint64_t)((de / te) * zig_scale);
        te = de;
        t->f[i] = exp(-de);
        t->w[i] = de / zig_scale;
    }
}

double rng_exp1_tail(struct rng *r, uint64_t bits)
{
    const struct rng_zig_exp *t = &rng_zig_exp_table;
    for (;;) {
        unsigned layer = (unsigned)(bits & 255);
        uint64_t j = bits >> 11;
        if (j < t->k[layer])
            return (double)j * t->w[layer];
        if (layer == 0) /* the tail beyond zig_r is again exponential */
            return zig_r - log(rng_uniform(r));
        double x = (double)j * t->w[layer];
        if (t->f[layer] + rng_uniform(r) * (t->f[layer - 1] - t->f[layer]) < exp(-x))
            return x;
        bits = rng_next(r);
    }
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t rng_hash_string(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return splitmix64(&h);
}

void rng_seed(struct rng *r, uint64_t experiment_seed, uint64_t point_key,
              uint32_t purpose, uint32_t index)
{
    uint64_t x = experiment_seed;
    x = splitmix64(&x) ^ point_key;
    x = splitmix64(&x) ^ (((uint64_t)purpose << 32) | index);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

double rng_normal(struct rng *r)
{
    double u, v, s;
    do {
        u = 2.0 * rng_uniform(r) - 1.0;
        v = 2.0 * rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
    uint64_t x = rng_next(r);
    __uint128_t m = (__uint128_t)x * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = -n % n;
        while (l < t) {
            x = rng_next(r);
            m = (__uint128_t)x * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

void rng_shuffle_int(struct rng *r, int *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(r, i);
        int t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}
