/* cmd_check.c: `stragsim check DB --baseline DB2 [options]`: parses the
 * arguments, opens both databases read-only, runs analysis/check.c and
 * prints the summary line. Exit 0: no regression; 1: regressions; 2: bad
 * usage or input. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/check.h"
#include "analysis/json.h"
#include "app/cli.h"
#include "app/commands.h"

static const char check_usage[] =
    "usage: stragsim check DB --baseline DB2 [--rtol X] [--atol Y]\n"
    "                         [--metric NAME:TOL | --metric NAME:ignore]...\n"
    "       stragsim check DB --baseline DB2 --intervals [--metric NAME:ignore]...\n"
    "       (either with [--format text|json])\n"
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
    "  --format F         text (default) or json: one object {\"regressions\": [...],\n"
    "                     \"points\", \"metrics\", \"regression_count\", \"unmatched\"}\n"
    "  -h, --help         this text\n";

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

/* What the options fill. */
struct check_args {
    struct check_options opt;
    struct check_tolerance *per_metric;
    const char *rtol_text, *atol_text;
    const char *tolerance_given; /* the last tolerance option, for --intervals' error */
    struct cli_format format;
};

/* --rtol X, --atol Y: once each, a number >= 0. */
static int tolerance_option(const struct cli_command *cmd, const struct cli_option *o, char *value)
{
    struct check_args *a = o->to;
    bool rtol = strcmp(o->name, "rtol") == 0;
    const char *name = rtol ? "--rtol" : "--atol";
    a->tolerance_given = name;
    int status = cli_once(cmd, name, rtol ? &a->rtol_text : &a->atol_text, value);
    if (status >= 0)
        return status;
    errno = 0;
    if (!tolerance_parse(value, rtol ? &a->opt.rtol : &a->opt.atol))
        return cli_error(cmd,
                         errno == ERANGE ? "%s: '%s' is out of range"
                                         : "%s expects a number >= 0, got '%s'",
                         name, value);
    return -1;
}

/* --metric NAME:TOL or NAME:ignore, repeatable. */
static int metric_option(const struct cli_command *cmd, const struct cli_option *o, char *value)
{
    struct check_args *a = o->to;
    struct check_tolerance *grown =
        realloc(a->per_metric, (a->opt.nper_metric + 1) * sizeof *grown);
    if (!grown)
        return cli_error(cmd, "%s", "out of memory");
    a->per_metric = grown;
    struct check_tolerance *t = &a->per_metric[a->opt.nper_metric];
    if (!metric_tolerance_parse(value, t))
        return cli_error(cmd, "--metric expects NAME:TOL or NAME:ignore, got '%s'", value);
    if (!t->ignore)
        a->tolerance_given = "--metric NAME:TOL";
    a->opt.nper_metric++;
    return -1;
}

/* The JSON answer: the regressions (collected in `regressions`) and the
 * counts. */
static void json_summary(const char *db, const char *baseline, const char *regressions,
                         const struct check_summary *sum)
{
    fputs("{\"db\": ", stdout);
    json_string(stdout, db);
    fputs(", \"baseline\": ", stdout);
    json_string(stdout, baseline);
    printf(", \"regressions\": [%s%s%s], \"points\": %zu, \"metrics\": %zu, "
           "\"regression_count\": %zu, \"unmatched\": %zu}\n",
           *regressions ? "\n" : "", regressions, *regressions ? "\n" : "", sum->points,
           sum->metrics, sum->regressions, sum->unmatched);
}

int cmd_check(int argc, char **argv)
{
    struct check_args a = {.opt = {.rtol = 1e-9, .atol = 0}};
    const char *baseline_path = NULL;
    const struct cli_option options[] = {
        {.name = "baseline", .kind = CLI_ONCE, .to = &baseline_path},
        {.name = "rtol", .kind = CLI_CALL, .to = &a, .call = tolerance_option},
        {.name = "atol", .kind = CLI_CALL, .to = &a, .call = tolerance_option},
        {.name = "metric", .kind = CLI_CALL, .to = &a, .call = metric_option},
        {.name = "intervals", .kind = CLI_FLAG, .to = &a.opt.intervals},
        {.name = "format", .kind = CLI_CALL, .to = &a.format, .call = cli_parse_format},
        {0},
    };
    const struct cli_command cmd = {
        .name = "check", .options = options, .usage = check_usage,
        .operand = "DB", .synopsis = "stragsim check DB --baseline DB2",
    };
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status < 0)
        status = cli_one_operand(&cmd, argc, argv, first);
    if (status < 0 && !baseline_path)
        status = cli_error(&cmd, "%s", "--baseline DB2 is required");
    if (status < 0 && a.opt.intervals && a.tolerance_given)
        status = cli_error(&cmd,
                           "%s does not apply with --intervals (intervals are compared by overlap)",
                           a.tolerance_given);
    if (status < 0) {
        a.opt.per_metric = a.per_metric;
        a.opt.json = a.format.json;
        struct results *db = NULL, *baseline = NULL;
        struct check_summary sum;
        struct error err;
        int rc = results_open(argv[first], true, &db, &err);
        if (!rc)
            rc = results_open(baseline_path, true, &baseline, &err);
        /* JSON is written whole at the end: regressions go to memory first */
        char *buf = NULL;
        size_t len = 0;
        FILE *out = a.opt.json ? open_memstream(&buf, &len) : stdout;
        if (!out)
            rc = error_fail(&err, "out of memory");
        if (!rc)
            rc = check_compare(db, baseline, &a.opt, out, &sum, &err);
        if (a.opt.json && out)
            fclose(out);
        results_close(db);
        results_close(baseline);
        if (rc) {
            fprintf(stderr, "%s\n", err.msg);
            status = 2;
        } else if (a.opt.json) {
            json_summary(argv[first], baseline_path, buf ? buf : "", &sum);
            status = sum.regressions ? 1 : 0;
        } else {
            if (sum.unmatched)
                printf("check: %zu point%s in DB not in the baseline (not compared)\n",
                       sum.unmatched, sum.unmatched == 1 ? "" : "s");
            printf("check: %zu points compared, %zu metrics, %zu regressions\n", sum.points,
                   sum.metrics, sum.regressions);
            status = sum.regressions ? 1 : 0;
        }
        free(buf);
    }
    free(a.per_metric);
    return status;
}
