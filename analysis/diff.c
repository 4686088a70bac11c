/* diff.c: the side-by-side comparison of two results databases (see
 * diff.h): match, fold repeats, then a text table or JSON. */
#include "analysis/diff.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/aggregate.h"
#include "analysis/json.h"
#include "analysis/match.h"
#include "analysis/report.h"

/* One side: its runs, the point of each run, how many points. */
struct side {
    const char *path;
    struct results_run *runs;
    size_t nruns, *point, npoints;
};

/* The interval of metric `name` over the runs of point pt of side s
 * (vals has room for every run); n 0 when no run has the metric. */
static void side_ci(const struct side *s, size_t pt, const char *name, double *vals,
                    struct ci *ci)
{
    size_t k = 0;
    for (size_t i = 0; i < s->nruns; i++)
        if (s->point[i] == pt && metric_list_find(&s->runs[i].metrics, name, &vals[k]))
            k++;
    aggregate_ci(vals, k, ci);
}

/* The first run of point pt. */
static const struct results_run *side_first(const struct side *s, size_t pt)
{
    for (size_t i = 0; i < s->nruns; i++)
        if (s->point[i] == pt)
            return &s->runs[i];
    return NULL;
}

static bool metric_wanted(const struct diff_options *opt, const char *name)
{
    for (size_t i = 0; i < opt->nmetrics; i++)
        if (strcmp(opt->metrics[i], name) == 0)
            return true;
    return opt->nmetrics == 0;
}

/* "0.5", or "0.5 ± 0.02 (n=3)" for an interval; "-" when missing. */
static void cell_value(const struct ci *c, char *buf, size_t len)
{
    if (c->n == 0)
        snprintf(buf, len, "-");
    else if (c->n == 1 || !isfinite(c->half_width))
        snprintf(buf, len, "%.6g", c->mean);
    else
        snprintf(buf, len, "%.6g ± %.2g (n=%zu)", c->mean, c->half_width, c->n);
}

/* Overlap of two intervals: 1 yes, 0 no, -1 not applicable (a side without
 * repeats). Equal means overlap (also NaN = NaN). */
static int ci_overlap(const struct ci *a, const struct ci *b)
{
    if (a->n < 2 || b->n < 2)
        return -1;
    if (a->mean == b->mean || (isnan(a->mean) && isnan(b->mean)))
        return 1;
    return fabs(a->mean - b->mean) <= a->half_width + b->half_width;
}

/* A text table built row by row, then printed with aligned columns. */
enum { NCOLS = 6 };
struct table {
    char **cells; /* row-major, NCOLS per row */
    size_t rows, cap;
};

static int table_add(struct table *t, const char *const cols[NCOLS])
{
    if (t->rows == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 32;
        char **grown = realloc(t->cells, nc * NCOLS * sizeof *grown);
        if (!grown)
            return -1;
        t->cells = grown;
        t->cap = nc;
    }
    for (int c = 0; c < NCOLS; c++)
        if (!(t->cells[t->rows * NCOLS + c] = strdup(cols[c])))
            return -1;
    t->rows++;
    return 0;
}

/* Display width: "±" is two bytes, one column. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

static void table_print(const struct table *t, FILE *out)
{
    size_t width[NCOLS] = {0};
    for (size_t r = 0; r < t->rows; r++)
        for (int c = 0; c < NCOLS; c++) {
            size_t w = text_width(t->cells[r * NCOLS + c]);
            width[c] = w > width[c] ? w : width[c];
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (int c = 0; c < NCOLS; c++) {
            const char *s = t->cells[r * NCOLS + c];
            bool last = c == NCOLS - 1;
            fputs(s, out);
            for (size_t k = text_width(s); !last && k < width[c] + 2; k++)
                fputc(' ', out);
        }
        fputc('\n', out);
    }
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->rows * NCOLS; i++)
        free(t->cells[i]);
    free(t->cells);
}

/* One metric of one matched point, as a table row or a JSON object. */
static int metric_row(const char *label, const char *name, const struct ci *ca,
                      const struct ci *cb, bool first, const struct diff_options *opt,
                      struct table *t, FILE *out)
{
    double diff = ca->n && cb->n ? cb->mean - ca->mean : NAN;
    int overlap = ci_overlap(ca, cb);
    if (opt->json) {
        fputs(first ? "" : ", ", out);
        fputs("{\"name\": ", out);
        json_string(out, name);
        const struct ci *sides[2] = {ca, cb};
        for (int s = 0; s < 2; s++) {
            fputs(s ? ", \"b\": " : ", \"a\": ", out);
            if (sides[s]->n == 0) {
                fputs("null", out);
                continue;
            }
            fputs("{\"mean\": ", out);
            json_number(out, sides[s]->mean);
            fputs(", \"half_width\": ", out);
            json_number(out, sides[s]->half_width);
            fprintf(out, ", \"n\": %zu}", sides[s]->n);
        }
        fputs(", \"diff\": ", out);
        json_number(out, diff);
        fprintf(out, ", \"overlap\": %s}", overlap < 0 ? "null" : overlap ? "true" : "false");
        return 0;
    }
    char a[64], b[64], d[32];
    cell_value(ca, a, sizeof a);
    cell_value(cb, b, sizeof b);
    if (isnan(diff))
        snprintf(d, sizeof d, "-");
    else
        snprintf(d, sizeof d, "%+.6g", diff);
    const char *cols[NCOLS] = {first ? label : "", name, a, b, d,
                               overlap < 0 ? "-" : overlap ? "yes" : "no"};
    return table_add(t, cols);
}

/* Every metric of matched points pa (side A) and pb (side B): A's first,
 * then those only B has. */
static int point_rows(const struct side *a, size_t pa, const struct side *b, size_t pb,
                      const char *label, const struct diff_options *opt, double *vals,
                      struct table *t, FILE *out)
{
    const struct results_run *ra = side_first(a, pa), *rb = side_first(b, pb);
    bool first = true;
    for (int s = 0; s < 2; s++) {
        const struct results_run *rep = s ? rb : ra;
        for (size_t m = 0; m < rep->metrics.n; m++) {
            const char *name = rep->metrics.names[m];
            double ignored;
            if (!metric_wanted(opt, name) || (s && metric_list_find(&ra->metrics, name, &ignored)))
                continue;
            struct ci ca, cb;
            side_ci(a, pa, name, vals, &ca);
            side_ci(b, pb, name, vals, &cb);
            if (metric_row(label, name, &ca, &cb, first, opt, t, out))
                return -1;
            first = false;
        }
    }
    return 0;
}

static int side_read(struct results *r, struct side *s, struct error *err)
{
    s->path = results_path(r);
    int rc = results_read_runs(r, &s->runs, &s->nruns, err);
    if (rc)
        return rc;
    if (!(s->point = malloc((s->nruns ? s->nruns : 1) * sizeof *s->point)) ||
        match_group_points(s->runs, s->nruns, s->point, &s->npoints))
        return error_fail(err, "out of memory");
    return 0;
}

static void side_free(struct side *s)
{
    results_runs_free(s->runs, s->nruns);
    free(s->point);
}

static int metrics_check(const struct side *a, const struct side *b,
                         const struct diff_options *opt, struct error *err)
{
    for (size_t k = 0; k < opt->nmetrics; k++) {
        double ignored;
        bool found = false;
        for (size_t i = 0; i < a->nruns && !found; i++)
            found = metric_list_find(&a->runs[i].metrics, opt->metrics[k], &ignored);
        for (size_t i = 0; i < b->nruns && !found; i++)
            found = metric_list_find(&b->runs[i].metrics, opt->metrics[k], &ignored);
        if (!found)
            return error_at(err, NULL, 0, "stragsim diff: --metrics: no metric '%s' in %s or %s",
                            opt->metrics[k], a->path, b->path);
    }
    return 0;
}

/* Lists the points of side s (by first run) whose flag is false. */
static int unmatched_write(const struct side *s, const bool *hit, const char *const *keys,
                           size_t nkeys, bool json, size_t *count, FILE *out)
{
    bool first = true;
    for (size_t p = 0; p < s->npoints; p++) {
        if (hit[p])
            continue;
        char *label = match_label(side_first(s, p), keys, nkeys, false);
        if (!label)
            return -1;
        if (json) {
            fputs(first ? "" : ", ", out);
            json_string(out, label);
        } else {
            fprintf(out, "only in %s: %s\n", s->path, label);
        }
        first = false;
        (*count)++;
        free(label);
    }
    return 0;
}

int diff_write(struct results *ra, struct results *rb, const struct diff_options *opt, FILE *out,
               struct diff_summary *sum, struct error *err)
{
    *sum = (struct diff_summary){0};
    struct side a = {0}, b = {0};
    int status = side_read(ra, &a, err);
    if (!status)
        status = side_read(rb, &b, err);
    if (!status)
        status = metrics_check(&a, &b, opt, err);
    ptrdiff_t *match = NULL, *bmatch = NULL;
    bool *taken = NULL, *ahit = NULL, *bhit = NULL;
    const struct results_run **all = NULL;
    const char **keys = NULL;
    size_t nkeys = 0;
    double *vals = NULL;
    struct table t = {0};
    bool oom = false;
    if (!status) {
        match = malloc((a.nruns ? a.nruns : 1) * sizeof *match);
        taken = calloc(b.nruns ? b.nruns : 1, sizeof *taken);
        bmatch = malloc((a.npoints ? a.npoints : 1) * sizeof *bmatch);
        ahit = calloc(a.npoints ? a.npoints : 1, sizeof *ahit);
        bhit = calloc(b.npoints ? b.npoints : 1, sizeof *bhit);
        all = malloc((a.nruns + b.nruns + 1) * sizeof *all);
        vals = malloc((a.nruns + b.nruns + 1) * sizeof *vals);
        oom = !match || !taken || !bmatch || !ahit || !bhit || !all || !vals;
    }
    if (!status && !oom)
        oom = match_runs(a.runs, a.nruns, b.runs, b.nruns, match, taken) != 0;
    if (!status && !oom) {
        /* labels use the params that vary over both databases */
        for (size_t i = 0; i < a.nruns; i++)
            all[i] = &a.runs[i];
        for (size_t i = 0; i < b.nruns; i++)
            all[a.nruns + i] = &b.runs[i];
        bool repeat_varies;
        oom = match_label_keys(all, a.nruns + b.nruns, &keys, &nkeys, &repeat_varies) != 0;
        for (size_t p = 0; p < a.npoints; p++)
            bmatch[p] = -1;
        for (size_t i = 0; !oom && i < a.nruns; i++)
            if (match[i] >= 0 && bmatch[a.point[i]] < 0) {
                bmatch[a.point[i]] = (ptrdiff_t)b.point[match[i]];
                ahit[a.point[i]] = bhit[b.point[match[i]]] = true;
            }
    }
    if (!status && !oom && opt->json) {
        fputs("{\"a\": ", out);
        json_string(out, a.path);
        fputs(", \"b\": ", out);
        json_string(out, b.path);
        fputs(", \"points\": [", out);
    } else if (!status && !oom) {
        const char *head[NCOLS] = {"point", "metric", a.path, b.path, "B - A", "overlap"};
        oom = table_add(&t, head) != 0;
    }
    for (size_t p = 0; !status && !oom && p < a.npoints; p++) {
        if (bmatch[p] < 0)
            continue;
        const struct results_run *rep = side_first(&a, p);
        char *label = match_label(rep, keys, nkeys, false);
        if (!label) {
            oom = true;
            break;
        }
        if (opt->json) {
            fputs(sum->matched ? ",\n  {\"point\": " : "\n  {\"point\": ", out);
            json_string(out, label);
            fputs(", \"params\": {", out);
            size_t shown = 0;
            for (size_t k = 0; k < nkeys; k++) {
                const char *v = params_get(rep->params, keys[k]);
                if (!v)
                    continue;
                fputs(shown++ ? ", " : "", out);
                json_string(out, keys[k]);
                fputs(": ", out);
                json_value(out, v);
            }
            fputs("}, \"metrics\": [", out);
        }
        oom = point_rows(&a, p, &b, (size_t)bmatch[p], label, opt, vals, &t, out) != 0;
        if (opt->json)
            fputs("]}", out);
        sum->matched++;
        free(label);
    }
    if (!status && !oom) {
        if (opt->json)
            fputs(sum->matched ? "\n], \"only_a\": [" : "], \"only_a\": [", out);
        else
            table_print(&t, out);
        oom = unmatched_write(&a, ahit, keys, nkeys, opt->json, &sum->only_a, out) != 0;
        if (opt->json)
            fputs("], \"only_b\": [", out);
        oom = oom || unmatched_write(&b, bhit, keys, nkeys, opt->json, &sum->only_b, out) != 0;
        if (opt->json)
            fputs("]}\n", out);
    }
    table_free(&t);
    free(keys);
    free(all);
    free(vals);
    free(match);
    free(taken);
    free(bmatch);
    free(ahit);
    free(bhit);
    side_free(&a);
    side_free(&b);
    return oom && !status ? error_fail(err, "out of memory") : status;
}
