/* cmd_plot.c: `stragsim plot DB ...`: parses the arguments into a
 * plot_request and hands it to analysis/plot.c, which writes the figure
 * through gnuplot. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/plot.h"
#include "app/cli.h"
#include "app/commands.h"

static const char plot_usage[] =
    "usage: stragsim plot DB --x PARAM --y METRIC [--group PARAM] [--where KEY=VALUE]...\n"
    "                        -o FILE.png|FILE.svg [options]\n"
    "       stragsim plot DB --cdf [--ccdf] [--group PARAM] [--where ...] -o FILE\n"
    "       stragsim plot DB --iterations --y loss|accuracy [--x sim_time|iteration]\n"
    "                        [--group PARAM] [--where ...] -o FILE\n"
    "\n"
    "Draws a figure from the results database DB with gnuplot (gnuplot-nox).\n"
    "Default: METRIC against PARAM, one line per value of the --group param;\n"
    "runs with the same x (repeats) are averaged, with 95% confidence-interval\n"
    "bars (Student t across repeats; one run: its own batch-means error).\n"
    "A param is its full key (cluster.workers) or, if unambiguous, its last\n"
    "part (workers); \"repeat\" is the run's repeat.\n"
    "\n"
    "  --x PARAM          the x axis (a param; with --iterations sim_time or iteration)\n"
    "  --y METRIC         the y axis (a metric; with --iterations an iterations column)\n"
    "  --group PARAM      one line or curve per value of PARAM\n"
    "  --where KEY=VALUE  only runs whose param KEY is VALUE (same key: any value;\n"
    "                     different keys: all hold)\n"
    "  --cdf              the latency CDF of the selected runs' per-job rows (jobs\n"
    "                     table: run with workload.job_rows = true)\n"
    "  --ccdf             with --cdf: P(latency > x) on a log axis, for tails\n"
    "  --iterations       a training curve from the iterations table\n"
    "  -o, --output FILE  FILE.png (pngcairo) or FILE.svg\n"
    "  --title TEXT       the title (default: from the axes)\n"
    "  --size WxH         pixels (default 800x500)\n"
    "  --logx, --logy     logarithmic axes\n"
    "  --data FILE        also keep the data the figure is drawn from (one block per\n"
    "                     series, columns named in a comment)\n"
    "  --script FILE      also keep the gnuplot script to edit; it reads the data\n"
    "                     from --data FILE, or FILE.dat beside it\n"
    "  -h, --help         this text\n";

/* --size WxH: pixels, 100 to 10000 each. */
static int size_option(const struct cli_command *cmd, const struct cli_option *o, char *value)
{
    struct plot_request *req = o->to;
    char *end;
    long w = strtol(value, &end, 10), h = 0;
    if (*end == 'x')
        h = strtol(end + 1, &end, 10);
    if (*end || w < 100 || h < 100 || w > 10000 || h > 10000)
        return cli_error(cmd, "--size expects WxH in pixels (100 to 10000), got '%s'", value);
    req->width = (int)w;
    req->height = (int)h;
    return -1;
}

int cmd_plot(int argc, char **argv)
{
    struct plot_request req = {.kind = PLOT_METRIC};
    struct cli_filters where = {0};
    bool cdf = false, iterations = false;
    const struct cli_option options[] = {
        {.name = "x", .kind = CLI_STRING, .to = &req.x},
        {.name = "y", .kind = CLI_STRING, .to = &req.y},
        {.name = "group", .kind = CLI_STRING, .to = &req.group},
        {.name = "where", .kind = CLI_CALL, .to = &where, .call = cli_parse_where},
        {.name = "cdf", .kind = CLI_FLAG, .to = &cdf},
        {.name = "ccdf", .kind = CLI_FLAG, .to = &req.ccdf},
        {.name = "iterations", .kind = CLI_FLAG, .to = &iterations},
        {.name = "output", .letter = 'o', .kind = CLI_ONCE, .to = &req.output,
         .label = "-o/--output"},
        {.name = "title", .kind = CLI_STRING, .to = &req.title},
        {.name = "size", .kind = CLI_CALL, .to = &req, .call = size_option},
        {.name = "logx", .kind = CLI_FLAG, .to = &req.logx},
        {.name = "logy", .kind = CLI_FLAG, .to = &req.logy},
        {.name = "script", .kind = CLI_STRING, .to = &req.script},
        {.name = "data", .kind = CLI_STRING, .to = &req.data},
        {.name = "gnuplot", .kind = CLI_STRING, .to = &req.gnuplot}, /* tests: another gnuplot */
        {0},
    };
    const struct cli_command cmd = {
        .name = "plot", .options = options, .usage = plot_usage,
        .operand = "DB", .synopsis = "stragsim plot DB --x PARAM --y METRIC -o FILE",
    };
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status < 0 && cdf && iterations)
        status = cli_error(&cmd, "%s", "--cdf and --iterations are different figures: choose one");
    if (status < 0 && req.ccdf && !cdf)
        status = cli_error(&cmd, "%s", "--ccdf goes with --cdf");
    if (status < 0 && cdf && (req.x || req.y))
        status =
            cli_error(&cmd, "%s", "--cdf takes no --x or --y (the axes are latency and fraction)");
    if (status < 0 && !cdf && !iterations && (!req.x || !req.y))
        status =
            cli_error(&cmd, "%s", "--x PARAM and --y METRIC are needed (or --cdf, --iterations)");
    if (status < 0 && iterations && !req.y)
        status = cli_error(&cmd, "%s", "--iterations needs --y loss|accuracy");
    if (status < 0 && !req.output)
        status = cli_error(&cmd, "%s", "-o FILE.png|FILE.svg is needed");
    if (status < 0)
        status = cli_one_operand(&cmd, argc, argv, first);
    if (status < 0) {
        req.kind = cdf ? PLOT_CDF : iterations ? PLOT_ITERATIONS : PLOT_METRIC;
        req.where = where.items;
        req.nwhere = where.n;
        struct results *r = NULL;
        struct error err;
        int rc = results_open(argv[first], true, &r, &err);
        if (!rc)
            rc = plot_make(r, &req, stderr, &err);
        results_close(r);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        else
            fprintf(stderr, "stragsim plot: wrote %s\n", req.output);
        status = rc ? 2 : 0;
    }
    free(where.items);
    return status;
}
