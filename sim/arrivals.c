/* arrivals.c: the poisson, closed and replay arrival processes (see
 * arrivals.h), including the replay file reader. Scheduling is the
 * workload's job. */
#include "sim/arrivals.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/config.h"
#include "sim/rng.h"

struct arrivals {
    enum arrival_kind kind;
    double rate;      /* poisson */
    struct rng rng;   /* poisson: RNG_ARRIVALS */
    double *times;    /* replay: arrival times, non-decreasing */
    size_t ntimes, next;
};

static const struct {
    const char *name;
    enum arrival_kind kind;
} arrival_names[] = {
    {"poisson", ARRIVAL_POISSON},
    {"closed", ARRIVAL_CLOSED},
    {"replay", ARRIVAL_REPLAY},
};

/* Trims spaces (and a trailing '\r') around s in place. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

/* The 1-based `col`-th comma-separated field of line (modified), or NULL. */
static char *csv_field(char *line, int col)
{
    char *f = line;
    for (int c = 1; c < col; c++) {
        f = strchr(f, ',');
        if (!f)
            return NULL;
        f++;
    }
    char *comma = strchr(f, ',');
    if (comma)
        *comma = 0;
    return trim(f);
}

/* Which column `spec` names: a 1-based number, or a header name (header
 * must then be the file's first line). Returns 0 when not found. */
static int column_of(const char *spec, const char *header)
{
    char *end;
    long n = strtol(spec, &end, 10);
    if (*spec && !*end)
        return n >= 1 && n <= INT_MAX ? (int)n : 0;
    if (!header)
        return 0;
    char *copy = strdup(header);
    if (!copy)
        return 0;
    int col = 0, c = 1;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save), c++) {
        if (strcmp(trim(tok), spec) == 0) {
            col = c;
            break;
        }
    }
    free(copy);
    return col;
}

static bool parse_time(const char *s, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(x))
        return false;
    *out = x;
    return true;
}

static int replay_load(struct arrivals *a, const char *path, const char *spec, struct error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return error_at(err, path, 0, "cannot read: %s", strerror(errno));
    char *line = NULL, *copy = NULL;
    size_t cap = 0, tcap = 0;
    int lineno = 0, col = 0, status = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char *text = trim(line);
        if (!*text || *text == '#')
            continue;
        if (!col) {
            /* first data-or-header line decides the column */
            col = column_of(spec ? spec : "1", text);
            if (!col) {
                status = error_at(err, path, lineno, "no column '%s' in the header", spec);
                break;
            }
            free(copy);
            copy = strdup(text);
            char *field = copy ? csv_field(copy, col) : NULL;
            double t;
            if (field && !parse_time(field, &t))
                continue; /* a header line */
        }
        free(copy);
        copy = strdup(text);
        if (!copy) {
            status = error_fail(err, "out of memory");
            break;
        }
        char *field = csv_field(copy, col);
        double t;
        if (!field) {
            status = error_at(err, path, lineno, "no column %d", col);
            break;
        }
        if (!parse_time(field, &t)) {
            status = error_at(err, path, lineno, "expected an arrival time, got '%s'", field);
            break;
        }
        if (t < 0 || (a->ntimes && t < a->times[a->ntimes - 1])) {
            status = error_at(err, path, lineno,
                              t < 0 ? "arrival time %g is negative"
                                    : "arrival time %g is earlier than the one before it",
                              t);
            break;
        }
        if (a->ntimes == tcap) {
            tcap = tcap ? tcap * 2 : 1024;
            double *nt = realloc(a->times, tcap * sizeof *nt);
            if (!nt) {
                status = error_fail(err, "out of memory");
                break;
            }
            a->times = nt;
        }
        a->times[a->ntimes++] = t;
    }
    if (!status && ferror(f))
        status = error_at(err, path, 0, "cannot read: %s", strerror(errno));
    if (!status && !a->ntimes)
        status = error_at(err, path, 0, "no arrival times");
    free(copy);
    free(line);
    fclose(f);
    return status;
}

int arrivals_new(const struct params *p, const char *config_dir, uint64_t seed,
                 uint64_t point_key, struct arrivals **out, struct error *err)
{
    *out = NULL;
    const char *name = params_string(p, "workload.arrival");
    struct arrivals *a = calloc(1, sizeof *a);
    if (!a)
        return error_fail(err, "out of memory");
    size_t i = 0, nnames = sizeof arrival_names / sizeof arrival_names[0];
    while (i < nnames && !(name && strcmp(arrival_names[i].name, name) == 0))
        i++;
    if (i == nnames) {
        free(a);
        return error_at_key(err, p, "workload.arrival", "unknown arrival process '%s'",
                            name ? name : "");
    }
    a->kind = arrival_names[i].kind;
    int status = 0;
    if (a->kind == ARRIVAL_POISSON) {
        if (!params_has(p, "workload.rate"))
            status = error_at_key(err, p, "workload.arrival",
                                  "poisson arrivals need workload.rate");
        a->rate = params_real(p, "workload.rate");
        rng_seed(&a->rng, seed, point_key, RNG_ARRIVALS, 0);
    } else if (a->kind == ARRIVAL_REPLAY) {
        const char *file = params_string(p, "workload.arrival_file");
        char path[4096];
        if (!file)
            status = error_at_key(err, p, "workload.arrival",
                                  "replay arrivals need workload.arrival_file");
        else if (!config_path_resolve(config_dir, file, path, sizeof path))
            status = error_at_key(err, p, "workload.arrival_file", "path too long");
        else
            status = replay_load(a, path, params_string(p, "workload.arrival_column"), err);
    }
    if (status) {
        arrivals_free(a);
        return status;
    }
    *out = a;
    return 0;
}

void arrivals_free(struct arrivals *a)
{
    if (!a)
        return;
    free(a->times);
    free(a);
}

enum arrival_kind arrivals_kind(const struct arrivals *a) { return a->kind; }

size_t arrivals_count(const struct arrivals *a) { return a->ntimes; }

bool arrivals_next(struct arrivals *a, double prev, double *t)
{
    switch (a->kind) {
    case ARRIVAL_POISSON:
        *t = prev + rng_exp(&a->rng, a->rate);
        return true;
    case ARRIVAL_REPLAY:
        if (a->next >= a->ntimes)
            return false;
        *t = a->times[a->next++];
        return true;
    case ARRIVAL_CLOSED:
        break;
    }
    return false;
}
