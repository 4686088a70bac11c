/* advise_spec.c: the [advise] section of a config (objective, constraints,
 * schemes, budget, batches) read and checked, and the candidates it asks
 * for: every listed scheme's search grid (scheme.h) crossed with the
 * config's sweep points. It runs nothing (advise_search.c does). */
#include "app/advise.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "schemes/scheme.h"
#include "workloads/workload.h"

const struct config_key advise_keys[] = {
    {"advise.objective", KEY_ENUM, "latency_p99", 0, 0, 0,
     "latency_p99|latency_mean|latency_p50|latency_p999|worker_seconds|time_to_target",
     "advise: the metric the advice minimises (time_to_target: training)"},
    {"advise.constraints", KEY_STRING, NULL, 0, 0, 0, NULL,
     "advise: what the advice must meet, comma-separated METRIC >= X or METRIC <= X "
     "(e.g. accuracy >= 0.88, latency_p99 <= 2)"},
    {"advise.schemes", KEY_STRING, NULL, 0, 0, 0, NULL,
     "advise: the schemes to consider, comma-separated (default: every scheme that runs the "
     "workload)"},
    {"advise.budget", KEY_REAL, "600", 0, INFINITY, KEY_MIN_OPEN, NULL,
     "advise: seconds of computing the search may spend (checked between rounds)"},
    {"advise.batches", KEY_INT, "3", 2, 10000, 0, NULL,
     "advise: batches (repeats of workload.jobs jobs) of every candidate in the first round"},
    {"advise.max_batches", KEY_INT, "48", 2, 1000000, 0, NULL,
     "advise: the most batches any candidate gets"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

/* The metrics each workload stores that advise can minimise or constrain,
 * and the one that is its accuracy (NULL: none). */
static const struct {
    const char *workload, *accuracy;
    const char *metrics[12];
} workload_metrics[] = {
    {"latency", NULL,
     {"latency_mean", "latency_p50", "latency_p99", "latency_p999", "worker_seconds", NULL}},
    {"inference", "accuracy",
     {"latency_mean", "latency_p50", "latency_p99", "latency_p999", "worker_seconds", "accuracy",
      "agreement", "rmse", NULL}},
    {"training", "final_accuracy",
     {"time_to_target", "final_accuracy", "final_loss", "latency_mean", "latency_p99",
      "worker_seconds", "sim_time", NULL}},
};

static int workload_row(const char *workload)
{
    for (size_t i = 0; i < sizeof workload_metrics / sizeof workload_metrics[0]; i++)
        if (strcmp(workload_metrics[i].workload, workload) == 0)
            return (int)i;
    return -1;
}

static bool metric_known(int row, const char *metric)
{
    for (const char *const *m = workload_metrics[row].metrics; *m; m++)
        if (strcmp(*m, metric) == 0)
            return true;
    return false;
}

/* The known metrics of a workload, "a, b, c", for messages. */
static void metric_names(int row, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *const *m = workload_metrics[row].metrics; *m && used < len; m++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "", *m);
}

/* Trims blanks at both ends of s[0..n) in place: returns the start, *n the new length. */
static const char *trim(const char *s, size_t *n)
{
    while (*n && isspace((unsigned char)*s))
        s++, (*n)--;
    while (*n && isspace((unsigned char)s[*n - 1]))
        (*n)--;
    return s;
}

/* One "METRIC >= X" or "METRIC <= X" of advise.constraints. */
static int constraint_parse(const struct params *p, int row, const char *text, size_t n,
                            struct advise_constraint *c, struct error *err)
{
    text = trim(text, &n);
    const char *op = NULL;
    for (size_t i = 0; i + 1 < n; i++)
        if ((text[i] == '>' || text[i] == '<') && text[i + 1] == '=') {
            op = text + i;
            break;
        }
    if (!op)
        return error_at_key(err, p, "advise.constraints",
                            "expected METRIC >= X or METRIC <= X, got '%.*s'", (int)n, text);
    size_t mlen = (size_t)(op - text);
    const char *metric = trim(text, &mlen);
    if (mlen == 0 || mlen >= sizeof c->metric)
        return error_at_key(err, p, "advise.constraints", "no metric before '%.2s' in '%.*s'", op,
                            (int)n, text);
    snprintf(c->metric, sizeof c->metric, "%.*s", (int)mlen, metric);
    if (!metric_known(row, c->metric)) {
        char names[512];
        metric_names(row, names, sizeof names);
        return error_at_key(err, p, "advise.constraints",
                            "unknown metric '%s' for the %s workload (known: %s)", c->metric,
                            workload_metrics[row].workload, names);
    }
    c->at_least = op[0] == '>';
    size_t blen = n - (size_t)(op + 2 - text);
    const char *bound = trim(op + 2, &blen);
    char buf[64], *end;
    snprintf(buf, sizeof buf, "%.*s", (int)(blen < sizeof buf ? blen : sizeof buf - 1), bound);
    c->bound = strtod(buf, &end);
    if (blen == 0 || blen >= sizeof buf || *end || !isfinite(c->bound))
        return error_at_key(err, p, "advise.constraints", "expected a number after '%.2s', got "
                            "'%.*s'", op, (int)blen, bound);
    return 0;
}

static int constraints_parse(const struct params *p, int row, struct advise_spec *s,
                             struct error *err)
{
    const char *text = params_get(p, "advise.constraints");
    while (text && *text) {
        size_t n = strcspn(text, ",");
        size_t t = n;
        trim(text, &t);
        if (t == 0)
            return error_at_key(err, p, "advise.constraints", "empty constraint in '%s'",
                                params_get(p, "advise.constraints"));
        if (s->nconstraints == ADVISE_CONSTRAINTS_MAX)
            return error_at_key(err, p, "advise.constraints", "more than %d constraints",
                                ADVISE_CONSTRAINTS_MAX);
        int status = constraint_parse(p, row, text, n, &s->constraints[s->nconstraints++], err);
        if (status)
            return status;
        text += n + (text[n] == ',');
    }
    return 0;
}

/* advise.schemes, or every scheme that runs the workload. */
static int schemes_parse(const struct params *p, const struct workload_ops *wl,
                         struct advise_spec *s, struct error *err)
{
    const char *text = params_get(p, "advise.schemes");
    if (!text) {
        for (const struct scheme_ops *const *ops = scheme_registry; *ops; ops++) {
            struct params *q = params_copy(p);
            const struct scheme_ops *found;
            struct error ignored;
            int serves = q && !params_set(q, "scheme.kind", (*ops)->name, NULL, 0) &&
                         !scheme_for_workload(q, wl->scheme_bit, wl->name, &found, &ignored);
            params_free(q);
            if (serves && s->nschemes < ADVISE_SCHEMES_MAX)
                s->schemes[s->nschemes++] = (*ops)->name;
        }
        return 0;
    }
    while (*text) {
        size_t n = strcspn(text, ","), t = n;
        const char *name = trim(text, &t);
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)(t < sizeof buf ? t : sizeof buf - 1), name);
        const struct scheme_ops *ops = t && t < sizeof buf ? scheme_find(buf) : NULL;
        if (!ops)
            return error_at_key(err, p, "advise.schemes", "unknown scheme '%.*s'", (int)t, name);
        struct params *q = params_copy(p);
        int status = q && !params_set(q, "scheme.kind", ops->name, NULL, 0) ? 0 : -1;
        const struct scheme_ops *found;
        struct error why;
        if (!status && scheme_for_workload(q, wl->scheme_bit, wl->name, &found, &why))
            status = error_at_key(err, p, "advise.schemes",
                                  "scheme '%s' does not run the %s workload", ops->name, wl->name);
        params_free(q);
        if (status)
            return status > 0 ? status : error_fail(err, "out of memory");
        for (size_t i = 0; i < s->nschemes; i++)
            if (strcmp(s->schemes[i], ops->name) == 0)
                return error_at_key(err, p, "advise.schemes", "scheme '%s' listed twice",
                                    ops->name);
        if (s->nschemes == ADVISE_SCHEMES_MAX)
            return error_at_key(err, p, "advise.schemes", "more than %d schemes",
                                ADVISE_SCHEMES_MAX);
        s->schemes[s->nschemes++] = ops->name;
        text += n + (text[n] == ',');
    }
    return 0;
}

/* Adds metric name to the tracked list (once); returns its index. */
static size_t metric_track(struct advise_spec *s, const char *name)
{
    for (size_t i = 0; i < s->nmetrics; i++)
        if (strcmp(s->metrics[i], name) == 0)
            return i;
    s->metrics[s->nmetrics] = name;
    return s->nmetrics++;
}

/* An [advise] key's value, or its default (the config loader fills only
 * the run's keys' defaults). */
static const char *advise_value(const struct params *p, const char *key)
{
    const char *v = params_get(p, key);
    return v ? v : config_key_find(advise_keys, key)->default_value;
}

int advise_spec_load(const struct config *c, struct advise_spec *s, struct error *err)
{
    memset(s, 0, sizeof *s);
    const struct params *p = config_base(c);
    const char *kind = params_get(p, "workload.kind");
    const struct workload_ops *wl = workload_find(kind);
    int row = kind ? workload_row(kind) : -1;
    if (!wl || row < 0)
        return error_at_key(err, p, "workload.kind", "stragsim advise does not advise on the %s "
                            "workload (latency, inference, training)", kind ? kind : "(unset)");
    snprintf(s->objective, sizeof s->objective, "%s", advise_value(p, "advise.objective"));
    if (!metric_known(row, s->objective)) {
        char names[512];
        metric_names(row, names, sizeof names);
        return error_at_key(err, p, "advise.objective",
                            "the %s workload has no metric '%s' (known: %s)", kind, s->objective,
                            names);
    }
    int status = constraints_parse(p, row, s, err);
    if (!status)
        status = schemes_parse(p, wl, s, err);
    if (status)
        return status;
    if (s->nschemes == 0)
        return error_at_key(err, p, "workload.kind", "no scheme runs the %s workload", kind);
    s->budget = strtod(advise_value(p, "advise.budget"), NULL);
    s->first_batches = strtol(advise_value(p, "advise.batches"), NULL, 10);
    s->max_batches = strtol(advise_value(p, "advise.max_batches"), NULL, 10);
    if (s->max_batches < s->first_batches)
        return error_at_key(err, p, "advise.max_batches", "%ld is less than advise.batches (%ld)",
                            s->max_batches, s->first_batches);
    bool training = wl->scheme_bit == SCHEME_TRAINING;
    s->jobs = params_int(p, training ? "workload.iterations" : "workload.jobs");
    s->unit = training ? "iterations" : "jobs";
    metric_track(s, s->objective);
    s->worker_seconds_at = metric_track(s, "worker_seconds");
    s->accuracy_at = workload_metrics[row].accuracy
                         ? metric_track(s, workload_metrics[row].accuracy)
                         : SIZE_MAX;
    for (size_t i = 0; i < s->nconstraints; i++)
        metric_track(s, s->constraints[i].metric);
    return 0;
}

/* ---- the grids ---- */

/* One value of a grid item: a number, n, n-I or n/I. */
static bool grid_value(const char *text, size_t len, long workers, double *out)
{
    char buf[64], *end;
    if (len == 0 || len >= sizeof buf)
        return false;
    snprintf(buf, sizeof buf, "%.*s", (int)len, text);
    if (buf[0] != 'n') {
        *out = strtod(buf, &end);
        return !*end && isfinite(*out);
    }
    if (!buf[1]) {
        *out = (double)workers;
        return true;
    }
    long i = strtol(buf + 2, &end, 10);
    if (*end || i <= 0 || (buf[1] != '-' && buf[1] != '/'))
        return false;
    *out = buf[1] == '-' ? (double)(workers - i) : fmax(1.0, (double)(workers / i));
    return true;
}

/* The values of one search axis at a cluster of `workers`, as text, into
 * vals (at most max). Returns how many, or -1 for a malformed table (a
 * programming error, reported as such). */
static int grid_expand(const char *spec, long workers, char vals[][32], int max)
{
    int n = 0;
    while (*spec) {
        size_t len = strcspn(spec, ",");
        const char *dots = strstr(spec, "..");
        if (dots && (size_t)(dots - spec) < len) {
            double a, b;
            if (!grid_value(spec, (size_t)(dots - spec), workers, &a) ||
                !grid_value(dots + 2, len - (size_t)(dots + 2 - spec), workers, &b))
                return -1;
            for (long v = (long)a; v <= (long)b && n < max; v++)
                snprintf(vals[n++], 32, "%ld", v);
        } else {
            double v;
            if (!grid_value(spec, len, workers, &v) || n >= max)
                return -1;
            snprintf(vals[n++], 32, "%.*s", (int)len, spec);
            if (spec[0] == 'n')
                snprintf(vals[n - 1], 32, "%.0f", v);
        }
        spec += len + (spec[len] == ',');
    }
    return n;
}

enum { GRID_VALUES_MAX = 64, GRID_AXES_MAX = 4 };

static int candidate_add(struct advise_candidate **cands, size_t *n, size_t *cap,
                         const char *label, char *const *sets, size_t nsets)
{
    if (*n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 32;
        struct advise_candidate *g = realloc(*cands, ncap * sizeof *g);
        if (!g)
            return -1;
        *cands = g;
        *cap = ncap;
    }
    struct advise_candidate *a = &(*cands)[*n];
    memset(a, 0, sizeof *a);
    a->dropped_round = -1;
    snprintf(a->label, sizeof a->label, "%s", label);
    if (!(a->sets = calloc(nsets, sizeof *a->sets)))
        return -1;
    (*n)++;
    for (size_t i = 0; i < nsets; i++, a->nsets++)
        if (!(a->sets[i] = strdup(sets[i])))
            return -1;
    return 0;
}

/* The candidates of one scheme at one sweep point (whose --set lines are
 * point_sets, label point_label). */
static int scheme_candidates(const struct scheme_ops *ops, long workers, char *const *point_sets,
                             size_t npoint, const char *point_label,
                             struct advise_candidate **cands, size_t *n, size_t *cap,
                             struct error *err)
{
    static char vals[GRID_AXES_MAX][GRID_VALUES_MAX][32];
    int nvals[GRID_AXES_MAX], naxes = 0;
    for (const struct scheme_search_axis *ax = ops->search; ax && ax->key; ax++) {
        if (naxes == GRID_AXES_MAX ||
            (nvals[naxes] = grid_expand(ax->values, workers, vals[naxes], GRID_VALUES_MAX)) < 0)
            return error_fail(err, "scheme %s: malformed search grid for %s", ops->name, ax->key);
        naxes++;
    }
    int index[GRID_AXES_MAX] = {0};
    for (int a = 0; a < naxes; a++)
        if (nvals[a] == 0)
            return 0;
    char *sets[GRID_AXES_MAX + 64];
    char setbuf[GRID_AXES_MAX + 1][160];
    for (;;) {
        size_t ns = 0;
        for (size_t i = 0; i < npoint && ns < 64; i++)
            sets[ns++] = point_sets[i];
        snprintf(setbuf[0], sizeof setbuf[0], "scheme.kind=%s", ops->name);
        sets[ns++] = setbuf[0];
        char label[256];
        size_t used = (size_t)snprintf(label, sizeof label, "%s", ops->name);
        const struct scheme_search_axis *ax = ops->search;
        for (int a = 0; a < naxes; a++, ax++) {
            snprintf(setbuf[a + 1], sizeof setbuf[a + 1], "%s=%s", ax->key, vals[a][index[a]]);
            sets[ns++] = setbuf[a + 1];
            if (used < sizeof label)
                used += (size_t)snprintf(label + used, sizeof label - used, " %s=%s",
                                         ax->key + strlen("scheme."), vals[a][index[a]]);
        }
        if (used < sizeof label && point_label[0])
            snprintf(label + used, sizeof label - used, " (%s)", point_label);
        if (candidate_add(cands, n, cap, label, sets, ns))
            return error_fail(err, "out of memory");
        int a = naxes - 1; /* last axis fastest */
        while (a >= 0 && ++index[a] == nvals[a])
            index[a--] = 0;
        if (a < 0)
            return 0;
    }
}

int advise_candidates(const struct config *c, const struct advise_spec *s,
                      struct advise_candidate **out, size_t *n, struct error *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    /* the sweep's points, repeats aside: every axis becomes a --set */
    size_t points = config_points(c) / (size_t)params_int(config_base(c), "experiment.repeats");
    size_t repeats = (size_t)params_int(config_base(c), "experiment.repeats");
    int status = 0;
    for (size_t pt = 0; !status && pt < points; pt++) {
        struct params *p;
        int repeat;
        char *key;
        status = config_point(c, pt * repeats, &p, &repeat, &key, err);
        if (status)
            break;
        free(key);
        char *point_sets[64], label[256] = "";
        size_t np = 0, used = 0;
        for (size_t a = 0; a < config_axes(c) && np < 64; a++) {
            const char *k = config_axis_key(c, a), *v = params_get(p, k);
            size_t len = strlen(k) + strlen(v) + 2;
            if (!(point_sets[np] = malloc(len))) {
                status = error_fail(err, "out of memory");
                break;
            }
            snprintf(point_sets[np++], len, "%s=%s", k, v);
            if (used < sizeof label)
                used += (size_t)snprintf(label + used, sizeof label - used, "%s%s=%s",
                                         used ? " " : "", k, v);
        }
        long workers = params_int(p, "cluster.workers");
        for (size_t i = 0; !status && i < s->nschemes; i++)
            status = scheme_candidates(scheme_find(s->schemes[i]), workers, point_sets, np, label,
                                       out, n, &cap, err);
        for (size_t i = 0; i < np; i++)
            free(point_sets[i]);
        params_free(p);
    }
    if (status) {
        advise_candidates_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return status;
}

void advise_candidates_free(struct advise_candidate *cands, size_t n)
{
    for (size_t i = 0; cands && i < n; i++) {
        for (size_t j = 0; j < cands[i].nsets; j++)
            free(cands[i].sets[j]);
        free(cands[i].sets);
        for (size_t m = 0; m < ADVISE_METRICS_MAX; m++)
            free(cands[i].values[m]);
    }
    free(cands);
}
