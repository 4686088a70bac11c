/* plot.h: figures from a results database, drawn by gnuplot (PNG through
 * pngcairo, SVG through svg; 800x500 by default, readable in a README).
 *
 * Three kinds:
 *   PLOT_METRIC      a metric against a param, one line per value of a group
 *                    param; runs with the same (group, x) are averaged, with
 *                    95% confidence-interval bars: across repeats, mean ±
 *                    t(0.975, R-1) SE (analysis/aggregate.c); for one run
 *                    from its own <metric>_se / latency_se (batch means).
 *   PLOT_CDF         the latency CDF (or CCDF) of the selected runs' per-job
 *                    rows (jobs table), one curve per group value.
 *   PLOT_ITERATIONS  loss or accuracy (iterations table) against simulated
 *                    time or iteration, one curve per run.
 *   PLOT_TRADEOFF    metric y against metric x, a point per run, one series
 *                    per group value (the HTML report: accuracy against
 *                    tail latency per scheme).
 * Runs are selected by --where filters with report's semantics (same key:
 * any value; different keys: all hold). A param may be named by its full
 * key ("cluster.workers") or, when unambiguous, by its last part
 * ("workers").
 *
 * Plotting a database someone sent must never execute anything. So the
 * data (numbers, and x labels as quoted columns) go to a data file that
 * gnuplot reads as data only; the script holds fixed commands, and every
 * text from the database or the user (titles, axis and legend labels, the
 * data file's name) reaches it only as a single-quoted string with control
 * characters and backquotes replaced (database text) or refused (--title,
 * --data). No file name of the figure is in the script: gnuplot writes it
 * to its standard output, a temporary beside the figure renamed when
 * gnuplot succeeded and the figure is whole, so a failure never leaves a
 * partial or empty figure. gnuplot's own errors become one line.
 * Not here: option parsing (app/cmd_plot.c), tables (report.c).
 */
#ifndef STRAG_PLOT_H
#define STRAG_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "analysis/report.h"
#include "analysis/results.h"

/* Series (curves, lines) one figure draws at most: more cannot be told apart. */
enum { PLOT_MAX_SERIES = 24 };

enum plot_kind { PLOT_METRIC, PLOT_CDF, PLOT_ITERATIONS, PLOT_TRADEOFF };

struct plot_request {
    enum plot_kind kind;
    const char *x;     /* METRIC: param key; ITERATIONS: "sim_time" (NULL) or "iteration";
                        * TRADEOFF: metric name */
    const char *y;     /* METRIC, TRADEOFF: metric name; ITERATIONS: loss|accuracy|...  */
    const char *group; /* param key or NULL (CDF/ITERATIONS: NULL labels by varying params) */
    const struct report_filter *where;
    size_t nwhere;
    const char *output;  /* FILE.png or FILE.svg */
    const char *title;   /* NULL: derived from the axes */
    const char *script;  /* NULL, or where to keep the gnuplot script */
    const char *data;    /* NULL, or where to keep the data file (default with a
                          * script: SCRIPT.dat, which the kept script reads) */
    const char *gnuplot; /* NULL: "gnuplot" from PATH */
    int width, height;   /* pixels; 0: 800 x 500 */
    bool logx, logy;
    bool ccdf;           /* CDF: plot P(latency > x) on a log y axis */
};

/* Draws the figure. Errors (STRAG_EINPUT, one line): unknown output
 * extension, gnuplot not found, "DB: no runs have metric 'x'", "DB: no runs
 * have param 'x'", no runs left after --where, no jobs / iterations rows,
 * a --title or --data with a control character or backquote, gnuplot
 * failing ("stragsim plot: gnuplot failed: script line N: ..."; with a kept
 * script "SCRIPT:N: gnuplot: ..."), an output that cannot be written.
 * Warnings (runs averaged into one point or pooled into one curve that
 * differ in other params; gnuplot's warnings), one line each, go to `warn`
 * when not NULL. */
/* Whether s may go into a gnuplot script as it is: no control character
 * and no backquote. */
bool plot_text_safe(const char *s);

int plot_make(struct results *r, const struct plot_request *req, FILE *warn, struct error *err);

/* Labelled points with 95% error bars on both axes (stragsim advise
 * --plot): every point, the `front` ones joined in x order and labelled,
 * the `marked` one ringed, dashed lines at hlines (y) and vlines (x).
 * Labels reach gnuplot only as data-file text; titles through the same
 * quoting as plot_make. Errors as plot_make's (STRAG_EINPUT: unknown
 * extension, gnuplot not found, failing, output not writable). */
struct plot_point {
    const char *label;
    double x, xlo, xhi, y, ylo, yhi;
    bool front, marked;
};
struct plot_points {
    const struct plot_point *points;
    size_t n;
    const double *hlines, *vlines;
    size_t nhlines, nvlines;
    const char *output, *title, *xlabel, *ylabel;
    const char *data;    /* NULL, or where to keep the data file (as plot_request's) */
    const char *gnuplot; /* NULL: "gnuplot" from PATH */
};
/* Whether output names a figure plot_make can write (.png or .svg): checked
 * before work that the figure would come after. */
bool plot_output_known(const char *output);
int plot_points_make(const struct plot_points *pp, FILE *warn, struct error *err);

#endif
