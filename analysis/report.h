/* report.h: the table `stragsim report` prints from a results database: one
 * row per run, the params that tell runs apart, then metrics; as an aligned
 * text table, RFC 4180 CSV, GitHub markdown or JSON. */
#ifndef STRAG_REPORT_H
#define STRAG_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "analysis/results.h"

/* REPORT_JSON: an array of one object per row, values exact (17 digits),
 * --aggregate as CSV's columns m, m_se, m_ci_low, m_ci_high. */
/* REPORT_HTML_TABLE: a bare <table>, cells as text and markdown show them
 * (the legend is the caller's: report_fold_legend). */
enum report_format { REPORT_TEXT, REPORT_CSV, REPORT_MARKDOWN, REPORT_JSON, REPORT_HTML_TABLE };

/* Keeps runs whose param `key` equals `value` (as text, or as numbers when
 * both are numbers; key "repeat" is the run's repeat). Filters on the same key
 * are alternatives (OR), filters on different keys must all hold (AND). */
struct report_filter {
    const char *key, *value;
};

struct report_options {
    enum report_format format;
    const char *const *metrics; /* metric columns; NULL: the default set */
    size_t nmetrics;
    const char *const *params;  /* param columns ("repeat" allowed); NULL: those that vary */
    size_t nparams;
    const struct report_filter *where;
    size_t nwhere;
    /* One row per point instead of per run: repeats folded into a column n
     * and, per metric, the mean with its 95% confidence interval (text and
     * markdown "mean ± half-width" and a legend; CSV columns m, m_se,
     * m_ci_low, m_ci_high). */
    bool aggregate;
};

/* Prints the report of the runs in r to out. An unknown metric, param or
 * filter key, or the param "repeat" with aggregate, is STRAG_EINPUT with one
 * line "stragsim report: ...". */
int report_write(struct results *r, const struct report_options *opt, FILE *out,
                 struct error *err);

/* What a --aggregate cell means (the text under the text and markdown tables). */
extern const char report_fold_legend[];

/* The param keys that tell these runs apart: "scheme.kind" first when any run
 * has it, then every key that takes two different values among the runs
 * that have it (a key only some runs have, such as one scheme's own key,
 * does not count by itself), in first-seen order. *repeat_varies says whether
 * the runs differ in repeat. The keys point into the runs' params; the
 * caller frees the array. Returns 0, or -1 when out of memory. */
int report_varying_params(const struct results_run *const *runs, size_t nruns, const char ***keys,
                          size_t *nkeys, bool *repeat_varies);

/* Shared with plot and export, so runs are selected, ordered and quoted the
 * same way everywhere: */
/* Every filter key is a param of some run (or "repeat"), else STRAG_EINPUT
 * "stragsim report: --where: no param 'KEY' in PATH": a typo is an error even
 * when the filters would select nothing. */
int report_where_check(const struct results_run *runs, size_t nruns,
                       const struct report_filter *where, size_t nwhere, const char *path,
                       struct error *err);
/* True when the run passes the filters (semantics of struct report_filter). */
bool report_run_matches(const struct results_run *run, const struct report_filter *where,
                        size_t nwhere);
/* A run's value of param `key`, NULL when it has none; for "repeat" its
 * repeat, as text in buf. */
const char *report_run_param(const struct results_run *run, const char *key, char buf[24]);
/* Orders param values: missing (NULL) first, then numbers numerically, then text. */
int report_values_compare(const char *a, const char *b);
/* Writes one RFC 4180 CSV field (quoted when it holds a comma, quote or line break). */
void report_csv_field(FILE *out, const char *s);

#endif
