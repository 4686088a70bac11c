/* html_report.h: `stragsim report DB --format html -o FILE`: one HTML page
 * that needs nothing else (no network, no script, no external file): the
 * experiments' configs, the --aggregate summary table (one row per point,
 * mean ± 95% interval; report.c), and the figures plot.c draws, inlined as
 * SVG: the latency CDFs per scheme (when runs stored per-job rows), accuracy
 * against tail latency per scheme (when runs have both metrics), and the
 * training curves (when runs stored iterations rows). Every text from the
 * database is escaped (html_escape.h); the figures are gnuplot's, drawn the
 * way `stragsim plot` draws them (no shell, database text only as data or
 * sanitised strings). Not here: option parsing (app/cmd_report.c). */
#ifndef STRAG_HTML_REPORT_H
#define STRAG_HTML_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "analysis/report.h"
#include "analysis/results.h"

struct html_report_options {
    const char *output; /* the page; written whole or not at all */
    const struct report_filter *where; /* report's --where, for table and figures */
    size_t nwhere;
    const char *gnuplot; /* NULL: "gnuplot" from PATH */
};

/* Writes the page. Errors (STRAG_EINPUT, one line): no runs selected, an
 * unknown --where key, gnuplot missing or failing, the output not writable.
 * Warnings from the figures (runs pooled into one curve) go to warn. */
int html_report_write(struct results *r, const struct html_report_options *opt, FILE *warn,
                      struct error *err);

#endif
