/* cmd_plot.c: `stragsim plot DB ...`: parses the arguments into a
 * plot_request and hands it to analysis/plot.c, which writes the figure
 * through gnuplot. */
#include <getopt.h>
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

/* one line "stragsim plot: ..." on stderr, exit status 2 */
#define plot_fail(...) cli_fail("plot", __VA_ARGS__)

int cmd_plot(int argc, char **argv)
{
    enum { OPT_TITLE = 256, OPT_SIZE, OPT_LOGX, OPT_LOGY, OPT_SCRIPT, OPT_CCDF, OPT_GNUPLOT,
           OPT_DATA };
    static const struct option longopts[] = {
        {"x", required_argument, NULL, 'x'},
        {"y", required_argument, NULL, 'y'},
        {"group", required_argument, NULL, 'g'},
        {"where", required_argument, NULL, 'w'},
        {"cdf", no_argument, NULL, 'c'},
        {"ccdf", no_argument, NULL, OPT_CCDF},
        {"iterations", no_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        {"title", required_argument, NULL, OPT_TITLE},
        {"size", required_argument, NULL, OPT_SIZE},
        {"logx", no_argument, NULL, OPT_LOGX},
        {"logy", no_argument, NULL, OPT_LOGY},
        {"script", required_argument, NULL, OPT_SCRIPT},
        {"data", required_argument, NULL, OPT_DATA},
        {"gnuplot", required_argument, NULL, OPT_GNUPLOT}, /* tests: another gnuplot */
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct plot_request req = {.kind = PLOT_METRIC};
    struct report_filter *where = calloc((size_t)argc + 1, sizeof *where);
    bool cdf = false, iterations = false;
    int status = where ? -1 : plot_fail("%s", "out of memory");

    optind = 0; /* full reset: commands may be called more than once (tests) */
    opterr = 0;
    for (int c; status < 0 && (c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1;) {
        switch (c) {
        case 'x': req.x = optarg; break;
        case 'y': req.y = optarg; break;
        case 'g': req.group = optarg; break;
        case 'c': cdf = true; break;
        case 'i': iterations = true; break;
        case 'o': status = cli_once("plot", "-o/--output", &req.output, optarg); break;
        case OPT_CCDF: req.ccdf = true; break;
        case OPT_TITLE: req.title = optarg; break;
        case OPT_LOGX: req.logx = true; break;
        case OPT_LOGY: req.logy = true; break;
        case OPT_SCRIPT: req.script = optarg; break;
        case OPT_DATA: req.data = optarg; break;
        case OPT_GNUPLOT: req.gnuplot = optarg; break;
        case OPT_SIZE: {
            char *end;
            long w = strtol(optarg, &end, 10), h = 0;
            if (*end == 'x')
                h = strtol(end + 1, &end, 10);
            if (*end || w < 100 || h < 100 || w > 10000 || h > 10000)
                status = plot_fail("--size expects WxH in pixels (100 to 10000), got '%s'", optarg);
            req.width = (int)w;
            req.height = (int)h;
            break;
        }
        case 'w': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                status = plot_fail("--where expects key=value, got '%s'", optarg);
                break;
            }
            *eq = '\0';
            where[req.nwhere++] = (struct report_filter){optarg, eq + 1};
            break;
        }
        case 'h':
            fputs(plot_usage, stdout);
            status = 0;
            break;
        default:
            status = cli_option_error("plot", c, argv);
            break;
        }
    }
    if (status < 0 && cdf && iterations)
        status = plot_fail("%s", "--cdf and --iterations are different figures: choose one");
    if (status < 0 && req.ccdf && !cdf)
        status = plot_fail("%s", "--ccdf goes with --cdf");
    if (status < 0 && cdf && (req.x || req.y))
        status = plot_fail("%s", "--cdf takes no --x or --y (the axes are latency and fraction)");
    if (status < 0 && !cdf && !iterations && (!req.x || !req.y))
        status = plot_fail("%s", "--x PARAM and --y METRIC are needed (or --cdf, --iterations)");
    if (status < 0 && iterations && !req.y)
        status = plot_fail("%s", "--iterations needs --y loss|accuracy");
    if (status < 0 && !req.output)
        status = plot_fail("%s", "-o FILE.png|FILE.svg is needed");
    if (status < 0 && argc - optind != 1)
        status = argc - optind == 0
                     ? plot_fail("%s", "missing DB (usage: stragsim plot DB --x PARAM --y METRIC "
                                       "-o FILE)")
                     : plot_fail("expected one DB, got extra argument '%s'", argv[optind + 1]);
    if (status < 0) {
        req.kind = cdf ? PLOT_CDF : iterations ? PLOT_ITERATIONS : PLOT_METRIC;
        req.where = where;
        struct results *r = NULL;
        struct error err;
        int rc = results_open(argv[optind], true, &r, &err);
        if (!rc)
            rc = plot_make(r, &req, stderr, &err);
        results_close(r);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        else
            fprintf(stderr, "stragsim plot: wrote %s\n", req.output);
        status = rc ? 2 : 0;
    }
    free(where);
    return status;
}
