/* aggregate.c: mean, standard error and Student-t 95% interval of repeated
 * measurements, and grouping the runs of a database into points. */
#include "analysis/aggregate.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/metrics.h"

int aggregate_ci(const double *x, size_t n, struct ci *out)
{
    *out = (struct ci){.mean = NAN, .se = NAN, .half_width = NAN, .n = n};
    if (n == 0)
        return -1;
    /* Two passes: the mean, then squared deviations from it (no cancellation). */
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    out->mean = sum / (double)n;
    if (n < 2 || isnan(out->mean))
        return 0;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - out->mean) * (x[i] - out->mean);
    out->se = sqrt(ss / (double)(n - 1) / (double)n);
    out->half_width = gsl_cdf_tdist_Pinv(0.975, (double)(n - 1)) * out->se;
    return 0;
}

bool aggregate_location_key(const char *key)
{
    return strcmp(key, "experiment.db") == 0 || strcmp(key, "experiment.name") == 0;
}

/* The run whose params are being made canonical: a param it chose while
 * running (metric METRIC_PARAM_PREFIX "KEY") is a result, not part of the
 * point. params_canonical's skip has no context argument. */
static const struct results_run *canon_run;

static bool skip_key(const char *key)
{
    if (aggregate_location_key(key))
        return true;
    char name[256];
    double ignored;
    snprintf(name, sizeof name, "%s%s", METRIC_PARAM_PREFIX, key);
    return metric_list_find(&canon_run->metrics, name, &ignored);
}

struct keyed {
    char *canon;
    size_t run;
};

static int keyed_compare(const void *pa, const void *pb)
{
    const struct keyed *a = pa, *b = pb;
    int c = strcmp(a->canon, b->canon);
    return c ? c : (a->run > b->run) - (a->run < b->run);
}

int aggregate_group_runs(const struct results_run *const *runs, size_t n, size_t *group,
                         size_t *ngroups)
{
    *ngroups = 0;
    struct keyed *k = calloc(n ? n : 1, sizeof *k);
    size_t *first = malloc((n ? n : 1) * sizeof *first); /* sorted position -> first run */
    int rc = k && first ? 0 : -1;
    for (size_t i = 0; !rc && i < n; i++) {
        k[i].run = i;
        canon_run = runs[i];
        k[i].canon = params_canonical(runs[i]->params, skip_key);
        rc = k[i].canon ? 0 : -1;
    }
    if (!rc) {
        /* Sorted, equal params are adjacent (lowest run first); number the
         * points by their first run so the order is that of the input. */
        qsort(k, n, sizeof *k, keyed_compare);
        for (size_t i = 0; i < n; i++)
            first[i] = i > 0 && strcmp(k[i].canon, k[i - 1].canon) == 0 ? first[i - 1] : k[i].run;
        for (size_t i = 0; i < n; i++)
            group[k[i].run] = first[i]; /* provisional: the index of the point's first run */
        for (size_t i = 0; i < n; i++)
            group[i] = group[i] == i ? (*ngroups)++ : group[group[i]];
    }
    for (size_t i = 0; k && i < n; i++)
        free(k[i].canon);
    free(k);
    free(first);
    return rc;
}
