/* cmd_trace.c: `stragsim trace stats|fit|gen`: looking into a latency trace
 * before replaying it (stats: workers, quantiles, persistence, a fitted
 * Markov model; fit: parametric MLE fits) and writing synthetic traces in
 * the same worker,iteration,duration format from a config's [latency]
 * section (gen). Parses arguments and prints; the statistics live in
 * traces/trace_stats.c and traces/trace_fit.c.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomic_file.h"
#include "app/cli.h"
#include "app/commands.h"
#include "app/config.h"
#include "traces/latency.h"
#include "traces/trace_fit.h"
#include "traces/trace_stats.h"

static const char stats_usage[] =
    "usage: stragsim trace stats FILE [--worker COL] [--iteration COL] [--value COL]\n"
    "                                 [--where COL=VALUE]... [--threshold X]\n"
    "                                 [--state-dist KIND]\n"
    "\n"
    "Summarises a CSV trace with one row per (worker, iteration) as key=value\n"
    "lines: rows, workers, iterations, mean/median/p99 overall and per worker\n"
    "(worker.<id>.mean=...), the per-iteration max/median ratio, persistence (the\n"
    "lag-1 Spearman rank correlation of workers' durations between consecutive\n"
    "iterations, averaged over pairs with >= 3 common workers), then a two-state\n"
    "Markov model as a ready [latency] section.\n"
    "\n"
    "  --worker COL       worker id column, header name or 1-based number\n"
    "                     (default: worker)\n"
    "  --iteration COL    iteration column (default: iteration, else time)\n"
    "  --value COL        duration column (default: duration, else batch_time_norm)\n"
    "  --where COL=VALUE  keep only rows whose COL is VALUE (repeatable: all hold)\n"
    "  --threshold X      a worker-iteration is slow when its duration exceeds X\n"
    "                     times that iteration's median (default 1.5)\n"
    "  --state-dist KIND  each state's distribution: auto (smallest KS distance,\n"
    "                     default) or exp|shifted_exp|pareto|lognormal|weibull\n"
    "  -h, --help         this text\n";

static const char fit_usage[] =
    "usage: stragsim trace fit FILE [--dist KIND|all] [--value COL] [--where COL=VALUE]...\n"
    "\n"
    "Maximum-likelihood fit of the durations in FILE, printed as a [latency]\n"
    "section with the Kolmogorov-Smirnov distance in a comment. With --dist all\n"
    "(the default) every kind is fitted, best (smallest KS distance) first.\n"
    "\n"
    "  --dist KIND        exp | shifted_exp | pareto | lognormal | weibull | all\n"
    "  --value COL        duration column, header name or 1-based number (default:\n"
    "                     duration, else batch_time_norm, else a one-column file's\n"
    "                     column)\n"
    "  --where COL=VALUE  keep only rows whose COL is VALUE (repeatable)\n"
    "  -h, --help         this text\n";

static const char gen_usage[] =
    "usage: stragsim trace gen CONFIG -o FILE [--workers N] [--iterations I]\n"
    "                          [--set section.key=value]...\n"
    "\n"
    "Writes a synthetic trace (CSV: worker,iteration,duration) of unit-cost draws\n"
    "from CONFIG's [latency] section, as the first sweep point of `stragsim run`\n"
    "would draw them (same seed, same streams). `trace stats` and replay read the\n"
    "format back (replay: latency.iteration_column = iteration,\n"
    "latency.value_column = duration).\n"
    "\n"
    "  -o, --output FILE  the trace to write ('-' for standard output)\n"
    "  --workers N        workers (default: cluster.workers)\n"
    "  --iterations I     iterations (default: workload.iterations)\n"
    "  --set KEY=VALUE    override a config key, as for stragsim run\n"
    "  -h, --help         this text\n";

static const char trace_usage[] =
    "usage: stragsim trace stats|fit|gen ...\n"
    "\n"
    "  stats FILE   what is in a trace: workers, quantiles, persistence, Markov model\n"
    "  fit FILE     maximum-likelihood fits with the Kolmogorov-Smirnov distance\n"
    "  gen CONFIG   write a synthetic trace from a config's [latency] section\n"
    "\n"
    "'stragsim trace SUBCOMMAND --help' describes each.\n";

/* Prints err and maps a status to the exit status (2: bad input). */
static int report_error(int rc, const struct error *err)
{
    if (!rc)
        return 0;
    fprintf(stderr, "%s\n", err->msg);
    return rc == STRAG_EINPUT ? 2 : rc;
}

/* Parses a finite positive number; false on anything else (errno ERANGE:
 * a number beyond a double). */
static bool parse_positive(const char *s, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || !isfinite(x) || x <= 0)
        return false;
    *out = x;
    return true;
}

/* --threshold X: a number > 0. */
static int threshold_option(const struct cli_command *cmd, const struct cli_option *o,
                            char *value)
{
    if (!parse_positive(value, o->to))
        return cli_error(cmd,
                         errno == ERANGE ? "--threshold: '%s' is out of range"
                                         : "--threshold must be a number > 0, got '%s'",
                         value);
    return -1;
}

static int trace_stats_cmd(int argc, char **argv)
{
    struct trace_select sel = {0};
    struct cli_list where = {0};
    double threshold = 1.5;
    const char *state_kind = NULL; /* --state-dist, default auto */
    const struct cli_option options[] = {
        {.name = "worker", .kind = CLI_ONCE, .to = &sel.worker},
        {.name = "iteration", .kind = CLI_ONCE, .to = &sel.iteration},
        {.name = "value", .kind = CLI_ONCE, .to = &sel.value},
        {.name = "where", .kind = CLI_LIST, .to = &where},
        {.name = "threshold", .kind = CLI_CALL, .to = &threshold, .call = threshold_option},
        {.name = "state-dist", .kind = CLI_ONCE, .to = &state_kind},
        {0},
    };
    const struct cli_command cmd = {
        .name = "trace stats", .options = options, .usage = stats_usage,
        .operand = "FILE", .synopsis = "stragsim trace stats FILE ...",
    };
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (!state_kind)
        state_kind = "auto";
    if (status < 0 && strcmp(state_kind, "auto") != 0 && !trace_fit_known(state_kind))
        status = cli_error(&cmd, "--state-dist: unknown distribution '%s' (expected auto|%s)",
                           state_kind, trace_fit_kinds);
    if (status < 0)
        status = cli_one_operand(&cmd, argc, argv, first);
    if (status < 0) {
        sel.where = where.items;
        sel.nwhere = where.n;
        struct error err;
        struct trace_data *d = NULL;
        struct trace_stats *s = NULL;
        int rc = trace_data_load(argv[first], &sel, TRACE_NEED_VALUE | TRACE_NEED_KEYS, &d, &err);
        if (!rc)
            rc = trace_stats_compute(d, threshold, state_kind, &s, &err);
        if (!rc)
            trace_stats_write(stdout, s);
        trace_stats_free(s);
        trace_data_free(d);
        status = report_error(rc, &err);
    }
    cli_list_free(&where);
    return status;
}

static int fit_cmp_ks(const void *a, const void *b)
{
    double x = ((const struct trace_fit *)a)->ks, y = ((const struct trace_fit *)b)->ks;
    return (x > y) - (x < y);
}

static int trace_fit_cmd(int argc, char **argv)
{
    struct trace_select sel = {0};
    struct cli_list where = {0};
    const char *dist = NULL; /* --dist, default all */
    const struct cli_option options[] = {
        {.name = "dist", .kind = CLI_ONCE, .to = &dist},
        {.name = "value", .kind = CLI_ONCE, .to = &sel.value},
        {.name = "where", .kind = CLI_LIST, .to = &where},
        {0},
    };
    const struct cli_command cmd = {
        .name = "trace fit", .options = options, .usage = fit_usage,
        .operand = "FILE", .synopsis = "stragsim trace fit FILE ...",
    };
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (!dist)
        dist = "all";
    bool all = strcmp(dist, "all") == 0;
    if (status < 0 && !all && !trace_fit_known(dist))
        status = cli_error(&cmd, "--dist: unknown distribution '%s' (expected %s|all)", dist,
                           trace_fit_kinds);
    if (status < 0)
        status = cli_one_operand(&cmd, argc, argv, first);
    if (status < 0) {
        sel.where = where.items;
        sel.nwhere = where.n;
        struct error err;
        struct trace_data *d = NULL;
        struct trace_fit fits[8];
        size_t nfits = 0;
        int rc = trace_data_load(argv[first], &sel, TRACE_NEED_VALUE, &d, &err);
        /* With all, a kind whose support excludes the data is left out; an
         * error is reported only when no kind fits. */
        struct error ferr;
        int frc = 0;
        for (const char *const *k = trace_fit_kind_names; !rc && *k; k++) {
            if (!all && strcmp(*k, dist) != 0)
                continue;
            frc = trace_fit(d->value, d->n, *k, d->path, &fits[nfits], &ferr);
            if (!frc)
                nfits++;
        }
        if (!rc && nfits == 0) {
            rc = frc;
            err = ferr;
        }
        if (!rc) {
            qsort(fits, nfits, sizeof fits[0], fit_cmp_ks);
            for (size_t i = 0; i < nfits; i++) {
                if (i)
                    fputc('\n', stdout);
                trace_fit_write(stdout, &fits[i], "");
            }
        }
        trace_data_free(d);
        status = report_error(rc, &err);
    }
    cli_list_free(&where);
    return status;
}

/* Writes workers x iterations unit-cost draws, iteration-major; stops at the
 * first failed write (the disk is full: the rest would fail too). A failure
 * on standard output stays flagged there for main to report. */
static int trace_write(FILE *f, const char *path, struct latency_source *src, long workers,
                       long iterations, struct error *err)
{
    int failed = fprintf(f, "worker,iteration,duration\n") < 0 ? (errno ? errno : EIO) : 0;
    for (long i = 0; i < iterations && !failed; i++)
        for (long w = 0; w < workers && !failed; w++)
            if (fprintf(f, "%ld,%ld,%.9g\n", w, i, latency_draw(src, (int)w, (uint64_t)i, 1.0)) < 0)
                failed = errno ? errno : EIO;
    if (failed && f != stdout)
        return error_at(err, path, 0, "cannot write: %s", strerror(failed));
    return 0;
}

static int trace_gen_run(const char *config_path, const char *const *sets, size_t nsets,
                         const char *out_path, long workers, long iterations, struct error *err)
{
    struct config *c = NULL;
    struct params *p = NULL;
    struct latency_source *src = NULL;
    char *key = NULL;
    int repeat;
    int rc = config_load(config_path, sets, nsets, &c, err);
    if (!rc)
        rc = config_point(c, 0, &p, &repeat, &key, err);
    if (!rc) {
        if (workers == 0)
            workers = params_int(p, "cluster.workers");
        if (iterations == 0)
            iterations = params_int(p, "workload.iterations");
        /* seeded as the run loop seeds the point's streams */
        uint64_t seed = (uint64_t)params_int(p, "experiment.seed");
        rc = latency_new(p, (int)workers, seed, config_stream_key(p, repeat), &src, err);
    }
    struct atomic_file out = {0};
    if (!rc)
        rc = atomic_file_open(&out, out_path, err);
    if (!rc) {
        rc = trace_write(out.f, out_path, src, workers, iterations, err);
        if (rc)
            atomic_file_abort(&out);
        else
            rc = atomic_file_commit(&out, err);
    }
    latency_free(src);
    free(key);
    params_free(p);
    config_free(c);
    return rc;
}

static int trace_gen_cmd(int argc, char **argv)
{
    const char *out = NULL;
    int workers = 0, iterations = 0;
    struct cli_list sets = {0};
    const struct cli_option options[] = {
        {.name = "output", .letter = 'o', .kind = CLI_ONCE, .to = &out, .label = "-o/--output"},
        {.name = "workers", .kind = CLI_INT, .to = &workers, .min = 1, .max = 100000000,
         .range = "in [1, 1e8]"},
        {.name = "iterations", .kind = CLI_INT, .to = &iterations, .min = 1, .max = 100000000,
         .range = "in [1, 1e8]"},
        {.name = "set", .kind = CLI_LIST, .to = &sets},
        {0},
    };
    const struct cli_command cmd = {
        .name = "trace gen", .options = options, .usage = gen_usage,
        .operand = "CONFIG", .synopsis = "stragsim trace gen CONFIG ...",
    };
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status < 0)
        status = cli_one_operand(&cmd, argc, argv, first);
    if (status < 0 && !out)
        status = cli_error(&cmd, "missing -o FILE (the trace to write)");
    if (status < 0) {
        struct error err;
        int rc = trace_gen_run(argv[first], sets.items, sets.n, out, workers, iterations, &err);
        status = report_error(rc, &err);
    }
    cli_list_free(&sets);
    return status;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} trace_subcommands[] = {
    {"stats", trace_stats_cmd},
    {"fit", trace_fit_cmd},
    {"gen", trace_gen_cmd},
};

int cmd_trace(int argc, char **argv)
{
    if (argc < 2) {
        fputs(trace_usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(trace_usage, stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof trace_subcommands / sizeof trace_subcommands[0]; i++)
        if (strcmp(trace_subcommands[i].name, argv[1]) == 0)
            return trace_subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "stragsim trace: unknown subcommand '%s' (expected stats, fit or gen)\n",
            argv[1]);
    return 2;
}
