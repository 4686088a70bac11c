/* plot.c: turning a results database into a gnuplot script with inline data
 * and running gnuplot on it (see plot.h). Selects runs, resolves names,
 * aggregates repeats, labels axes with units; knows nothing about options
 * parsing or how the runs were produced.
 */
#include "analysis/plot.h"

#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

extern char **environ;

enum { MAX_SERIES = 24, CDF_BODY_POINTS = 1000, CDF_TAIL_POINTS = 500 };

/* ---- names and labels ---- */

/* Axis labels with units (time is simulated: "s" are simulated seconds).
 * A name not listed is shown as it is. */
static const struct {
    const char *name, *label;
} axis_labels[] = {
    /* metrics */
    {"latency_mean", "mean job latency (s)"},
    {"latency_p50", "median job latency (s)"},
    {"latency_p99", "p99 job latency (s)"},
    {"latency_p999", "p99.9 job latency (s)"},
    {"latency_se", "standard error of mean latency (s)"},
    {"worker_seconds", "worker time per job (s)"},
    {"iteration_time_mean", "mean iteration time (s)"},
    {"iteration_time_se", "standard error of iteration time (s)"},
    {"time_to_target", "time to target accuracy (s)"},
    {"accuracy", "accuracy"},
    {"base_accuracy", "accuracy of the uncoded model"},
    {"agreement", "agreement with the uncoded model"},
    {"rmse", "RMSE of decoded outputs"},
    {"final_loss", "final training loss"},
    {"final_accuracy", "final test accuracy"},
    {"jobs", "jobs"},
    {"events", "events"},
    /* params */
    {"cluster.workers", "workers N"},
    {"cluster.network_delay", "network delay (s)"},
    {"scheme.stragglers", "stragglers S"},
    {"scheme.k", "k"},
    {"scheme.r", "replication factor r"},
    {"scheme.delay", "hedging delay (s)"},
    {"scheme.task_cost", "task cost"},
    {"latency.rate", "service rate (1/s)"},
    {"latency.shift", "service shift (s)"},
    {"latency.shape", "tail shape"},
    {"latency.slow_prob", "straggler probability"},
    {"latency.slow_factor", "straggler slowdown"},
    {"workload.rate", "arrival rate (jobs/s)"},
    {"workload.batch", "batch size"},
    /* iterations and jobs columns */
    {"sim_time", "simulated time (s)"},
    {"iteration", "iteration"},
    {"loss", "training loss"},
    {"residual", "gradient residual"},
    {"grad_rel_err", "relative gradient error"},
    {"staleness", "staleness (iterations)"},
    {"waited", "workers waited for"},
};

static const char *axis_label(const char *name)
{
    for (size_t i = 0; i < sizeof axis_labels / sizeof axis_labels[0]; i++)
        if (strcmp(axis_labels[i].name, name) == 0)
            return axis_labels[i].label;
    return name;
}

/* Columns of the iterations table that can be plotted (and their x axes). */
static const char *const iteration_columns[] = {"loss",     "accuracy",     "residual",
                                                "grad_rel_err", "staleness", "waited", NULL};

static bool name_in(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

/* A run's value of a param ("repeat": its repeat), or NULL. */
static const char *run_value(const struct results_run *run, const char *key, char buf[24])
{
    if (strcmp(key, "repeat") == 0) {
        snprintf(buf, 24, "%d", run->repeat);
        return buf;
    }
    return params_get(run->params, key);
}

static bool run_metric(const struct results_run *run, const char *name, double *value)
{
    for (size_t i = 0; i < run->metrics.n; i++) {
        if (strcmp(run->metrics.names[i], name) == 0) {
            *value = run->metrics.values[i];
            return !isnan(*value);
        }
    }
    return false;
}

/* Full key for `name`: itself when some run has it, else the one key that
 * ends in ".name". */
static int param_resolve(const struct results_run *runs, size_t n, const char *name,
                         const char *db, const char **key, struct error *err)
{
    if (strcmp(name, "repeat") == 0) {
        *key = name;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (params_has(runs[i].params, name)) {
            *key = name;
            return 0;
        }
    }
    const char *found = NULL, *other = NULL;
    size_t len = strlen(name);
    for (size_t i = 0; i < n && !other; i++) {
        for (size_t j = 0; j < params_count(runs[i].params); j++) {
            const char *k = params_key_at(runs[i].params, j);
            size_t kl = strlen(k);
            if (kl > len && k[kl - len - 1] == '.' && strcmp(k + kl - len, name) == 0) {
                if (!found)
                    found = k;
                else if (strcmp(found, k) != 0)
                    other = k;
            }
        }
    }
    if (other)
        return error_at(err, db, 0, "param '%s' is ambiguous (%s, %s): give the full key",
                        name, found, other);
    if (!found)
        return error_at(err, db, 0, "no runs have param '%s'", name);
    *key = found;
    return 0;
}

/* ---- the script ---- */

static const struct {
    const char *ext, *terminal;
} plot_formats[] = {
    {".png", "pngcairo size %d,%d noenhanced font 'Sans,11'"},
    {".svg", "svg size %d,%d dynamic noenhanced font 'Sans,11' background rgb 'white'"},
};

static const char *terminal_for(const char *output)
{
    const char *dot = strrchr(output, '.');
    for (size_t i = 0; dot && i < sizeof plot_formats / sizeof plot_formats[0]; i++)
        if (strcasecmp(dot, plot_formats[i].ext) == 0)
            return plot_formats[i].terminal;
    return NULL;
}

/* A gnuplot single-quoted string: quotes doubled, nothing else special. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* A label inside the data (xtic labels): double quotes, which may not appear. */
static void put_data_label(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++)
        fputc(*s == '"' ? '\'' : *s, f);
    fputc('"', f);
}

struct script {
    FILE *f;
    char *text;
    size_t len;
    int nseries;
    char *plot_line; /* the "plot ..." command, built as series are added */
    size_t plot_len;
    FILE *plot;
};

/* Where the legend least often covers data: CDFs rise to the right (key
 * bottom right), CCDFs fall (top right), loss falls and accuracy rises;
 * metric lines go anywhere, so their key sits above the plot. */
static const char *key_position(const struct plot_request *req)
{
    switch (req->kind) {
    case PLOT_CDF: return req->ccdf ? "top right" : "bottom right";
    case PLOT_ITERATIONS: return req->y && strcmp(req->y, "loss") == 0 ? "top right" : "bottom right";
    default: return req->group ? "outside top center horizontal" : "off";
    }
}

static int script_begin(struct script *s, const struct plot_request *req, const char *title,
                        const char *xlabel, const char *ylabel)
{
    *s = (struct script){0};
    s->f = open_memstream(&s->text, &s->len);
    s->plot = open_memstream(&s->plot_line, &s->plot_len);
    if (!s->f || !s->plot)
        return -1;
    fprintf(s->f, "# stragsim plot: run with `gnuplot THIS_FILE`\nset terminal ");
    fprintf(s->f, terminal_for(req->output), req->width ? req->width : 800,
            req->height ? req->height : 500);
    fprintf(s->f, "\nset output ");
    put_quoted(s->f, req->output);
    fprintf(s->f, "\nset title ");
    put_quoted(s->f, req->title ? req->title : title);
    fprintf(s->f, "\nset xlabel ");
    put_quoted(s->f, xlabel);
    fprintf(s->f, "\nset ylabel ");
    put_quoted(s->f, ylabel);
    fprintf(s->f, "\nset grid\nset border 3\nset tics nomirror\nset key box opaque %s\n",
            key_position(req));
    if (req->logx)
        fprintf(s->f, "set logscale x\n");
    if (req->logy || (req->kind == PLOT_CDF && req->ccdf))
        fprintf(s->f, "set logscale y\n");
    return 0;
}

/* Opens the next data block; the caller writes rows, then calls
 * script_series_end with how to draw it. */
static void script_series_begin(struct script *s)
{
    fprintf(s->f, "$d%d << EOD\n", s->nseries);
}

static void script_series_end(struct script *s, const char *using, const char *style,
                              const char *title)
{
    fprintf(s->f, "EOD\n");
    fprintf(s->plot, "%s$d%d using %s with %s lw 2 title ", s->nseries ? ", \\\n     " : "plot ",
            s->nseries, using, style);
    put_quoted(s->plot, title);
    s->nseries++;
}

static int script_end(struct script *s)
{
    fclose(s->plot);
    s->plot = NULL;
    fprintf(s->f, "%s\n", s->plot_line ? s->plot_line : "");
    int rc = fclose(s->f);
    s->f = NULL;
    return rc;
}

static void script_free(struct script *s)
{
    if (s->plot)
        fclose(s->plot);
    if (s->f)
        fclose(s->f);
    free(s->plot_line);
    free(s->text);
}

/* ---- running gnuplot ---- */

/* The gnuplot to run: `name` if it has a slash, else the first on PATH.
 * Caller frees. */
static char *find_program(const char *name)
{
    if (strchr(name, '/'))
        return access(name, X_OK) == 0 ? strdup(name) : NULL;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    for (const char *p = path; *p;) {
        const char *colon = strchr(p, ':');
        size_t dl = colon ? (size_t)(colon - p) : strlen(p);
        char *cand;
        if (asprintf(&cand, "%.*s/%s", (int)dl, dl ? p : ".", name) < 0)
            return NULL;
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return cand;
        free(cand);
        p = colon ? colon + 1 : p + dl;
    }
    return NULL;
}

static int write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t w = fwrite(text, 1, len, f);
    return (fclose(f) != 0 || w != len) ? -1 : 0;
}

static int gnuplot_run(const char *gnuplot, const struct plot_request *req, const char *text,
                       size_t len, struct error *err)
{
    char *script = NULL;
    int rc = 0;
    if (req->script) {
        if (!(script = strdup(req->script)))
            return error_fail(err, "out of memory");
        if (write_file(script, text, len)) {
            rc = error_at(err, script, 0, "cannot write: %s", strerror(errno));
            free(script);
            return rc;
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        if (asprintf(&script, "%s/stragsim-plot-XXXXXX.gp", tmp && *tmp ? tmp : "/tmp") < 0)
            return error_fail(err, "out of memory");
        int fd = mkstemps(script, 3);
        if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
            rc = error_fail(err, "stragsim plot: cannot write a temporary script: %s",
                            strerror(errno));
            if (fd >= 0) {
                close(fd);
                unlink(script);
            }
            free(script);
            return rc;
        }
        close(fd);
    }
    unlink(req->output); /* so a stale figure is never taken for a new one */
    char *argv[] = {(char *)gnuplot, script, NULL};
    pid_t pid;
    int status = 0;
    int serr = posix_spawn(&pid, gnuplot, NULL, NULL, argv, environ);
    if (serr)
        rc = error_at(err, NULL, 0, "stragsim plot: cannot run %s: %s", gnuplot, strerror(serr));
    else if (waitpid(pid, &status, 0) < 0)
        rc = error_fail(err, "stragsim plot: waiting for gnuplot: %s", strerror(errno));
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        rc = error_at(err, NULL, 0, "stragsim plot: gnuplot failed (exit status %d; its message "
                                    "is above)",
                      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    struct stat st;
    if (!rc && (stat(req->output, &st) != 0 || st.st_size == 0))
        rc = error_at(err, req->output, 0, "gnuplot wrote no figure");
    if (!req->script)
        unlink(script);
    free(script);
    return rc;
}

/* ---- selecting runs ---- */

struct selection {
    struct results_run *runs; /* everything read */
    size_t nruns;
    const struct results_run **sel; /* the runs passing the filters */
    size_t nsel;
    struct report_filter *where; /* with resolved keys */
    const char *db;
};

static void selection_free(struct selection *s)
{
    results_runs_free(s->runs, s->nruns);
    free(s->sel);
    free(s->where);
}

static int selection_load(struct results *r, const struct plot_request *req, struct selection *s,
                          struct error *err)
{
    *s = (struct selection){.db = results_path(r)};
    int rc = results_read_runs(r, &s->runs, &s->nruns, err);
    if (rc)
        return rc;
    if (s->nruns == 0)
        return error_at(err, s->db, 0, "no runs");
    s->sel = malloc(s->nruns * sizeof *s->sel);
    s->where = malloc((req->nwhere + 1) * sizeof *s->where);
    if (!s->sel || !s->where)
        return error_fail(err, "out of memory");
    for (size_t i = 0; i < req->nwhere; i++) {
        s->where[i] = req->where[i];
        rc = param_resolve(s->runs, s->nruns, req->where[i].key, s->db, &s->where[i].key, err);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < s->nruns; i++)
        if (report_run_matches(&s->runs[i], s->where, req->nwhere))
            s->sel[s->nsel++] = &s->runs[i];
    if (s->nsel == 0)
        return error_at(err, s->db, 0, "no runs match the --where filters");
    return 0;
}

/* "k=v, k2=v2" of the params that vary among the selected runs except
 * `skip` (and repeat), for a run: tells curves apart when there is no
 * --group. Caller frees. */
static char *run_label(const struct results_run *run, const char *const *keys, size_t nkeys,
                       const char *skip)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    bool first = true;
    for (size_t i = 0; i < nkeys; i++) {
        if (skip && strcmp(keys[i], skip) == 0)
            continue;
        const char *v = params_get(run->params, keys[i]);
        fprintf(f, "%s%s=%s", first ? "" : ", ", keys[i], v ? v : "-");
        first = false;
    }
    if (first)
        fputs("all runs", f);
    fclose(f);
    return text;
}

/* ---- PLOT_METRIC ---- */

struct metric_point {
    const struct results_run *run;
    const char *group, *x;
    double y, se_own; /* se_own: the run's own standard error, NAN if none */
};

static int point_compare(const void *a, const void *b)
{
    const struct metric_point *p = a, *q = b;
    int c = report_values_compare(p->group, q->group);
    return c ? c : report_values_compare(p->x, q->x);
}

/* Orders const char * elements as param values. */
static int string_compare(const void *a, const void *b)
{
    return report_values_compare(*(const char *const *)a, *(const char *const *)b);
}

static bool is_number(const char *s)
{
    char *end;
    if (!s || !*s)
        return false;
    strtod(s, &end);
    return *end == 0;
}

/* The metric holding y's standard error: latency_mean -> latency_se,
 * iteration_time_mean -> iteration_time_se, else y_se. */
static void se_name(const char *y, char *buf, size_t len)
{
    size_t n = strlen(y);
    if (n > 5 && strcmp(y + n - 5, "_mean") == 0)
        snprintf(buf, len, "%.*s_se", (int)(n - 5), y);
    else
        snprintf(buf, len, "%s_se", y);
}

static bool values_differ(const struct results_run *const *runs, size_t n, const char *key)
{
    const char *first = params_get(runs[0]->params, key);
    for (size_t i = 1; i < n; i++)
        if (report_values_compare(first, params_get(runs[i]->params, key)) != 0)
            return true;
    return false;
}

/* Warns when runs averaged into one point differ in a param other than x,
 * the group and the repeat: they are not repeats of one sweep point. */
static void warn_mixed(FILE *warn, const struct metric_point *pts, size_t n, const char *x,
                       const char *group)
{
    const struct results_run **cell = malloc(n * sizeof *cell);
    const char *shown[8];
    size_t nshown = 0;
    for (size_t i = 0; warn && cell && i < n;) {
        size_t end = i;
        while (end < n && point_compare(&pts[end], &pts[i]) == 0) {
            cell[end - i] = pts[end].run;
            end++;
        }
        const char **keys;
        size_t nkeys;
        bool repeat_varies;
        if (end - i > 1 && report_varying_params(cell, end - i, &keys, &nkeys, &repeat_varies) == 0) {
            for (size_t k = 0; k < nkeys; k++) {
                /* report lists scheme.kind first even when it does not vary */
                bool seen = strcmp(keys[k], x) == 0 || (group && strcmp(keys[k], group) == 0) ||
                            !values_differ(cell, end - i, keys[k]);
                for (size_t j = 0; j < nshown && !seen; j++)
                    seen = strcmp(shown[j], keys[k]) == 0;
                if (!seen && nshown < sizeof shown / sizeof shown[0])
                    shown[nshown++] = keys[k];
            }
            free(keys);
        }
        i = end;
    }
    for (size_t j = 0; j < nshown; j++)
        fprintf(warn, "%s%s", j ? ", " : "stragsim plot: warning: runs averaged into one point "
                                         "differ in ", shown[j]);
    if (nshown)
        fprintf(warn, " (narrow with --where or add --group)\n");
    free(cell);
}

static int plot_metric(struct results *r, const struct plot_request *req, FILE *warn,
                       struct script *sc, struct error *err)
{
    struct selection s;
    struct metric_point *pts = NULL;
    int rc = selection_load(r, req, &s, err);
    const char *x = NULL, *group = NULL;
    if (!rc && !req->x)
        rc = error_at(err, NULL, 0, "stragsim plot: --x PARAM is needed");
    if (!rc && !req->y)
        rc = error_at(err, NULL, 0, "stragsim plot: --y METRIC is needed");
    if (!rc)
        rc = param_resolve(s.runs, s.nruns, req->x, s.db, &x, err);
    if (!rc && req->group)
        rc = param_resolve(s.runs, s.nruns, req->group, s.db, &group, err);
    if (!rc) {
        bool any = false;
        double v;
        for (size_t i = 0; i < s.nruns && !any; i++)
            any = run_metric(&s.runs[i], req->y, &v);
        if (!any)
            rc = error_at(err, s.db, 0, "no runs have metric '%s'", req->y);
    }
    if (rc) {
        selection_free(&s);
        return rc;
    }
    char se_metric[128];
    se_name(req->y, se_metric, sizeof se_metric);
    pts = malloc(s.nsel * sizeof *pts);
    char (*repeat_buf)[2][24] = malloc(s.nsel * sizeof *repeat_buf); /* [run][x, group] */
    size_t n = 0;
    bool numeric_x = true, any_se = false;
    if (!pts || !repeat_buf) {
        rc = error_fail(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s.nsel; i++) {
        const struct results_run *run = s.sel[i];
        struct metric_point p = {.run = run, .se_own = NAN};
        p.x = run_value(run, x, repeat_buf[i][0]);
        p.group = group ? run_value(run, group, repeat_buf[i][1]) : "";
        if (!p.x || !p.group || !run_metric(run, req->y, &p.y))
            continue;
        double se;
        if (run_metric(run, se_metric, &se))
            p.se_own = se;
        numeric_x = numeric_x && is_number(p.x);
        pts[n++] = p;
    }
    if (n == 0) {
        rc = error_at(err, s.db, 0, "no selected run has both param '%s' and metric '%s'", x,
                      req->y);
        goto out;
    }
    qsort(pts, n, sizeof *pts, point_compare);
    warn_mixed(warn, pts, n, x, group);

    /* Categorical x: positions 0, 1, ... in value order, shared by all series. */
    const char **xcat = NULL;
    size_t nxcat = 0;
    if (!numeric_x) {
        xcat = malloc(n * sizeof *xcat);
        if (!xcat) {
            rc = error_fail(err, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            size_t j = 0;
            while (j < nxcat && strcmp(xcat[j], pts[i].x) != 0)
                j++;
            if (j == nxcat)
                xcat[nxcat++] = pts[i].x;
        }
        qsort(xcat, nxcat, sizeof *xcat, string_compare);
    }

    for (size_t i = 0; i < n && !rc;) {
        size_t gend = i;
        while (gend < n && report_values_compare(pts[gend].group, pts[i].group) == 0)
            gend++;
        if (sc->nseries == MAX_SERIES) {
            rc = error_at(err, s.db, 0, "more than %d values of --group %s: narrow with --where",
                          MAX_SERIES, group);
            break;
        }
        script_series_begin(sc);
        for (size_t j = i; j < gend;) {
            size_t xend = j;
            double sum = 0, sum2 = 0;
            while (xend < gend && report_values_compare(pts[xend].x, pts[j].x) == 0) {
                sum += pts[xend].y;
                xend++;
            }
            size_t m = xend - j;
            double mean = sum / (double)m, se = 0;
            for (size_t k = j; k < xend; k++)
                sum2 += (pts[k].y - mean) * (pts[k].y - mean);
            if (m > 1)
                se = sqrt(sum2 / (double)(m - 1) / (double)m);
            else if (!isnan(pts[j].se_own))
                se = pts[j].se_own;
            any_se = any_se || se > 0;
            if (numeric_x) {
                fprintf(sc->f, "%s %.10g %.10g\n", pts[j].x, mean, se);
            } else {
                size_t pos = 0;
                while (strcmp(xcat[pos], pts[j].x) != 0)
                    pos++;
                fprintf(sc->f, "%zu %.10g %.10g ", pos, mean, se);
                put_data_label(sc->f, pts[j].x);
                fputc('\n', sc->f);
            }
            j = xend;
        }
        char title[256];
        if (group)
            snprintf(title, sizeof title, "%s = %s", group, pts[i].group);
        else
            snprintf(title, sizeof title, "%s", req->y);
        /* Categories are not a continuum: points with bars, no joining line. */
        script_series_end(sc, numeric_x ? "1:2:3" : "1:2:3:xtic(4)",
                          numeric_x ? "yerrorlines pt 7 ps 0.8" : "yerrorbars pt 7 ps 1.2", title);
        i = gend;
    }
    fprintf(sc->f, "set offsets graph 0.03, graph 0.03, graph 0.08, graph 0.02\n");
    if (!numeric_x)
        fprintf(sc->f, "set xrange [-0.5:%zu.5]\n", nxcat - 1);
    if (any_se && !req->title) { /* a later `set title` replaces the first */
        char title[320];
        snprintf(title, sizeof title, "%s vs %s (error bars: one standard error)", req->y, x);
        fprintf(sc->f, "set title ");
        put_quoted(sc->f, title);
        fputc('\n', sc->f);
    }
    free(xcat);
out:
    free(repeat_buf);
    free(pts);
    selection_free(&s);
    return rc;
}

/* ---- PLOT_CDF and PLOT_ITERATIONS: curves from the bulk tables ---- */

/* The label of a curve: the group value, or the params telling runs apart. */
struct curve_labels {
    const char **keys; /* varying params of the selection */
    size_t nkeys;
    bool repeat_varies;
};

static char *curve_label(const struct curve_labels *cl, const struct results_run *run,
                         const char *group, bool with_repeat)
{
    char *base, buf[24], *out = NULL;
    if (group) {
        const char *v = run_value(run, group, buf);
        if (asprintf(&base, "%s = %s", group, v ? v : "-") < 0)
            return NULL;
    } else if (!(base = run_label(run, cl->keys, cl->nkeys, NULL))) {
        return NULL;
    }
    if (!with_repeat || !cl->repeat_varies)
        return base;
    if (asprintf(&out, "%s, repeat %d", base, run->repeat) < 0)
        out = NULL;
    free(base);
    return out;
}

/* Empirical CDF (or CCDF) of sorted[n], at most CDF_BODY_POINTS evenly
 * spread ranks plus every one of the top CDF_TAIL_POINTS, where tails are
 * read. */
static void write_cdf(FILE *f, const double *sorted, size_t n, bool ccdf)
{
    size_t tail_from = n > CDF_TAIL_POINTS ? n - CDF_TAIL_POINTS : 0;
    size_t step = tail_from > CDF_BODY_POINTS ? tail_from / CDF_BODY_POINTS : 1;
    for (size_t i = 0; i < n;) {
        double p = ccdf ? (double)(n - i) / (double)n : (double)(i + 1) / (double)n;
        fprintf(f, "%.10g %.10g\n", sorted[i], p);
        if (i < tail_from && i + step < tail_from)
            i += step;
        else if (i < tail_from)
            i = tail_from;
        else
            i++;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Appends one run's job latencies to *v. */
static int jobs_append(sqlite3 *db, int64_t run_id, double **v, size_t *n, size_t *cap)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT latency FROM jobs WHERE run_id = ? AND latency IS NOT NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == *cap) {
            size_t nc = *cap ? 2 * *cap : 4096;
            double *g = realloc(*v, nc * sizeof *g);
            if (!g) {
                sqlite3_finalize(st);
                return -1;
            }
            *v = g;
            *cap = nc;
        }
        (*v)[(*n)++] = sqlite3_column_double(st, 0);
    }
    sqlite3_finalize(st);
    return s == SQLITE_DONE ? 0 : -1;
}

/* A run and the label of the curve it goes into. */
struct labelled_run {
    char *label;
    const struct results_run *run;
};

static int label_compare(const void *a, const void *b)
{
    const struct labelled_run *p = a, *q = b;
    return report_values_compare(p->label, q->label);
}

static int plot_cdf(struct results *r, const struct plot_request *req, struct script *sc,
                    struct error *err)
{
    struct selection s;
    struct curve_labels cl = {0};
    const char *group = NULL;
    int rc = selection_load(r, req, &s, err);
    if (!rc && req->group)
        rc = param_resolve(s.runs, s.nruns, req->group, s.db, &group, err);
    if (rc) {
        selection_free(&s);
        return rc;
    }
    /* Sorted by label so equal labels (repeats of one point, runs of one
     * group) are adjacent and pooled into one curve. */
    struct labelled_run *labels = calloc(s.nsel, sizeof *labels);
    double *v = NULL;
    size_t cap = 0;
    if (!labels || report_varying_params(s.sel, s.nsel, &cl.keys, &cl.nkeys, &cl.repeat_varies)) {
        rc = error_fail(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s.nsel && !rc; i++) {
        labels[i] = (struct labelled_run){curve_label(&cl, s.sel[i], group, false), s.sel[i]};
        if (!labels[i].label)
            rc = error_fail(err, "out of memory");
    }
    if (rc)
        goto out;
    qsort(labels, s.nsel, sizeof *labels, label_compare);
    sqlite3 *db = results_db(r);
    size_t total = 0;
    for (size_t i = 0; i < s.nsel && !rc;) {
        size_t end = i, n = 0;
        while (end < s.nsel && strcmp(labels[end].label, labels[i].label) == 0) {
            if (jobs_append(db, labels[end].run->id, &v, &n, &cap))
                rc = error_fail(err, "%s: reading jobs: %s", s.db, sqlite3_errmsg(db));
            end++;
        }
        if (!rc && n > 0) {
            if (sc->nseries == MAX_SERIES) {
                rc = error_at(err, s.db, 0, "more than %d curves: narrow with --where or --group",
                              MAX_SERIES);
                break;
            }
            qsort(v, n, sizeof *v, cmp_double);
            if (sc->nseries == 0 && !req->ccdf)
                fprintf(sc->f, "set yrange [0:1.02]\n");
            script_series_begin(sc);
            write_cdf(sc->f, v, n, req->ccdf);
            script_series_end(sc, "1:2", "steps", labels[i].label);
            total += n;
        }
        i = end;
    }
    if (!rc && total == 0)
        rc = error_at(err, s.db, 0, "no per-job rows for the selected runs (runs store them with "
                                    "workload.job_rows = true)");
out:
    for (size_t i = 0; labels && i < s.nsel; i++)
        free(labels[i].label);
    free(labels);
    free(cl.keys);
    free(v);
    selection_free(&s);
    return rc;
}

static int plot_iterations(struct results *r, const struct plot_request *req, struct script *sc,
                           struct error *err)
{
    const char *xcol = req->x ? req->x : "sim_time";
    if (strcmp(xcol, "sim_time") != 0 && strcmp(xcol, "iteration") != 0)
        return error_at(err, NULL, 0, "stragsim plot: --iterations: --x must be sim_time or "
                                      "iteration, got '%s'",
                        xcol);
    if (!req->y || !name_in(req->y, iteration_columns))
        return error_at(err, NULL, 0, "stragsim plot: --iterations: --y must be one of loss, "
                                      "accuracy, residual, grad_rel_err, staleness, waited%s%s%s",
                        req->y ? ", got '" : "", req->y ? req->y : "", req->y ? "'" : "");
    struct selection s;
    struct curve_labels cl = {0};
    const char *group = NULL;
    int rc = selection_load(r, req, &s, err);
    if (!rc && req->group)
        rc = param_resolve(s.runs, s.nruns, req->group, s.db, &group, err);
    if (!rc && report_varying_params(s.sel, s.nsel, &cl.keys, &cl.nkeys, &cl.repeat_varies))
        rc = error_fail(err, "out of memory");
    if (rc) {
        selection_free(&s);
        return rc;
    }
    /* Column names come from the fixed lists above, never from the user. */
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT %s, %s FROM iterations WHERE run_id = ? ORDER BY iteration",
             xcol, req->y);
    sqlite3 *db = results_db(r);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        rc = error_fail(err, "%s: reading iterations: %s", s.db, sqlite3_errmsg(db));
    size_t total = 0;
    for (size_t i = 0; i < s.nsel && !rc; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, s.sel[i]->id);
        size_t n = 0;
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if (sqlite3_column_type(st, 1) == SQLITE_NULL || isnan(sqlite3_column_double(st, 1)))
                continue;
            if (n == 0) {
                if (sc->nseries == MAX_SERIES) {
                    rc = error_at(err, s.db, 0, "more than %d runs with iterations: narrow with "
                                                "--where",
                                  MAX_SERIES);
                    break;
                }
                script_series_begin(sc);
            }
            fprintf(sc->f, "%.10g %.10g\n", sqlite3_column_double(st, 0),
                    sqlite3_column_double(st, 1));
            n++;
        }
        if (!rc && step != SQLITE_DONE)
            rc = error_fail(err, "%s: reading iterations: %s", s.db, sqlite3_errmsg(db));
        if (n > 0) {
            char *label = curve_label(&cl, s.sel[i], group, true);
            script_series_end(sc, "1:2", n <= 50 ? "linespoints pt 7 ps 0.6" : "lines",
                              label ? label : "run");
            free(label);
        }
        total += n;
    }
    sqlite3_finalize(st);
    if (!rc && total == 0)
        rc = error_at(err, s.db, 0, "no iterations rows with %s for the selected runs (training "
                                    "runs write them)",
                      req->y);
    free(cl.keys);
    selection_free(&s);
    return rc;
}

int plot_make(struct results *r, const struct plot_request *req, FILE *warn, struct error *err)
{
    if (!req->output)
        return error_at(err, NULL, 0, "stragsim plot: -o FILE.png|FILE.svg is needed");
    if (!terminal_for(req->output))
        return error_at(err, req->output, 0, "unknown output extension (expected .png or .svg)");
    char *gnuplot = find_program(req->gnuplot ? req->gnuplot : "gnuplot");
    if (!gnuplot)
        return error_at(err, NULL, 0, "stragsim plot: gnuplot not found (apt-get install "
                                      "gnuplot-nox)");

    /* Titles and axis labels per kind. */
    char title[256], xlabel[160], ylabel[160];
    switch (req->kind) {
    case PLOT_METRIC:
        snprintf(xlabel, sizeof xlabel, "%s", axis_label(req->x ? req->x : ""));
        snprintf(ylabel, sizeof ylabel, "%s", axis_label(req->y ? req->y : ""));
        snprintf(title, sizeof title, "%s vs %s", req->y ? req->y : "", req->x ? req->x : "");
        break;
    case PLOT_CDF:
        snprintf(xlabel, sizeof xlabel, "job latency (s)");
        snprintf(ylabel, sizeof ylabel, "%s",
                 req->ccdf ? "fraction of jobs slower than x" : "fraction of jobs done by x");
        snprintf(title, sizeof title, "job latency %s", req->ccdf ? "CCDF" : "CDF");
        break;
    case PLOT_ITERATIONS:
        snprintf(xlabel, sizeof xlabel, "%s", axis_label(req->x ? req->x : "sim_time"));
        snprintf(ylabel, sizeof ylabel, "%s", axis_label(req->y ? req->y : ""));
        snprintf(title, sizeof title, "%s during training", axis_label(req->y ? req->y : ""));
        break;
    }
    struct script sc;
    int rc = script_begin(&sc, req, title, xlabel, ylabel) ? error_fail(err, "out of memory") : 0;
    if (!rc) {
        switch (req->kind) {
        case PLOT_METRIC: rc = plot_metric(r, req, warn, &sc, err); break;
        case PLOT_CDF: rc = plot_cdf(r, req, &sc, err); break;
        case PLOT_ITERATIONS: rc = plot_iterations(r, req, &sc, err); break;
        }
    }
    if (!rc && script_end(&sc))
        rc = error_fail(err, "out of memory");
    if (!rc)
        rc = gnuplot_run(gnuplot, req, sc.text, sc.len, err);
    script_free(&sc);
    free(gnuplot);
    return rc;
}
