/* shuffle.c: the partition-to-column assignment of a gradient code and its
 * online estimates (see shuffle.h). */
#include "schemes/common/shuffle.h"

#include <stdlib.h>
#include <string.h>

static const char *const policy_names[] = {"none", "uniform", "slow_aware"};

int shuffle_policy_parse(const char *name, enum shuffle_policy *policy)
{
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, policy_names[i]) == 0) {
            *policy = (enum shuffle_policy)i;
            return 0;
        }
    return -1;
}

int shuffle_init(struct shuffle *sh, enum shuffle_policy policy, int n, long every, double alpha,
                 uint64_t seed, uint64_t point_key, struct error *err)
{
    memset(sh, 0, sizeof *sh);
    sh->policy = policy;
    sh->n = n;
    sh->every = every;
    sh->alpha = alpha;
    sh->column_data = malloc((size_t)n * sizeof *sh->column_data);
    sh->slow = calloc((size_t)n, sizeof *sh->slow);
    sh->usage = calloc((size_t)n, sizeof *sh->usage);
    sh->exposure = malloc((size_t)n * sizeof *sh->exposure);
    sh->order = malloc(2 * (size_t)n * sizeof *sh->order);
    if (!sh->column_data || !sh->slow || !sh->usage || !sh->exposure || !sh->order) {
        shuffle_free(sh);
        return error_fail(err, "out of memory");
    }
    for (int j = 0; j < n; j++)
        sh->column_data[j] = j;
    rng_seed(&sh->rng, seed, point_key, RNG_SCHEME, 1);
    return 0;
}

void shuffle_free(struct shuffle *sh)
{
    free(sh->column_data);
    free(sh->slow);
    free(sh->usage);
    free(sh->exposure);
    free(sh->order);
    memset(sh, 0, sizeof *sh);
}

void shuffle_observe(struct shuffle *sh, const struct gradcode *g, const unsigned char *reported)
{
    int n = sh->n;
    double a = sh->alpha;
    unsigned char *used = (unsigned char *)sh->order; /* n bytes of scratch */
    memset(used, 0, (size_t)n);
    for (int i = 0; i < n; i++) {
        sh->slow[i] = (1 - a) * sh->slow[i] + a * (reported[i] ? 0.0 : 1.0);
        if (reported[i])
            for (int k = 0; k < g->load; k++)
                used[sh->column_data[g->support[i * g->load + k]]] = 1;
    }
    for (int p = 0; p < n; p++)
        sh->usage[p] = (1 - a) * sh->usage[p] + a * used[p];
}

bool shuffle_due(const struct shuffle *sh, uint64_t t)
{
    return sh->policy != SHUFFLE_NONE && t > 0 && t % (uint64_t)sh->every == 0;
}

/* Sort keys for slow_aware: a value, then a random tie-break. */
struct ranked {
    double value;
    uint64_t tie;
    int index;
};

static int ranked_cmp(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return (x->tie > y->tie) - (x->tie < y->tie);
}

/* Indices 0..n-1 ordered by value ascending, ties at random, into out. */
static void rank_by(struct shuffle *sh, const double *value, struct ranked *tmp, int *out)
{
    for (int i = 0; i < sh->n; i++)
        tmp[i] = (struct ranked){value[i], rng_next(&sh->rng), i};
    qsort(tmp, (size_t)sh->n, sizeof *tmp, ranked_cmp);
    for (int i = 0; i < sh->n; i++)
        out[i] = tmp[i].index;
}

static int slow_aware_assign(struct shuffle *sh, const struct gradcode *g)
{
    int n = sh->n;
    struct ranked *tmp = malloc((size_t)n * sizeof *tmp);
    if (!tmp)
        return -1;
    for (int j = 0; j < n; j++)
        sh->exposure[j] = 1.0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < g->load; k++)
            sh->exposure[g->support[i * g->load + k]] *= sh->slow[i];
    int *columns = sh->order, *parts = sh->order + n;
    rank_by(sh, sh->exposure, tmp, columns);
    rank_by(sh, sh->usage, tmp, parts);
    for (int r = 0; r < n; r++)
        sh->column_data[columns[r]] = parts[r];
    free(tmp);
    return 0;
}

/* Partitions worker i holds under column_data `cd`, into out (load). */
static void held_by(const struct gradcode *g, const int *cd, int i, int *out)
{
    for (int k = 0; k < g->load; k++)
        out[k] = cd[g->support[i * g->load + k]];
}

void shuffle_apply(struct shuffle *sh, const struct gradcode *g, int *received)
{
    int n = sh->n, load = g->load;
    int *before = malloc((size_t)n * sizeof *before);
    int *old_held = malloc((size_t)load * sizeof *old_held);
    int *new_held = malloc((size_t)load * sizeof *new_held);
    bool ok = before && old_held && new_held;
    if (ok) {
        memcpy(before, sh->column_data, (size_t)n * sizeof *before);
        if (sh->policy == SHUFFLE_UNIFORM)
            rng_shuffle_int(&sh->rng, sh->column_data, (size_t)n);
        else if (sh->policy == SHUFFLE_SLOW_AWARE)
            ok = slow_aware_assign(sh, g) == 0;
    }
    for (int i = 0; i < n; i++) {
        received[i] = 0;
        if (!ok)
            continue; /* out of memory: the assignment stays, nothing moves */
        held_by(g, before, i, old_held);
        held_by(g, sh->column_data, i, new_held);
        for (int k = 0; k < load; k++) {
            bool had = false;
            for (int q = 0; q < load && !had; q++)
                had = old_held[q] == new_held[k];
            received[i] += !had;
        }
        sh->moved += received[i];
    }
    sh->shuffles += ok;
    free(before);
    free(old_held);
    free(new_held);
}
