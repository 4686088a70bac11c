/* bench_engine.c: the hold-model benchmark of the event engine (a program,
 * not a test; bench/run.sh runs it).
 *
 * Hold model: keep `pending` events in the future-event set and repeat
 * "pop the earliest, push it back at t + Exp(1)". The same loop runs twice in
 * one process: through the engine (handler dispatch, sim/engine.c) and
 * through a bare textbook binary heap (pop = last leaf sifted down from the
 * root, push = sift up), so the ratio is measured on the same machine at the
 * same moment. Both draw from identical base/rng.h streams.
 *
 * Usage: bench_engine [pending (1000)] [events (2e7)]
 * Prints one line per contender: name, events, seconds, events/s.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/engine.h"
#include "base/clock.h"
#include "base/rng.h"

/* ---- through the engine ---- */

struct hold {
    struct rng rng;
    uint64_t left; /* events still to fire */
    int kind;
};

static void hold_fire(struct engine *e, void *ctx, uint32_t arg, uint32_t gen)
{
    struct hold *h = ctx;
    if (--h->left == 0) {
        engine_stop(e);
        return;
    }
    engine_schedule(e, engine_now(e) + rng_exp(&h->rng, 1.0), h->kind, arg, gen);
}

static double bench_engine_hold(size_t pending, uint64_t events, double *checksum)
{
    struct engine *e = engine_new();
    struct hold h = {.left = events};
    if (!e) {
        fprintf(stderr, "bench_engine: out of memory\n");
        exit(3);
    }
    rng_seed(&h.rng, 1, 0, RNG_ARRIVALS, 0);
    h.kind = engine_register(e, hold_fire, &h);
    for (size_t i = 0; i < pending; i++)
        engine_schedule(e, rng_exp(&h.rng, 1.0), h.kind, (uint32_t)i, 0);
    double t0 = now_seconds();
    engine_run(e);
    double elapsed = now_seconds() - t0;
    *checksum = engine_now(e);
    engine_free(e);
    return elapsed;
}

/* ---- bare binary heap: the textbook baseline ---- */

struct bare_event {
    double time;
    uint64_t seq;
    uint32_t arg, gen;
};

static inline bool bare_before(const struct bare_event *a, const struct bare_event *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void bare_push(struct bare_event *h, size_t *n, struct bare_event ev)
{
    size_t i = (*n)++;
    while (i > 0 && bare_before(&ev, &h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = ev;
}

static struct bare_event bare_pop(struct bare_event *h, size_t *n)
{
    struct bare_event top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && bare_before(&h[c + 1], &h[c]))
            c++;
        if (!bare_before(&h[c], &last))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

static double bench_bare_hold(size_t pending, uint64_t events, double *checksum)
{
    struct bare_event *h = malloc(pending * sizeof *h);
    struct rng rng;
    size_t n = 0;
    uint64_t seq = 0;
    if (!h) {
        fprintf(stderr, "bench_engine: out of memory\n");
        exit(3);
    }
    rng_seed(&rng, 1, 0, RNG_ARRIVALS, 0);
    for (size_t i = 0; i < pending; i++)
        bare_push(h, &n, (struct bare_event){rng_exp(&rng, 1.0), seq++, (uint32_t)i, 0});
    double t0 = now_seconds(), now = 0;
    for (uint64_t left = events; left > 0; left--) {
        struct bare_event ev = bare_pop(h, &n);
        now = ev.time;
        if (left > 1)
            bare_push(h, &n, (struct bare_event){now + rng_exp(&rng, 1.0), seq++, ev.arg, ev.gen});
    }
    double elapsed = now_seconds() - t0;
    *checksum = now;
    free(h);
    return elapsed;
}

int main(int argc, char **argv)
{
    size_t pending = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000;
    uint64_t events = argc > 2 ? (uint64_t)strtod(argv[2], NULL) : 20000000;
    if (pending < 1 || events < 1) {
        fprintf(stderr, "usage: bench_engine [pending >= 1] [events >= 1]\n");
        return 2;
    }
    double end_engine, end_bare;
    double t_engine = bench_engine_hold(pending, events, &end_engine);
    double t_bare = bench_bare_hold(pending, events, &end_bare);
    printf("hold model, %zu pending, %llu events\n", pending, (unsigned long long)events);
    printf("%-22s %10.3f s %8.2f M events/s\n", "engine", t_engine,
           (double)events / t_engine / 1e6);
    printf("%-22s %10.3f s %8.2f M events/s\n", "bare binary heap", t_bare,
           (double)events / t_bare / 1e6);
    printf("engine / bare: %.2f   (same final clock: %s)\n", t_bare / t_engine,
           end_engine == end_bare ? "yes" : "no");
    return 0;
}
