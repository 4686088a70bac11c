/* check.c: compares the metrics of a results database with a baseline's,
 * run by run or (--intervals) point by point (rules in check.h; which runs
 * match is match.c's). Argument parsing and the final summary line live in
 * app/cmd_check.c. */
#include "analysis/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/aggregate.h"
#include "analysis/json.h"
#include "analysis/match.h"
#include "analysis/report.h"
#include "base/metrics.h"

static bool values_close(double base, double now, double rtol, double atol)
{
    if (isnan(base) || isnan(now))
        return isnan(base) && isnan(now);
    if (base == now)
        return true; /* also equal infinities */
    if (isinf(base) || isinf(now))
        return false;
    return fabs(now - base) <= atol + rtol * fabs(base);
}

/* The shortest text (at least 6 digits) that reads back as exactly x: a
 * regression line must show what differs, however small. */
static void format_exact(double x, char *buf, size_t len)
{
    for (int digits = 6; digits < 17; digits++) {
        snprintf(buf, len, "%.*g", digits, x);
        if (strtod(buf, NULL) == x)
            return;
    }
    snprintf(buf, len, "%.17g", x);
}

static const struct check_tolerance *tolerance_find(const struct check_options *opt,
                                                    const char *metric)
{
    for (size_t i = 0; i < opt->nper_metric; i++)
        if (strcmp(opt->per_metric[i].metric, metric) == 0)
            return &opt->per_metric[i];
    return NULL;
}

/* --format json: opens the object of one regression, {"point": ..., "metric":
 * ..., (metric omitted when NULL); the caller adds its fields and the "}".
 * Objects are separated by ",\n" (the caller holds the enclosing array). */
static void json_regression_begin(FILE *out, const struct check_summary *sum, const char *label,
                                  const char *metric)
{
    fputs(sum->regressions ? ",\n  {\"point\": " : "  {\"point\": ", out);
    json_string(out, label);
    if (metric) {
        fputs(", \"metric\": ", out);
        json_string(out, metric);
    }
}

/* {"mean": m, "half_width": h, "n": n} */
static void json_ci(FILE *out, const struct ci *c)
{
    fputs("{\"mean\": ", out);
    json_number(out, c->mean);
    fputs(", \"half_width\": ", out);
    json_number(out, c->half_width);
    fprintf(out, ", \"n\": %zu}", c->n);
}

/* A point of the baseline with no match in the db. */
static void missing_point(FILE *out, const struct check_options *opt, const char *label,
                          struct check_summary *sum)
{
    if (opt->json) {
        json_regression_begin(out, sum, label, NULL);
        fputs(", \"missing\": true}", out);
    } else {
        fprintf(out, "regression: %s: missing from DB\n", label);
    }
    sum->regressions++;
}

/* Compares the metrics of one matched pair; prints its regressions. */
static void run_compare(const struct results_run *base, const struct results_run *now,
                        const char *label, const struct check_options *opt, FILE *out,
                        struct check_summary *sum)
{
    for (size_t m = 0; m < base->metrics.n; m++) {
        const char *name = base->metrics.names[m];
        const struct check_tolerance *tol = tolerance_find(opt, name);
        if (tol && tol->ignore)
            continue;
        double rtol = tol ? tol->rtol : opt->rtol, b = base->metrics.values[m], x;
        sum->metrics++;
        char sb[32], sx[32];
        format_exact(b, sb, sizeof sb);
        if (!metric_list_find(&now->metrics, name, &x)) {
            if (opt->json) {
                json_regression_begin(out, sum, label, name);
                fputs(", \"baseline\": ", out);
                json_number(out, b);
                fputs(", \"new\": null}", out);
            } else {
                fprintf(out, "regression: %s: %s: baseline %s, new missing\n", label, name, sb);
            }
            sum->regressions++;
            continue;
        }
        if (values_close(b, x, rtol, opt->atol))
            continue;
        format_exact(x, sx, sizeof sx);
        double rel = fabs(x - b) / fabs(b); /* inf for b = 0, nan when either is nan */
        if (opt->json) {
            json_regression_begin(out, sum, label, name);
            fputs(", \"baseline\": ", out);
            json_number(out, b);
            fputs(", \"new\": ", out);
            json_number(out, x);
            fputs(", \"rel_diff\": ", out);
            json_number(out, rel);
            fputs("}", out);
        } else {
            fprintf(out, "regression: %s: %s: baseline %s, new %s, rel diff %.3g\n", label, name,
                    sb, sx, rel);
        }
        sum->regressions++;
    }
}

/* ---- --intervals: points (repeats folded) instead of runs ---- */

/* The values of metric `name` over the runs of point pt; returns how many
 * runs have it. */
static size_t point_values(const struct results_run *runs, size_t n, const size_t *point,
                           size_t pt, const char *name, double *vals)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (point[i] == pt && metric_list_find(&runs[i].metrics, name, &vals[k]))
            k++;
    return k;
}

static size_t point_size(const size_t *point, size_t n, size_t pt)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += point[i] == pt;
    return k;
}

/* Compares the metrics of baseline point bp with db point dp by 95%
 * interval overlap; prints its regressions. */
static void point_compare(const struct results_run *base, size_t nbase, const size_t *bpoint,
                          size_t bp, const struct results_run *now, size_t nnow,
                          const size_t *dpoint, size_t dp, const struct results_run *rep,
                          const char *label, const struct check_options *opt, double *bv,
                          double *dv, FILE *out, struct check_summary *sum)
{
    for (size_t m = 0; m < rep->metrics.n; m++) {
        const char *name = rep->metrics.names[m];
        const struct check_tolerance *tol = tolerance_find(opt, name);
        if (tol && tol->ignore)
            continue;
        sum->metrics++;
        struct ci b, d;
        aggregate_ci(bv, point_values(base, nbase, bpoint, bp, name, bv), &b);
        /* six digits: an interval is not an exact value */
        char sb[32], sbh[32], sd[32], sdh[32];
        snprintf(sb, sizeof sb, "%.6g", b.mean);
        snprintf(sbh, sizeof sbh, "%.6g", b.half_width);
        if (aggregate_ci(dv, point_values(now, nnow, dpoint, dp, name, dv), &d) != 0) {
            if (opt->json) {
                json_regression_begin(out, sum, label, name);
                fputs(", \"baseline\": ", out);
                json_ci(out, &b);
                fputs(", \"new\": null}", out);
            } else {
                fprintf(out, "regression: %s: %s: baseline %s ± %s (n=%zu), new missing\n",
                        label, name, sb, sbh, b.n);
            }
            sum->regressions++;
            continue;
        }
        /* Equal means pass (also NaN and zero-width intervals); else the
         * intervals must share a point. */
        if (values_close(b.mean, d.mean, 0, 0) ||
            fabs(b.mean - d.mean) <= b.half_width + d.half_width)
            continue;
        snprintf(sd, sizeof sd, "%.6g", d.mean);
        snprintf(sdh, sizeof sdh, "%.6g", d.half_width);
        if (opt->json) {
            json_regression_begin(out, sum, label, name);
            fputs(", \"baseline\": ", out);
            json_ci(out, &b);
            fputs(", \"new\": ", out);
            json_ci(out, &d);
            fputs(", \"overlap\": false}", out);
        } else {
            fprintf(out,
                    "regression: %s: %s: baseline %s ± %s (n=%zu), new %s ± %s (n=%zu): 95%% "
                    "intervals do not overlap\n",
                    label, name, sb, sbh, b.n, sd, sdh, d.n);
        }
        sum->regressions++;
    }
}

/* check --intervals: every baseline point (its repeats) against the db point
 * its runs matched. A point with one run on either side is STRAG_EINPUT,
 * found before anything is printed. */
static int intervals_compare(const struct results_run *base, size_t nbase,
                             const struct results_run *now, size_t nnow, const ptrdiff_t *match,
                             const bool *taken, const char *const *keys, size_t nkeys, const struct check_options *opt,
                             const char *base_path, const char *db_path, FILE *out,
                             struct check_summary *sum, struct error *err)
{
    size_t *bpoint = malloc((nbase ? nbase : 1) * sizeof *bpoint);
    size_t *dpoint = malloc((nnow ? nnow : 1) * sizeof *dpoint);
    ptrdiff_t *dmatch = NULL; /* per baseline point: its db point, or -1 */
    double *bv = malloc((nbase ? nbase : 1) * sizeof *bv);
    double *dv = malloc((nnow ? nnow : 1) * sizeof *dv);
    size_t nbp = 0, ndp = 0;
    int rc = bpoint && dpoint && bv && dv ? 0 : -1;
    if (!rc)
        rc = match_group_points(base, nbase, bpoint, &nbp) || match_group_points(now, nnow, dpoint, &ndp) ? -1 : 0;
    if (!rc)
        rc = (dmatch = malloc((nbp ? nbp : 1) * sizeof *dmatch)) ? 0 : -1;
    for (size_t p = 0; !rc && p < nbp; p++)
        dmatch[p] = -1;
    for (size_t i = 0; !rc && i < nbase; i++)
        if (match[i] >= 0 && dmatch[bpoint[i]] < 0)
            dmatch[bpoint[i]] = (ptrdiff_t)dpoint[match[i]];
    /* An interval needs two repeats on both sides: say so before comparing. */
    for (size_t i = 0; !rc && i < nbase; i++) {
        size_t p = bpoint[i], nb = point_size(bpoint, nbase, p);
        size_t nd = dmatch[p] < 0 ? 2 : point_size(dpoint, nnow, (size_t)dmatch[p]);
        if (nb >= 2 && nd >= 2)
            continue;
        char *label = match_label(&base[i], keys, nkeys, false);
        rc = label ? error_at(err, NULL, 0,
                              "stragsim check: --intervals needs repeats (experiment.repeats >= "
                              "2): %s has one run in %s",
                              label, nb < 2 ? base_path : db_path)
                   : -1;
        free(label);
    }
    for (size_t i = 0; !rc && i < nbase; i++) {
        size_t p = bpoint[i];
        bool first = true; /* compare each point once, at its first run */
        for (size_t j = 0; j < i && first; j++)
            first = bpoint[j] != p;
        if (!first)
            continue;
        char *label = match_label(&base[i], keys, nkeys, false);
        if (!label) {
            rc = -1;
            break;
        }
        sum->points++;
        if (dmatch[p] < 0) {
            missing_point(out, opt, label, sum);
        } else {
            point_compare(base, nbase, bpoint, p, now, nnow, dpoint, (size_t)dmatch[p], &base[i],
                          label, opt, bv, dv, out, sum);
        }
        free(label);
    }
    /* db points none of whose runs a baseline run matched */
    for (size_t q = 0; !rc && q < ndp; q++) {
        bool hit = false;
        for (size_t j = 0; j < nnow && !hit; j++)
            hit = dpoint[j] == q && taken[j];
        sum->unmatched += !hit;
    }
    if (rc < 0)
        rc = error_fail(err, "out of memory");
    free(bpoint);
    free(dpoint);
    free(dmatch);
    free(bv);
    free(dv);
    return rc;
}

static int tolerances_check(const struct results_run *base, size_t nbase,
                            const struct check_options *opt, struct error *err)
{
    for (size_t t = 0; t < opt->nper_metric; t++) {
        double ignored;
        bool found = false;
        for (size_t i = 0; i < nbase && !found; i++)
            found = metric_list_find(&base[i].metrics, opt->per_metric[t].metric, &ignored);
        if (!found)
            return error_at(err, NULL, 0,
                            "stragsim check: --metric: no metric '%s' in the baseline",
                            opt->per_metric[t].metric);
    }
    return 0;
}

int check_compare(struct results *db, struct results *baseline, const struct check_options *opt,
                  FILE *out, struct check_summary *sum, struct error *err)
{
    *sum = (struct check_summary){0};
    struct results_run *base = NULL, *now = NULL;
    size_t nbase = 0, nnow = 0;
    int rc = results_read_runs(baseline, &base, &nbase, err);
    if (!rc)
        rc = results_read_runs(db, &now, &nnow, err);
    if (!rc && nbase == 0)
        rc = error_at(err, results_path(baseline), 0, "no runs to compare against");
    if (!rc)
        rc = tolerances_check(base, nbase, opt, err);
    if (rc) {
        results_runs_free(base, nbase);
        results_runs_free(now, nnow);
        return rc;
    }

    ptrdiff_t *match = malloc(nbase * sizeof *match);
    bool *taken = calloc(nnow ? nnow : 1, sizeof *taken);
    const struct results_run **base_ptrs = malloc(nbase * sizeof *base_ptrs);
    const char **keys = NULL;
    size_t nkeys = 0;
    bool repeat_varies = false, oom = !match || !taken || !base_ptrs;
    for (size_t i = 0; !oom && i < nbase; i++)
        base_ptrs[i] = &base[i];
    if (!oom)
        oom = report_varying_params(base_ptrs, nbase, &keys, &nkeys, &repeat_varies) != 0;
    if (!oom)
        oom = match_runs(base, nbase, now, nnow, match, taken) != 0;
    if (!oom && opt->intervals)
        rc = intervals_compare(base, nbase, now, nnow, match, taken, keys, nkeys, opt,
                               results_path(baseline), results_path(db), out, sum, err);

    for (size_t i = 0; !oom && !opt->intervals && i < nbase; i++) {
        char *label = match_label(&base[i], keys, nkeys, repeat_varies);
        if (!label) {
            oom = true;
            break;
        }
        sum->points++;
        if (match[i] < 0) {
            missing_point(out, opt, label, sum);
        } else {
            run_compare(&base[i], &now[match[i]], label, opt, out, sum);
        }
        free(label);
    }
    for (size_t j = 0; !oom && !opt->intervals && j < nnow; j++)
        sum->unmatched += !taken[j];

    free(keys);
    free(base_ptrs);
    free(taken);
    free(match);
    results_runs_free(base, nbase);
    results_runs_free(now, nnow);
    return oom ? error_fail(err, "out of memory") : rc;
}
