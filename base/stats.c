/* stats.c: Welford mean/variance, batch-means standard error and exact
 * quantiles by selection over the stored samples (see stats.h). */
#include "base/stats.h"

#include <math.h>
#include <stdlib.h>

#include "base/metrics.h" /* metric_undefined: no samples, no value */

struct stats {
    double *x; /* samples, insertion order until stats_quantile() reorders them */
    size_t n, cap;
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

/* Moves the k-th smallest of a[0..n) to a[k], smaller ones before it and
 * larger ones after it (Hoare partition around a median of three). */
static void select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        /* order a[lo] <= a[mid] <= a[hi]; a[mid] is the pivot */
        if (a[mid] < a[lo]) { double t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
        if (a[hi] < a[lo]) { double t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
        if (a[hi] < a[mid]) { double t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
        double pivot = a[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                double t = a[i]; a[i] = a[j]; a[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        /* now a[lo..j] <= pivot <= a[i..hi], and j < i */
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return; /* j < k < i: a[k] == pivot, in place */
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
    select_kth(s->x, s->n, k);
    double lo = s->x[k];
    if (frac == 0.0 || k + 1 >= s->n)
        return lo;
    /* the (k+1)-th order statistic is the smallest of what lies above k */
    double hi = s->x[k + 1];
    for (size_t i = k + 2; i < s->n; i++)
        if (s->x[i] < hi)
            hi = s->x[i];
    return lo + frac * (hi - lo);
}
