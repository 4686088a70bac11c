/* plot.h: figures from a results database, drawn by gnuplot (PNG through
 * pngcairo, SVG through svg; 800x500 by default, readable in a README).
 *
 * Three kinds:
 *   PLOT_METRIC      a metric against a param, one line per value of a group
 *                    param; runs with the same (group, x) are averaged, with
 *                    standard-error bars (across repeats, or the run's own
 *                    <metric>_se / latency_se when there is one run).
 *   PLOT_CDF         the latency CDF (or CCDF) of the selected runs' per-job
 *                    rows (jobs table), one curve per group value.
 *   PLOT_ITERATIONS  loss or accuracy (iterations table) against simulated
 *                    time or iteration, one curve per run.
 * Runs are selected by --where filters with report's semantics (same key:
 * any value; different keys: all hold). A param may be named by its full
 * key ("cluster.workers") or, when unambiguous, by its last part
 * ("workers").
 *
 * The script (data inline) is written to a file and run with `gnuplot
 * FILE`; nothing is piped, so a failing gnuplot cannot kill the caller.
 * Not here: option parsing (sim/cmd_plot.c), tables (report.c).
 */
#ifndef STRAG_PLOT_H
#define STRAG_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "analysis/report.h"
#include "analysis/results.h"

enum plot_kind { PLOT_METRIC, PLOT_CDF, PLOT_ITERATIONS };

struct plot_request {
    enum plot_kind kind;
    const char *x;     /* METRIC: param key; ITERATIONS: "sim_time" (NULL) or "iteration" */
    const char *y;     /* METRIC: metric name; ITERATIONS: loss|accuracy|residual|...  */
    const char *group; /* param key or NULL (CDF/ITERATIONS: NULL labels by varying params) */
    const struct report_filter *where;
    size_t nwhere;
    const char *output;  /* FILE.png or FILE.svg */
    const char *title;   /* NULL: derived from the axes */
    const char *script;  /* NULL, or where to keep the gnuplot script */
    const char *gnuplot; /* NULL: "gnuplot" from PATH */
    int width, height;   /* pixels; 0: 800 x 500 */
    bool logx, logy;
    bool ccdf;           /* CDF: plot P(latency > x) on a log y axis */
};

/* Draws the figure. Errors (STRAG_EINPUT, one line): unknown output
 * extension, gnuplot not found, "DB: no runs have metric 'x'", "DB: no runs
 * have param 'x'", no runs left after --where, no jobs / iterations rows,
 * gnuplot failing. Warnings (runs averaged together that differ in other
 * params) go to `warn` when not NULL. */
int plot_make(struct results *r, const struct plot_request *req, FILE *warn, struct error *err);

#endif
