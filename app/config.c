/* config.c: reads an experiment ini file (inih) into validated base params
 * plus [sweep] axes, applies --set overrides, fills defaults, and expands the
 * sweep into points with their keys. Owns the driver's key table.
 *
 * It does not create latency sources or schemes (the run loop does, for
 * every point, before anything is written): cross-key constraints that only
 * a source or scheme knows are theirs to report.
 *
 * Line numbers: inih's handler gets none, so the file is read into memory and
 * fed to ini_parse_stream() one line per reader call; the reader counts
 * lines, checks section headers, and strips leading blanks (so inih never
 * treats an indented line as a continuation of the previous value).
 */
#include "app/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/advise.h"
#include "schemes/common/learned.h"
#include "schemes/scheme.h"
#include "base/rng.h"
#include "workloads/workload.h"
#include "traces/latency.h"

const struct config_key driver_keys[] = {
    /* [experiment] */
    {"experiment.name", KEY_STRING, NULL, 0, 0, 0, NULL,
     "experiment name in the results database (default: the config file's name)"},
    {"experiment.seed", KEY_INT, "1", 0, 9.2e18, 0, NULL,
     "seed of every random stream (with the point key and the stream's purpose)"},
    {"experiment.repeats", KEY_INT, "1", 1, 1e6, 0, NULL,
     "runs of every sweep point, each with its own streams"},
    {"experiment.db", KEY_PATH, NULL, 0, 0, 0, NULL,
     "results database (default results.db; -o overrides)"},
    {"experiment.common_streams", KEY_BOOL, "true", 0, 0, 0, NULL,
     "common random numbers: seed every stream without the scheme.* and workload.tuner.* "
     "params, so the schemes and tuners of a sweep meet the same arrivals, stragglers and "
     "queries (false: independent streams)"},
    /* [cluster] */
    {"cluster.workers", KEY_INT, "10", 1, 100000, 0, NULL, "number of workers N"},
    {"cluster.slots", KEY_INT, "1", 1, 1024, 0, NULL, "tasks a worker runs in parallel"},
    {"cluster.network_delay", KEY_REAL, "0", 0, INFINITY, 0, NULL,
     "one-way master<->worker delay (time units)"},
    {"cluster.bandwidth", KEY_REAL, NULL, 0, INFINITY, KEY_MIN_OPEN, NULL,
     "bytes per time unit between two workers (pipeline activations; default infinite)"},
    {"cluster.cancel", KEY_BOOL, "true", 0, 0, 0, NULL,
     "a finished job cancels its queued and running tasks"},
    /* [workload] */
    {"workload.kind", KEY_ENUM, NULL, 0, 0, 0, workload_kind_choices,
     "what a job is: time only, coded inference, distributed training, or pipeline training "
     "(required)"},
    {"workload.jobs", KEY_INT, "10000", 1, 1e9, 0, NULL, "jobs counted in the metrics"},
    {"workload.warmup", KEY_INT, "0", 0, 1e9, 0, NULL,
     "jobs simulated before the counted ones (not counted)"},
    {"workload.arrival", KEY_ENUM, "closed", 0, 0, 0, "poisson|closed|replay",
     "arrival process: open-loop Poisson, closed loop, or times from arrival_file"},
    {"workload.rate", KEY_REAL, NULL, 0, INFINITY, KEY_MIN_OPEN, NULL,
     "Poisson arrival rate (jobs per time unit; required for poisson)"},
    {"workload.arrival_file", KEY_PATH, NULL, 0, 0, 0, NULL,
     "replay: CSV or one-column file of arrival times (required for replay)"},
    {"workload.arrival_column", KEY_STRING, NULL, 0, 0, 0, NULL,
     "replay: column by header name or 1-based number (default: the first)"},
    {"workload.job_rows", KEY_BOOL, "false", 0, 0, 0, NULL,
     "store one row per job in the jobs table"},
    {"workload.model", KEY_ENUM, "mlp", 0, 0, 0, "logreg|mlp|lenet5", "model architecture"},
    {"workload.dataset", KEY_ENUM, "fashion-mnist", 0, 0, 0, "fashion-mnist", "dataset"},
    {"workload.data_dir", KEY_PATH, "/usr/share/datasets/fashion-mnist", 0, 0, 0, NULL,
     "directory of the dataset's gzip IDX files"},
    {"workload.weights", KEY_PATH, NULL, 0, 0, 0, NULL,
     "trained weights file (from stragsim train)"},
    {"workload.queries", KEY_INT, NULL, 1, 4096, 0, NULL,
     "queries per inference job (K of a coded scheme; default: the scheme's)"},
    {"workload.iterations", KEY_INT, "100", 1, 1e9, 0, NULL, "training iterations"},
    {"workload.batch", KEY_INT, "64", 1, 1e6, 0, NULL, "training mini-batch per iteration"},
    {"workload.learning_rate", KEY_REAL, "0.05", 0, INFINITY, KEY_MIN_OPEN, NULL,
     "training step size"},
    {"workload.partitions", KEY_INT, NULL, 1, 100000, 0, NULL,
     "training data partitions (default: cluster.workers)"},
    /* [train] */
    {"train.epochs", KEY_INT, "10", 1, 10000, 0, NULL, "passes over the training set"},
    {"train.batch", KEY_INT, "64", 1, 1e6, 0, NULL, "mini-batch size"},
    {"train.optimizer", KEY_ENUM, "sgd", 0, 0, 0, "sgd|adam", "optimizer"},
    {"train.learning_rate", KEY_REAL, "0.05", 0, INFINITY, KEY_MIN_OPEN, NULL, "step size"},
    {"train.momentum", KEY_REAL, "0.9", 0, 1, KEY_MAX_OPEN, NULL, "SGD momentum"},
    {"train.weight_decay", KEY_REAL, "0", 0, INFINITY, 0, NULL, "L2 weight decay"},
    {"train.validation", KEY_INT, "5000", 0, 60000, 0, NULL,
     "training images held out for validation"},
    {"train.schedule", KEY_ENUM, "cosine", 0, 0, 0, "cosine|constant",
     "learning-rate schedule: cosine annealing over the epochs, or constant"},
    {"train.limit", KEY_INT, NULL, 1, 1e7, 0, NULL,
     "train on the first `limit` training images (default: all)"},
    {"train.output", KEY_PATH, NULL, 0, 0, 0, NULL, "weights file to write"},
    {"train.threads", KEY_INT, "1", 1, 256, 0, NULL,
     "data-parallel training threads (a base model's weights are the same on any count; "
     "a learned code's trainer gives other weights on another count)"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

/* Per-workload and per-scheme tables are not listed here: they are reached
 * through workload_registry[i]->keys and scheme_registry[i]->keys (see
 * key_defs below). */
const struct config_key *const config_tables[] = {driver_keys, latency_keys, scheme_common_keys,
                                                  learned_config_keys, advise_keys, NULL};

static const char *const sections[] = {"experiment", "cluster", "latency", "workload",
                                       "train",      "scheme",  "sweep",   "advise"};

/* Keys the point key ignores (they do not change a run's numbers) and that
 * cannot be swept. */
static const char *const unkeyed[] = {"experiment.name", "experiment.db", "experiment.repeats"};

/* Required in every config (directly or as a sweep axis) unless their
 * table gives a default. */
static const char *const required[] = {"workload.kind", "latency.kind", "scheme.kind"};

struct sweep_axis {
    char *key;
    char **values;
    size_t nvalues;
    char *file;
    int line;
    char *dir; /* what its relative paths are relative to: NULL for the config's directory */
};

struct config {
    char *path, *dir, *text;
    struct params *base;
    struct sweep_axis *axes;
    size_t naxes;
    size_t repeats, npoints;
};

static bool in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}
#define IN_LIST(list, s) in_list(list, sizeof list / sizeof list[0], s)

static bool skip_unkeyed(const char *key) { return IN_LIST(unkeyed, key); }

/* The i-th definition of `name` across every table (a scheme key may be
 * declared by several schemes, with different ranges), or NULL. */
static const struct config_key *key_defs(const char *name, size_t i)
{
    for (size_t t = 0; config_tables[t]; t++) {
        const struct config_key *k = config_key_find(config_tables[t], name);
        if (k && i-- == 0)
            return k;
    }
    for (size_t w = 0; workload_registry[w]; w++) {
        const struct config_key *k = config_key_find(workload_registry[w]->keys, name);
        if (k && i-- == 0)
            return k;
    }
    for (size_t s = 0; scheme_registry[s]; s++) {
        const struct config_key *k = config_key_find(scheme_registry[s]->keys, name);
        if (k && i-- == 0)
            return k;
    }
    return NULL;
}

/* The registries are the truth for the three `kind` keys, whatever their
 * tables say. Lists the known names into why on failure. */
static bool kind_check(const char *name, const char *value, char *why, size_t whylen)
{
    size_t n = 0;
    if (strcmp(name, "scheme.kind") == 0) {
        if (scheme_find(value))
            return true;
        n = (size_t)snprintf(why, whylen, "unknown scheme '%s' (known:", value);
        for (size_t i = 0; scheme_registry[i] && n < whylen; i++)
            n += (size_t)snprintf(why + n, whylen - n, " %s", scheme_registry[i]->name);
    } else if (strcmp(name, "workload.kind") == 0) {
        if (workload_find(value))
            return true;
        n = (size_t)snprintf(why, whylen, "unknown workload '%s' (known:", value);
        for (size_t i = 0; workload_registry[i] && n < whylen; i++)
            n += (size_t)snprintf(why + n, whylen - n, " %s", workload_registry[i]->name);
    } else if (strcmp(name, "latency.kind") == 0) {
        if (latency_kind_find(value))
            return true;
        n = (size_t)snprintf(why, whylen, "unknown latency source '%s' (known:", value);
        for (size_t i = 0; latency_kinds[i] && n < whylen; i++)
            n += (size_t)snprintf(why + n, whylen - n, " %s", latency_kinds[i]->name);
    } else {
        return true;
    }
    if (n < whylen)
        snprintf(why + n, whylen - n, ")");
    return false;
}

/* Checks value against any definition of name. Returns the first definition
 * (NULL: unknown key); *ok and why say whether some definition accepts it
 * (why is the first definition's complaint). */
static const struct config_key *key_check(const char *name, const char *value, bool *ok,
                                          char *why, size_t whylen)
{
    const struct config_key *first = key_defs(name, 0);
    *ok = false;
    for (size_t i = 0; !*ok; i++) {
        const struct config_key *k = key_defs(name, i);
        if (!k)
            break;
        char w[256];
        *ok = config_key_check(k, value, w, sizeof w) && kind_check(name, value, w, sizeof w);
        if (!*ok && i == 0)
            snprintf(why, whylen, "%s", w);
    }
    return first;
}

/* ---- reading the file ---- */

struct parse {
    struct config *c;
    const char *buf; /* the file's text */
    size_t len, pos;
    int line;        /* line of the text last handed to inih */
    bool line_start; /* the next reader call starts a new line */
    struct error *err;
    int status;
};

static int read_file(const char *path, char **out, struct error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return error_at(err, path, 0, "cannot read: %s", strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return error_fail(err, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    int e = ferror(f) ? errno : 0;
    fclose(f);
    if (e) {
        free(buf);
        return error_at(err, path, 0, "cannot read: %s", strerror(e));
    }
    buf[len] = 0;
    if (strlen(buf) != len) {
        free(buf);
        return error_at(err, path, 0, "not a text file (contains a NUL byte)");
    }
    *out = buf;
    return 0;
}

/* The text of line `line` (1-based) of buf, trimmed, into out. */
static void line_text(const char *buf, int line, char *out, size_t outlen)
{
    const char *s = buf;
    for (int l = 1; l < line && s; l++) {
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    if (!s) {
        *out = 0;
        return;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strcspn(s, "\r\n");
    snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), s);
}

/* A line that starts with '[': must be a known section header. */
static void check_section_line(struct parse *ps, const char *s, size_t n)
{
    const char *close = memchr(s, ']', n);
    if (!close) {
        ps->status = error_at(ps->err, ps->c->path, ps->line,
                              "malformed section header '%.*s'", (int)strcspn(s, "\r\n"), s);
        return;
    }
    char name[64];
    size_t nl = (size_t)(close - s - 1);
    snprintf(name, sizeof name, "%.*s", (int)(nl < sizeof name ? nl : sizeof name - 1), s + 1);
    if (nl >= sizeof name || !IN_LIST(sections, name)) {
        ps->status = error_at(ps->err, ps->c->path, ps->line, "unknown section [%.*s]",
                              (int)nl, s + 1);
        return;
    }
    /* inih ignores what follows ']': only blanks or a ';' comment may */
    const char *after = close + 1, *end = s + n;
    while (after < end && (*after == ' ' || *after == '\t' || *after == '\r'))
        after++;
    if (after < end && *after != ';') {
        size_t tail = strcspn(after, "\r\n");
        while (tail && (after[tail - 1] == ' ' || after[tail - 1] == '\t'))
            tail--;
        ps->status = error_at(ps->err, ps->c->path, ps->line, "text after [%s]: '%.*s'", name,
                              (int)tail, after);
        return;
    }
    params_set_section_line(ps->c->base, name, ps->c->path, ps->line);
}

/* Longest line + 1 (a [sweep] line can be long, but not without limit):
 * inih's buffer holds it with "\r\n" and the NUL. */
#define INI_LINE_MAX (1 << 20)

/* fgets-like reader for ini_parse_stream: one line (or, for a line longer
 * than num, the next piece of it) per call. */
static char *ini_read_line(char *str, int num, void *stream)
{
    struct parse *ps = stream;
    if (ps->status || ps->pos >= ps->len || num < 2)
        return NULL;
    if (ps->line_start) {
        ps->line++;
        while (ps->pos < ps->len && (ps->buf[ps->pos] == ' ' || ps->buf[ps->pos] == '\t'))
            ps->pos++;
        const char *s = ps->buf + ps->pos;
        size_t rest = ps->len - ps->pos, n = strcspn(s, "\r\n");
        if (n >= INI_LINE_MAX) {
            ps->status = error_at(ps->err, ps->c->path, ps->line,
                                  "line too long (%zu bytes; lines must be shorter than 1 MiB)", n);
            return NULL;
        }
        if (rest && *s == '[') {
            check_section_line(ps, s, strcspn(s, "\n"));
            if (ps->status)
                return NULL;
        }
    }
    size_t n = 0;
    while (n < (size_t)num - 1 && ps->pos < ps->len) {
        char ch = ps->buf[ps->pos++];
        str[n++] = ch;
        if (ch == '\n')
            break;
    }
    str[n] = 0;
    if (n == 0) /* only blanks were left after the last line */
        return NULL;
    ps->line_start = str[n - 1] == '\n' || ps->pos >= ps->len;
    return str;
}

/* Splits a sweep value list on sep, trimming each value. */
static int sweep_split(struct sweep_axis *ax, const char *list, char sep)
{
    const char *s = list;
    for (;;) {
        const char *end = strchr(s, sep);
        size_t n = end ? (size_t)(end - s) : strlen(s);
        while (n && isspace((unsigned char)*s))
            s++, n--;
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        char **nv = realloc(ax->values, (ax->nvalues + 1) * sizeof *nv);
        if (!nv)
            return -1;
        ax->values = nv;
        if (!(nv[ax->nvalues] = strndup(s, n)))
            return -1;
        ax->nvalues++;
        if (!end)
            return 0;
        s = end + 1;
    }
}

static void axis_free(struct sweep_axis *ax)
{
    for (size_t i = 0; i < ax->nvalues; i++)
        free(ax->values[i]);
    free(ax->values);
    free(ax->key);
    free(ax->file);
    free(ax->dir);
}

static struct sweep_axis *axis_find(struct config *c, const char *key)
{
    for (size_t i = 0; i < c->naxes; i++)
        if (strcmp(c->axes[i].key, key) == 0)
            return &c->axes[i];
    return NULL;
}

static void axis_remove(struct config *c, const char *key)
{
    struct sweep_axis *ax = axis_find(c, key);
    if (!ax)
        return;
    axis_free(ax);
    size_t i = (size_t)(ax - c->axes);
    memmove(ax, ax + 1, (c->naxes - i - 1) * sizeof *ax);
    c->naxes--;
}

/* The first value of an axis (in list order) that an earlier value
 * repeats, as *twice (nvalues when none): sorted, so a sweep of 10^5 values
 * is checked in O(n log n), not O(n^2). */
static const struct sweep_axis *repeated_axis;
static int repeated_cmp(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(repeated_axis->values[i], repeated_axis->values[j]);
    return c ? c : (i > j) - (i < j);
}

static int sweep_repeated(const struct sweep_axis *ax, size_t *twice, struct error *err)
{
    size_t n = ax->nvalues, *order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return error_fail(err, "out of memory");
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    repeated_axis = ax;
    qsort(order, n, sizeof *order, repeated_cmp);
    *twice = n;
    for (size_t i = 1; i < n; i++)
        if (strcmp(ax->values[order[i]], ax->values[order[i - 1]]) == 0 && order[i] < *twice)
            *twice = order[i];
    free(order);
    return 0;
}

/* Adds (or replaces) the sweep axis `key` = `list`. `where` is "file" with
 * line, or the --set text with line 0; errors are reported there. */
static int sweep_add(struct config *c, const char *key, const char *list, const char *file,
                     int line, const char *dir, struct error *err)
{
    const char *dot = strchr(key, '.');
    char section[64];
    snprintf(section, sizeof section, "%.*s", dot ? (int)(dot - key) : 0, key);
    if (!dot || !IN_LIST(sections, section) || strcmp(section, "sweep") == 0 || !key_defs(key, 0))
        return error_at(err, file, line, "unknown key '%s' in [sweep]", key);
    if (skip_unkeyed(key))
        return error_at(err, file, line, "%s cannot be swept", key);
    struct sweep_axis ax = {0};
    const struct config_key *def = key_defs(key, 0);
    /* list-valued keys take '|' between sweep values: ',' is inside a value */
    char sep = (def->flags & KEY_LIST) ? '|' : ',';
    int status = 0;
    if (!*list)
        status = error_at(err, file, line, "sweep of %s has no values", key);
    else if (sweep_split(&ax, list, sep) || !(ax.key = strdup(key)) ||
             !(ax.file = strdup(file)) || (dir && !(ax.dir = strdup(dir))))
        status = error_fail(err, "out of memory");
    for (size_t i = 0; !status && i < ax.nvalues; i++) {
        bool ok;
        char why[256];
        key_check(key, ax.values[i], &ok, why, sizeof why);
        if (!*ax.values[i])
            status = error_at(err, file, line, "sweep of %s has an empty value", key);
        else if (!ok)
            status = error_at(err, file, line, "%s: %s", key, why);
    }
    size_t twice = ax.nvalues;
    if (!status)
        status = sweep_repeated(&ax, &twice, err);
    if (!status && twice < ax.nvalues)
        status = error_at(err, file, line, "sweep of %s lists '%s' twice", key, ax.values[twice]);
    if (status) {
        axis_free(&ax);
        return status;
    }
    ax.line = line;
    axis_remove(c, key);
    struct sweep_axis *na = realloc(c->axes, (c->naxes + 1) * sizeof *na);
    if (!na) {
        axis_free(&ax);
        return error_fail(err, "out of memory");
    }
    c->axes = na;
    c->axes[c->naxes++] = ax;
    return 0;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
    struct parse *ps = user;
    struct config *c = ps->c;
    if (ps->status)
        return 0;
    if (!*section) {
        ps->status = error_at(ps->err, c->path, ps->line, "key '%s' outside any section", name);
        return 0;
    }
    if (strcmp(section, "sweep") == 0) {
        struct sweep_axis *prev = axis_find(c, name);
        if (prev)
            ps->status = error_at(ps->err, c->path, ps->line,
                                  "duplicate key '%s' in [sweep] (first on line %d)", name,
                                  prev->line);
        else
            ps->status = sweep_add(c, name, value, c->path, ps->line, NULL, ps->err);
        return !ps->status;
    }
    char key[256];
    snprintf(key, sizeof key, "%s.%s", section, name);
    bool ok;
    char why[256];
    if (!key_check(key, value, &ok, why, sizeof why)) {
        ps->status = error_at(ps->err, c->path, ps->line, "unknown key '%s' in [%s]", name,
                              section);
    } else if (params_has(c->base, key)) {
        const char *file;
        int line;
        params_where(c->base, key, &file, &line);
        ps->status = error_at(ps->err, c->path, ps->line,
                              "duplicate key '%s' in [%s] (first on line %d)", name, section,
                              line);
    } else if (!ok) {
        ps->status = error_at(ps->err, c->path, ps->line, "%s: %s", key, why);
    } else if (params_set_dir(c->base, key, value, c->path, ps->line, c->dir)) {
        ps->status = error_fail(ps->err, "out of memory");
    }
    return !ps->status;
}

static int parse_file(struct config *c, const char *text, struct error *err)
{
    struct parse ps = {.c = c, .buf = text, .len = strlen(text), .line_start = true, .err = err};
    if (strncmp(text, "\xEF\xBB\xBF", 3) == 0)
        ps.pos = 3; /* a UTF-8 byte-order mark: skipped here so line 1 is checked too */
    /* Debian's inih takes its options at run time: a heap line buffer that
     * grows (long [sweep] lines), no continuation lines, stop at the first
     * error so its line number is the first bad line. */
    ini_use_stack = false;
    ini_allow_realloc = true;
    ini_max_line = INI_LINE_MAX + 3;
    ini_allow_multiline = false;
    ini_stop_on_first_error = true;
    int r = ini_parse_stream(ini_read_line, &ps, on_pair, &ps);
    if (ps.status)
        return ps.status;
    if (r == -2)
        return error_fail(err, "%s: out of memory", c->path);
    if (r > 0) {
        char text_line[160];
        line_text(text, r, text_line, sizeof text_line);
        return error_at(err, c->path, r, "expected 'key = value' or '[section]', got '%s'",
                        text_line);
    }
    return r ? error_fail(err, "%s: cannot parse", c->path) : 0;
}

/* ---- --set ---- */

/* The earlier --set of `key` (as a value or a sweep), or NULL: two on one
 * command line are an error, not last-one-wins. */
static const char *set_before(struct config *c, const char *key)
{
    const struct sweep_axis *ax = axis_find(c, key);
    if (ax && params_from_set(ax->file))
        return ax->file;
    const char *file = NULL;
    int line;
    if (params_has(c->base, key))
        params_where(c->base, key, &file, &line);
    return params_from_set(file) ? file : NULL;
}

static int apply_set(struct config *c, const char *set, struct error *err)
{
    const char *eq = strchr(set, '=');
    const char *dot = strchr(set, '.');
    if (!eq || !dot || dot > eq)
        return error_at(err, NULL, 0, "--set %s: expected section.key=value", set);
    char key[256], where[512];
    snprintf(key, sizeof key, "%.*s", (int)(eq - set), set);
    snprintf(where, sizeof where, PARAMS_FROM_SET "%s", set);
    const char *value = eq + 1;
    while (isspace((unsigned char)*value))
        value++;
    bool sweep = strncmp(key, "sweep.", 6) == 0;
    const char *before = set_before(c, sweep ? key + 6 : key);
    if (before)
        return error_at(err, where, 0, "%s is also set by %s", sweep ? key + 6 : key, before);
    /* A path typed on the command line is relative to where it was typed: it
     * keeps its text and resolves against the working directory (as a
     * config's paths keep theirs and resolve against its directory), so the
     * point key, which hashes the text, does not depend on where the
     * checkout lies. Still the config's directory when the working
     * directory is unknown. */
    char cwd[4096];
    const char *dir = getcwd(cwd, sizeof cwd) ? cwd : NULL;
    if (sweep)
        return sweep_add(c, key + 6, value, where, 0, dir, err);
    bool ok;
    char why[256];
    const struct config_key *def = key_check(key, value, &ok, why, sizeof why);
    if (!def)
        return error_at(err, where, 0, "unknown key '%s'", key);
    if (!ok)
        return error_at(err, where, 0, "%s: %s", key, why);
    axis_remove(c, key); /* --set wins over a sweep of the same key */
    if (params_set_dir(c->base, key, value, where, 0, dir ? dir : c->dir))
        return error_fail(err, "out of memory");
    return 0;
}

/* ---- defaults, required keys ---- */

static int fill_defaults(struct params *p, const struct config_key *table, const char *file,
                         const char *dir)
{
    for (const struct config_key *k = table; k && k->name; k++) {
        if (!k->default_value || params_has(p, k->name))
            continue;
        const char *f;
        int line;
        params_where(p, k->name, &f, &line); /* its section's line, if any */
        if (params_set_dir(p, k->name, k->default_value, f ? f : file, line, dir))
            return -1;
    }
    return 0;
}

static int check_required(struct config *c, struct error *err)
{
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        const struct config_key *def = key_defs(required[i], 0);
        if (params_has(c->base, required[i]) || axis_find(c, required[i]) ||
            (def && def->default_value))
            continue;
        const char *f;
        int line;
        params_where(c->base, required[i], &f, &line);
        return error_at(err, c->path, line, "missing required key %s", required[i]);
    }
    return 0;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Default experiment name: the file's base name without ".ini". */
static int default_name(struct config *c)
{
    if (params_has(c->base, "experiment.name"))
        return 0;
    const char *slash = strrchr(c->path, '/');
    const char *base = slash ? slash + 1 : c->path;
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".ini") == 0)
        n -= 4;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), base);
    return params_set_dir(c->base, "experiment.name", name, c->path, 0, c->dir);
}

static int build_text(struct config *c, const char *file_text, const char *const *sets,
                      size_t nsets)
{
    size_t len = strlen(file_text) + 2;
    for (size_t i = 0; i < nsets; i++)
        len += strlen(sets[i]) + 16;
    c->text = malloc(len);
    if (!c->text)
        return -1;
    char *w = c->text;
    w += sprintf(w, "%s", file_text);
    if (nsets && w > c->text && w[-1] != '\n')
        *w++ = '\n';
    for (size_t i = 0; i < nsets; i++)
        w += sprintf(w, "; --set %s\n", sets[i]);
    *w = 0;
    return 0;
}

static int config_load_checked(const char *path, const char *const *sets, size_t nsets,
                               bool require_run_keys, struct config **out, struct error *err);

int config_load(const char *path, const char *const *sets, size_t nsets, struct config **out,
                struct error *err)
{
    return config_load_checked(path, sets, nsets, true, out, err);
}

int config_load_for_training(const char *path, const char *const *sets, size_t nsets,
                             struct config **out, struct error *err)
{
    return config_load_checked(path, sets, nsets, false, out, err);
}

static int config_load_checked(const char *path, const char *const *sets, size_t nsets,
                               bool require_run_keys, struct config **out, struct error *err)
{
    *out = NULL;
    struct config *c = calloc(1, sizeof *c);
    char *text = NULL;
    if (!c || !(c->path = strdup(path)) || !(c->dir = dir_of(path)) ||
        !(c->base = params_new())) {
        config_free(c);
        return error_fail(err, "out of memory");
    }
    int status = read_file(path, &text, err);
    if (!status)
        status = parse_file(c, text, err);
    for (size_t i = 0; !status && i < nsets; i++)
        status = apply_set(c, sets[i], err);
    if (!status && require_run_keys)
        status = check_required(c, err);
    if (!status && (fill_defaults(c->base, driver_keys, path, c->dir) ||
                    fill_defaults(c->base, latency_keys, path, c->dir) ||
                    fill_defaults(c->base, scheme_common_keys, path, c->dir) || default_name(c) ||
                    build_text(c, text, sets, nsets)))
        status = error_fail(err, "out of memory");
    /* every workload's own keys get their defaults (they are kept only for
     * points of that workload: point_key_def) */
    for (size_t w = 0; !status && workload_registry[w]; w++)
        if (fill_defaults(c->base, workload_registry[w]->keys, path, c->dir))
            status = error_fail(err, "out of memory");
    if (!status) {
        /* the base's own scheme (if not swept) gets its defaults too */
        const struct scheme_ops *ops = scheme_find(params_get(c->base, "scheme.kind"));
        if (ops && fill_defaults(c->base, ops->keys, path, c->dir))
            status = error_fail(err, "out of memory");
    }
    if (!status) {
        c->repeats = (size_t)params_int(c->base, "experiment.repeats");
        c->npoints = c->repeats;
        for (size_t i = 0; !status && i < c->naxes; i++) {
            c->npoints *= c->axes[i].nvalues;
            if (c->npoints > 10000000)
                status = error_at(err, path, c->axes[i].line,
                                  "the sweep has more than 10^7 points");
        }
    }
    free(text);
    if (status) {
        config_free(c);
        return status;
    }
    *out = c;
    return 0;
}

void config_free(struct config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->naxes; i++)
        axis_free(&c->axes[i]);
    free(c->axes);
    params_free(c->base);
    free(c->path);
    free(c->dir);
    free(c->text);
    free(c);
}

const struct params *config_base(const struct config *c) { return c->base; }
const char *config_path(const struct config *c) { return c->path; }
const char *config_text(const struct config *c) { return c->text; }
size_t config_points(const struct config *c) { return c->npoints; }
size_t config_axes(const struct config *c) { return c->naxes; }
const char *config_axis_key(const struct config *c, size_t axis) { return c->axes[axis].key; }

/* ---- points ---- */

uint64_t config_key_hash(const char *point_key) { return strtoull(point_key, NULL, 16); }

/* Re-checks scheme keys against the point's own scheme (several schemes may
 * declare one key differently), fills that scheme's defaults, and checks
 * that the scheme serves the workload. */
static int point_check_scheme(struct params *p, const char *file, const char *dir,
                              struct error *err)
{
    const struct scheme_ops *ops = scheme_find(params_get(p, "scheme.kind"));
    for (const struct config_key *k = ops ? ops->keys : NULL; k && k->name; k++) {
        const char *v = params_get(p, k->name);
        char why[256];
        if (v && !config_key_check(k, v, why, sizeof why))
            return error_at_key(err, p, k->name, "%s (scheme %s)", why, ops->name);
    }
    if (ops && fill_defaults(p, ops->keys, file, dir))
        return error_fail(err, "out of memory");
    /* unknown scheme, or one that does not serve the (known) workload */
    const struct workload_ops *wl = workload_find(params_get(p, "workload.kind"));
    return scheme_for_workload(p, wl ? wl->scheme_bit : 0, wl ? wl->name : NULL, &ops, err);
}

/* ---- which keys apply to a point ----
 *
 * A key applies to a point when the point's run reads it:
 *   experiment.*, cluster.*: always;
 *   latency.*: latency.kind, and the keys its kind reads (latency_key_applies:
 *     markov's active.* and slow.* by the i.i.d. kinds they name);
 *   scheme.*: scheme_common_keys, and the keys of the point's own scheme
 *     (its ops->keys); learned_config_keys' scheme.* only `stragsim train` reads;
 *   workload.*: every workload, except the rows of workload_scope below,
 *     the keys of a workload's own table (workload_registry[i]->keys: that
 *     workload only) and workload.tuner.* other than its kind (only with a
 *     tuner);
 *   train.*: never (only `stragsim train`); advise.*: never (only
 *     `stragsim advise`).
 * Each key's own definition is the one of its table for the point: the
 * scheme's own row for a scheme key (several schemes declare one key with
 * different defaults), else its only row. */
static const struct {
    const char *key;
    unsigned workloads;          /* bits of enum scheme_workload */
    const char *when, *when_is; /* and only when key `when` has value `when_is` */
} workload_scope[] = {
    {"workload.rate", ~0u, "workload.arrival", "poisson"},
    {"workload.arrival_file", ~0u, "workload.arrival", "replay"},
    {"workload.arrival_column", ~0u, "workload.arrival", "replay"},
    {"workload.model", SCHEME_INFERENCE | SCHEME_TRAINING | SCHEME_PIPELINE, NULL, NULL},
    {"workload.dataset", SCHEME_INFERENCE | SCHEME_TRAINING | SCHEME_PIPELINE, NULL, NULL},
    {"workload.data_dir", SCHEME_INFERENCE | SCHEME_TRAINING | SCHEME_PIPELINE, NULL, NULL},
    {"workload.weights", SCHEME_INFERENCE, NULL, NULL},
    {"workload.iterations", SCHEME_TRAINING | SCHEME_PIPELINE, NULL, NULL},
    {"workload.batch", SCHEME_TRAINING | SCHEME_PIPELINE, NULL, NULL},
    {"workload.learning_rate", SCHEME_TRAINING | SCHEME_PIPELINE, NULL, NULL},
    {"workload.partitions", SCHEME_TRAINING, NULL, NULL},
};

/* The tuner's settings (window, ranges, ...) when there is no tuner. */
static bool tuner_key_idle(const struct params *p, const char *key)
{
    if (strncmp(key, "workload.tuner.", 15) != 0 || strcmp(key, "workload.tuner.kind") == 0)
        return false;
    const char *kind = params_get(p, "workload.tuner.kind");
    return !kind || strcmp(kind, "none") == 0;
}

static unsigned workload_bit(const struct params *p)
{
    const struct workload_ops *wl = workload_find(params_get(p, "workload.kind"));
    return wl ? wl->scheme_bit : ~0u; /* unknown: refused elsewhere; keep every key */
}

/* The definition of `key` that applies to point p, or NULL if none does. */
static const struct config_key *point_key_def(const struct params *p, const char *key)
{
    if (strncmp(key, "train.", 6) == 0 || strncmp(key, "advise.", 7) == 0)
        return NULL;
    if (strncmp(key, "scheme.", 7) == 0) {
        const struct scheme_ops *ops = scheme_find(params_get(p, "scheme.kind"));
        const struct config_key *k = ops ? config_key_find(ops->keys, key) : NULL;
        return k ? k : config_key_find(scheme_common_keys, key);
    }
    if (strncmp(key, "latency.", 8) == 0)
        return latency_key_applies(p, key) ? config_key_find(latency_keys, key) : NULL;
    if (strncmp(key, "workload.", 9) == 0) {
        unsigned bit = workload_bit(p);
        if (tuner_key_idle(p, key))
            return NULL;
        for (size_t w = 0; workload_registry[w]; w++) {
            const struct config_key *k = config_key_find(workload_registry[w]->keys, key);
            if (k)
                return bit & workload_keys_scope(workload_registry[w]) ? k : NULL;
        }
        for (size_t i = 0; i < sizeof workload_scope / sizeof workload_scope[0]; i++) {
            if (strcmp(workload_scope[i].key, key) != 0)
                continue;
            const char *w = workload_scope[i].when ? params_get(p, workload_scope[i].when) : NULL;
            if (!(bit & workload_scope[i].workloads) ||
                (workload_scope[i].when && (!w || strcmp(w, workload_scope[i].when_is) != 0)))
                return NULL;
        }
    }
    return config_key_find(driver_keys, key);
}

bool config_key_applies(const struct params *p, const char *key)
{
    return point_key_def(p, key) != NULL;
}

struct params *config_params_applied(const struct params *p)
{
    struct params *q = params_copy(p);
    for (size_t i = q ? params_count(q) : 0; i-- > 0;) /* backwards: unset shifts */
        if (!config_key_applies(p, params_key_at(q, i)))
            params_unset(q, params_key_at(q, i));
    return q;
}

/* Canonical form (what a point key hashes; tests/oracles/point_key.py
 * computes it independently):
 *   1. keep the keys that apply to the point (above), without
 *      experiment.name, experiment.db and experiment.repeats;
 *   2. drop a key whose value is, byte for byte, its own definition's default;
 *   3. sort by key (strcmp order) and write "key=value\n" for each;
 *   4. append "\nrepeat=R" for repeat R (0-based; so a blank line comes
 *      before it when any key is kept).
 * The point key is the 16-digit lower-case hex of rng_hash_string() of that
 * text: FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3)
 * over its bytes, then one splitmix64 step (add 0x9e3779b97f4a7c15, then
 * z ^= z >> 30, z *= 0xbf58476d1ce4e5b9, z ^= z >> 27,
 * z *= 0x94d049bb133111eb, z ^= z >> 31). */
char *config_point_canonical(const struct params *p)
{
    struct params *keyed = params_new();
    if (!keyed)
        return NULL;
    for (size_t i = 0; i < params_count(p); i++) {
        const char *k = params_key_at(p, i), *v = params_value_at(p, i);
        const struct config_key *def = point_key_def(p, k);
        bool is_default = def && def->default_value && v && strcmp(def->default_value, v) == 0;
        if (def && !skip_unkeyed(k) && !is_default && params_set(keyed, k, v, NULL, 0)) {
            params_free(keyed);
            return NULL;
        }
    }
    char *canon = params_canonical(keyed, NULL);
    params_free(keyed);
    return canon;
}

uint64_t config_stream_key(const struct params *p, int repeat)
{
    bool common = params_bool(p, "experiment.common_streams");
    struct params *keyed = params_copy(p);
    if (!keyed)
        return 0;
    for (size_t i = params_count(keyed); common && i-- > 0;) /* backwards: unset shifts */
        if (strncmp(params_key_at(keyed, i), "scheme.", 7) == 0 ||
            strncmp(params_key_at(keyed, i), "workload.tuner.", 15) == 0)
            params_unset(keyed, params_key_at(keyed, i));
    char *canon = config_point_canonical(keyed);
    params_free(keyed);
    size_t n = canon ? strlen(canon) + 32 : 0;
    char *text = canon ? malloc(n) : NULL;
    uint64_t key = 0;
    if (text) {
        snprintf(text, n, "%s\nrepeat=%d", canon, repeat);
        key = rng_hash_string(text);
    }
    free(text);
    free(canon);
    return key;
}

int config_point(const struct config *c, size_t i, struct params **out, int *repeat,
                 char **point_key, struct error *err)
{
    *out = NULL;
    *point_key = NULL;
    if (i >= c->npoints)
        return error_fail(err, "point %zu out of range (%zu points)", i, c->npoints);
    struct params *p = params_copy(c->base);
    if (!p)
        return error_fail(err, "out of memory");
    *repeat = (int)(i % c->repeats);
    size_t rest = i / c->repeats;
    int status = 0;
    /* first axis slowest: peel the last axis off first */
    for (size_t a = c->naxes; !status && a-- > 0;) {
        const struct sweep_axis *ax = &c->axes[a];
        if (params_set_dir(p, ax->key, ax->values[rest % ax->nvalues], ax->file, ax->line,
                           ax->dir ? ax->dir : c->dir))
            status = error_fail(err, "out of memory");
        rest /= ax->nvalues;
    }
    if (!status)
        status = point_check_scheme(p, c->path, c->dir, err);
    char *canon = NULL, *key = NULL;
    if (!status) {
        canon = config_point_canonical(p);
        size_t n = canon ? strlen(canon) + 32 : 0;
        char *text = canon ? malloc(n) : NULL;
        key = malloc(17);
        if (!text || !key) {
            status = error_fail(err, "out of memory");
        } else {
            snprintf(text, n, "%s\nrepeat=%d", canon, *repeat);
            snprintf(key, 17, "%016llx", (unsigned long long)rng_hash_string(text));
        }
        free(text);
    }
    free(canon);
    if (status) {
        free(key);
        params_free(p);
        return status;
    }
    *out = p;
    *point_key = key;
    return 0;
}
