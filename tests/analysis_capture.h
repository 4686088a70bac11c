/* analysis_capture.h: for tests of analysis/ without the CLI: report_write
 * and check_compare on databases named by path, their output captured into
 * a string, the error and the check's counts kept, as `stragsim report` and
 * `stragsim check` would get them. Header-only, for the test programs. */
#ifndef STRAG_TEST_ANALYSIS_CAPTURE_H
#define STRAG_TEST_ANALYSIS_CAPTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/check.h"
#include "analysis/report.h"
#include "analysis/results.h"

static char analysis_out[1 << 16]; /* what the last call wrote */
static struct error analysis_err;  /* its error, when it returned one */

/* `stragsim check`'s tolerances when none is given. */
#define CHECK_DEFAULTS ((struct check_options){.rtol = 1e-9, .atol = 0})

static inline FILE *capture_open(void)
{
    analysis_out[0] = '\0';
    analysis_err = (struct error){0};
    FILE *out = fmemopen(analysis_out, sizeof analysis_out, "w");
    cr_assert_not_null(out);
    return out;
}

static inline void capture_close(FILE *out)
{
    cr_assert_eq(fflush(out), 0, "output longer than %zu bytes", sizeof analysis_out - 1);
    fclose(out);
}

/* report_write of the database at path; returns its status. */
static inline int report_into(const char *path, const struct report_options *opt)
{
    struct results *r = NULL;
    FILE *out = capture_open();
    int rc = results_open(path, true, &r, &analysis_err);
    if (!rc)
        rc = report_write(r, opt, out, &analysis_err);
    results_close(r);
    capture_close(out);
    return rc;
}

/* check_compare of db against baseline: the regression lines in
 * analysis_out, the counts in *sum; returns its status. */
static inline int check_into(const char *db, const char *baseline,
                             const struct check_options *opt, struct check_summary *sum)
{
    struct results *r = NULL, *b = NULL;
    FILE *out = capture_open();
    *sum = (struct check_summary){0};
    int rc = results_open(db, true, &r, &analysis_err);
    if (!rc)
        rc = results_open(baseline, true, &b, &analysis_err);
    if (!rc)
        rc = check_compare(r, b, opt, out, sum, &analysis_err);
    results_close(r);
    results_close(b);
    capture_close(out);
    return rc;
}

/* The counts of a check_summary, compared in one assertion. */
#define SUMMARY_EXPECT(sum, npoints, nmetrics, nregressions, nunmatched)                       \
    cr_expect((sum).points == (npoints) && (sum).metrics == (nmetrics) &&                      \
                  (sum).regressions == (nregressions) && (sum).unmatched == (nunmatched),      \
              "summary: %zu points, %zu metrics, %zu regressions, %zu unmatched", (sum).points, \
              (sum).metrics, (sum).regressions, (sum).unmatched)

#endif
