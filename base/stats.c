/* stats.c: Welford mean/variance, batch-means standard error and exact
 * quantiles by selection over the stored samples (see stats.h). */
#include "base/stats.h"

#include <math.h>
#include <stdlib.h>

#include "base/metrics.h" /* metric_undefined: no samples, no value */

struct stats {
    double *x; /* samples, insertion order until stats_quantile() reorders them */
    size_t n, cap;
    /* after a stats_quantile(): x[i] <= x[j] for every i < split <= j, so
     * the next order statistic is selected on one side only (0: no split) */
    size_t split;
    double mean, m2; /* Welford running mean and sum of squared deviations */
};

struct stats *stats_new(size_t capacity_hint)
{
    struct stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (capacity_hint) {
        s->x = malloc(capacity_hint * sizeof *s->x);
        if (!s->x) {
            free(s);
            return NULL;
        }
        s->cap = capacity_hint;
    }
    return s;
}

void stats_free(struct stats *s)
{
    if (!s)
        return;
    free(s->x);
    free(s);
}

void stats_reset(struct stats *s)
{
    s->n = 0;
    s->split = 0;
    s->mean = s->m2 = 0.0;
}

int stats_add(struct stats *s, double x)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 1024;
        double *nx = realloc(s->x, nc * sizeof *nx);
        if (!nx)
            return -1;
        s->x = nx;
        s->cap = nc;
    }
    s->x[s->n++] = x;
    s->split = 0;
    double d = x - s->mean;
    s->mean += d / (double)s->n;
    s->m2 += d * (x - s->mean);
    return 0;
}

size_t stats_count(const struct stats *s) { return s->n; }

double stats_mean(const struct stats *s) { return s->n ? s->mean : metric_undefined(); }

double stats_variance(const struct stats *s)
{
    return s->n >= 2 ? s->m2 / (double)(s->n - 1) : metric_undefined();
}

double stats_batch_se(const struct stats *s, int batches)
{
    if (s->n < 2)
        return metric_undefined();
    if (batches < 2 || s->n < 2 * (size_t)batches)
        return sqrt(stats_variance(s) / (double)s->n);
    size_t m = s->n / (size_t)batches;
    /* Welford again, over the batch means */
    double mean = 0.0, m2 = 0.0;
    for (int b = 0; b < batches; b++) {
        double sum = 0.0;
        for (size_t i = (size_t)b * m; i < (size_t)(b + 1) * m; i++)
            sum += s->x[i];
        double bm = sum / (double)m, d = bm - mean;
        mean += d / (double)(b + 1);
        m2 += d * (bm - mean);
    }
    return sqrt(m2 / (double)(batches - 1) / (double)batches);
}

static inline void swap_double(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* Quickselect (median of three, Hoare partition: Numerical Recipes'
 * select): returns the k-th smallest of a[0..n) and leaves a partitioned
 * around it, a[i] <= a[k] for i < k and a[i] >= a[k] for i > k, a promise
 * gsl_stats_select does not make. */
static double select_partition(double *a, size_t n, size_t k)
{
    size_t l = 0, ir = n - 1;
    for (;;) {
        if (ir <= l + 1) {
            if (ir == l + 1 && a[ir] < a[l])
                swap_double(&a[l], &a[ir]);
            return a[k];
        }
        size_t mid = l + (ir - l) / 2;
        swap_double(&a[mid], &a[l + 1]);
        if (a[l] > a[ir])
            swap_double(&a[l], &a[ir]);
        if (a[l + 1] > a[ir])
            swap_double(&a[l + 1], &a[ir]);
        if (a[l] > a[l + 1])
            swap_double(&a[l], &a[l + 1]);
        /* a[l] <= a[l + 1] (the pivot) <= a[ir]: sentinels for the scans */
        size_t i = l + 1, j = ir;
        double pivot = a[l + 1];
        for (;;) {
            do
                i++;
            while (a[i] < pivot);
            do
                j--;
            while (a[j] > pivot);
            if (j < i)
                break;
            swap_double(&a[i], &a[j]);
        }
        a[l + 1] = a[j];
        a[j] = pivot;
        if (j >= k)
            ir = j - 1;
        if (j <= k)
            l = i;
    }
}

double stats_quantile(struct stats *s, double q)
{
    if (!s->n)
        return metric_undefined();
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    double h = (double)(s->n - 1) * q;
    size_t k = (size_t)h;
    double frac = h - (double)k;
    /* the k-th smallest lies on k's side of the last split: quantiles asked
     * in increasing order (p50, p99, p99.9) each select among fewer */
    size_t from = k >= s->split ? s->split : 0, to = k >= s->split ? s->n : s->split;
    double lo = select_partition(s->x + from, to - from, k - from);
    s->split = k; /* x is now partitioned around x[k] as a whole */
    if (frac == 0.0 || k + 1 >= s->n)
        return lo;
    /* the (k+1)-th smallest is the least of those above a[k] */
    double hi = s->x[k + 1];
    for (size_t i = k + 2; i < s->n; i++)
        hi = s->x[i] < hi ? s->x[i] : hi;
    return lo + frac * (hi - lo);
}
