/* plot.c: turning a results database into a gnuplot script with inline data
 * and running gnuplot on it (see plot.h). Selects runs, resolves names,
 * aggregates repeats, labels axes with units; knows nothing about options
 * parsing or how the runs were produced.
 */
#include "analysis/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <sqlite3.h>

#include "analysis/aggregate.h"
#include "analysis/export.h"
#include "base/atomic_file.h"
#include "base/metrics.h"
#include "base/stats.h"

extern char **environ;

enum { MAX_SERIES = PLOT_MAX_SERIES, CDF_BODY_POINTS = 1000, CDF_TAIL_POINTS = 500 };

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

/* A metric the run has, with a value (NULL, i.e. NAN, counts as absent). */
static bool run_metric(const struct results_run *run, const char *name, double *value)
{
    return metric_list_find(&run->metrics, name, value) && !isnan(*value);
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

/* Text that gnuplot could act on: a control character (a newline ends the
 * command and starts another, a CR or form feed may too) or a backquote
 * (command substitution outside single quotes). */
static bool unsafe_char(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == '`';
}

bool plot_text_safe(const char *s)
{
    for (; *s; s++)
        if (unsafe_char((unsigned char)*s))
            return false;
    return true;
}

/* Every text from the user or the database reaches the script only here: a
 * gnuplot single-quoted string, where nothing is special but the quote
 * itself (doubled): no backslash escapes, no `command` substitution, no
 * @macro expansion. Unsafe characters become '?', so no newline can end
 * the string and start a command, and the terminal is noenhanced, so no
 * markup is read from it either. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(unsafe_char((unsigned char)*s) ? '?' : *s, f);
    }
    fputc('\'', f);
}

/* A label inside the data file (xtic labels): a double-quoted column, which
 * gnuplot reads as text only; a double quote or a line break in it would
 * split the row, so they are replaced. */
static void put_data_label(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++)
        fputc(*s == '"' ? '\'' : unsafe_char((unsigned char)*s) ? '?' : *s, f);
    fputc('"', f);
}

/* The script (commands, no data and no file names: the data file's name
 * is prepended when it is run) and the data file it plots from (one block
 * per series, separated by two blank lines: gnuplot's `index N`). */
struct script {
    FILE *f;
    char *text;
    size_t len;
    FILE *data;
    char *data_text;
    size_t data_len;
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
    case PLOT_TRADEOFF: return "outside top center horizontal";
    default: return req->group ? "outside top center horizontal" : "off";
    }
}

static int script_begin(struct script *s, const struct plot_request *req, const char *title,
                        const char *xlabel, const char *ylabel)
{
    *s = (struct script){0};
    s->f = open_memstream(&s->text, &s->len);
    s->plot = open_memstream(&s->plot_line, &s->plot_len);
    s->data = open_memstream(&s->data_text, &s->data_len);
    if (!s->f || !s->plot || !s->data)
        return -1;
    /* No `set output`: the figure goes to gnuplot's standard output, which
     * is a temporary file renamed onto the output when complete. */
    fprintf(s->f, "set terminal ");
    fprintf(s->f, terminal_for(req->output), req->width ? req->width : 800,
            req->height ? req->height : 500);
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

/* Opens the next data block (`columns` names them in a comment); the
 * caller writes rows to s->data, then calls script_series_end with how to
 * draw it. */
static void script_series_begin(struct script *s, const char *columns)
{
    fprintf(s->data, "%s# series %d: %s\n", s->nseries ? "\n\n" : "", s->nseries, columns);
}

static void script_series_end(struct script *s, const char *using, const char *style,
                              const char *title)
{
    fprintf(s->plot, "%sdata index %d using %s with %s lw 2 title ",
            s->nseries ? ", \\\n     " : "plot ", s->nseries, using, style);
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
    if (fclose(s->data))
        rc = -1;
    s->data = NULL;
    return rc;
}

static void script_free(struct script *s)
{
    if (s->plot)
        fclose(s->plot);
    if (s->f)
        fclose(s->f);
    if (s->data)
        fclose(s->data);
    free(s->plot_line);
    free(s->text);
    free(s->data_text);
}

/* A data row's numbers, space-separated, each reading back to the same
 * double; NaN as gnuplot's NaN (a missing value, not an empty column). */
static void put_numbers(FILE *f, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(' ', f);
        if (isnan(x[i]))
            fputs("NaN", f);
        else
            export_number(f, x[i]);
    }
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

/* A temporary file in $TMPDIR (or /tmp: also when $TMPDIR holds text that
 * may not reach a script) named stragsim-plot-XXXXXX<suffix>, holding
 * text. Caller unlinks and frees. */
static char *temp_write(const char *suffix, const char *text, size_t len, struct error *err)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir || !plot_text_safe(dir))
        dir = "/tmp";
    char *path;
    if (asprintf(&path, "%s/stragsim-plot-XXXXXX%s", dir, suffix) < 0) {
        error_fail(err, "out of memory");
        return NULL;
    }
    int fd = mkstemps(path, (int)strlen(suffix));
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;
    int e = errno;
    if (fd >= 0 && close(fd) != 0 && ok)
        ok = false, e = errno;
    if (!ok) {
        error_fail(err, "stragsim plot: cannot write a temporary file in %s: %s", dir,
                   strerror(e));
        if (fd >= 0)
            unlink(path);
        free(path);
        return NULL;
    }
    return path;
}

/* `text` to the kept file `path` (--data, --script), complete or not at all. */
static int keep_write(const char *path, const char *text, size_t len, struct error *err)
{
    struct atomic_file af;
    int rc = atomic_file_open(&af, path, err);
    if (rc)
        return rc;
    fwrite(text, 1, len, af.f);
    return atomic_file_commit(&af, err);
}

/* Whether the figure gnuplot wrote to fd is whole: a PNG ends with its IEND
 * chunk, an SVG with </svg>. gnuplot exits 0 even when its output could
 * not be written (a full disk), so the file itself is checked. */
static bool figure_complete(int fd, const char *output)
{
    static const unsigned char png_end[] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    struct stat st;
    unsigned char tail[64];
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof png_end)
        return false;
    size_t n = st.st_size < (off_t)sizeof tail ? (size_t)st.st_size : sizeof tail;
    if (pread(fd, tail, n, st.st_size - (off_t)n) != (ssize_t)n)
        return false;
    const char *dot = strrchr(output, '.');
    if (dot && strcasecmp(dot, ".png") == 0)
        return memcmp(tail + n - sizeof png_end, png_end, sizeof png_end) == 0;
    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == ' ' || tail[n - 1] == '\r'))
        n--;
    return n >= 6 && memcmp(tail + n - 6, "</svg>", 6) == 0;
}

/* gnuplot's complaint as one line. Its messages look like
 *     plot data index 0 using 1:2:9 with lines title 'x'
 *                                                 ^
 *     "/tmp/stragsim-plot-abc.gp" line 14: warning: ...
 * The line naming a script line is the message; the file name is the
 * kept script's (--script) or dropped (a removed temporary). */
static void gnuplot_message(const char *out, const char *kept_script, char *msg, size_t cap)
{
    const char *best = NULL, *last = NULL;
    size_t best_len = 0, last_len = 0;
    for (const char *p = out; *p;) {
        size_t len = strcspn(p, "\n");
        const char *q = p;
        while (q < p + len && (*q == ' ' || *q == '\t'))
            q++;
        size_t ql = len - (size_t)(q - p);
        if (ql > 0 && *q != '^') {
            last = q, last_len = ql;
            if (memmem(q, ql, "line ", 5) && memmem(q, ql, ": ", 2))
                best = q, best_len = ql;
        }
        p += len + (p[len] == '\n');
    }
    if (!best)
        best = last, best_len = last_len;
    if (!best) {
        snprintf(msg, cap, "no message");
        return;
    }
    /* "\"FILE\" line N: text" -> N and text */
    const char *ln = memmem(best, best_len, "line ", 5);
    char *end;
    long line = ln ? strtol(ln + 5, &end, 10) : 0;
    if (ln && end > ln + 5 && end[0] == ':' && end[1] == ' ' && end < best + best_len) {
        const char *text = end + 2;
        int tl = (int)(best + best_len - text);
        if (kept_script)
            snprintf(msg, cap, "%s:%ld: gnuplot: %.*s", kept_script, line, tl, text);
        else
            snprintf(msg, cap, "script line %ld: %.*s", line, tl, text);
    } else {
        snprintf(msg, cap, "%.*s", (int)best_len, best);
    }
    for (char *c = msg; *c; c++) /* one line, whatever gnuplot printed */
        if (unsafe_char((unsigned char)*c) && *c != '`')
            *c = ' ';
}

/* Runs `gnuplot SCRIPT` with standard output into fd, standard input from
 * /dev/null and standard error collected into *errout (the first 64 KiB).
 * Returns the wait status, or -1 with errno. */
static int gnuplot_spawn(const char *gnuplot, const char *script, int fd, char **errout)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    /* "./name": a script name starting with '-' is not an option. */
    char *arg = NULL;
    if (asprintf(&arg, "%s%s", script[0] == '/' ? "" : "./", script) < 0)
        arg = NULL;
    char *argv[] = {(char *)gnuplot, arg, NULL};
    pid_t pid;
    int serr = arg ? posix_spawn(&pid, gnuplot, &fa, NULL, argv, environ) : ENOMEM;
    posix_spawn_file_actions_destroy(&fa);
    free(arg);
    close(pipefd[1]);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    for (ssize_t r; (r = read(pipefd[0], buf ? buf + len : (char[256]){0},
                              buf ? cap - len : 256)) != 0;) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        if (buf && (len += (size_t)r) == cap) {
            char sink[256]; /* drain the rest, keep the first 64 KiB */
            while (read(pipefd[0], sink, sizeof sink) > 0)
                ;
            break;
        }
    }
    close(pipefd[0]);
    if (buf)
        buf[len] = 0;
    *errout = buf;
    if (serr) {
        errno = serr;
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

/* Writes the data and the script (kept ones through atomic_file, else
 * temporaries), runs gnuplot with its output into a temporary beside
 * req->output and renames that onto the output once gnuplot succeeded and
 * the figure is whole. On any failure the output is left as it was. */
static int gnuplot_run(const char *gnuplot, const struct plot_request *req,
                       const struct script *sc, FILE *warn, struct error *err)
{
    char *data = NULL, *script = NULL, *text = NULL, *errout = NULL;
    size_t len = 0;
    struct atomic_file out = {0};
    int rc = 0;
    if (req->data)
        rc = keep_write(req->data, sc->data_text, sc->data_len, err);
    if (!rc && !(data = req->data ? strdup(req->data) : temp_write(".dat", sc->data_text,
                                                                     sc->data_len, err)))
        rc = req->data ? error_fail(err, "out of memory") : STRAG_EFAIL;
    /* The script: the data file's name (quoted; plot_make checked that a
     * kept one is safe text), then the commands. */
    FILE *f = rc ? NULL : open_memstream(&text, &len);
    if (!rc && !f)
        rc = error_fail(err, "out of memory");
    if (f) {
        fprintf(f, "# stragsim plot: run with  gnuplot THIS_FILE > FIGURE\ndata = ");
        put_quoted(f, data);
        fprintf(f, "\n%s", sc->text);
        if (fclose(f))
            rc = error_fail(err, "out of memory");
    }
    if (!rc && req->script)
        rc = keep_write(req->script, text, len, err);
    if (!rc && !(script = req->script ? strdup(req->script) : temp_write(".gp", text, len, err)))
        rc = req->script ? error_fail(err, "out of memory") : STRAG_EFAIL;
    if (!rc)
        rc = atomic_file_open(&out, req->output, err);
    /* An output written in place (a device, a FIFO) cannot be checked after
     * gnuplot: the figure goes to a temporary first and is copied there. */
    char *via = NULL;
    int fig = -1;
    if (!rc && !out.tmp && (!(via = temp_write(".fig", "", 0, err)) ||
                            (fig = open(via, O_RDWR)) < 0)) {
        rc = via ? error_fail(err, "stragsim plot: %s: %s", via, strerror(errno)) : STRAG_EFAIL;
        atomic_file_abort(&out);
    }
    if (!rc) {
        if (fig < 0)
            fig = atomic_file_fd(&out);
        int status = gnuplot_spawn(gnuplot, script, fig, &errout);
        char msg[600];
        if (status == -1) {
            rc = error_at(err, NULL, 0, "stragsim plot: cannot run %s: %s", gnuplot,
                          strerror(errno));
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            char said[64];
            snprintf(said, sizeof said, "exit status %d and no message",
                     WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            gnuplot_message(errout && *errout ? errout : said, req->script, msg, sizeof msg);
            if (req->script && strncmp(msg, req->script, strlen(req->script)) == 0)
                rc = error_at(err, NULL, 0, "%s", msg); /* "SCRIPT:N: gnuplot: ..." */
            else
                rc = error_at(err, NULL, 0, "stragsim plot: gnuplot failed: %s", msg);
        } else if (!figure_complete(fig, req->output)) {
            rc = error_at(err, req->output, 0, "gnuplot wrote no complete figure (disk full?)");
        }
        char buf[1 << 14];
        ssize_t got;
        for (off_t at = 0; !rc && via && (got = pread(fig, buf, sizeof buf, at)) > 0; at += got)
            fwrite(buf, 1, (size_t)got, out.f);
        if (rc) {
            atomic_file_abort(&out);
        } else {
            rc = atomic_file_commit(&out, err);
            /* gnuplot's warnings, one line each */
            for (const char *p = errout; !rc && warn && p && *p;) {
                size_t l = strcspn(p, "\n");
                char one[600];
                snprintf(one, sizeof one, "%.*s", (int)l, p);
                if (strstr(one, "warning:")) {
                    gnuplot_message(one, req->script, msg, sizeof msg);
                    fprintf(warn, "stragsim plot: gnuplot %s\n", msg);
                }
                p += l + (p[l] == '\n');
            }
        }
    }
    if (via) {
        if (fig >= 0)
            close(fig);
        unlink(via);
        free(via);
    }
    if (!req->data && data)
        unlink(data);
    if (!req->script && script)
        unlink(script);
    free(errout);
    free(text);
    free(script);
    free(data);
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

/* selection_load, and the param named by --group (NULL without one); on
 * failure the selection is already freed. */
static int selection_load_grouped(struct results *r, const struct plot_request *req,
                                  struct selection *s, const char **group, struct error *err)
{
    int rc = selection_load(r, req, s, err);
    if (!rc && req->group)
        rc = param_resolve(s->runs, s->nruns, req->group, s->db, group, err);
    if (rc)
        selection_free(s);
    return rc;
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

/* The params in which runs pooled together (into one point or one curve)
 * differ, other than x, the group and the repeat: such runs are not repeats
 * of one sweep point, and the user should hear so. */
struct pool_warning {
    const char *shown[8];
    size_t nshown;
};

static void pool_note(struct pool_warning *w, const struct results_run *const *cell, size_t n,
                      const char *x, const char *group)
{
    const char **keys;
    size_t nkeys;
    bool repeat_varies;
    if (n < 2 || report_varying_params(cell, n, &keys, &nkeys, &repeat_varies) != 0)
        return;
    for (size_t k = 0; k < nkeys; k++) {
        /* report lists scheme.kind first even when it does not vary */
        bool seen = (x && strcmp(keys[k], x) == 0) || (group && strcmp(keys[k], group) == 0) ||
                    !values_differ(cell, n, keys[k]);
        for (size_t j = 0; j < w->nshown && !seen; j++)
            seen = strcmp(w->shown[j], keys[k]) == 0;
        if (!seen && w->nshown < sizeof w->shown / sizeof w->shown[0])
            w->shown[w->nshown++] = keys[k];
    }
    free(keys);
}

/* One line: "stragsim plot: warning: <what> differ in k1, k2 (<hint>)". */
static void pool_warn(FILE *warn, const struct pool_warning *w, const char *what,
                      const char *hint)
{
    if (!warn || w->nshown == 0)
        return;
    fprintf(warn, "stragsim plot: warning: %s differ in ", what);
    for (size_t j = 0; j < w->nshown; j++)
        fprintf(warn, "%s%s", j ? ", " : "", w->shown[j]);
    fprintf(warn, " (%s)\n", hint);
}

/* Warns when runs averaged into one point differ in another param. */
static void warn_mixed(FILE *warn, const struct metric_point *pts, size_t n, const char *x,
                       const char *group)
{
    const struct results_run **cell = malloc(n * sizeof *cell);
    struct pool_warning w = {0};
    for (size_t i = 0; warn && cell && i < n;) {
        size_t end = i;
        while (end < n && point_compare(&pts[end], &pts[i]) == 0) {
            cell[end - i] = pts[end].run;
            end++;
        }
        pool_note(&w, cell, end - i, x, group);
        i = end;
    }
    pool_warn(warn, &w, "runs averaged into one point", "narrow with --where or add --group");
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
    double *ys = malloc(s.nsel * sizeof *ys); /* one point's values */
    char (*repeat_buf)[2][24] = malloc(s.nsel * sizeof *repeat_buf); /* [run][x, group] */
    size_t n = 0;
    bool numeric_x = true, any_se = false;
    if (!pts || !repeat_buf || !ys) {
        rc = error_fail(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s.nsel; i++) {
        const struct results_run *run = s.sel[i];
        struct metric_point p = {.run = run, .se_own = NAN};
        p.x = report_run_param(run, x, repeat_buf[i][0]);
        p.group = group ? report_run_param(run, group, repeat_buf[i][1]) : "";
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
        script_series_begin(sc, numeric_x ? "x mean ci95_half_width se n"
                                          : "position mean ci95_half_width se n x");
        for (size_t j = i; j < gend;) {
            size_t xend = j;
            while (xend < gend && report_values_compare(pts[xend].x, pts[j].x) == 0) {
                ys[xend - j] = pts[xend].y;
                xend++;
            }
            /* Repeats: mean and Student-t 95% interval across them (the
             * statistic report --aggregate prints). One run: its own
             * batch-means standard error, t with STATS_BATCHES - 1 degrees
             * of freedom; none: no bar. */
            struct ci ci;
            aggregate_ci(ys, xend - j, &ci);
            if (xend - j == 1 && !isnan(pts[j].se_own)) {
                ci.se = pts[j].se_own;
                ci.half_width = gsl_cdf_tdist_Pinv(0.975, STATS_BATCHES - 1) * ci.se;
            }
            double half = isnan(ci.half_width) ? 0 : ci.half_width;
            any_se = any_se || half > 0;
            if (numeric_x) {
                put_numbers(sc->data, (double[]){strtod(pts[j].x, NULL), ci.mean, half, ci.se}, 4);
                fprintf(sc->data, " %zu\n", ci.n);
            } else {
                size_t pos = 0;
                while (strcmp(xcat[pos], pts[j].x) != 0)
                    pos++;
                fprintf(sc->data, "%zu ", pos);
                put_numbers(sc->data, (double[]){ci.mean, half, ci.se}, 3);
                fprintf(sc->data, " %zu ", ci.n);
                put_data_label(sc->data, pts[j].x);
                fputc('\n', sc->data);
            }
            j = xend;
        }
        char title[256];
        if (group)
            snprintf(title, sizeof title, "%s = %s", group, pts[i].group);
        else
            snprintf(title, sizeof title, "%s", req->y);
        /* Categories are not a continuum: points with bars, no joining line. */
        script_series_end(sc, numeric_x ? "1:2:3" : "1:2:3:xtic(6)",
                          numeric_x ? "yerrorlines pt 7 ps 0.8" : "yerrorbars pt 7 ps 1.2", title);
        i = gend;
    }
    fprintf(sc->f, "set offsets graph 0.03, graph 0.03, graph 0.08, graph 0.02\n");
    if (!numeric_x)
        fprintf(sc->f, "set xrange [-0.5:%zu.5]\n", nxcat - 1);
    if (any_se && !req->title) { /* a later `set title` replaces the first */
        char title[320];
        snprintf(title, sizeof title, "%s vs %s (error bars: 95%% confidence interval)", req->y, x);
        fprintf(sc->f, "set title ");
        put_quoted(sc->f, title);
        fputc('\n', sc->f);
    }
    free(xcat);
out:
    free(ys);
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
        const char *v = report_run_param(run, group, buf);
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
        put_numbers(f, (double[]){sorted[i], p}, 2);
        fputc('\n', f);
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

static int plot_cdf(struct results *r, const struct plot_request *req, FILE *warn,
                    struct script *sc, struct error *err)
{
    struct selection s;
    struct curve_labels cl = {0};
    const char *group = NULL;
    int rc = selection_load_grouped(r, req, &s, &group, err);
    if (rc)
        return rc;
    /* Sorted by label so equal labels (repeats of one point, runs of one
     * group) are adjacent and pooled into one curve. */
    struct labelled_run *labels = calloc(s.nsel, sizeof *labels);
    const struct results_run **cell = malloc(s.nsel * sizeof *cell); /* one curve's runs */
    double *v = NULL;
    size_t cap = 0;
    if (!labels || !cell || report_varying_params(s.sel, s.nsel, &cl.keys, &cl.nkeys, &cl.repeat_varies)) {
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
    struct pool_warning pooled = {0};
    for (size_t i = 0; i < s.nsel && !rc;) {
        size_t end = i, n = 0;
        while (end < s.nsel && strcmp(labels[end].label, labels[i].label) == 0) {
            if (jobs_append(db, labels[end].run->id, &v, &n, &cap))
                rc = error_fail(err, "%s: reading jobs: %s", s.db, sqlite3_errmsg(db));
            cell[end - i] = labels[end].run;
            end++;
        }
        if (n > 0)
            pool_note(&pooled, cell, end - i, NULL, group);
        if (!rc && n > 0) {
            if (sc->nseries == MAX_SERIES) {
                rc = error_at(err, s.db, 0, "more than %d curves: narrow with --where or --group",
                              MAX_SERIES);
                break;
            }
            qsort(v, n, sizeof *v, cmp_double);
            if (sc->nseries == 0 && !req->ccdf)
                fprintf(sc->f, "set yrange [0:1.02]\n");
            script_series_begin(sc, req->ccdf ? "latency fraction_slower" : "latency fraction_done");
            write_cdf(sc->data, v, n, req->ccdf);
            script_series_end(sc, "1:2", "steps", labels[i].label);
            total += n;
        }
        i = end;
    }
    if (!rc && total == 0)
        rc = error_at(err, s.db, 0, "no per-job rows for the selected runs (runs store them with "
                                    "workload.job_rows = true)");
    if (!rc)
        pool_warn(warn, &pooled, "runs pooled into one curve", "narrow with --where");
out:
    free(cell);
    for (size_t i = 0; labels && i < s.nsel; i++)
        free(labels[i].label);
    free(labels);
    free(cl.keys);
    free(v);
    selection_free(&s);
    return rc;
}

/* ---- PLOT_TRADEOFF: one metric against another, a point per run ---- */

/* One series per group value (per scheme in the HTML report), one point per
 * selected run that has both metrics: where each scheme sits between, say,
 * tail latency and accuracy. */
static int plot_tradeoff(struct results *r, const struct plot_request *req, struct script *sc,
                         struct error *err)
{
    if (!req->x || !req->y)
        return error_at(err, NULL, 0, "stragsim plot: a trade-off needs two metrics (x and y)");
    struct selection s;
    struct curve_labels cl = {0};
    const char *group = NULL;
    int rc = selection_load_grouped(r, req, &s, &group, err);
    if (rc)
        return rc;
    struct labelled_run *labels = calloc(s.nsel, sizeof *labels);
    size_t n = 0;
    if (!labels || report_varying_params(s.sel, s.nsel, &cl.keys, &cl.nkeys, &cl.repeat_varies)) {
        rc = error_fail(err, "out of memory");
        goto out;
    }
    double x, y;
    for (size_t i = 0; i < s.nsel && !rc; i++) {
        if (!run_metric(s.sel[i], req->x, &x) || !run_metric(s.sel[i], req->y, &y))
            continue;
        labels[n] = (struct labelled_run){curve_label(&cl, s.sel[i], group, false), s.sel[i]};
        if (!labels[n++].label)
            rc = error_fail(err, "out of memory");
    }
    if (!rc && n == 0)
        rc = error_at(err, s.db, 0, "no selected run has both metrics '%s' and '%s'", req->x,
                      req->y);
    if (rc)
        goto out;
    qsort(labels, n, sizeof *labels, label_compare);
    for (size_t i = 0; i < n && !rc;) {
        if (sc->nseries == MAX_SERIES) {
            rc = error_at(err, s.db, 0, "more than %d series: narrow with --where", MAX_SERIES);
            break;
        }
        script_series_begin(sc, "x y");
        size_t end = i;
        for (; end < n && strcmp(labels[end].label, labels[i].label) == 0; end++) {
            run_metric(labels[end].run, req->x, &x);
            run_metric(labels[end].run, req->y, &y);
            put_numbers(sc->data, (double[]){x, y}, 2);
            fputc('\n', sc->data);
        }
        script_series_end(sc, "1:2", "points pt 7 ps 1.5", labels[i].label);
        i = end;
    }
    fprintf(sc->f, "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n");
out:
    for (size_t i = 0; labels && i < n; i++)
        free(labels[i].label);
    free(labels);
    free(cl.keys);
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
    int rc = selection_load_grouped(r, req, &s, &group, err);
    if (rc)
        return rc;
    if (report_varying_params(s.sel, s.nsel, &cl.keys, &cl.nkeys, &cl.repeat_varies)) {
        selection_free(&s);
        return error_fail(err, "out of memory");
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
                char columns[64];
                snprintf(columns, sizeof columns, "%s %s", xcol, req->y);
                script_series_begin(sc, columns);
            }
            put_numbers(sc->data,
                        (double[]){sqlite3_column_double(st, 0), sqlite3_column_double(st, 1)}, 2);
            fputc('\n', sc->data);
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

static int plot_draw(struct results *r, const struct plot_request *req, FILE *warn,
                     struct error *err);

int plot_make(struct results *r, const struct plot_request *user_req, FILE *warn,
              struct error *err)
{
    /* A kept script reads a kept data file: SCRIPT.dat unless --data names one. */
    struct plot_request kept = *user_req;
    const struct plot_request *req = &kept;
    char *script_data = NULL;
    if (kept.script && !kept.data) {
        if (asprintf(&script_data, "%s.dat", kept.script) < 0)
            return error_fail(err, "out of memory");
        kept.data = script_data;
    }
    int rc = plot_draw(r, req, warn, err);
    free(script_data);
    return rc;
}

static int plot_draw(struct results *r, const struct plot_request *req, FILE *warn,
                     struct error *err)
{
    if (!req->output)
        return error_at(err, NULL, 0, "stragsim plot: -o FILE.png|FILE.svg is needed");
    if (!terminal_for(req->output))
        return error_at(err, req->output, 0, "unknown output extension (expected .png or .svg)");
    /* Text that goes into the script as it is given: refused rather than
     * changed (database values are changed, see put_quoted). */
    if (req->title && !plot_text_safe(req->title))
        return error_at(err, NULL, 0, "stragsim plot: --title may not contain control "
                                      "characters (a newline) or backquotes");
    if (req->data && !plot_text_safe(req->data))
        return error_at(err, NULL, 0, "stragsim plot: the data file's name (--data, --script) "
                                      "may not contain control characters or backquotes");
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
    case PLOT_TRADEOFF:
        snprintf(xlabel, sizeof xlabel, "%s", axis_label(req->x ? req->x : ""));
        snprintf(ylabel, sizeof ylabel, "%s", axis_label(req->y ? req->y : ""));
        snprintf(title, sizeof title, "%s against %s", req->y ? req->y : "",
                 req->x ? req->x : "");
        break;
    }
    struct script sc;
    int rc = script_begin(&sc, req, title, xlabel, ylabel) ? error_fail(err, "out of memory") : 0;
    if (!rc) {
        switch (req->kind) {
        case PLOT_METRIC: rc = plot_metric(r, req, warn, &sc, err); break;
        case PLOT_CDF: rc = plot_cdf(r, req, warn, &sc, err); break;
        case PLOT_ITERATIONS: rc = plot_iterations(r, req, &sc, err); break;
        case PLOT_TRADEOFF: rc = plot_tradeoff(r, req, &sc, err); break;
        }
    }
    if (!rc && script_end(&sc))
        rc = error_fail(err, "out of memory");
    if (!rc)
        rc = gnuplot_run(gnuplot, req, &sc, warn, err);
    script_free(&sc);
    free(gnuplot);
    return rc;
}

/* ---- labelled points with error bars (stragsim advise --plot) ---- */

static void put_point(FILE *f, const struct plot_point *p)
{
    double row[6] = {p->x, p->xlo, p->xhi, p->y, p->ylo, p->yhi};
    put_numbers(f, row, 6);
    fputc(' ', f);
    put_data_label(f, p->label);
    fputc('\n', f);
}

bool plot_output_known(const char *output)
{
    return terminal_for(output) != NULL;
}

int plot_points_make(const struct plot_points *pp, FILE *warn, struct error *err)
{
    struct plot_request req = {.kind = PLOT_TRADEOFF, .output = pp->output,
                               .gnuplot = pp->gnuplot, .data = pp->data};
    if (pp->data && !plot_text_safe(pp->data))
        return error_at(err, NULL, 0, "the data file's name may not contain control characters "
                                      "or backquotes");
    if (!terminal_for(pp->output))
        return error_at(err, pp->output, 0, "unknown output extension (expected .png or .svg)");
    if (!pp->n)
        return error_at(err, pp->output, 0, "no evaluated points to plot");
    char *gnuplot = find_program(pp->gnuplot ? pp->gnuplot : "gnuplot");
    if (!gnuplot)
        return error_at(err, NULL, 0, "stragsim plot: gnuplot not found (apt-get install "
                                      "gnuplot-nox)");
    struct script sc;
    int rc = 0;
    if (script_begin(&sc, &req, pp->title, pp->xlabel, pp->ylabel))
        rc = error_fail(err, "out of memory");
    if (!rc) {
        /* constraint lines: numbers only, never text */
        for (size_t i = 0; i < pp->nhlines; i++)
            fprintf(sc.f, "set arrow from graph 0, first %.17g to graph 1, first %.17g nohead "
                          "dt 2 lc rgb 'red'\n", pp->hlines[i], pp->hlines[i]);
        for (size_t i = 0; i < pp->nvlines; i++)
            fprintf(sc.f, "set arrow from first %.17g, graph 0 to first %.17g, graph 1 nohead "
                          "dt 2 lc rgb 'red'\n", pp->vlines[i], pp->vlines[i]);
        script_series_begin(&sc, "x xlo xhi y ylo yhi label");
        for (size_t i = 0; i < pp->n; i++)
            put_point(sc.data, &pp->points[i]);
        script_series_end(&sc, "1:4:2:3:5:6", "xyerrorbars pt 7 ps 0.6", "evaluated");
        /* the front joined in x order (picked here, so callers need not sort) */
        script_series_begin(&sc, "x xlo xhi y ylo yhi label (Pareto front, by x)");
        double last = -INFINITY;
        for (size_t k = 0; k < pp->n; k++) {
            ptrdiff_t next = -1;
            for (size_t i = 0; i < pp->n; i++)
                if (pp->points[i].front && pp->points[i].x > last &&
                    (next < 0 || pp->points[i].x < pp->points[next].x))
                    next = (ptrdiff_t)i;
            if (next < 0)
                break;
            put_point(sc.data, &pp->points[next]);
            last = pp->points[next].x;
        }
        int front = sc.nseries;
        script_series_end(&sc, "1:4", "linespoints pt 6 ps 1.2", "Pareto front");
        fprintf(sc.plot, ", \\\n     data index %d using 1:4:7 with labels left offset char 1,0.6 "
                         "font ',8' notitle", front);
        ptrdiff_t marked = -1;
        for (size_t i = 0; i < pp->n; i++)
            if (pp->points[i].marked)
                marked = (ptrdiff_t)i;
        if (marked >= 0) {
            script_series_begin(&sc, "x xlo xhi y ylo yhi label (recommended)");
            put_point(sc.data, &pp->points[marked]);
            script_series_end(&sc, "1:4", "points pt 3 ps 3 lc rgb 'black'", "recommended");
        }
        if (script_end(&sc))
            rc = error_fail(err, "out of memory");
    }
    if (!rc)
        rc = gnuplot_run(gnuplot, &req, &sc, warn, err);
    script_free(&sc);
    free(gnuplot);
    return rc;
}
