/* trace_grid.c: the dense matrix of a trace (see trace_grid.h). */
#include "traces/trace_grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts and deduplicates x[n] in place; returns the number of distinct values. */
static size_t sort_unique(double *x, size_t n)
{
    qsort(x, n, sizeof *x, cmp_double);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || x[i] != x[m - 1])
            x[m++] = x[i];
    return m;
}

static size_t index_of(const double *sorted, size_t n, double x)
{
    const double *hit = bsearch(&x, sorted, n, sizeof *sorted, cmp_double);
    return (size_t)(hit - sorted);
}

size_t trace_grid_cell(const struct trace_grid *g, double worker, double iteration)
{
    return index_of(g->ids, g->W, worker) * g->I + index_of(g->its, g->I, iteration);
}

enum trace_grid_status trace_grid_build(const double *worker, const double *iteration,
                                        const double *value, const int *lines, size_t n,
                                        size_t max_cells, struct trace_grid *g,
                                        size_t *duplicates, size_t *conflict)
{
    *g = (struct trace_grid){0};
    g->ids = malloc((n ? n : 1) * sizeof *g->ids);
    g->its = malloc((n ? n : 1) * sizeof *g->its);
    if (!g->ids || !g->its)
        return TRACE_GRID_NOMEM;
    memcpy(g->ids, worker, n * sizeof *g->ids);
    memcpy(g->its, iteration, n * sizeof *g->its);
    g->W = sort_unique(g->ids, n);
    g->I = sort_unique(g->its, n);
    if (g->W * g->I > max_cells) /* W <= n and I <= n: no overflow */
        return TRACE_GRID_SPARSE;
    size_t cells = g->W * g->I > 0 ? g->W * g->I : 1; /* malloc(0) may return NULL */
    g->v = malloc(cells * sizeof *g->v);
    g->line = calloc(cells, sizeof *g->line);
    if (!g->v || !g->line)
        return TRACE_GRID_NOMEM;
    for (size_t c = 0; c < g->W * g->I; c++)
        g->v[c] = NAN;
    for (size_t r = 0; r < n; r++) {
        size_t c = trace_grid_cell(g, worker[r], iteration[r]);
        if (g->line[c]) {
            if (g->v[c] == value[r]) {
                (*duplicates)++; /* a repeated identical row (Alibaba's job 2 has one) */
                continue;
            }
            *conflict = r;
            return TRACE_GRID_CONFLICT;
        }
        g->line[c] = lines[r];
        g->v[c] = value[r];
    }
    return TRACE_GRID_OK;
}

void trace_grid_free(struct trace_grid *g)
{
    free(g->ids);
    free(g->its);
    free(g->v);
    free(g->line);
    *g = (struct trace_grid){0};
}
