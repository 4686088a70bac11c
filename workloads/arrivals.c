/* arrivals.c: the poisson, closed and replay arrival processes (see
 * arrivals.h), including what a replay file's rows mean (its lines are read
 * by traces/trace_csv). Scheduling is the workload's job. */
#include "workloads/arrivals.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "traces/trace_csv.h"

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

/* Which column `spec` names: a 1-based number, or a name among the n
 * fields of the file's first line. Returns 0 when not found. */
static int column_of(const char *spec, char *const *first, int n)
{
    char *end;
    long col = strtol(spec, &end, 10);
    if (*spec && !*end)
        return col >= 1 && col <= INT_MAX ? (int)col : 0;
    for (int c = 0; c < n; c++)
        if (strcmp(first[c], spec) == 0)
            return c + 1;
    return 0;
}

/* 0: a finite number; -1: not a number; -2: beyond the range of a double
 * (a value too small to represent is near enough to 0 and accepted). */
static int parse_time(const char *s, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || (!isfinite(x) && errno != ERANGE))
        return -1;
    if (!isfinite(x))
        return -2;
    *out = x;
    return 0;
}

static int replay_load(struct arrivals *a, const char *path, const char *spec, struct error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return error_at(err, path, 0, "cannot read: %s", strerror(errno));
    struct trace_csv_lines r;
    int got = trace_csv_lines_read(&r, f, TRACE_CSV_COMMENTS | TRACE_CSV_LINE_SPACE);
    int read_errno = errno;
    fclose(f);
    int col = 0, status = 0;
    size_t tcap = 0;
    char **fields;
    int n;
    const char *why;
    if (got == -1)
        status = error_at(err, path, 0, "cannot read: %s", strerror(read_errno));
    while (!status && (got = trace_csv_lines_next(&r, &fields, &n, &why)) > 0) {
        double t;
        if (!col) {
            /* first data-or-header line decides the column */
            col = column_of(spec ? spec : "1", fields, n);
            if (!col) {
                status = error_at(err, path, r.line, "no column '%s' in the header", spec);
                break;
            }
            if (col <= n && parse_time(fields[col - 1], &t) == -1)
                continue; /* a header line */
        }
        if (col > n) {
            status = error_at(err, path, r.line, "no column %d", col);
            break;
        }
        const char *field = fields[col - 1];
        int parsed = parse_time(field, &t);
        if (parsed) {
            status = error_at(err, path, r.line,
                              parsed == -2 ? "arrival time '%s' is out of range"
                                           : "expected an arrival time, got '%s'",
                              field);
            break;
        }
        if (t < 0 || (a->ntimes && t < a->times[a->ntimes - 1])) {
            status = error_at(err, path, r.line,
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
    if (!status && got == -1)
        status = error_at(err, path, r.line, "%s", why);
    else if (!status && got == -2)
        status = error_fail(err, "out of memory");
    if (!status && !a->ntimes)
        status = error_at(err, path, 0, "no arrival times");
    trace_csv_lines_free(&r);
    return status;
}

int arrivals_new(const struct params *p, uint64_t seed, uint64_t point_key,
                 struct arrivals **out, struct error *err)
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
        char path[4096];
        if (!params_has(p, "workload.arrival_file"))
            status = error_at_key(err, p, "workload.arrival",
                                  "replay arrivals need workload.arrival_file");
        else if (!params_path(p, "workload.arrival_file", path, sizeof path))
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
