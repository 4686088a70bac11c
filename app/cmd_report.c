/* cmd_report.c: `stragsim report DB [options]`: parses the arguments, opens
 * the database read-only and prints the table built by analysis/report.c, or
 * writes the HTML page of analysis/html_report.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/html_report.h"
#include "analysis/report.h"
#include "app/cli.h"
#include "app/commands.h"

static const char report_usage[] =
    "usage: stragsim report DB [--format text|csv|markdown|json] [--metrics a,b,...]\n"
    "                          [--where key=value]... [--params k1,k2,...]\n"
    "                          [--aggregate]\n"
    "       stragsim report DB --format html -o FILE.html [--where key=value]...\n"
    "\n"
    "Prints one row per run of the results database DB: the params that vary\n"
    "across the selected runs (scheme.kind first, then repeat), then metrics.\n"
    "\n"
    "  --format F         text (aligned, default), csv (RFC 4180), markdown, json\n"
    "                     (an array of one object per row, exact values, null for\n"
    "                     missing or NaN; --aggregate as csv's columns), or html\n"
    "  -o, --output FILE  html only (and needed): one self-contained page (no network,\n"
    "                     figures inline as SVG, drawn by gnuplot): the configs, the\n"
    "                     --aggregate table, latency CDFs, accuracy against p99\n"
    "                     latency per scheme, training curves when runs have them\n"
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
    {"json", REPORT_JSON},
    {"html", REPORT_HTML_TABLE}, /* the page around the table: analysis/html_report.c */
};

/* What the options fill. */
struct report_args {
    struct report_options opt;
    const char *format;
    const char *output; /* -o: html only */
    struct cli_list metrics, params;
};

/* --format F: once, one of report_formats. */
static int format_option(const struct cli_command *cmd, const struct cli_option *o, char *value)
{
    struct report_args *a = o->to;
    int status = cli_once(cmd, "--format", &a->format, value);
    if (status >= 0)
        return status;
    size_t i = 0, n = sizeof report_formats / sizeof *report_formats;
    while (i < n && strcmp(report_formats[i].name, value) != 0)
        i++;
    if (i == n)
        return cli_error(cmd, "--format must be text, csv, markdown, json or html, got '%s'",
                         value);
    a->opt.format = report_formats[i].format;
    return -1;
}

int cmd_report(int argc, char **argv)
{
    struct report_args a = {.opt = {.format = REPORT_TEXT}};
    struct cli_filters where = {0};
    const struct cli_option options[] = {
        {.name = "format", .kind = CLI_CALL, .to = &a, .call = format_option},
        {.name = "metrics", .kind = CLI_CALL, .to = &a.metrics, .call = cli_parse_names},
        {.name = "where", .kind = CLI_CALL, .to = &where, .call = cli_parse_where},
        {.name = "params", .kind = CLI_CALL, .to = &a.params, .call = cli_parse_names},
        {.name = "aggregate", .kind = CLI_FLAG, .to = &a.opt.aggregate},
        {.name = "output", .letter = 'o', .kind = CLI_ONCE, .to = &a.output,
         .label = "-o/--output"},
        {0},
    };
    const struct cli_command cmd = {
        .name = "report", .options = options, .usage = report_usage,
        .operand = "DB", .synopsis = "stragsim report DB [options]",
    };
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status < 0)
        status = cli_one_operand(&cmd, argc, argv, first);
    bool html = a.opt.format == REPORT_HTML_TABLE;
    if (status < 0 && html && !a.output)
        status = cli_error(&cmd, "--format html needs -o FILE.html");
    if (status < 0 && !html && a.output)
        status = cli_error(&cmd, "-o is for --format html (other formats go to standard output)");
    if (status < 0 && html && (a.metrics.n || a.params.n || a.opt.aggregate))
        status = cli_error(&cmd, "--format html takes only --where and -o (its table is "
                                 "--aggregate's, default columns)");
    if (status < 0) {
        a.opt.metrics = a.metrics.items;
        a.opt.nmetrics = a.metrics.n;
        a.opt.params = a.params.items;
        a.opt.nparams = a.params.n;
        a.opt.where = where.items;
        a.opt.nwhere = where.n;
        struct results *r = NULL;
        struct error err;
        int rc = results_open(argv[first], true, &r, &err);
        const struct html_report_options page = {
            .output = a.output, .where = a.opt.where, .nwhere = a.opt.nwhere,
        };
        if (!rc)
            rc = html ? html_report_write(r, &page, stderr, &err)
                      : report_write(r, &a.opt, stdout, &err);
        results_close(r);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        status = rc ? 2 : 0;
    }
    cli_list_free(&a.metrics);
    cli_list_free(&a.params);
    free(where.items);
    return status;
}
