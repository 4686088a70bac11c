/* trace_stats.c: loading the three columns of a trace (through trace_csv)
 * and summarising them: quantiles, per-worker and per-iteration statistics,
 * lag-1 Spearman persistence and a fitted active/slow Markov model (see
 * trace_stats.h). Prints key=value lines and a [latency] section; never
 * prints errors.
 */
#include "traces/trace_stats.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "traces/trace_csv.h"
#include "traces/trace_grid.h"

/* ---- loading ---- */

void trace_data_free(struct trace_data *d)
{
    if (!d)
        return;
    free(d->path);
    free(d->worker);
    free(d->iteration);
    free(d->value);
    free(d->lines);
    free(d);
}

/* A column by its spec, or the first default name the header has. */
static int pick_column(const struct trace_csv *t, const char *spec, const char *const *defaults,
                       int single_column_ok, const char *what, int *col, struct error *err)
{
    if (spec)
        return trace_csv_column(t, spec, what, col, err);
    for (const char *const *d = defaults; *d; d++) {
        for (int i = 0; i < t->ncols; i++) {
            if (strcmp(t->names[i], *d) == 0) {
                *col = i;
                return 0;
            }
        }
    }
    if (single_column_ok && t->ncols == 1) {
        *col = 0;
        return 0;
    }
    return trace_csv_column(t, defaults[0], what, col, err); /* names what is missing */
}

static int apply_where(struct trace_csv *t, const char *where, struct error *err)
{
    const char *eq = strchr(where, '=');
    if (!eq || eq == where)
        return error_at(err, "--where", 0, "expected COL=VALUE, got '%s'", where);
    char *name = strndup(where, (size_t)(eq - where));
    if (!name)
        return error_fail(err, "%s: out of memory", t->path);
    int col, rc = trace_csv_column(t, name, "--where", &col, err);
    free(name);
    if (rc)
        return rc;
    if (trace_csv_keep_rows(t, col, eq + 1) == 0)
        return error_at(err, t->path, 0, "no rows with %s", where);
    return 0;
}

int trace_data_load(const char *path, const struct trace_select *sel, unsigned need,
                    struct trace_data **out, struct error *err)
{
    static const char *const worker_names[] = {"worker", NULL};
    static const char *const iteration_names[] = {"iteration", "time", NULL};
    static const char *const value_names[] = {"duration", "batch_time_norm", NULL};
    *out = NULL;
    struct trace_csv *t;
    int rc = trace_csv_read(path, &t, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < sel->nwhere && !rc; i++)
        rc = apply_where(t, sel->where[i], err);

    /* Columns in the order value, worker, iteration; keys only when needed. */
    const char *spec[3] = {sel->value, sel->worker, sel->iteration};
    const char *const *defaults[3] = {value_names, worker_names, iteration_names};
    static const char *const what[3] = {"--value", "--worker", "--iteration"};
    static const unsigned checks[3] = {TRACE_CSV_NONNEG, TRACE_CSV_NONNEG | TRACE_CSV_INTEGER, 0};
    int ncols = (need & TRACE_NEED_KEYS) ? 3 : 1, col[3];
    for (int k = 0; k < ncols && !rc; k++) {
        rc = pick_column(t, spec[k], defaults[k], k == 0, what[k], &col[k], err);
        for (int j = 0; j < k && !rc; j++)
            if (col[j] == col[k])
                rc = error_at(err, t->path, t->header_line, "%s: same column (%d) as %s",
                              what[k], col[k] + 1, what[j]);
    }
    struct trace_data *d = rc ? NULL : calloc(1, sizeof *d);
    if (!rc && !d)
        rc = error_fail(err, "%s: out of memory", path);
    if (!rc) {
        d->n = t->nrows;
        d->path = strdup(path);
        d->lines = malloc(d->n * sizeof *d->lines);
        double **dst[3] = {&d->value, &d->worker, &d->iteration};
        for (int k = 0; k < ncols; k++)
            *dst[k] = malloc(d->n * sizeof(double));
        if (!d->path || !d->lines || !d->value || (ncols == 3 && (!d->worker || !d->iteration)))
            rc = error_fail(err, "%s: out of memory", path);
        for (int k = 0; k < ncols && !rc; k++)
            rc = trace_csv_numbers(t, col[k], checks[k], *dst[k], err);
        if (!rc)
            memcpy(d->lines, t->lines, d->n * sizeof *d->lines);
    }
    trace_csv_free(t);
    if (rc) {
        trace_data_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

/* ---- Spearman ---- */

double trace_spearman(const double *a, const double *b, size_t n)
{
    if (n < 2)
        return NAN;
    double *work = malloc(2 * n * sizeof *work); /* GSL's two rank vectors */
    if (!work)
        return NAN;
    double r = gsl_stats_spearman(a, 1, b, 1, n, work);
    free(work);
    return r;
}

/* ---- statistics ---- */

void trace_stats_free(struct trace_stats *s)
{
    if (s) {
        free(s->worker);
        free(s);
    }
}

/* Sorts x[n] in place and reads its mean, median and p99 (linear
 * interpolation between order statistics). */
static void summarise(double *x, size_t n, double *mean, double *median, double *p99)
{
    gsl_sort(x, 1, n);
    *mean = gsl_stats_mean(x, 1, n);
    *median = gsl_stats_median_from_sorted_data(x, 1, n);
    *p99 = gsl_stats_quantile_from_sorted_data(x, 1, n, 0.99);
}

/* A repeated row with the same value (the Alibaba job 2 trace has one) is
 * counted in *duplicates and skipped; a repeat with another value is an
 * error, since no single duration can be told to be the right one. */
static int grid_build(const struct trace_data *d, struct trace_grid *g, size_t *duplicates,
                      struct error *err)
{
    size_t r = 0;
    switch (trace_grid_build(d->worker, d->iteration, d->value, d->lines, d->n, SIZE_MAX, g,
                             duplicates, &r)) {
    case TRACE_GRID_OK:
        return 0;
    case TRACE_GRID_CONFLICT: {
        int first = g->line[trace_grid_cell(g, d->worker[r], d->iteration[r])];
        trace_grid_free(g);
        return error_at(err, d->path, d->lines[r],
                        "worker %.0f has a second row at iteration %.17g with another value "
                        "(first at line %d)",
                        d->worker[r], d->iteration[r], first);
    }
    default: /* no cell limit here: only out of memory */
        trace_grid_free(g);
        return error_fail(err, "%s: out of memory", d->path);
    }
}

/* Fits one Markov state's durations by `kind`, or with "auto" by every
 * kind keeping the smallest KS distance. Falls back to exp (rate 1/mean)
 * when the sample is too small or degenerate for the kind(s). */
static int fit_state(const double *x, size_t n, const char *kind, const char *path,
                     struct trace_fit *fit, const char **note, struct error *err)
{
    *note = NULL;
    struct error ferr;
    bool fitted = false;
    bool any = strcmp(kind, "auto") == 0;
    for (const char *const *k = trace_fit_kind_names; *k; k++) {
        struct trace_fit f;
        if ((any || strcmp(*k, kind) == 0) && trace_fit(x, n, *k, path, &f, &ferr) == 0 &&
            (!fitted || f.ks < fit->ks)) {
            *fit = f;
            fitted = true;
        }
    }
    if (fitted)
        return 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    if (sum <= 0)
        return error_at(err, path, 0, "a Markov state's durations are all 0");
    *fit = (struct trace_fit){.kind = "exp", .nparams = 1, .names = {"rate", NULL},
                              .values = {(double)n / sum, 0}, .n = n, .ks = NAN,
                              .loglik = NAN};
    *note = "too few distinct values to fit: exp with the sample mean";
    return 0;
}

/* Classifies worker-iterations, counts transitions and fits each state. */
static int markov_estimate(const struct trace_grid *g, const double *median, double threshold,
                           const char *kind, const char *path, struct trace_markov *m,
                           struct error *err)
{
    *m = (struct trace_markov){.threshold = threshold};
    size_t cells = g->W * g->I;
    double *vals[2] = {malloc(cells * sizeof(double)), malloc(cells * sizeof(double))};
    unsigned char *slow = malloc(cells);
    int rc = 0;
    if (!vals[0] || !vals[1] || !slow) {
        rc = error_fail(err, "%s: out of memory", path);
        goto out;
    }
    size_t count[2] = {0, 0};
    double sum[2] = {0, 0};
    for (size_t w = 0; w < g->W; w++) {
        for (size_t i = 0; i < g->I; i++) {
            double v = g->v[w * g->I + i];
            if (isnan(v))
                continue;
            int s = v > threshold * median[i];
            slow[w * g->I + i] = (unsigned char)s;
            vals[s][count[s]++] = v;
            sum[s] += v;
            if (i > 0 && !isnan(g->v[w * g->I + i - 1]))
                m->transitions[slow[w * g->I + i - 1]][s]++;
        }
    }
    m->n_active = count[0];
    m->n_slow = count[1];
    m->active_mean = count[0] ? sum[0] / (double)count[0] : NAN;
    m->slow_mean = count[1] ? sum[1] / (double)count[1] : NAN;
    size_t from_active = m->transitions[0][0] + m->transitions[0][1];
    size_t from_slow = m->transitions[1][0] + m->transitions[1][1];
    m->p_active_to_slow = from_active ? (double)m->transitions[0][1] / (double)from_active : NAN;
    m->p_slow_to_active = from_slow ? (double)m->transitions[1][0] / (double)from_slow : NAN;

    if (count[0] == 0) /* cannot happen: an iteration's smallest value is <= its median */
        rc = error_fail(err, "%s: no active worker-iterations", path);
    if (!rc)
        rc = fit_state(vals[0], count[0], kind, path, &m->fit[0], &m->fit_note[0], err);
    if (!rc && count[1] == 0) {
        m->fit[1] = m->fit[0];
        m->fit_note[1] = "no slow worker-iterations at this threshold: copies the active state";
    } else if (!rc) {
        rc = fit_state(vals[1], count[1], kind, path, &m->fit[1], &m->fit_note[1], err);
    }
out:
    free(vals[0]);
    free(vals[1]);
    free(slow);
    return rc;
}

int trace_stats_compute(const struct trace_data *d, double threshold, const char *state_kind,
                        struct trace_stats **out, struct error *err)
{
    *out = NULL;
    if (!(threshold > 0))
        return error_at(err, "--threshold", 0, "must be > 0, got %g", threshold);
    if (!state_kind || (strcmp(state_kind, "auto") != 0 && !trace_fit_known(state_kind)))
        return error_at(err, "--state-dist", 0, "unknown distribution '%s' (expected auto|%s)",
                        state_kind ? state_kind : "", trace_fit_kinds);
    struct trace_grid g;
    size_t duplicates = 0;
    int rc = grid_build(d, &g, &duplicates, err);
    if (rc)
        return rc;
    struct trace_stats *s = calloc(1, sizeof *s);
    size_t maxdim = g.W > g.I ? g.W : g.I;
    double *buf = malloc((d->n > maxdim ? d->n : maxdim) * sizeof *buf);
    double *a = malloc(g.W * sizeof *a), *b = malloc(g.W * sizeof *b);
    double *median = malloc(g.I * sizeof *median), *ratio = malloc(g.I * sizeof *ratio);
    if (!s || !buf || !a || !b || !median || !ratio ||
        !(s->worker = calloc(g.W, sizeof *s->worker))) {
        rc = error_fail(err, "%s: out of memory", d->path);
        goto out;
    }
    s->rows = d->n;
    s->duplicates = duplicates;
    s->workers = g.W;
    s->iterations = g.I;
    size_t cells = 0; /* distinct worker-iterations (duplicates skipped) */
    for (size_t c = 0; c < g.W * g.I; c++)
        if (!isnan(g.v[c]))
            buf[cells++] = g.v[c];
    summarise(buf, cells, &s->mean, &s->median, &s->p99);

    for (size_t w = 0; w < g.W; w++) {
        struct trace_worker_stats *ws = &s->worker[w];
        ws->id = g.ids[w];
        for (size_t i = 0; i < g.I; i++)
            if (!isnan(g.v[w * g.I + i]))
                buf[ws->n++] = g.v[w * g.I + i];
        summarise(buf, ws->n, &ws->mean, &ws->median, &ws->p99);
    }

    /* Per iteration: median and max over the workers present. */
    size_t nratio = 0;
    for (size_t i = 0; i < g.I; i++) {
        size_t m = 0;
        for (size_t w = 0; w < g.W; w++)
            if (!isnan(g.v[w * g.I + i]))
                buf[m++] = g.v[w * g.I + i];
        gsl_sort(buf, 1, m);
        median[i] = gsl_stats_median_from_sorted_data(buf, 1, m);
        if (median[i] > 0)
            ratio[nratio++] = buf[m - 1] / median[i];
    }
    s->ratio_mean = s->ratio_median = s->ratio_p99 = s->ratio_max = NAN;
    if (nratio) {
        summarise(ratio, nratio, &s->ratio_mean, &s->ratio_median, &s->ratio_p99);
        s->ratio_max = ratio[nratio - 1];
    }

    /* Persistence: Spearman of the common workers of each consecutive pair. */
    double total = 0;
    for (size_t i = 0; i + 1 < g.I; i++) {
        size_t m = 0;
        for (size_t w = 0; w < g.W; w++) {
            double x = g.v[w * g.I + i], y = g.v[w * g.I + i + 1];
            if (!isnan(x) && !isnan(y)) {
                a[m] = x;
                b[m++] = y;
            }
        }
        double r = m >= 3 ? trace_spearman(a, b, m) : NAN;
        if (!isnan(r)) {
            total += r;
            s->persistence_pairs++;
        }
    }
    s->persistence = s->persistence_pairs ? total / (double)s->persistence_pairs : NAN;

    rc = markov_estimate(&g, median, threshold, state_kind, d->path, &s->markov, err);
out:
    free(buf);
    free(a);
    free(b);
    free(median);
    free(ratio);
    trace_grid_free(&g);
    if (rc) {
        trace_stats_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* ---- output ---- */

void trace_stats_write(FILE *f, const struct trace_stats *s)
{
    fprintf(f, "rows=%zu\nduplicates=%zu\nworkers=%zu\niterations=%zu\n", s->rows, s->duplicates,
            s->workers, s->iterations);
    fprintf(f, "mean=%.6g\nmedian=%.6g\np99=%.6g\n", s->mean, s->median, s->p99);
    for (size_t w = 0; w < s->workers; w++) {
        const struct trace_worker_stats *ws = &s->worker[w];
        fprintf(f, "worker.%.15g.n=%zu\nworker.%.15g.mean=%.6g\nworker.%.15g.median=%.6g\n"
                   "worker.%.15g.p99=%.6g\n",
                ws->id, ws->n, ws->id, ws->mean, ws->id, ws->median, ws->id, ws->p99);
    }
    fprintf(f, "iteration_max_over_median_mean=%.6g\niteration_max_over_median_median=%.6g\n"
               "iteration_max_over_median_p99=%.6g\niteration_max_over_median_max=%.6g\n",
            s->ratio_mean, s->ratio_median, s->ratio_p99, s->ratio_max);
    fprintf(f, "persistence=%.4f\npersistence_pairs=%zu\n", s->persistence, s->persistence_pairs);

    const struct trace_markov *m = &s->markov;
    double slow_fraction = (double)m->n_slow / (double)(m->n_active + m->n_slow);
    fprintf(f, "markov.threshold=%g\nmarkov.slow_fraction=%.6g\n", m->threshold, slow_fraction);
    fprintf(f, "markov.transitions=%zu,%zu,%zu,%zu\n", m->transitions[0][0], m->transitions[0][1],
            m->transitions[1][0], m->transitions[1][1]);
    fprintf(f, "markov.p_active_to_slow=%.6g\nmarkov.p_slow_to_active=%.6g\n",
            m->p_active_to_slow, m->p_slow_to_active);
    fprintf(f, "markov.active_mean=%.6g\nmarkov.slow_mean=%.6g\n", m->active_mean, m->slow_mean);

    /* The section must be a config `stragsim run` accepts. Probabilities
     * with no evidence get the value that keeps the chain valid (never slow:
     * p_active_to_slow 0; never recovers from an unseen state: 1). A trace
     * whose workers never change state (a fixed set of slow workers, a
     * two-level trace) has both at 0, which leaves the chain without a
     * stationary start: each gets the Jeffreys estimate for 0 changes in its
     * n observed steps, 0.5 / (n + 1), so the start keeps about the observed
     * slow fraction and a state lasts about as long as the trace did. */
    fprintf(f, "\n; two-state model: a worker-iteration is slow when its duration exceeds "
               "%g x that iteration's median\n",
            m->threshold);
    fprintf(f, "[latency]\nkind = markov\n");
    double p_as = isnan(m->p_active_to_slow) ? 0 : m->p_active_to_slow;
    double p_sa = isnan(m->p_slow_to_active) ? 1 : m->p_slow_to_active;
    if (isnan(m->p_slow_to_active))
        fprintf(f, "; no slow-to-any transition observed: p_slow_to_active set to 1\n");
    if (p_as + p_sa == 0) {
        size_t from_active = m->transitions[0][0], from_slow = m->transitions[1][1];
        p_as = 0.5 / ((double)from_active + 1);
        p_sa = 0.5 / ((double)from_slow + 1);
        fprintf(f, "; no worker ever changed state (%zu active and %zu slow steps): each "
                   "probability is 0.5 / (steps + 1)\n",
                from_active, from_slow);
    }
    fprintf(f, "p_active_to_slow = %.6g\np_slow_to_active = %.6g\n", p_as, p_sa);
    static const char *const state[2] = {"active", "slow"}, *const prefix[2] = {"active.", "slow."};
    for (int k = 0; k < 2; k++) {
        if (m->fit_note[k])
            fprintf(f, "; %s state: %s\n", state[k], m->fit_note[k]);
        trace_fit_write(f, &m->fit[k], prefix[k]);
    }
}
