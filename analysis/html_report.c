/* html_report.c: see html_report.h. The page is built in memory, then
 * written through an atomic file; each figure is drawn to a temporary SVG
 * in a private directory, read back and inlined with its ids made unique to
 * the figure (gnuplot names its clip paths and point shapes the same in
 * every file). */
#include "analysis/html_report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "analysis/html_escape.h"
#include "analysis/plot.h"
#include "base/atomic_file.h"

static const char page_style[] =
    "body{font-family:sans-serif;max-width:90em;margin:1em auto;padding:0 1em;color:#222}\n"
    "table{border-collapse:collapse;font-size:90%}\n"
    "th,td{border:1px solid #bbb;padding:.2em .5em;white-space:nowrap}\n"
    "div.table{overflow-x:auto}\n"
    "th{background:#eee}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "pre{background:#f6f6f6;padding:.5em;overflow-x:auto;font-size:85%}\n"
    "figure{margin:1em 0}figure svg{width:800px;max-width:100%;height:auto}\n"
    "figcaption{font-size:90%;color:#444}\n";

/* Metrics the trade-off figure pairs, first present wins: a latency on x,
 * an accuracy on y (inference workloads, then training ones). */
static const char *const tradeoff_x[] = {"latency_p99", "iteration_time_mean", NULL};
static const char *const tradeoff_y[] = {"accuracy", "final_accuracy", NULL};

/* The runs the options select (report's --where semantics). */
struct selected {
    struct results_run *runs;
    size_t nruns;
    const struct results_run **sel;
    size_t nsel;
};

static void selected_free(struct selected *s)
{
    results_runs_free(s->runs, s->nruns);
    free(s->sel);
}

static bool any_has_metric(const struct selected *s, const char *name)
{
    double v;
    for (size_t i = 0; i < s->nsel; i++)
        if (metric_list_find(&s->sel[i]->metrics, name, &v) && v == v)
            return true;
    return false;
}

static bool any_has_param(const struct selected *s, const char *key)
{
    for (size_t i = 0; i < s->nsel; i++)
        if (params_get(s->sel[i]->params, key))
            return true;
    return false;
}

/* How many selected runs have a row in `sql` (one `?`: the run id). */
static size_t runs_with_rows(sqlite3 *db, const struct selected *s, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < s->nsel; i++) {
        sqlite3_bind_int64(st, 1, s->sel[i]->id);
        n += sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return n;
}

/* The experiments of the selected runs: name, when, which build, the config
 * as it was run. */
static int write_configs(struct results *r, const struct selected *s, FILE *out,
                         struct error *err)
{
    sqlite3 *db = results_db(r);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT id, name, created_at, tool_version, config_hash, "
                               "config_text FROM experiments ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return results_sql_fail(r, "reading experiments", err);
    fputs("<section id=\"config\">\n<h2>Configuration</h2>\n", out);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        bool used = false;
        for (size_t i = 0; i < s->nsel && !used; i++)
            used = s->sel[i]->experiment_id == id;
        if (!used)
            continue;
        fprintf(out, "<h3>Experiment %lld: ", (long long)id);
        html_escape(out, (const char *)sqlite3_column_text(st, 1));
        fputs("</h3>\n<p>created ", out);
        html_escape(out, (const char *)sqlite3_column_text(st, 2));
        fputs(", stragsim ", out);
        html_escape(out, (const char *)sqlite3_column_text(st, 3));
        fputs(", config hash <code>", out);
        html_escape(out, (const char *)sqlite3_column_text(st, 4));
        fputs("</code></p>\n<pre class=\"config\">", out);
        html_escape(out, (const char *)sqlite3_column_text(st, 5));
        fputs("</pre>\n", out);
    }
    sqlite3_finalize(st);
    fputs("</section>\n", out);
    return step == SQLITE_DONE ? 0 : results_sql_fail(r, "reading experiments", err);
}

/* Copies gnuplot's SVG from its <svg element on, every id and reference to
 * one (id=, url(#, href=#) prefixed with "f<index>_" so figures do not share ids. */
static int inline_svg(const char *path, int index, FILE *out, struct error *err)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t cap = 0, len = 0;
    if (f) {
        len = (size_t)getdelim(&text, &cap, '\0', f); /* the SVG has no NUL: all of it */
        fclose(f);
    }
    if (!f || !text || len == (size_t)-1) {
        free(text);
        return error_at(err, path, 0, "cannot read the drawn figure");
    }
    const char *p = strstr(text, "<svg");
    if (!p) {
        free(text);
        return error_at(err, path, 0, "gnuplot's figure has no <svg> element");
    }
    static const char *const refs[] = {"id='", "id=\"", "url(#", "href='#", "href=\"#", NULL};
    while (*p) {
        size_t k = 0;
        while (refs[k] && strncmp(p, refs[k], strlen(refs[k])) != 0)
            k++;
        if (refs[k]) {
            fputs(refs[k], out);
            fprintf(out, "f%d_", index);
            p += strlen(refs[k]);
        } else {
            fputc(*p++, out);
        }
    }
    free(text);
    return 0;
}

/* Draws one figure into dir and inlines it under a caption. */
static int write_figure(struct results *r, const struct plot_request *req, const char *dir,
                        int index, const char *id, const char *caption, FILE *out, FILE *warn,
                        struct error *err)
{
    char *path = NULL;
    if (asprintf(&path, "%s/figure%d.svg", dir, index) < 0)
        return error_fail(err, "out of memory");
    struct plot_request q = *req;
    q.output = path;
    int rc = plot_make(r, &q, warn, err);
    if (!rc) {
        fprintf(out, "<figure class=\"plot\" id=\"%s\">\n", id);
        rc = inline_svg(path, index, out, err);
        fputs("<figcaption>", out);
        html_escape(out, caption);
        fputs("</figcaption>\n</figure>\n", out);
    }
    unlink(path);
    free(path);
    return rc;
}

static int write_figures(struct results *r, const struct html_report_options *opt,
                         const struct selected *s, const char *dir, FILE *out, FILE *warn,
                         struct error *err)
{
    sqlite3 *db = results_db(r);
    const char *group = any_has_param(s, "scheme.kind") ? "scheme.kind" : NULL;
    const struct plot_request base = {
        .where = opt->where, .nwhere = opt->nwhere, .gnuplot = opt->gnuplot, .group = group,
    };
    int index = 0, rc = 0;
    fputs("<section id=\"figures\">\n<h2>Figures</h2>\n", out);
    if (runs_with_rows(db, s, "SELECT 1 FROM jobs WHERE run_id = ? LIMIT 1") > 0) {
        struct plot_request q = base;
        q.kind = PLOT_CDF;
        q.logx = true;
        rc = write_figure(r, &q, dir, index++, "latency-cdf",
                          "Job latency CDF (log x), one curve per scheme: the per-job rows "
                          "of the selected runs, repeats pooled.",
                          out, warn, err);
    }
    const char *x = NULL, *y = NULL;
    for (size_t i = 0; tradeoff_x[i] && !x; i++)
        x = any_has_metric(s, tradeoff_x[i]) ? tradeoff_x[i] : NULL;
    for (size_t i = 0; tradeoff_y[i] && !y; i++)
        y = any_has_metric(s, tradeoff_y[i]) ? tradeoff_y[i] : NULL;
    if (!rc && x && y) {
        struct plot_request q = base;
        q.kind = PLOT_TRADEOFF;
        q.x = x;
        q.y = y;
        char caption[200];
        snprintf(caption, sizeof caption,
                 "Trade-off: %s against %s, a point per run, one colour per scheme.", y, x);
        rc = write_figure(r, &q, dir, index++, "tradeoff", caption, out, warn, err);
    }
    static const struct {
        const char *column, *sql, *id, *caption;
    } curves[] = {
        {"loss", "SELECT 1 FROM iterations WHERE run_id = ? AND loss IS NOT NULL LIMIT 1",
         "training-loss", "Training loss against simulated time, one curve per run."},
        {"accuracy", "SELECT 1 FROM iterations WHERE run_id = ? AND accuracy IS NOT NULL LIMIT 1",
         "training-accuracy", "Accuracy during training against simulated time, one curve per run."},
    };
    for (size_t i = 0; !rc && i < sizeof curves / sizeof *curves; i++) {
        size_t nruns = runs_with_rows(db, s, curves[i].sql);
        if (nruns == 0)
            continue;
        /* A curve per run: past PLOT_MAX_SERIES they cannot be told apart. */
        if (nruns > PLOT_MAX_SERIES) {
            fprintf(out, "<p class=\"skipped\">No %s figure: %zu runs have training curves, "
                         "more than one figure tells apart (%d); <code>stragsim plot "
                         "--iterations --y %s --where KEY=VALUE</code> draws a subset.</p>\n",
                    curves[i].column, nruns, PLOT_MAX_SERIES, curves[i].column);
            continue;
        }
        struct plot_request q = base;
        q.kind = PLOT_ITERATIONS;
        q.group = NULL; /* curves per run, labelled by what tells them apart */
        q.y = curves[i].column;
        rc = write_figure(r, &q, dir, index++, curves[i].id, curves[i].caption, out, warn, err);
    }
    if (!rc && index == 0)
        fputs("<p>No figures: the runs stored neither per-job rows, nor both a latency and an "
              "accuracy metric, nor training iterations.</p>\n",
              out);
    fputs("</section>\n", out);
    return rc;
}

static int write_page(struct results *r, const struct html_report_options *opt,
                      const struct selected *s, const char *dir, FILE *out, FILE *warn,
                      struct error *err)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
          "stragsim report: ",
          out);
    html_escape(out, results_path(r));
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>stragsim report: ",
            page_style);
    html_escape(out, results_path(r));
    fputs("</h1>\n", out);
    int rc = write_configs(r, s, out, err);
    if (!rc) {
        fputs("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"table\">\n", out);
        const struct report_options table = {
            .format = REPORT_HTML_TABLE, .where = opt->where, .nwhere = opt->nwhere,
            .aggregate = true,
        };
        rc = report_write(r, &table, out, err);
        fputs("</div>\n<p class=\"legend\">", out);
        html_escape(out, report_fold_legend);
        fputs("</p>\n</section>\n", out);
    }
    if (!rc)
        rc = write_figures(r, opt, s, dir, out, warn, err);
    fputs("</body>\n</html>\n", out);
    return rc;
}

int html_report_write(struct results *r, const struct html_report_options *opt, FILE *warn,
                      struct error *err)
{
    if (!opt->output)
        return error_at(err, NULL, 0, "stragsim report: --format html needs -o FILE.html");
    struct selected s = {0};
    int rc = results_read_runs(r, &s.runs, &s.nruns, err);
    if (rc)
        return rc;
    rc = report_where_check(s.runs, s.nruns, opt->where, opt->nwhere, results_path(r), err);
    if (rc) {
        selected_free(&s);
        return rc;
    }
    s.sel = malloc((s.nruns ? s.nruns : 1) * sizeof *s.sel);
    if (!s.sel) {
        selected_free(&s);
        return error_fail(err, "out of memory");
    }
    for (size_t i = 0; i < s.nruns; i++)
        if (report_run_matches(&s.runs[i], opt->where, opt->nwhere))
            s.sel[s.nsel++] = &s.runs[i];
    if (s.nsel == 0) {
        selected_free(&s);
        return error_at(err, results_path(r), 0, "no runs%s",
                        opt->nwhere ? " match the --where filters" : "");
    }
    const char *tmp = getenv("TMPDIR");
    char *dir = NULL;
    if (asprintf(&dir, "%s/stragsim-html-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0) {
        selected_free(&s);
        return error_fail(err, "out of memory");
    }
    if (!mkdtemp(dir)) {
        rc = error_at(err, dir, 0, "cannot make a temporary directory: %s", strerror(errno));
        free(dir);
        selected_free(&s);
        return rc;
    }
    char *page = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&page, &len);
    rc = mem ? write_page(r, opt, &s, dir, mem, warn, err) : error_fail(err, "out of memory");
    if (mem && fclose(mem) && !rc)
        rc = error_fail(err, "out of memory");
    rmdir(dir);
    free(dir);
    selected_free(&s);
    if (!rc) {
        struct atomic_file af;
        rc = atomic_file_open(&af, opt->output, err);
        if (!rc) {
            fwrite(page, 1, len, af.f);
            rc = atomic_file_commit(&af, err);
        }
    }
    free(page);
    return rc;
}
