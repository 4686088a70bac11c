/* test_plot.c: what people look at, from analysis/ without the CLI.
 * plot_make on a small database written with results_write_run (SVG files
 * with the axis labels, legend entries and data; exact one-line errors for
 * a missing metric or param, an unknown extension, a missing gnuplot, no
 * per-job rows), the values behind a figure (its data file against the
 * database, read back with SQLite directly; 95% confidence intervals across
 * repeats), hostile titles and database text that must never execute
 * anything, gnuplot's errors as one line, and export_csv (CSV content equal
 * to the database rows). The commands `stragsim plot` and `stragsim export`
 * around them: test_cmd_plot.c. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/export.h"
#include "analysis/plot.h"
#include "tests/cmd_capture.h" /* the temporary directory, slurp, write_text */
#include "tests/plot_db.h"

TestSuite(plot, .init = make_tmpdir, .fini = remove_tmpdir);

static char warn_text[1 << 14]; /* plot_make's warnings */
static struct error plot_err;   /* and its error */

/* plot_make on the database at db, as `stragsim plot` calls it. */
static int draw(const char *db, struct plot_request req)
{
    struct results *r = NULL;
    warn_text[0] = '\0'; /* fmemopen leaves the buffer as it was until a write */
    FILE *warn = fmemopen(warn_text, sizeof warn_text, "w");
    cr_assert_not_null(warn);
    plot_err = (struct error){0};
    int rc = results_open(db, true, &r, &plot_err);
    if (!rc)
        rc = plot_make(r, &req, warn, &plot_err);
    results_close(r);
    fclose(warn);
    return rc;
}

/* The --where filter KEY=VALUE of a plot_request. */
#define WHERE(key, value) .where = &(const struct report_filter){key, value}, .nwhere = 1

/* export_csv of `table` into the file at path, as `stragsim export -o`. */
static int export_to(const char *db, const char *table, const char *path)
{
    struct results *r = NULL;
    plot_err = (struct error){0};
    int rc = results_open(db, true, &r, &plot_err);
    FILE *out = rc ? NULL : fopen(path, "w");
    if (!rc) {
        cr_assert_not_null(out, "%s", path);
        rc = export_csv(r, table, out, &plot_err);
        cr_assert_eq(fclose(out), 0);
    }
    results_close(r);
    return rc;
}

/* A plot data file: blocks separated by blank lines, rows of numbers
 * (string columns are not read). */
enum { MAX_ROWS = 4096 };
struct series {
    double rows[MAX_ROWS][6];
    size_t nrows;
    int ncols;
};

static size_t read_data(const char *path, struct series *out, size_t max)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no data file %s", path);
    char line[4096];
    size_t n = 0;
    bool in_block = false;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        if (line[0] == '\n') {
            in_block = false;
            continue;
        }
        if (!in_block) {
            cr_assert_lt(n, max);
            out[n].nrows = 0;
            n++;
            in_block = true;
        }
        struct series *s = &out[n - 1];
        cr_assert_lt(s->nrows, MAX_ROWS);
        char *p = line, *end;
        int c = 0;
        for (; c < 6; c++, p = end) {
            s->rows[s->nrows][c] = strtod(p, &end);
            if (end == p)
                break;
        }
        s->ncols = c;
        s->nrows++;
    }
    fclose(f);
    return n;
}

static bool file_has(const char *path, const char *text)
{
    static char buf[1 << 20];
    slurp(path, buf, sizeof buf);
    return strstr(buf, text) != NULL;
}

/* ---- plot ---- */

Test(plot, metric_against_param_to_svg)
{
    const char *db = make_db(), *svg = tmp_path("lat.svg");
    cr_assert_eq(draw(db, (struct plot_request){.x = "cluster.workers", .y = "latency_mean",
                                                .group = "scheme.kind", .output = svg}),
                 0, "%s", plot_err.msg);
    struct stat st;
    cr_assert_eq(stat(svg, &st), 0);
    cr_expect_gt(st.st_size, 1000);
    cr_expect(file_has(svg, "<svg"), "not an SVG");
    cr_expect(file_has(svg, "mean job latency (s)"), "no y label");
    cr_expect(file_has(svg, "workers N"), "no x label");
    cr_expect(file_has(svg, "scheme.kind = kofn"), "no legend entry");
    cr_expect(file_has(svg, "scheme.kind = uncoded"), "no legend entry");
}

Test(plot, short_param_names_and_kept_script)
{
    const char *db = make_db(), *png = tmp_path("lat.png"), *gp = tmp_path("lat.gp");
    cr_assert_eq(draw(db, (struct plot_request){.x = "workers", .y = "latency_mean",
                                                WHERE("scheme.kind", "kofn"), .output = png,
                                                .script = gp}),
                 0, "%s", plot_err.msg);
    static const char png_magic[] = "\x89PNG";
    cr_expect(file_has(png, png_magic), "not a PNG");
    /* the kept script reads its data from lat.gp.dat */
    cr_expect(file_has(gp, "set terminal pngcairo size 800,500"));
    cr_expect(file_has(gp, "data = '"), "the script does not name its data file");
    static struct series d[4];
    cr_assert_eq(read_data(tmp_path("lat.gp.dat"), d, 4), 1);
    /* two repeats per x: w/10 + 1 and w/10 + 1.01: mean w/10 + 1.005, SE
     * 0.005 (sd 0.01/sqrt 2 over sqrt 2), 95% half-width t(0.975, 1) * SE,
     * t(0.975, 1) = tan(pi (0.975 - 1/2)) (Cauchy) */
    double t1 = tan(M_PI * 0.475);
    static const int ws[] = {4, 8, 16};
    cr_assert_eq(d[0].nrows, 3);
    for (int i = 0; i < 3; i++) {
        const double *row = d[0].rows[i];
        cr_expect_eq(row[0], ws[i]);
        cr_expect(fabs(row[1] - (ws[i] / 10.0 + 1.005)) < 1e-12, "mean %.17g", row[1]);
        cr_expect(fabs(row[3] - 0.005) < 1e-12, "se %.17g", row[3]);
        cr_expect(fabs(row[2] - t1 * 0.005) < 1e-9, "half-width %.17g", row[2]);
        cr_expect_eq(row[4], 2, "n");
    }
}

Test(plot, latency_cdf_from_job_rows)
{
    const char *db = make_db(), *svg = tmp_path("cdf.svg");
    cr_assert_eq(draw(db, (struct plot_request){.kind = PLOT_CDF, .group = "scheme.kind",
                                                WHERE("workers", "8"), .output = svg}),
                 0, "%s", plot_err.msg);
    cr_expect(file_has(svg, "job latency (s)"));
    cr_expect(file_has(svg, "fraction of jobs done by x"));
    cr_expect(file_has(svg, "scheme.kind = uncoded"));
}

Test(plot, training_curve_from_iterations)
{
    const char *db = make_db(), *svg = tmp_path("loss.svg");
    cr_assert_eq(draw(db, (struct plot_request){.kind = PLOT_ITERATIONS, .y = "loss",
                                                WHERE("workload.kind", "training"),
                                                .output = svg}),
                 0, "%s", plot_err.msg);
    cr_expect(file_has(svg, "simulated time (s)"));
    cr_expect(file_has(svg, "training loss"));
}

Test(plot, tradeoff_is_a_point_per_run_and_a_series_per_group)
{
    const char *db = make_db(), *svg = tmp_path("trade.svg"), *dat = tmp_path("trade.dat");
    cr_assert_eq(draw(db, (struct plot_request){.kind = PLOT_TRADEOFF, .x = "latency_se",
                                                .y = "latency_mean", .group = "scheme.kind",
                                                .output = svg, .data = dat}),
                 0, "%s", plot_err.msg);
    cr_expect(file_has(svg, "scheme.kind = kofn"));
    cr_expect(file_has(svg, "mean job latency (s)"), "no y label");
    /* Series in label order (kofn, uncoded); the training run has neither
     * metric and is left out. Each run: x = 0.005, y = w/10 + 0.01 rep + s. */
    static struct series d[4];
    cr_assert_eq(read_data(dat, d, 4), 2, "one block per scheme");
    static const int ws[] = {4, 8, 16};
    for (int c = 0; c < 2; c++) {
        int s = c == 0 ? 1 : 0; /* make_db's index of the scheme */
        cr_assert_eq(d[c].nrows, 6, "series %d", c);
        bool seen[3][2] = {{false}};
        for (size_t i = 0; i < d[c].nrows; i++) {
            cr_expect_eq(d[c].rows[i][0], 0.005);
            for (int w = 0; w < 3; w++)
                for (int rep = 0; rep < 2; rep++)
                    if (d[c].rows[i][1] == ws[w] / 10.0 + 0.01 * rep + s)
                        seen[w][rep] = true;
        }
        for (int w = 0; w < 3; w++)
            for (int rep = 0; rep < 2; rep++)
                cr_expect(seen[w][rep], "series %d: no point for w %d repeat %d", c, ws[w], rep);
    }
    cr_expect_eq(draw(db, (struct plot_request){.kind = PLOT_TRADEOFF, .x = "latency_se",
                                                .y = "final_loss", .output = svg}),
                 STRAG_EINPUT);
    char want[512];
    snprintf(want, sizeof want, "%s: no selected run has both metrics 'latency_se' and "
             "'final_loss'", db);
    cr_expect_str_eq(plot_err.msg, want);
}

Test(plot, errors_are_one_line)
{
    const char *db = make_db(), *svg = tmp_path("x.svg");
    char want[1024];

    cr_expect_neq(draw(db, (struct plot_request){.x = "workers", .y = "accuracy", .output = svg}),
                  0);
    snprintf(want, sizeof want, "%s: no runs have metric 'accuracy'", db);
    cr_expect_str_eq(plot_err.msg, want);

    cr_expect_neq(draw(db, (struct plot_request){.x = "stragglers", .y = "latency_mean",
                                                 .output = svg}),
                  0);
    snprintf(want, sizeof want, "%s: no runs have param 'stragglers'", db);
    cr_expect_str_eq(plot_err.msg, want);

    cr_expect_neq(draw(db, (struct plot_request){.x = "kind", .y = "latency_mean", .output = svg}),
                  0);
    snprintf(want, sizeof want,
             "%s: param 'kind' is ambiguous (scheme.kind, workload.kind): give the full key", db);
    cr_expect_str_eq(plot_err.msg, want);

    cr_expect_neq(draw(db, (struct plot_request){.x = "workers", .y = "latency_mean",
                                                 .output = tmp_path("x.pdf")}),
                  0);
    snprintf(want, sizeof want, "%s: unknown output extension (expected .png or .svg)",
             tmp_path("x.pdf"));
    cr_expect_str_eq(plot_err.msg, want);

    cr_expect_neq(draw(db, (struct plot_request){.x = "workers", .y = "latency_mean", .output = svg,
                                                 .gnuplot = "/nonexistent/gnuplot"}),
                  0);
    cr_expect_str_eq(plot_err.msg,
                     "stragsim plot: gnuplot not found (apt-get install gnuplot-nox)");

    cr_expect_neq(draw(db, (struct plot_request){.kind = PLOT_CDF,
                                                 WHERE("workload.kind", "training"),
                                                 .output = svg}),
                  0);
    snprintf(want, sizeof want,
             "%s: no per-job rows for the selected runs (runs store them with "
             "workload.job_rows = true)",
             db);
    cr_expect_str_eq(plot_err.msg, want);

    cr_expect_neq(draw(db, (struct plot_request){.x = "workers", .y = "latency_mean",
                                                 WHERE("workers", "5"), .output = svg}),
                  0);
    snprintf(want, sizeof want, "%s: no runs match the --where filters", db);
    cr_expect_str_eq(plot_err.msg, want);
    struct stat st;
    cr_expect_neq(stat(svg, &st), 0, "a failed plot left a file");
}

/* ---- the values behind a figure ---- */

/* Latencies of the runs with scheme.kind = scheme and cluster.workers =
 * workers, sorted, straight from the database. */
static size_t db_latencies(const char *db, const char *scheme, const char *workers, double *v,
                           size_t cap)
{
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h,
                                    "SELECT j.latency FROM jobs j "
                                    "JOIN params a ON a.run_id = j.run_id AND a.key = 'scheme.kind' "
                                    "JOIN params b ON b.run_id = j.run_id AND b.key = "
                                    "'cluster.workers' WHERE a.value = ?1 AND b.value = ?2 "
                                    "ORDER BY j.latency",
                                    -1, &st, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(h));
    sqlite3_bind_text(st, 1, scheme, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, workers, -1, SQLITE_STATIC);
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        cr_assert_lt(n, cap);
        v[n++] = sqlite3_column_double(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

Test(plot, cdf_data_is_the_sorted_job_latencies)
{
    const char *db = make_db(), *svg = tmp_path("cdf.svg"), *dat = tmp_path("cdf.dat");
    cr_assert_eq(draw(db, (struct plot_request){.kind = PLOT_CDF, .group = "scheme.kind",
                                                WHERE("workers", "8"), .output = svg,
                                                .data = dat}),
                 0, "%s", plot_err.msg);
    static struct series d[4];
    cr_assert_eq(read_data(dat, d, 4), 2, "one block per scheme");
    static const char *const schemes[] = {"kofn", "uncoded"}; /* curves in label order */
    for (int c = 0; c < 2; c++) {
        double v[64];
        size_t n = db_latencies(db, schemes[c], "8", v, 64);
        cr_assert_eq(n, 50);
        cr_assert_eq(d[c].nrows, n, "curve %d", c);
        for (size_t i = 0; i < n; i++) {
            cr_expect_eq(d[c].rows[i][0], v[i], "curve %d row %zu: %.17g, database %.17g", c, i,
                         d[c].rows[i][0], v[i]);
            cr_expect_eq(d[c].rows[i][1], (double)(i + 1) / (double)n);
        }
    }
}

/* A database of one run with `njobs` latencies i^1.5 / 1000 in a scrambled
 * order (job rows are written as jobs finish, not sorted). */
static const char *make_jobs_db(const char *name, size_t njobs)
{
    const char *path = tmp_path(name);
    struct results *r;
    struct error err;
    cr_assert_eq(results_open(path, false, &r, &err), 0, "%s", err.msg);
    int64_t exp_id;
    cr_assert_eq(results_experiment(r, "cdf", "[experiment]\n", &exp_id, &err), 0, "%s", err.msg);
    struct params *p = params_new();
    params_set(p, "scheme.kind", "kofn", NULL, 0);
    params_set(p, "cluster.workers", "8", NULL, 0);
    struct metric_list m = {0};
    metric_list_set(&m, "jobs", (double)njobs);
    struct job_row *jobs = calloc(njobs, sizeof *jobs);
    for (size_t j = 0; j < njobs; j++) {
        size_t i = (j * 7919) % njobs; /* 7919 is prime: a permutation */
        jobs[j] = (struct job_row){.job = j, .arrival = (double)j,
                                   .latency = pow((double)i, 1.5) / 1000, .tasks = 8,
                                   .extra = NAN};
    }
    struct run_record rec = {.point_key = "k", .seed = 1, .params = p, .metrics = &m,
                             .jobs = jobs, .njobs = njobs};
    cr_assert_eq(results_write_run(r, exp_id, &rec, &err), 0, "%s", err.msg);
    free(jobs);
    metric_list_clear(&m);
    params_free(p);
    results_close(r);
    return path;
}

Test(plot, large_cdf_data_rows_are_ranks_of_the_sorted_latencies)
{
    /* 3000 jobs: the figure keeps 1000 to 1500 body ranks and every one of
     * the 500 slowest; each row must still be (the k-th smallest latency,
     * k/n) */
    size_t n = 3000;
    const char *db = make_jobs_db("big.db", n), *dat = tmp_path("big.dat");
    cr_assert_eq(draw(db, (struct plot_request){.kind = PLOT_CDF, .output = tmp_path("big.png"),
                                                .data = dat}),
                 0, "%s", plot_err.msg);
    static double v[3000];
    cr_assert_eq(db_latencies(db, "kofn", "8", v, n), n);
    static struct series d[2];
    cr_assert_eq(read_data(dat, d, 2), 1);
    cr_expect_geq(d[0].nrows, 1500);
    cr_expect_leq(d[0].nrows, 2000);
    size_t prev = 0;
    for (size_t r = 0; r < d[0].nrows; r++) {
        double k = d[0].rows[r][1] * (double)n;
        size_t rank = (size_t)llround(k);
        cr_assert(fabs(k - (double)rank) < 1e-6 && rank >= 1 && rank <= n, "row %zu p %.17g", r,
                  d[0].rows[r][1]);
        cr_expect_gt(rank, prev, "ranks increase");
        cr_expect_eq(d[0].rows[r][0], v[rank - 1], "row %zu: %.17g, rank %zu is %.17g", r,
                     d[0].rows[r][0], rank, v[rank - 1]);
        if (rank > n - 499)
            cr_expect_eq(rank, prev + 1, "the tail is complete");
        prev = rank;
    }
    cr_expect_eq(prev, n, "the slowest job is drawn");
}

/* 3 repeats at each of 2 worker counts: y = base + {0, 0.1, 0.3}. */
Test(plot, error_bars_are_95_percent_intervals_across_repeats)
{
    const char *path = tmp_path("rep.db");
    struct results *r;
    struct error err;
    cr_assert_eq(results_open(path, false, &r, &err), 0, "%s", err.msg);
    int64_t exp_id;
    cr_assert_eq(results_experiment(r, "rep", "[experiment]\n", &exp_id, &err), 0, "%s", err.msg);
    static const double offsets[] = {0, 0.1, 0.3};
    for (int w = 4; w <= 8; w += 4) {
        for (int rep = 0; rep < 3; rep++) {
            struct params *p = params_new();
            char wbuf[16], key[32];
            snprintf(wbuf, sizeof wbuf, "%d", w);
            params_set(p, "cluster.workers", wbuf, NULL, 0);
            struct metric_list m = {0};
            metric_list_set(&m, "latency_p99", w + offsets[rep]);
            snprintf(key, sizeof key, "w%d-%d", w, rep);
            struct run_record rec = {.point_key = key, .repeat = rep, .seed = 1, .params = p,
                                     .metrics = &m};
            cr_assert_eq(results_write_run(r, exp_id, &rec, &err), 0, "%s", err.msg);
            metric_list_clear(&m);
            params_free(p);
        }
    }
    results_close(r);
    const char *dat = tmp_path("rep.dat"), *svg = tmp_path("rep.svg");
    cr_assert_eq(draw(path, (struct plot_request){.x = "workers", .y = "latency_p99", .output = svg,
                                                  .data = dat}),
                 0, "%s", plot_err.msg);
    cr_expect(file_has(svg, "error bars: 95% confidence interval"));
    static struct series d[2];
    cr_assert_eq(read_data(dat, d, 2), 1);
    cr_assert_eq(d[0].nrows, 2);
    /* by hand: mean base + 0.4/3; deviations -0.1333, -0.0333, 0.1667 give
     * s^2 = (0.01778 + 0.00111 + 0.02778) / 2 = 0.02333 = 7/300, SE =
     * sqrt(7/900); t(0.975, 2) = (2p - 1) / sqrt(2 p (1 - p)) at p = 0.975
     * (Student t with 2 degrees of freedom has a closed-form quantile) */
    double se = sqrt(7.0 / 900.0), t2 = 0.95 / sqrt(2 * 0.975 * 0.025);
    for (int i = 0; i < 2; i++) {
        const double *row = d[0].rows[i];
        cr_expect_eq(row[0], 4 * (i + 1));
        cr_expect(fabs(row[1] - (4 * (i + 1) + 0.4 / 3)) < 1e-12, "mean %.17g", row[1]);
        cr_expect(fabs(row[3] - se) < 1e-12, "se %.17g, want %.17g", row[3], se);
        cr_expect(fabs(row[2] - t2 * se) < 1e-9, "half-width %.17g, want %.17g", row[2], t2 * se);
        cr_expect_eq(row[4], 3);
    }
}

/* ---- nothing in a database or a title is executed ---- */

/* Payloads that would run `touch MARKER` if gnuplot read them as commands:
 * after a newline, through system(), a backquote, a shell escape, a macro,
 * a line continuation, an early end of an inline data block. */
static void hostile(char *buf, size_t len, int kind, const char *marker)
{
    switch (kind) {
    case 0: snprintf(buf, len, "a'\nsystem(\"touch %s\")\nprint '", marker); break;
    case 1: snprintf(buf, len, "b`touch %s`", marker); break;
    case 2: snprintf(buf, len, "c\n!touch %s\n", marker); break;
    case 3: snprintf(buf, len, "d\" . system(\"touch %s\") . \"", marker); break;
    case 4: snprintf(buf, len, "e\nEOD\nsystem('touch %s')\n$x << EOD", marker); break;
    case 5: snprintf(buf, len, "f\\\nsystem('touch %s')", marker); break;
    default: snprintf(buf, len, "g@cmd ' . system('touch %s') . '\r!touch %s", marker, marker);
    }
}
enum { HOSTILE_KINDS = 7 };

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

Test(plot, hostile_titles_are_refused_and_never_run)
{
    const char *db = make_db(), *svg = tmp_path("t.svg"), *marker = tmp_path("MARKER");
    for (int k = 0; k < HOSTILE_KINDS; k++) {
        char title[512];
        hostile(title, sizeof title, k, marker);
        int status = draw(db, (struct plot_request){.x = "workers", .y = "latency_mean",
                                                    .title = title, .output = svg});
        cr_expect(!exists(marker), "payload %d ran", k);
        if (status == 0) {
            /* a title without a newline or backquote is only text */
            cr_expect(exists(svg), "payload %d: no figure", k);
            cr_expect(file_has(svg, "touch"), "payload %d: the title is not drawn", k);
        } else {
            cr_expect_str_eq(plot_err.msg, "stragsim plot: --title may not contain control "
                                           "characters (a newline) or backquotes");
        }
        if (strchr(title, '\n') || strchr(title, '`'))
            cr_expect_neq(status, 0, "payload %d was accepted", k);
        unlink(svg);
    }
    cr_expect_neq(draw(db, (struct plot_request){.kind = PLOT_CDF, .output = svg,
                                                 .data = "x`touch y`.dat"}),
                  0);
    cr_expect_str_eq(plot_err.msg, "stragsim plot: the data file's name (--data, --script) may not "
                                   "contain control characters or backquotes");
}

/* Every text a database can carry into a figure: scheme values (legend via
 * --group, curve labels without it), a categorical x (tic labels from the
 * data file), a param key (labels), a group value. */
Test(plot, hostile_database_text_is_drawn_not_run)
{
    const char *path = tmp_path("hostile.db"), *marker = tmp_path("MARKER");
    struct results *r;
    struct error err;
    cr_assert_eq(results_open(path, false, &r, &err), 0, "%s", err.msg);
    int64_t exp_id;
    cr_assert_eq(results_experiment(r, "evil", "[experiment]\n", &exp_id, &err), 0, "%s",
                 err.msg);
    char key_evil[512];
    hostile(key_evil, sizeof key_evil, 0, marker);
    for (int k = 0; k < HOSTILE_KINDS; k++) {
        char value[512], point[16];
        hostile(value, sizeof value, k, marker);
        struct params *p = params_new();
        params_set(p, "scheme.kind", value, NULL, 0);
        params_set(p, "workload.weights", value, NULL, 0);
        params_set(p, key_evil, k % 2 ? "1" : "2", NULL, 0);
        struct metric_list m = {0};
        metric_list_set(&m, "latency_mean", 1 + k);
        struct job_row jobs[5];
        for (int j = 0; j < 5; j++)
            jobs[j] = (struct job_row){.job = (uint64_t)j, .latency = 0.1 * (j + 1) + k,
                                       .tasks = 1, .extra = NAN};
        snprintf(point, sizeof point, "p%d", k);
        struct run_record rec = {.point_key = point, .seed = 1, .params = p, .metrics = &m,
                                 .jobs = jobs, .njobs = 5};
        cr_assert_eq(results_write_run(r, exp_id, &rec, &err), 0, "%s", err.msg);
        metric_list_clear(&m);
        params_free(p);
    }
    results_close(r);

    const char *svg = tmp_path("h.svg"), *gp = tmp_path("h.gp");
    const struct plot_request figures[] = {
        {.x = "weights", .y = "latency_mean", .output = svg, .script = gp},
        {.x = "weights", .y = "latency_mean", .group = "scheme.kind", .output = svg, .script = gp},
        {.kind = PLOT_CDF, .output = svg, .script = gp},
        {.kind = PLOT_CDF, .group = "kind", .output = svg, .script = gp},
        {.x = "kind", .y = "latency_mean", .group = key_evil, .output = svg, .script = gp},
    };
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
        int status = draw(path, figures[i]);
        cr_expect_eq(status, 0, "figure %zu: %s", i, plot_err.msg);
        cr_expect(!exists(marker), "figure %zu: a payload ran", i);
        cr_expect(file_has(svg, "</svg>"), "figure %zu: no whole figure", i);
        /* the script: fixed commands, quoted text without line breaks */
        static char text[1 << 16];
        slurp(gp, text, sizeof text);
        cr_expect_null(strchr(text, '`'), "figure %zu: a backquote reached the script", i);
        for (const char *line = text; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0)) {
            static const char *const starts[] = {"#", "data = '", "set ", "plot ", "     data ",
                                                 NULL};
            bool known = false;
            for (const char *const *s = starts; *s && !known; s++)
                known = strncmp(line, *s, strlen(*s)) == 0;
            cr_expect(known, "figure %zu: unexpected script line '%.*s'", i,
                      (int)strcspn(line, "\n"), line);
        }
        unlink(svg);
    }
    /* the values are drawn as text: the legend shows the payload, made inert */
    cr_assert_eq(draw(path, (struct plot_request){.x = "weights", .y = "latency_mean",
                                                  .group = "scheme.kind", .output = svg}),
                 0, "%s", plot_err.msg);
    cr_expect(file_has(svg, "b?touch"), "the backquote payload is not shown as text");
    cr_expect(!exists(marker));
}

Test(plot, gnuplot_errors_are_one_line)
{
    /* log y axis over values <= 0: gnuplot itself refuses */
    const char *path = make_jobs_db("zero.db", 10);
    struct results *r;
    struct error err;
    cr_assert_eq(results_open(path, false, &r, &err), 0, "%s", err.msg);
    results_close(r);
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, "UPDATE jobs SET latency = 0", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    const char *png = tmp_path("z.png");
    write_text(png, "the previous figure");
    cr_expect_neq(draw(path, (struct plot_request){.kind = PLOT_CDF, .logx = true, .output = png}),
                  0);
    cr_expect_eq(strncmp(plot_err.msg, "stragsim plot: gnuplot failed: script line ", 43), 0, "%s",
                 plot_err.msg);
    cr_expect_null(strchr(plot_err.msg, '\n'), "more than one line: %s", plot_err.msg);
    static char buf[64];
    slurp(png, buf, sizeof buf);
    cr_expect_str_eq(buf, "the previous figure", "a failed plot replaced the figure");

    /* with a kept script the line is the script's */
    const char *gp = tmp_path("z.gp");
    cr_expect_neq(draw(path, (struct plot_request){.kind = PLOT_CDF, .logx = true, .output = png,
                                                   .script = gp}),
                  0);
    char want[600];
    snprintf(want, sizeof want, "%s:", gp);
    cr_expect_eq(strncmp(plot_err.msg, want, strlen(want)), 0, "%s", plot_err.msg);
    cr_expect_not_null(strstr(plot_err.msg, ": gnuplot: "), "%s", plot_err.msg);
    cr_expect_null(strchr(plot_err.msg, '\n'), "%s", plot_err.msg);

    /* a gnuplot that fails with many lines of its own */
    const char *fake = tmp_path("fake-gnuplot");
    write_text(fake, "#!/bin/sh\n{ echo 'plot x'; echo '     ^'; echo \"\\\"$1\\\" line 9: "
                     "something broke\"; echo; echo more; } >&2\nexit 1\n");
    chmod(fake, 0755);
    cr_expect_neq(draw(path, (struct plot_request){.kind = PLOT_CDF, .output = png,
                                                   .gnuplot = fake}),
                  0);
    cr_expect_str_eq(plot_err.msg,
                     "stragsim plot: gnuplot failed: script line 9: something broke");
    /* one that exits 0 without a whole figure */
    write_text(fake, "#!/bin/sh\nprintf '<svg>' \nexit 0\n");
    cr_expect_neq(draw(path, (struct plot_request){.kind = PLOT_CDF, .output = tmp_path("z.svg"),
                                                   .gnuplot = fake}),
                  0);
    snprintf(want, sizeof want, "%s: gnuplot wrote no complete figure (disk full?)",
             tmp_path("z.svg"));
    cr_expect_str_eq(plot_err.msg, want);
    cr_expect(!exists(tmp_path("z.svg")), "a partial figure was left");
}

Test(plot, cdf_group_warns_when_it_pools_different_runs)
{
    const char *db = make_db(), *svg = tmp_path("pool.svg");
    cr_assert_eq(draw(db, (struct plot_request){.kind = PLOT_CDF, .group = "scheme.kind",
                                                .output = svg}),
                 0, "%s", plot_err.msg);
    cr_expect_str_eq(warn_text,
                     "stragsim plot: warning: runs pooled into one curve differ in cluster.workers "
                     "(narrow with --where)\n");
    cr_assert_eq(draw(db, (struct plot_request){.kind = PLOT_CDF, .group = "scheme.kind",
                                                WHERE("workers", "8"), .output = svg}),
                 0, "%s", plot_err.msg);
    cr_expect_str_eq(warn_text, "");
}

Test(plot, output_that_cannot_be_written_is_one_line)
{
    const char *db = make_db();
    cr_expect_neq(draw(db, (struct plot_request){.kind = PLOT_CDF,
                                                 .output = tmp_path("nodir/x.svg")}),
                  0);
    char want[600];
    snprintf(want, sizeof want, "%s: cannot write: No such file or directory",
             tmp_path("nodir/x.svg"));
    cr_expect_str_eq(plot_err.msg, want);
    /* a device (through a link with the right extension): written in place,
     * its failure caught */
    const char *full = tmp_path("full.svg");
    cr_assert_eq(symlink("/dev/full", full), 0);
    cr_expect_neq(draw(db, (struct plot_request){.kind = PLOT_CDF, .output = full}), 0);
    snprintf(want, sizeof want, "%s: cannot write: No space left on device", full);
    cr_expect_str_eq(plot_err.msg, want);
}

/* ---- export ---- */

Test(plot, export_metrics_and_jobs_as_csv)
{
    const char *db = make_db(), *csv = tmp_path("m.csv");
    cr_assert_eq(export_to(db, "metrics", csv), 0, "%s", plot_err.msg);
    static char buf[1 << 16];
    slurp(csv, buf, sizeof buf);
    cr_expect_eq(strncmp(buf, "run_id,point_key,repeat,scheme.kind,", 36), 0, "%.80s", buf);
    cr_expect_not_null(strstr(buf, "latency_mean,latency_se"), "%.200s", buf);
    cr_expect_not_null(strstr(buf, "\r\n2,uncoded-4-1,1,uncoded,"), "%.400s", buf);

    cr_assert_eq(export_to(db, "jobs", csv), 0, "%s", plot_err.msg);
    slurp(csv, buf, sizeof buf);
    size_t rows = 0;
    for (const char *p = buf; (p = strstr(p, "\r\n")); p += 2)
        rows++;
    cr_expect_eq(rows, 1 + 6 * 50, "header + 6 runs x 50 jobs");
    cr_expect_not_null(strstr(buf, ",job,arrival,latency,tasks,extra\r\n"));

    cr_expect_neq(export_to(db, "events", csv), 0);
    cr_expect_str_eq(plot_err.msg,
                     "stragsim export: unknown table 'events' (expected jobs|iterations|tuner|metrics)");
}

/* A CSV file (RFC 4180, CRLF rows) split into cells: cells[row][col]. */
enum { CSV_ROWS = 512, CSV_COLS = 32 };
struct csv {
    char *cells[CSV_ROWS][CSV_COLS];
    int ncols[CSV_ROWS];
    size_t nrows;
    char text[1 << 17];
};

static void csv_read(const char *path, struct csv *c)
{
    slurp(path, c->text, sizeof c->text);
    c->nrows = 0;
    char *p = c->text;
    while (*p) {
        cr_assert_lt(c->nrows, CSV_ROWS);
        int col = 0;
        for (;;) {
            cr_assert_lt(col, CSV_COLS);
            char *cell = p, *w = p;
            if (*p == '"') { /* quoted: "" is a quote */
                for (p++; *p && !(p[0] == '"' && p[1] != '"'); p++) {
                    if (*p == '"')
                        p++;
                    *w++ = *p;
                }
                p++;
            } else {
                while (*p && *p != ',' && *p != '\r')
                    *w++ = *p++;
            }
            char sep = *p;
            *w = 0;
            c->cells[c->nrows][col++] = cell;
            if (sep == ',') {
                p++;
                continue;
            }
            cr_assert(sep == '\r' && p[1] == '\n', "row %zu does not end in CRLF", c->nrows);
            p += 2;
            break;
        }
        c->ncols[c->nrows++] = col;
    }
}

static int csv_col(const struct csv *c, const char *name)
{
    for (int i = 0; i < c->ncols[0]; i++)
        if (strcmp(c->cells[0][i], name) == 0)
            return i;
    cr_assert_fail("no column %s", name);
    return -1;
}

/* A cell against a database value: text as is, numbers read back exactly,
 * NULL as an empty cell. */
static void expect_cell(const char *cell, sqlite3_stmt *st, int col, const char *what)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL: cr_expect_str_eq(cell, "", "%s", what); break;
    case SQLITE_TEXT:
        cr_expect_str_eq(cell, (const char *)sqlite3_column_text(st, col), "%s", what);
        break;
    default: {
        char *end;
        double x = strtod(cell, &end);
        cr_expect(*cell && !*end, "%s: '%s' is not a number", what, cell);
        cr_expect_eq(x, sqlite3_column_double(st, col), "%s: %s against %.17g", what, cell,
                     sqlite3_column_double(st, col));
    }
    }
}

Test(plot, export_csv_equals_the_database_rows)
{
    const char *db = make_db(), *csv_path = tmp_path("x.csv");
    static struct csv c;
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st, *param;
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT value FROM params WHERE run_id = ?1 AND key = ?2",
                                    -1, &param, NULL),
                 SQLITE_OK);
    static const char *const varying[] = {"scheme.kind", "cluster.workers", "workload.kind"};

    /* jobs: one row per database row, in (run, job) order */
    cr_assert_eq(export_to(db, "jobs", csv_path), 0, "%s", plot_err.msg);
    csv_read(csv_path, &c);
    cr_assert_eq(sqlite3_prepare_v2(h,
                                    "SELECT r.id, r.point_key, r.repeat, j.job, j.arrival, "
                                    "j.latency, j.tasks, j.extra FROM jobs j JOIN runs r ON "
                                    "r.id = j.run_id ORDER BY r.id, j.job",
                                    -1, &st, NULL),
                 SQLITE_OK);
    static const char *const job_cols[] = {"run_id", "point_key", "repeat", "job",
                                           "arrival", "latency", "tasks", "extra"};
    int at[8], pat[3];
    for (int k = 0; k < 8; k++)
        at[k] = csv_col(&c, job_cols[k]);
    for (int k = 0; k < 3; k++)
        pat[k] = csv_col(&c, varying[k]);
    size_t row = 1;
    for (; sqlite3_step(st) == SQLITE_ROW; row++) {
        cr_assert_lt(row, c.nrows, "the CSV has fewer rows than the jobs table");
        cr_assert_eq(c.ncols[row], c.ncols[0]);
        char what[64];
        for (int k = 0; k < 8; k++) {
            snprintf(what, sizeof what, "row %zu %s", row, job_cols[k]);
            expect_cell(c.cells[row][at[k]], st, k, what);
        }
        for (int k = 0; k < 3; k++) {
            sqlite3_reset(param);
            sqlite3_bind_int64(param, 1, sqlite3_column_int64(st, 0));
            sqlite3_bind_text(param, 2, varying[k], -1, SQLITE_STATIC);
            cr_assert_eq(sqlite3_step(param), SQLITE_ROW);
            snprintf(what, sizeof what, "row %zu %s", row, varying[k]);
            expect_cell(c.cells[row][pat[k]], param, 0, what);
        }
    }
    sqlite3_finalize(st);
    cr_expect_eq(row, c.nrows, "the CSV has more rows than the jobs table");
    cr_expect_eq(c.nrows, 1 + 6 * 50);

    /* metrics: one row per run, each metric cell the stored value */
    cr_assert_eq(export_to(db, "metrics", csv_path), 0, "%s", plot_err.msg);
    csv_read(csv_path, &c);
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT value FROM metrics WHERE run_id = ?1 AND name = ?2",
                                    -1, &st, NULL),
                 SQLITE_OK);
    int first_metric = csv_col(&c, "workload.kind") + 1;
    cr_expect_eq(c.nrows, 1 + 12 + 1, "header + one row per run");
    size_t cells = 0;
    for (size_t r = 1; r < c.nrows; r++) {
        for (int k = first_metric; k < c.ncols[0]; k++, cells++) {
            sqlite3_reset(st);
            sqlite3_bind_int64(st, 1, strtoll(c.cells[r][0], NULL, 10));
            sqlite3_bind_text(st, 2, c.cells[0][k], -1, SQLITE_STATIC);
            char what[96];
            snprintf(what, sizeof what, "run %s %s", c.cells[r][0], c.cells[0][k]);
            if (sqlite3_step(st) == SQLITE_ROW)
                expect_cell(c.cells[r][k], st, 0, what);
            else
                cr_expect_str_eq(c.cells[r][k], "", "%s: no such metric", what);
        }
    }
    cr_expect_eq(cells, 13 * 3, "latency_mean, latency_se, final_loss for 13 runs");
    sqlite3_finalize(st);
    sqlite3_finalize(param);
    sqlite3_close(h);
}
