/* trace_grid.h: a (worker, iteration, value) trace as a dense matrix, the
 * shape both replay and `stragsim trace stats` read a trace in. Trace
 * workers are the distinct worker ids in increasing order (W), trace
 * iterations the distinct iteration values in increasing order (I); cell
 * w * I + i holds the value of worker w at iteration i, NAN where the
 * worker has no row there. A row that repeats a cell with the same value is
 * counted and skipped; one with another value is a conflict, which the
 * caller words (replay and trace stats say it differently).
 * Not here: reading the file (trace_csv.c), filling gaps (replay.c). */
#ifndef STRAG_TRACE_GRID_H
#define STRAG_TRACE_GRID_H

#include <stddef.h>

struct trace_grid {
    size_t W, I;
    double *ids, *its; /* [W], [I]: the sorted distinct worker ids, iteration values */
    double *v;         /* [W * I]: the values, NAN where missing */
    int *line;         /* [W * I]: the line of each cell's row, 0 where missing */
};

enum trace_grid_status {
    TRACE_GRID_OK = 0,
    TRACE_GRID_NOMEM,    /* out of memory */
    TRACE_GRID_SPARSE,   /* W * I > max_cells (g->W and g->I are set) */
    TRACE_GRID_CONFLICT, /* row *conflict has another value for a filled cell */
};

/* Builds g from the n rows (worker[r], iteration[r], value[r]) read from
 * lines[r]. *duplicates counts the repeated rows skipped. On a status other
 * than OK, g holds what was built so far (W, I, and for a conflict the
 * cell's first value and line): read it, then trace_grid_free. */
enum trace_grid_status trace_grid_build(const double *worker, const double *iteration,
                                        const double *value, const int *lines, size_t n,
                                        size_t max_cells, struct trace_grid *g,
                                        size_t *duplicates, size_t *conflict);

/* The cell of (worker, iteration), both present in g. */
size_t trace_grid_cell(const struct trace_grid *g, double worker, double iteration);

void trace_grid_free(struct trace_grid *g);

#endif
