/* replay.c: replaying a measured trace keyed by (worker, iteration). A task
 * of cost c on worker w at iteration t takes c * value * latency.scale,
 * where value is the trace's cell for (the trace worker w maps to, the trace
 * iteration t maps to). Rows are never resampled independently: a simulated
 * worker follows one trace worker through the iterations, so persistent
 * stragglers stay persistent.
 *
 * The trace: the columns latency.worker_column, latency.iteration_column,
 * latency.value_column (header name or 1-based number). Trace workers are
 * the distinct worker ids in increasing order (W of them), trace iterations
 * the distinct iteration values in increasing order, numbered 0..I-1.
 *
 * Missing cells (a worker absent from an iteration) repeat that worker's
 * previous present value; before its first present value, the first one.
 * A row repeating a (worker, iteration) with the same value is ignored; a
 * different value is an error.
 *
 * Mapping N simulated workers onto W trace workers: simulated worker w
 * replays trace worker w mod W, shifted by offset(w) iterations, where copy
 * c = w / W has offset c * I / ceil(N / W) (integer division), so copies of
 * one trace worker are not identical. N <= W: the first N trace workers,
 * offset 0. Iteration t of the simulation reads trace iteration
 * (t + offset(w)) mod I: the trace wraps around.
 *
 * No randomness: the same trace and mapping give the same durations for
 * every seed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/latency_impl.h"
#include "traces/trace_csv.h"
#include "traces/trace_grid.h"

/* Bound on the dense W x I matrix (512 MB of doubles). */
#define REPLAY_MAX_CELLS (1 << 26)

struct replay_source {
    struct latency_source base;
    double scale;       /* latency.scale */
    size_t iterations;  /* I */
    double *values;     /* [W][I] row-major, gaps filled */
    const double **row; /* [workers] the trace row each simulated worker replays */
    uint64_t *offset;   /* [workers] iteration offset of each simulated worker */
};

static double replay_draw(struct latency_source *s, int worker, uint64_t iteration, double cost)
{
    struct replay_source *r = (struct replay_source *)s;
    return cost * r->scale * r->row[worker][(iteration + r->offset[worker]) % r->iterations];
}

/* Long-run mean of a unit-cost draw: every simulated worker cycles through
 * all I iterations of its trace row. */
static double replay_mean(const struct latency_source *s)
{
    const struct replay_source *r = (const struct replay_source *)s;
    double sum = 0;
    for (int w = 0; w < s->workers; w++)
        for (size_t i = 0; i < r->iterations; i++)
            sum += r->row[w][i];
    return r->scale * sum / ((double)s->workers * (double)r->iterations);
}

static void replay_free(struct latency_source *s)
{
    struct replay_source *r = (struct replay_source *)s;
    free(r->values);
    free(r->row);
    free(r->offset);
    free(r);
}

/* The largest unit-cost draw: the largest value a simulated worker replays. */
static double replay_max(const struct latency_source *s)
{
    const struct replay_source *r = (const struct replay_source *)s;
    double max = 0;
    for (int w = 0; w < s->workers; w++)
        for (size_t i = 0; i < r->iterations; i++)
            max = r->row[w][i] > max ? r->row[w][i] : max;
    return r->scale * max;
}

static const struct latency_ops replay_ops = {replay_draw, replay_mean, replay_free,
                                              replay_max};

/* Refuses durations beyond LATENCY_DURATION_MAX: a trace value that is too
 * large by itself is the trace's fault (its line), else latency.scale's. */
static int replay_bound(const struct params *p, const struct trace_csv *t, int col,
                        const double *value, double scale, struct error *err)
{
    size_t top = 0;
    for (size_t r = 1; r < t->nrows; r++)
        top = value[r] > value[top] ? r : top;
    double limit = LATENCY_DURATION_MAX;
    if (value[top] > limit)
        return error_at(err, t->path, t->lines[top],
                        "column '%s': %g is beyond the limit %g on a task's duration",
                        t->names[col], value[top], limit);
    if (value[top] * scale > limit)
        return error_at_key(err, p, "latency.scale",
                            "%g times the trace's largest value %g is beyond the limit %g on a "
                            "task's duration",
                            scale, value[top], limit);
    return 0;
}

/* The trace as a dense matrix: columns already parsed into per-row numbers. */
struct replay_trace {
    size_t rows;
    const double *worker, *iteration, *value; /* [rows] */
    const int *lines;                         /* [rows] */
    const char *path;
};

/* Builds values[W][I] (gaps filled, see the top comment). */
static int replay_matrix(const struct replay_trace *tr, double **values, size_t *nworkers,
                         size_t *niterations, struct error *err)
{
    struct trace_grid g;
    size_t duplicates = 0, r = 0;
    int rc = 0;
    switch (trace_grid_build(tr->worker, tr->iteration, tr->value, tr->lines, tr->rows,
                             REPLAY_MAX_CELLS, &g, &duplicates, &r)) {
    case TRACE_GRID_OK:
        break;
    case TRACE_GRID_NOMEM:
        rc = error_fail(err, "latency: out of memory");
        break;
    case TRACE_GRID_SPARSE:
        rc = error_at(err, tr->path, 0,
                      "%zu workers x %zu distinct iterations is too sparse a trace (more than "
                      "%d cells); workers should share iteration values",
                      g.W, g.I, REPLAY_MAX_CELLS);
        break;
    case TRACE_GRID_CONFLICT: {
        size_t cell = trace_grid_cell(&g, tr->worker[r], tr->iteration[r]);
        rc = error_at(err, tr->path, tr->lines[r],
                      "worker %.0f at iteration %.17g has a second, different value %.17g "
                      "(first %.17g at line %d)",
                      tr->worker[r], tr->iteration[r], tr->value[r], g.v[cell], g.line[cell]);
        break;
    }
    }
    for (size_t w = 0; !rc && w < g.W; w++) {
        double *row = g.v + w * g.I;
        const int *seen = g.line + w * g.I;
        size_t first = 0;
        while (!seen[first]) /* every trace worker has at least one row */
            first++;
        for (size_t i = 0; i < g.I; i++)
            if (!seen[i])
                row[i] = i < first ? row[first] : row[i - 1];
    }
    if (!rc) {
        *values = g.v; /* taken from the grid */
        g.v = NULL;
        *nworkers = g.W;
        *niterations = g.I;
    }
    trace_grid_free(&g);
    return rc;
}

/* Reads the three columns of the trace file and builds the matrix. */
static int replay_load(const struct params *p, const char *path, double scale, double **values,
                       size_t *nworkers, size_t *niterations, struct error *err)
{
    static const char *const column_keys[3] = {
        "latency.worker_column", "latency.iteration_column", "latency.value_column"};
    static const unsigned checks[3] = {TRACE_CSV_NONNEG | TRACE_CSV_INTEGER, 0,
                                       TRACE_CSV_NONNEG};
    const char *spec[3];
    int col[3];
    for (int k = 0; k < 3; k++) {
        int rc = latency_param_string(p, column_keys[k], "latency.kind", "replay", true,
                                      &spec[k], err);
        if (rc)
            return rc;
    }

    FILE *f = fopen(path, "rb");
    if (!f)
        return error_at_key(err, p, "latency.file", "cannot open '%s': %s", path,
                            strerror(errno));
    struct trace_csv *t;
    int rc = trace_csv_read_file(f, path, &t, err);
    fclose(f);
    if (rc)
        return rc;

    double *num[3] = {NULL, NULL, NULL};
    for (int k = 0; k < 3 && !rc; k++) {
        rc = trace_csv_column(t, spec[k], column_keys[k], &col[k], err);
        for (int j = 0; j < k && !rc; j++)
            if (col[j] == col[k])
                rc = error_at_key(err, p, column_keys[k], "same column (%d) as %s", col[k] + 1,
                                  column_keys[j]);
    }
    for (int k = 0; k < 3 && !rc; k++) {
        if (!(num[k] = malloc(t->nrows * sizeof *num[k])))
            rc = error_fail(err, "latency: out of memory");
        else
            rc = trace_csv_numbers(t, col[k], checks[k], num[k], err);
    }
    if (!rc)
        rc = replay_bound(p, t, col[2], num[2], scale, err);
    if (!rc) {
        struct replay_trace tr = {t->nrows, num[0], num[1], num[2], t->lines, path};
        rc = replay_matrix(&tr, values, nworkers, niterations, err);
    }
    for (int k = 0; k < 3; k++)
        free(num[k]);
    trace_csv_free(t);
    return rc;
}

static int replay_create(const struct params *p, int workers, uint64_t seed,
                         uint64_t point_key, struct latency_source **out, struct error *err)
{
    (void)seed; /* a replay is the same for every seed */
    (void)point_key;
    *out = NULL;
    const char *file;
    double scale;
    int rc;
    if ((rc = latency_param_string(p, "latency.file", "latency.kind", "replay", true, &file,
                                   err)) ||
        (rc = latency_param_real(p, "latency.scale", "latency.kind", "replay", true, 1.0,
                                 &scale, err)))
        return rc;

    /* Relative paths are relative to the config file's directory. */
    char path[4096];
    if (!params_path(p, "latency.file", path, sizeof path))
        return error_at_key(err, p, "latency.file", "path too long");

    struct replay_source *r = calloc(1, sizeof *r);
    size_t W = 0, I = 0;
    if (!r)
        return error_fail(err, "latency: out of memory");
    *r = (struct replay_source){.base = {&replay_ops, workers}, .scale = scale};
    rc = replay_load(p, path, scale, &r->values, &W, &I, err);
    if (!rc) {
        r->iterations = I;
        r->row = malloc((size_t)workers * sizeof *r->row);
        r->offset = malloc((size_t)workers * sizeof *r->offset);
        if (!r->row || !r->offset)
            rc = error_fail(err, "latency: out of memory");
    }
    if (rc) {
        replay_free(&r->base);
        return rc;
    }
    size_t copies = ((size_t)workers + W - 1) / W; /* ceil(N / W) */
    for (size_t w = 0; w < (size_t)workers; w++) {
        r->row[w] = r->values + (w % W) * I;
        r->offset[w] = (uint64_t)((w / W) * I / copies);
    }
    *out = &r->base;
    return 0;
}

/* replay_create's latency.file and latency.scale, trace_columns' three */
static bool replay_reads(const struct params *p, const char *key)
{
    (void)p;
    static const char *const keys[] = {"latency.file", "latency.scale", "latency.worker_column",
                                       "latency.iteration_column", "latency.value_column"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

const struct latency_kind latency_replay = {
    "replay", "CSV trace keyed by (worker, iteration), worker identity kept", replay_create,
    replay_reads};
