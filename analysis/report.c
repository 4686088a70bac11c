/* report.c: builds the `stragsim report` table from the runs of a results
 * database (select with filters, choose param and metric columns, sort) and
 * prints it as text, CSV or markdown. Argument parsing lives in
 * app/cmd_report.c; reading the database in results.c. */
#include "analysis/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/aggregate.h"
#include "analysis/html_escape.h"
#include "analysis/json.h"
#include "base/metrics.h"

/* Metrics shown when --metrics is not given, in this order, each only when
 * some selected run has it. */
static const char *const default_metrics[] = {
    "jobs", "latency_mean", "latency_p50", "latency_p99", "latency_p999", "worker_seconds",
    "accuracy", "agreement", "rmse", "available_accuracy", "degraded_accuracy",
    "reconstruction_accuracy", "iterations", "iteration_time_mean", "final_loss",
    "final_accuracy", "time_to_target", NULL,
};

/* A finished table: ncols columns, nrows rows, cells row-major (row r, column
 * c at cells[r * ncols + c]); a NULL cell is a value the run does not have. */
struct report_table {
    size_t ncols, nrows;
    char **header;
    bool *numeric; /* right-aligned column */
    char **cells;
};

static void table_free(struct report_table *t)
{
    for (size_t i = 0; t->header && i < t->ncols; i++)
        free(t->header[i]);
    for (size_t i = 0; t->cells && i < t->ncols * t->nrows; i++)
        free(t->cells[i]);
    free(t->header);
    free(t->numeric);
    free(t->cells);
}

static bool parse_number(const char *s, double *x)
{
    if (!s || !*s)
        return false;
    char *end;
    *x = strtod(s, &end);
    return *end == '\0';
}

/* Text equality, or numeric equality when both sides are numbers ("2" = "2.0"). */
static bool values_equal(const char *a, const char *b)
{
    double x, y;
    if (strcmp(a, b) == 0)
        return true;
    return parse_number(a, &x) && parse_number(b, &y) && x == y;
}

int report_values_compare(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    double x, y;
    bool na = parse_number(a, &x), nb = parse_number(b, &y);
    if (na && nb)
        return (x > y) - (x < y);
    if (na != nb)
        return na ? -1 : 1;
    return strcmp(a, b);
}

static bool any_run_has_param(const struct results_run *runs, size_t n, const char *key)
{
    if (strcmp(key, "repeat") == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (params_has(runs[i].params, key))
            return true;
    return false;
}

static bool any_run_has_metric(const struct results_run *const *runs, size_t n, const char *name)
{
    double ignored;
    for (size_t i = 0; i < n; i++)
        if (metric_list_find(&runs[i]->metrics, name, &ignored))
            return true;
    return false;
}

const char *report_run_param(const struct results_run *run, const char *key, char buf[24])
{
    if (strcmp(key, "repeat") == 0) {
        snprintf(buf, 24, "%d", run->repeat);
        return buf;
    }
    return params_get(run->params, key);
}

bool report_run_matches(const struct results_run *run, const struct report_filter *where,
                        size_t nwhere)
{
    char buf[24];
    for (size_t i = 0; i < nwhere; i++) {
        /* Filters on one key are alternatives: evaluate each key once, at its first filter. */
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = strcmp(where[j].key, where[i].key) != 0;
        if (!first)
            continue;
        const char *have = report_run_param(run, where[i].key, buf);
        bool match = false;
        for (size_t j = i; j < nwhere && !match; j++)
            match = strcmp(where[j].key, where[i].key) == 0 && have &&
                    values_equal(have, where[j].value);
        if (!match)
            return false;
    }
    return true;
}

int report_varying_params(const struct results_run *const *runs, size_t nruns, const char ***keys,
                          size_t *nkeys, bool *repeat_varies)
{
    *keys = NULL;
    *nkeys = 0;
    *repeat_varies = false;
    /* Every key once, first seen first. */
    size_t cap = 0, n = 0;
    const char **all = NULL;
    for (size_t i = 0; i < nruns; i++) {
        if (runs[i]->repeat != runs[0]->repeat)
            *repeat_varies = true;
        for (size_t k = 0; k < params_count(runs[i]->params); k++) {
            const char *key = params_key_at(runs[i]->params, k);
            bool seen = false;
            for (size_t j = 0; j < n && !seen; j++)
                seen = strcmp(all[j], key) == 0;
            if (seen)
                continue;
            if (n == cap) {
                size_t nc = cap ? 2 * cap : 32;
                const char **grown = realloc(all, nc * sizeof *grown);
                if (!grown) {
                    free(all);
                    return -1;
                }
                all = grown;
                cap = nc;
            }
            all[n++] = key;
        }
    }
    /* Keep those that vary (in place), scheme.kind moved to the front. */
    size_t kept = 0;
    for (size_t k = 0; k < n; k++) {
        /* A key varies when it takes two different values; a key only some
         * runs have (one scheme's own key) does not by itself: scheme.kind
         * already tells those runs apart. */
        const char *key = all[k], *first = NULL;
        bool scheme = strcmp(key, "scheme.kind") == 0, varies = scheme;
        for (size_t j = 0; j < nruns && !varies; j++) {
            const char *v = params_get(runs[j]->params, key);
            if (v && !first)
                first = v;
            else if (v)
                varies = strcmp(v, first) != 0;
        }
        if (!varies)
            continue;
        if (scheme) {
            memmove(all + 1, all, kept * sizeof *all);
            all[0] = key;
        } else {
            all[kept] = key;
        }
        kept++;
    }
    *keys = all;
    *nkeys = kept;
    return 0;
}

/* Sorting rows by their param columns (then write order): qsort has no
 * context argument, so the columns travel in a static for the one call. */
static const char *const *sort_keys;
static size_t sort_nkeys;

static int run_compare(const void *pa, const void *pb)
{
    const struct results_run *a = *(const struct results_run *const *)pa;
    const struct results_run *b = *(const struct results_run *const *)pb;
    char ba[24], bb[24];
    for (size_t i = 0; i < sort_nkeys; i++) {
        int c = report_values_compare(report_run_param(a, sort_keys[i], ba),
                                      report_run_param(b, sort_keys[i], bb));
        if (c)
            return c;
    }
    if (a->repeat != b->repeat)
        return a->repeat < b->repeat ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* Six digits for people; JSON (exact) gives what reads back as x. */
static bool metrics_exact;

static char *format_metric(double x)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*g", metrics_exact ? 17 : 6, x);
    return strdup(buf);
}

/* "mean ± half-width", the half-width to two significant digits and the mean
 * to the same decimal place; just the mean when there is no interval (one
 * repeat, NaN). */
static char *format_interval(const struct ci *ci)
{
    if (ci->n < 2 || !isfinite(ci->half_width) || !isfinite(ci->mean))
        return format_metric(ci->mean);
    char buf[96];
    if (ci->half_width == 0) {
        snprintf(buf, sizeof buf, "%.6g ± 0", ci->mean);
    } else {
        int decimals = 1 - (int)floor(log10(ci->half_width));
        if (decimals > 6) /* tiny values (nercc's lambdas): %g reads better than 0.0000001 */
            snprintf(buf, sizeof buf, "%.3g ± %.2g", ci->mean, ci->half_width);
        else
            snprintf(buf, sizeof buf, "%.*f ± %.*f", decimals < 0 ? 0 : decimals, ci->mean,
                     decimals < 0 ? 0 : decimals, ci->half_width);
    }
    return strdup(buf);
}

/* Suffixes of the CSV columns of one metric under --aggregate (the mean
 * keeps the metric's name). */
static const char *const csv_ci_suffix[] = {"", "_se", "_ci_low", "_ci_high"};
enum { NCSV_CI = sizeof csv_ci_suffix / sizeof *csv_ci_suffix };

/* Under --aggregate: the selected runs and the point of each, so the row of
 * a point (one of its runs) finds its repeats. */
struct fold {
    const struct results_run *const *runs;
    size_t nruns;
    const size_t *point;     /* point of runs[i] */
    const size_t *row_point; /* point of table row r */
    bool csv;
};

/* The interval of metric `name` over the repeats of point `pt`; false when
 * none of them has the metric. vals has room for every run. */
static bool fold_metric(const struct fold *f, size_t pt, const char *name, double *vals,
                        struct ci *ci)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nruns; i++)
        if (f->point[i] == pt && metric_list_find(&f->runs[i]->metrics, name, &vals[n]))
            n++;
    return aggregate_ci(vals, n, ci) == 0;
}

/* The cells of metric `name` in row r under --aggregate: one ("mean ±
 * half-width"), or NCSV_CI for CSV. */
static int fold_cells(const struct fold *f, size_t r, const char *name, double *vals, char **cells)
{
    struct ci ci;
    if (!fold_metric(f, f->row_point[r], name, vals, &ci))
        return 0;
    if (!f->csv)
        return (cells[0] = format_interval(&ci)) ? 0 : -1;
    double x[NCSV_CI] = {ci.mean, ci.se, ci.mean - ci.half_width, ci.mean + ci.half_width};
    for (size_t k = 0; k < NCSV_CI; k++)
        if ((k == 0 || ci.n > 1) && !(cells[k] = format_metric(x[k])))
            return -1;
    return 0;
}

/* Fills the table: header and cells for the chosen param and metric columns;
 * with fold, a column n after the params and the folded metrics. */
static int table_fill(struct report_table *t, const struct results_run *const *rows, size_t nrows,
                      const char *const *pcols, size_t npcols, const char *const *mcols,
                      size_t nmcols, const struct fold *fold)
{
    size_t per_metric = fold && fold->csv ? NCSV_CI : 1, nextra = fold ? 1 : 0;
    t->ncols = npcols + nextra + nmcols * per_metric;
    t->nrows = nrows;
    /* +1: calloc(0) may return NULL, which would read as out of memory. */
    t->header = calloc(t->ncols + 1, sizeof *t->header);
    t->numeric = calloc(t->ncols + 1, sizeof *t->numeric);
    t->cells = calloc(t->ncols * nrows + 1, sizeof *t->cells);
    if (!t->header || !t->numeric || !t->cells)
        return -1;
    if (fold) {
        double *vals = malloc((fold->nruns ? fold->nruns : 1) * sizeof *vals);
        if (!vals || !(t->header[npcols] = strdup("n"))) {
            free(vals);
            return -1;
        }
        t->numeric[npcols] = true;
        int rc = 0;
        for (size_t m = 0; m < nmcols && !rc; m++) {
            size_t c0 = npcols + nextra + m * per_metric;
            for (size_t k = 0; k < per_metric && !rc; k++) {
                size_t len = strlen(mcols[m]) + 16;
                if (!(t->header[c0 + k] = malloc(len)))
                    rc = -1;
                else
                    snprintf(t->header[c0 + k], len, "%s%s", mcols[m], csv_ci_suffix[k]);
                t->numeric[c0 + k] = true;
            }
            for (size_t r = 0; r < nrows && !rc; r++)
                rc = fold_cells(fold, r, mcols[m], vals, &t->cells[r * t->ncols + c0]);
        }
        for (size_t r = 0; r < nrows && !rc; r++) {
            size_t n = 0;
            for (size_t i = 0; i < fold->nruns; i++)
                n += fold->point[i] == fold->row_point[r];
            char nbuf[24];
            snprintf(nbuf, sizeof nbuf, "%zu", n);
            rc = (t->cells[r * t->ncols + npcols] = strdup(nbuf)) ? 0 : -1;
        }
        free(vals);
        if (rc)
            return rc;
    }
    char buf[24];
    for (size_t c = 0; c < npcols + (fold ? 0 : nmcols); c++) {
        bool is_param = c < npcols;
        const char *name = is_param ? pcols[c] : mcols[c - npcols];
        if (!(t->header[c] = strdup(name)))
            return -1;
        bool numeric = true;
        for (size_t r = 0; r < nrows; r++) {
            char **cell = &t->cells[r * t->ncols + c];
            double x;
            if (is_param) {
                const char *v = report_run_param(rows[r], name, buf);
                if (!v)
                    continue;
                numeric = numeric && parse_number(v, &x);
                *cell = strdup(v);
            } else {
                if (!metric_list_find(&rows[r]->metrics, name, &x))
                    continue;
                *cell = format_metric(x);
            }
            if (!*cell)
                return -1;
        }
        t->numeric[c] = numeric;
    }
    return 0;
}

/* ---- Output formats ---- */

/* Characters a cell takes on screen: UTF-8 continuation bytes (of "±") take none. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void put_padded(FILE *out, const char *s, size_t width, bool right, bool last)
{
    size_t len = text_width(s);
    if (right)
        fprintf(out, "%*s%s", (int)(width - len), "", s);
    else if (last)
        fputs(s, out);
    else
        fprintf(out, "%s%*s", s, (int)(width - len), "");
}

/* Column widths for the aligned formats; `missing` is what an absent cell shows. */
static size_t *column_widths(const struct report_table *t, const char *missing, size_t min)
{
    size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof *w);
    if (!w)
        return NULL;
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = strlen(t->header[c]) > min ? strlen(t->header[c]) : min;
        for (size_t r = 0; r < t->nrows; r++) {
            const char *s = t->cells[r * t->ncols + c];
            size_t len = text_width(s ? s : missing);
            if (len > w[c])
                w[c] = len;
        }
    }
    return w;
}

static int print_text(const struct report_table *t, FILE *out)
{
    size_t *w = column_widths(t, "-", 0);
    if (!w)
        return -1;
    for (size_t c = 0; c < t->ncols; c++) {
        fputs(c ? "  " : "", out);
        put_padded(out, t->header[c], w[c], t->numeric[c], c + 1 == t->ncols);
    }
    fputc('\n', out);
    for (size_t c = 0; c < t->ncols; c++) {
        fputs(c ? "  " : "", out);
        for (size_t i = 0; i < w[c]; i++)
            fputc('-', out);
    }
    fputc('\n', out);
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            fputs(c ? "  " : "", out);
            put_padded(out, s ? s : "-", w[c], t->numeric[c], c + 1 == t->ncols);
        }
        fputc('\n', out);
    }
    free(w);
    return 0;
}

/* RFC 4180: CRLF line ends (print_csv); a field with a comma, quote or line
 * break is quoted, quotes doubled. */
void report_csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static int print_csv(const struct report_table *t, FILE *out)
{
    for (size_t r = 0; r <= t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = r == 0 ? t->header[c] : t->cells[(r - 1) * t->ncols + c];
            fputs(c ? "," : "", out);
            report_csv_field(out, s ? s : "");
        }
        fputs("\r\n", out);
    }
    return 0;
}

/* A markdown cell: '|' escaped, line breaks as spaces; padded to width. */
static void markdown_cell(FILE *out, const char *s, size_t width, bool right)
{
    size_t len = text_width(s);
    for (const char *p = s; *p; p++)
        len += *p == '|';
    if (right)
        fprintf(out, "%*s", (int)(width > len ? width - len : 0), "");
    for (const char *p = s; *p; p++) {
        if (*p == '|')
            fputs("\\|", out);
        else
            fputc(*p == '\n' || *p == '\r' ? ' ' : *p, out);
    }
    if (!right)
        fprintf(out, "%*s", (int)(width > len ? width - len : 0), "");
}

static int print_markdown(const struct report_table *t, FILE *out)
{
    size_t *w = column_widths(t, "-", 3);
    if (!w)
        return -1;
    /* Escaped pipes widen a cell by one character each. */
    for (size_t c = 0; c < t->ncols; c++) {
        for (size_t r = 0; r <= t->nrows; r++) {
            const char *s = r == 0 ? t->header[c] : t->cells[(r - 1) * t->ncols + c];
            size_t len = s ? text_width(s) : 0;
            for (; s && *s; s++)
                len += *s == '|';
            if (len > w[c])
                w[c] = len;
        }
    }
    for (size_t r = 0; r <= t->nrows + 1; r++) {
        fputc('|', out);
        for (size_t c = 0; c < t->ncols; c++) {
            fputc(' ', out);
            if (r == 1) { /* the delimiter row: "---:" right-aligns */
                for (size_t i = 0; i + 1 < w[c]; i++)
                    fputc('-', out);
                fputc(t->numeric[c] ? ':' : '-', out);
            } else {
                const char *s = r == 0 ? t->header[c] : t->cells[(r - 2) * t->ncols + c];
                markdown_cell(out, s ? s : "-", w[c], t->numeric[c]);
            }
            fputs(" |", out);
        }
        fputc('\n', out);
    }
    free(w);
    return 0;
}

/* ---- The report ---- */

/* Checks every named column and filter against the whole database, so a
 * typo is an error even when the filters select nothing. */
int report_where_check(const struct results_run *runs, size_t nruns,
                       const struct report_filter *where, size_t nwhere, const char *path,
                       struct error *err)
{
    for (size_t i = 0; i < nwhere; i++)
        if (!any_run_has_param(runs, nruns, where[i].key))
            return error_at(err, NULL, 0, "stragsim report: --where: no param '%s' in %s",
                            where[i].key, path);
    return 0;
}

static int options_check(const struct results_run *runs, size_t nruns,
                         const struct report_options *opt, const char *path, struct error *err)
{
    int where_rc = report_where_check(runs, nruns, opt->where, opt->nwhere, path, err);
    if (where_rc)
        return where_rc;
    for (size_t i = 0; i < opt->nparams; i++) {
        if (!any_run_has_param(runs, nruns, opt->params[i]))
            return error_at(err, NULL, 0, "stragsim report: --params: no param '%s' in %s",
                            opt->params[i], path);
        if (opt->aggregate && strcmp(opt->params[i], "repeat") == 0)
            return error_at(err, NULL, 0,
                            "stragsim report: --params: repeat is folded by --aggregate");
    }
    const struct results_run **all = malloc((nruns ? nruns : 1) * sizeof *all);
    if (!all)
        return error_fail(err, "out of memory");
    for (size_t i = 0; i < nruns; i++)
        all[i] = &runs[i];
    int rc = 0;
    for (size_t i = 0; i < opt->nmetrics && !rc; i++)
        if (!any_run_has_metric(all, nruns, opt->metrics[i]))
            rc = error_at(err, NULL, 0, "stragsim report: --metrics: no metric '%s' in %s",
                          opt->metrics[i], path);
    free(all);
    return rc;
}

/* The metric columns: the ones asked for, or the default set present in the
 * selected runs, or (when none of those is) every metric, first seen first. */
static int metric_columns(const struct results_run *const *rows, size_t nrows,
                          const struct report_options *opt, const char ***cols, size_t *ncols)
{
    *ncols = 0;
    if (opt->metrics) {
        *cols = malloc((opt->nmetrics ? opt->nmetrics : 1) * sizeof **cols);
        if (!*cols)
            return -1;
        memcpy(*cols, opt->metrics, opt->nmetrics * sizeof **cols);
        *ncols = opt->nmetrics;
        return 0;
    }
    size_t cap = sizeof default_metrics / sizeof *default_metrics;
    const char **out = malloc(cap * sizeof *out);
    if (!out)
        return -1;
    for (size_t i = 0; default_metrics[i]; i++)
        if (any_run_has_metric(rows, nrows, default_metrics[i]))
            out[(*ncols)++] = default_metrics[i];
    if (*ncols > 0) {
        *cols = out;
        return 0;
    }
    for (size_t r = 0; r < nrows; r++) {
        for (size_t m = 0; m < rows[r]->metrics.n; m++) {
            const char *name = rows[r]->metrics.names[m];
            bool seen = false;
            for (size_t j = 0; j < *ncols && !seen; j++)
                seen = strcmp(out[j], name) == 0;
            if (seen)
                continue;
            if (*ncols == cap) {
                const char **no = realloc(out, 2 * cap * sizeof *no);
                if (!no) {
                    free(out);
                    return -1;
                }
                out = no;
                cap *= 2;
            }
            out[(*ncols)++] = name;
        }
    }
    *cols = out;
    return 0;
}

/* An array of one object per row, {"column": value}: numbers as numbers,
 * text as strings, a missing value or NaN as null. */
static int print_json(const struct report_table *t, FILE *out)
{
    fputs("[", out);
    for (size_t r = 0; r < t->nrows; r++) {
        fputs(r ? ",\n  {" : "\n  {", out);
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            fputs(c ? ", " : "", out);
            json_string(out, t->header[c]);
            fputs(": ", out);
            double x;
            if (cell && parse_number(cell, &x) && !isfinite(x))
                fputs("null", out);
            else
                json_value(out, cell);
        }
        fputs("}", out);
    }
    fputs(t->nrows ? "\n]\n" : "]\n", out);
    return ferror(out) ? -1 : 0;
}

/* An HTML <table> (no page around it: analysis/html_report.c), every cell
 * escaped; numeric columns carry class "num"; a missing value is "-". */
static int print_html(const struct report_table *t, FILE *out)
{
    fputs("<table>\n<thead><tr>", out);
    for (size_t c = 0; c < t->ncols; c++) {
        fputs(t->numeric[c] ? "<th class=\"num\">" : "<th>", out);
        html_escape(out, t->header[c]);
        fputs("</th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n", out);
    for (size_t r = 0; r < t->nrows; r++) {
        fputs("<tr>", out);
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            fputs(t->numeric[c] ? "<td class=\"num\">" : "<td>", out);
            html_escape(out, cell ? cell : "-");
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
    return ferror(out) ? -1 : 0;
}

static int table_print(const struct report_table *t, enum report_format format, FILE *out)
{
    if (format == REPORT_JSON)
        return print_json(t, out);
    /* No columns at all (an empty database): no table to draw. */
    if (t->ncols == 0) {
        if (format == REPORT_TEXT)
            fputs("(no runs)\n", out);
        return 0;
    }
    switch (format) {
    case REPORT_CSV:
        return print_csv(t, out);
    case REPORT_MARKDOWN:
        return print_markdown(t, out);
    case REPORT_HTML_TABLE:
        return print_html(t, out);
    case REPORT_TEXT:
    default:
        return print_text(t, out);
    }
}

/* What the folded cells mean, under the text and markdown tables. */
const char report_fold_legend[] =
    "n: repeats per point; a cell is the mean ± the half-width of its 95% confidence interval\n"
    "(Student t with n - 1 degrees of freedom, standard error s/sqrt(n)); a cell without ±\n"
    "has one repeat (no interval).\n";

int report_write(struct results *r, const struct report_options *opt, FILE *out, struct error *err)
{
    struct results_run *runs = NULL;
    size_t nruns = 0;
    int rc = results_read_runs(r, &runs, &nruns, err);
    if (rc)
        return rc;
    rc = options_check(runs, nruns, opt, results_path(r), err);
    if (rc) {
        results_runs_free(runs, nruns);
        return rc;
    }

    const struct results_run **rows = malloc((nruns ? nruns : 1) * sizeof *rows);
    const char **pcols = NULL, **mcols = NULL;
    size_t nrows = 0, npcols = 0, nmcols = 0;
    struct report_table table = {0};
    bool oom = !rows;
    for (size_t i = 0; !oom && i < nruns; i++)
        if (report_run_matches(&runs[i], opt->where, opt->nwhere))
            rows[nrows++] = &runs[i];

    /* Param columns: as asked, or those that vary, then repeat when it varies. */
    if (!oom && opt->params) {
        pcols = malloc((opt->nparams ? opt->nparams : 1) * sizeof *pcols);
        oom = !pcols;
        if (pcols) {
            memcpy(pcols, opt->params, opt->nparams * sizeof *pcols);
            npcols = opt->nparams;
        }
    } else if (!oom) {
        bool repeat_varies;
        oom = report_varying_params(rows, nrows, &pcols, &npcols, &repeat_varies) != 0;
        if (!oom && repeat_varies) {
            const char **np = realloc(pcols, (npcols + 1) * sizeof *np);
            oom = !np;
            if (np) {
                pcols = np;
                pcols[npcols++] = "repeat";
            }
        }
    }
    if (!oom)
        oom = metric_columns(rows, nrows, opt, &mcols, &nmcols) != 0;
    /* --aggregate: the table has one row per point (its first run); the
     * fold finds the point's repeats among all selected runs. */
    const struct results_run **all = NULL;
    size_t *point = NULL, *row_point = NULL, npoints = 0, nall = nrows;
    /* JSON takes CSV's columns (an interval as numbers) and exact values */
    struct fold fold = {.csv = opt->format == REPORT_CSV || opt->format == REPORT_JSON};
    metrics_exact = opt->format == REPORT_JSON;
    if (!oom && opt->aggregate) {
        all = malloc((nrows ? nrows : 1) * sizeof *all);
        point = malloc((nrows ? nrows : 1) * sizeof *point);
        row_point = malloc((nrows ? nrows : 1) * sizeof *row_point);
        oom = !all || !point || !row_point;
        if (!oom) {
            memcpy(all, rows, nrows * sizeof *rows);
            oom = aggregate_group_runs(all, nall, point, &npoints) != 0;
        }
        if (!oom) {
            /* Drop the param column repeat (it is what gets folded), keep the
             * first run of each point as its row. */
            size_t kept = 0;
            for (size_t c = 0; c < npcols; c++)
                if (strcmp(pcols[c], "repeat") != 0)
                    pcols[kept++] = pcols[c];
            npcols = kept;
            nrows = 0;
            for (size_t i = 0; i < nall; i++)
                if (point[i] == nrows) /* points are numbered in order of first run */
                    rows[nrows++] = all[i];
        }
    }
    if (!oom) {
        sort_keys = pcols;
        sort_nkeys = npcols;
        qsort(rows, nrows, sizeof *rows, run_compare);
        if (opt->aggregate) {
            for (size_t r = 0; r < nrows; r++)
                for (size_t i = 0; i < nall; i++)
                    if (all[i] == rows[r])
                        row_point[r] = point[i];
            fold = (struct fold){all, nall, point, row_point, fold.csv};
        }
        oom = table_fill(&table, rows, nrows, pcols, npcols, mcols, nmcols,
                         opt->aggregate ? &fold : NULL) != 0;
    }
    if (!oom)
        oom = table_print(&table, opt->format, out) != 0;
    if (!oom && opt->aggregate && !fold.csv && opt->format != REPORT_HTML_TABLE &&
        table.ncols > 0)
        fprintf(out, "\n%s", report_fold_legend);
    rc = oom ? error_fail(err, "out of memory") : 0;

    free(row_point);
    free(point);
    free(all);
    table_free(&table);
    free(mcols);
    free(pcols);
    free(rows);
    results_runs_free(runs, nruns);
    return rc;
}
