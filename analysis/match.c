/* match.c: matching the runs of two results databases, grouping runs into
 * points, and the label of a run (rules in match.h). */
#include "analysis/match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/aggregate.h"
#include "analysis/report.h"

/* A run and the text it is matched by (its point key or its params set). */
struct match_entry {
    const char *text;
    size_t run;
};

static int entry_compare(const void *pa, const void *pb)
{
    const struct match_entry *a = pa, *b = pb;
    int c = strcmp(a->text, b->text);
    return c ? c : (a->run > b->run) - (a->run < b->run);
}

/* The first entry with this text whose run is not taken yet, or NULL. */
static const struct match_entry *match_find(const struct match_entry *e, size_t n, const char *text,
                                            const bool *taken)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(e[mid].text, text) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < n && strcmp(e[lo].text, text) == 0; lo++)
        if (!taken[e[lo].run])
            return &e[lo];
    return NULL;
}

/* The params set of a run as one string: canonical params and the repeat. */
static char *run_signature(const struct results_run *run)
{
    char *canon = params_canonical(run->params, aggregate_location_key);
    if (!canon)
        return NULL;
    size_t len = strlen(canon) + 32;
    char *sig = malloc(len);
    if (sig)
        snprintf(sig, len, "%srepeat=%d\n", canon, run->repeat);
    free(canon);
    return sig;
}


/* "k=v k=v repeat=r" over the params that tell the baseline runs apart (those
 * this run has), or "point KEY" when nothing does. */
char *match_label(const struct results_run *run, const char *const *keys, size_t nkeys,
                         bool with_repeat)
{
    size_t len = strlen(run->point_key) + 40;
    for (size_t i = 0; i < nkeys; i++) {
        const char *v = params_get(run->params, keys[i]);
        len += strlen(keys[i]) + (v ? strlen(v) : 0) + 2;
    }
    char *label = malloc(len), *w = label;
    if (!label)
        return NULL;
    *w = '\0';
    for (size_t i = 0; i < nkeys; i++) {
        const char *v = params_get(run->params, keys[i]);
        if (v)
            w += sprintf(w, "%s%s=%s", w > label ? " " : "", keys[i], v);
    }
    if (with_repeat)
        w += sprintf(w, "%srepeat=%d", w > label ? " " : "", run->repeat);
    if (w == label)
        sprintf(w, "point %s", run->point_key);
    return label;
}


/* Points of the runs (aggregate_group_runs on an array of runs). */
int match_group_points(const struct results_run *runs, size_t n, size_t *point, size_t *npoints)
{
    const struct results_run **ptrs = malloc((n ? n : 1) * sizeof *ptrs);
    if (!ptrs)
        return -1;
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &runs[i];
    int rc = aggregate_group_runs(ptrs, n, point, npoints);
    free(ptrs);
    return rc;
}


/* Sorted match entries for runs: by point key, or by params set. */
static struct match_entry *entries_build(const struct results_run *runs, size_t n, bool by_params)
{
    struct match_entry *e = calloc(n ? n : 1, sizeof *e);
    if (!e)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        e[i].run = i;
        e[i].text = by_params ? run_signature(&runs[i]) : runs[i].point_key;
        if (!e[i].text) {
            for (size_t j = 0; by_params && j < i; j++)
                free((char *)e[j].text);
            free(e);
            return NULL;
        }
    }
    qsort(e, n, sizeof *e, entry_compare);
    return e;
}

static void entries_free(struct match_entry *e, size_t n, bool by_params)
{
    for (size_t i = 0; e && by_params && i < n; i++)
        free((char *)e[i].text);
    free(e);
}

/* For each baseline run, the index of its matching db run, or -1. */
int match_runs(const struct results_run *base, size_t nbase, const struct results_run *db,
                      size_t ndb, ptrdiff_t *match, bool *taken)
{
    struct match_entry *by_key = entries_build(db, ndb, false);
    if (!by_key)
        return -1;
    size_t unmatched = 0;
    for (size_t i = 0; i < nbase; i++) {
        const struct match_entry *e = match_find(by_key, ndb, base[i].point_key, taken);
        match[i] = e ? (ptrdiff_t)e->run : -1;
        if (e)
            taken[e->run] = true;
        else
            unmatched++;
    }
    entries_free(by_key, ndb, false);
    if (unmatched == 0)
        return 0;

    /* Keys differ (a changed key scheme, another db path): try the params set. */
    struct match_entry *by_params = entries_build(db, ndb, true);
    if (!by_params)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < nbase && !rc; i++) {
        if (match[i] >= 0)
            continue;
        char *sig = run_signature(&base[i]);
        if (!sig) {
            rc = -1;
            break;
        }
        const struct match_entry *e = match_find(by_params, ndb, sig, taken);
        if (e) {
            match[i] = (ptrdiff_t)e->run;
            taken[e->run] = true;
        }
        free(sig);
    }
    entries_free(by_params, ndb, true);
    return rc;
}


int match_label_keys(const struct results_run *const *runs, size_t n, const char ***keys,
                     size_t *nkeys, bool *repeat_varies)
{
    if (report_varying_params(runs, n, keys, nkeys, repeat_varies))
        return -1;
    size_t kept = 0;
    for (size_t k = 0; k < *nkeys; k++)
        if (!aggregate_location_key((*keys)[k]))
            (*keys)[kept++] = (*keys)[k];
    *nkeys = kept;
    return 0;
}
