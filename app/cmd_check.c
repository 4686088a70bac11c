/* cmd_check.c: `stragsim check DB --baseline DB2 [options]`: parses the
 * arguments, opens both databases read-only, runs analysis/check.c and
 * prints the summary line. Exit 0: no regression; 1: regressions; 2: bad
 * usage or input. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/check.h"
#include "app/cli.h"
#include "app/commands.h"

static const char check_usage[] =
    "usage: stragsim check DB --baseline DB2 [--rtol X] [--atol Y]\n"
    "                         [--metric NAME:TOL | --metric NAME:ignore]...\n"
    "       stragsim check DB --baseline DB2 --intervals [--metric NAME:ignore]...\n"
    "\n"
    "Compares every metric of every run of the baseline DB2 with the same point\n"
    "of DB (matched by point key, else by params): a metric passes when\n"
    "|new - baseline| <= atol + rtol * |baseline| (NaN equals NaN). Prints one\n"
    "line per regression and a summary; exit 0 when there is none, 1 otherwise.\n"
    "\n"
    "  --baseline DB2     the reference results database (required)\n"
    "  --rtol X           relative tolerance (default 1e-9)\n"
    "  --atol Y           absolute tolerance (default 0)\n"
    "  --metric NAME:TOL  relative tolerance TOL for metric NAME instead of --rtol\n"
    "  --metric NAME:ignore  do not compare metric NAME\n"
    "  --intervals        compare points instead of runs: the repeats of each\n"
    "                     point folded into a 95% confidence interval (Student t);\n"
    "                     a metric fails when the intervals of DB2 and DB do not\n"
    "                     overlap. Needs experiment.repeats >= 2 in both\n"
    "  -h, --help         this text\n";

/* one line "stragsim check: ..." on stderr, exit status 2 */
#define check_fail(...) cli_fail("check", __VA_ARGS__)

/* A tolerance: a finite number >= 0 (errno ERANGE: beyond a double). */
static bool tolerance_parse(const char *s, double *x)
{
    char *end;
    *x = strtod(s, &end);
    return *s && *end == '\0' && isfinite(*x) && *x >= 0;
}

/* "NAME:TOL" or "NAME:ignore"; the name is cut out of text in place. */
static bool metric_tolerance_parse(char *text, struct check_tolerance *t)
{
    char *colon = strrchr(text, ':');
    if (!colon || colon == text)
        return false;
    *colon = '\0';
    t->metric = text;
    t->ignore = strcmp(colon + 1, "ignore") == 0;
    t->rtol = 0;
    if (!t->ignore && !tolerance_parse(colon + 1, &t->rtol)) {
        *colon = ':';
        return false;
    }
    return true;
}

int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"baseline", required_argument, NULL, 'b'}, {"rtol", required_argument, NULL, 'r'},
        {"atol", required_argument, NULL, 'a'},     {"metric", required_argument, NULL, 'm'},
        {"intervals", no_argument, NULL, 'i'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct check_options opt = {.rtol = 1e-9, .atol = 0};
    struct check_tolerance *per_metric = NULL;
    const char *baseline_path = NULL, *rtol_text = NULL, *atol_text = NULL;
    const char *tolerance_given = NULL;
    int status = -1;

    optind = 0; /* full reset: commands may be called more than once (tests) */
    opterr = 0;
    int c;
    while (status < 0 && (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            status = cli_once("check", "--baseline", &baseline_path, optarg);
            break;
        case 'r':
        case 'a': {
            const char *name = c == 'r' ? "--rtol" : "--atol";
            tolerance_given = name;
            if ((status = cli_once("check", name, c == 'r' ? &rtol_text : &atol_text, optarg)) >= 0)
                break;
            errno = 0;
            if (!tolerance_parse(optarg, c == 'r' ? &opt.rtol : &opt.atol))
                status = check_fail(errno == ERANGE ? "%s: '%s' is out of range"
                                                    : "%s expects a number >= 0, got '%s'",
                                    name, optarg);
            break;
        }
        case 'm': {
            struct check_tolerance *grown =
                realloc(per_metric, (opt.nper_metric + 1) * sizeof *grown);
            if (!grown) {
                status = check_fail("%s", "out of memory");
                break;
            }
            per_metric = grown;
            if (metric_tolerance_parse(optarg, &per_metric[opt.nper_metric])) {
                if (!per_metric[opt.nper_metric].ignore)
                    tolerance_given = "--metric NAME:TOL";
                opt.nper_metric++;
            } else
                status = check_fail("--metric expects NAME:TOL or NAME:ignore, got '%s'", optarg);
            break;
        }
        case 'i':
            opt.intervals = true;
            break;
        case 'h':
            fputs(check_usage, stdout);
            status = 0;
            break;
        default:
            status = cli_option_error("check", c, argv);
            break;
        }
    }
    if (status < 0 && argc - optind != 1)
        status = argc - optind == 0
                     ? check_fail("%s", "missing DB (usage: stragsim check DB --baseline DB2)")
                     : check_fail("expected one DB, got extra argument '%s'", argv[optind + 1]);
    if (status < 0 && !baseline_path)
        status = check_fail("%s", "--baseline DB2 is required");
    if (status < 0 && opt.intervals && tolerance_given)
        status = check_fail("%s does not apply with --intervals (intervals are compared by overlap)",
                            tolerance_given);
    if (status < 0) {
        opt.per_metric = per_metric;
        struct results *db = NULL, *baseline = NULL;
        struct check_summary sum;
        struct error err;
        int rc = results_open(argv[optind], true, &db, &err);
        if (!rc)
            rc = results_open(baseline_path, true, &baseline, &err);
        if (!rc)
            rc = check_compare(db, baseline, &opt, stdout, &sum, &err);
        results_close(db);
        results_close(baseline);
        if (rc) {
            fprintf(stderr, "%s\n", err.msg);
            status = 2;
        } else {
            if (sum.unmatched)
                printf("check: %zu point%s in DB not in the baseline (not compared)\n",
                       sum.unmatched, sum.unmatched == 1 ? "" : "s");
            printf("check: %zu points compared, %zu metrics, %zu regressions\n", sum.points,
                   sum.metrics, sum.regressions);
            status = sum.regressions ? 1 : 0;
        }
    }
    free(per_metric);
    return status;
}
