/* cmd_report.c: `stragsim report DB [options]`: parses the arguments, opens
 * the database read-only and prints the table built by analysis/report.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/report.h"
#include "app/cli.h"
#include "app/commands.h"

static const char report_usage[] =
    "usage: stragsim report DB [--format text|csv|markdown] [--metrics a,b,...]\n"
    "                          [--where key=value]... [--params k1,k2,...]\n"
    "                          [--aggregate]\n"
    "\n"
    "Prints one row per run of the results database DB: the params that vary\n"
    "across the selected runs (scheme.kind first, then repeat), then metrics.\n"
    "\n"
    "  --format F         text (aligned, default), csv (RFC 4180) or markdown\n"
    "  --metrics LIST     metric columns, comma-separated (default: jobs, latency\n"
    "                     mean/p50/p99/p999, worker_seconds and accuracy metrics\n"
    "                     when present)\n"
    "  --where KEY=VALUE  only runs whose param KEY is VALUE (\"repeat\" is the\n"
    "                     repeat); repeated on one key: any of the values, on\n"
    "                     different keys: all must hold\n"
    "  --params LIST      param columns, comma-separated, instead of those that vary\n"
    "  --aggregate        one row per point: its repeats folded into n and, per\n"
    "                     metric, mean ± half-width of the 95% confidence interval\n"
    "                     (Student t); CSV gives columns M, M_se, M_ci_low, M_ci_high\n"
    "  -h, --help         this text\n";

static const struct {
    const char *name;
    enum report_format format;
} report_formats[] = {
    {"text", REPORT_TEXT},
    {"csv", REPORT_CSV},
    {"markdown", REPORT_MARKDOWN},
};

/* Splits a comma-separated list in place into `items` (grown as needed).
 * Returns -1 on an empty item ("a,,b", "a,", ""), -2 when out of memory. */
static int list_split(char *text, const char ***items, size_t *n)
{
    for (char *item = text;;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (!*item)
            return -1;
        const char **grown = realloc(*items, (*n + 1) * sizeof *grown);
        if (!grown)
            return -2;
        *items = grown;
        (*items)[(*n)++] = item;
        if (!comma)
            return 0;
        item = comma + 1;
    }
}

/* one line "stragsim report: ..." on stderr, exit status 2 */
#define report_fail(...) cli_fail("report", __VA_ARGS__)

int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'}, {"metrics", required_argument, NULL, 'm'},
        {"where", required_argument, NULL, 'w'},  {"params", required_argument, NULL, 'p'},
        {"aggregate", no_argument, NULL, 'a'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct report_options opt = {.format = REPORT_TEXT};
    const char **metrics = NULL, **params = NULL, *format = NULL;
    struct report_filter *where = NULL;
    int status = -1;

    optind = 0; /* full reset: commands may be called more than once (tests) */
    opterr = 0;
    int c;
    while (status < 0 && (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': {
            if ((status = cli_once("report", "--format", &format, optarg)) >= 0)
                break;
            size_t i = 0, n = sizeof report_formats / sizeof *report_formats;
            while (i < n && strcmp(report_formats[i].name, optarg) != 0)
                i++;
            if (i == n)
                status = report_fail("--format must be text, csv or markdown, got '%s'", optarg);
            else
                opt.format = report_formats[i].format;
            break;
        }
        case 'm':
        case 'p': {
            const char ***list = c == 'm' ? &metrics : &params;
            size_t *n = c == 'm' ? &opt.nmetrics : &opt.nparams;
            char given[512];
            snprintf(given, sizeof given, "%s", optarg); /* list_split cuts optarg */
            int rc = list_split(optarg, list, n);
            if (rc == -1)
                status = report_fail("%s needs a comma-separated list of names, got '%s'",
                                     c == 'm' ? "--metrics" : "--params", given);
            else if (rc == -2)
                status = report_fail("%s", "out of memory");
            break;
        }
        case 'w': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                status = report_fail("--where expects key=value, got '%s'", optarg);
                break;
            }
            struct report_filter *grown = realloc(where, (opt.nwhere + 1) * sizeof *grown);
            if (!grown) {
                status = report_fail("%s", "out of memory");
                break;
            }
            *eq = '\0';
            where = grown;
            where[opt.nwhere++] = (struct report_filter){optarg, eq + 1};
            break;
        }
        case 'a':
            opt.aggregate = true;
            break;
        case 'h':
            fputs(report_usage, stdout);
            status = 0;
            break;
        default:
            status = cli_option_error("report", c, argv);
            break;
        }
    }
    if (status < 0 && argc - optind != 1)
        status = argc - optind == 0
                     ? report_fail("%s", "missing DB (usage: stragsim report DB [options])")
                     : report_fail("expected one DB, got extra argument '%s'", argv[optind + 1]);
    if (status < 0) {
        opt.metrics = metrics;
        opt.params = params;
        opt.where = where;
        struct results *r = NULL;
        struct error err;
        int rc = results_open(argv[optind], true, &r, &err);
        if (!rc)
            rc = report_write(r, &opt, stdout, &err);
        results_close(r);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        status = rc ? 2 : 0;
    }
    free(metrics);
    free(params);
    free(where);
    return status;
}
