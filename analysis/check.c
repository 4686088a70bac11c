/* check.c: matches the runs of a results database to those of a baseline and
 * compares their metrics (rules in check.h). Argument parsing and the final
 * summary line live in app/cmd_check.c. */
#include "analysis/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/aggregate.h"
#include "analysis/report.h"
#include "base/metrics.h"

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

/* "k=v k=v repeat=r" over the params that tell the baseline runs apart (those
 * this run has), or "point KEY" when nothing does. */
static char *point_label(const struct results_run *run, const char *const *keys, size_t nkeys,
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

static const struct check_tolerance *tolerance_find(const struct check_options *opt,
                                                    const char *metric)
{
    for (size_t i = 0; i < opt->nper_metric; i++)
        if (strcmp(opt->per_metric[i].metric, metric) == 0)
            return &opt->per_metric[i];
    return NULL;
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
            fprintf(out, "regression: %s: %s: baseline %s, new missing\n", label, name, sb);
            sum->regressions++;
            continue;
        }
        if (values_close(b, x, rtol, opt->atol))
            continue;
        format_exact(x, sx, sizeof sx);
        double rel = fabs(x - b) / fabs(b); /* inf for b = 0, nan when either is nan */
        fprintf(out, "regression: %s: %s: baseline %s, new %s, rel diff %.3g\n", label, name, sb,
                sx, rel);
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

/* Points of the runs (aggregate_group_runs on an array of runs). */
static int runs_group(const struct results_run *runs, size_t n, size_t *point, size_t *npoints)
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
            fprintf(out, "regression: %s: %s: baseline %s ± %s (n=%zu), new missing\n", label,
                    name, sb, sbh, b.n);
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
        fprintf(out,
                "regression: %s: %s: baseline %s ± %s (n=%zu), new %s ± %s (n=%zu): 95%% "
                "intervals do not overlap\n",
                label, name, sb, sbh, b.n, sd, sdh, d.n);
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
        rc = runs_group(base, nbase, bpoint, &nbp) || runs_group(now, nnow, dpoint, &ndp) ? -1 : 0;
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
        char *label = point_label(&base[i], keys, nkeys, false);
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
        char *label = point_label(&base[i], keys, nkeys, false);
        if (!label) {
            rc = -1;
            break;
        }
        sum->points++;
        if (dmatch[p] < 0) {
            fprintf(out, "regression: %s: missing from DB\n", label);
            sum->regressions++;
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
static int runs_match(const struct results_run *base, size_t nbase, const struct results_run *db,
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
        oom = runs_match(base, nbase, now, nnow, match, taken) != 0;
    if (!oom && opt->intervals)
        rc = intervals_compare(base, nbase, now, nnow, match, taken, keys, nkeys, opt,
                               results_path(baseline), results_path(db), out, sum, err);

    for (size_t i = 0; !oom && !opt->intervals && i < nbase; i++) {
        char *label = point_label(&base[i], keys, nkeys, repeat_varies);
        if (!label) {
            oom = true;
            break;
        }
        sum->points++;
        if (match[i] < 0) {
            fprintf(out, "regression: %s: missing from DB\n", label);
            sum->regressions++;
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
