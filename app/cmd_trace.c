/* cmd_trace.c: `stragsim trace stats|fit|gen`: looking into a latency trace
 * before replaying it (stats: workers, quantiles, persistence, a fitted
 * Markov model; fit: parametric MLE fits) and writing synthetic traces in
 * the same worker,iteration,duration format from a config's [latency]
 * section (gen). Parses arguments and prints; the statistics live in
 * traces/trace_stats.c and traces/trace_fit.c.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
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

/* One-line usage error on stderr; returns 2. */
/* "stragsim trace SUB: message", exit status 2 */
static int trace_fail(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int trace_fail(const char *sub, const char *fmt, ...)
{
    char command[64];
    snprintf(command, sizeof command, "trace %s", sub);
    va_list ap;
    va_start(ap, fmt);
    cli_vfail(command, fmt, ap);
    va_end(ap);
    return 2;
}

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

/* getopt_long's error cases, shared by the subcommands. */
static int option_error(const char *sub, int c, char **argv)
{
    char command[64];
    snprintf(command, sizeof command, "trace %s", sub);
    return cli_option_error(command, c, argv);
}

/* The one positional argument left after the options. */
static int one_operand(const char *sub, const char *what, int argc, char **argv)
{
    if (argc - optind == 1)
        return 0;
    if (argc - optind == 0)
        return trace_fail(sub, "missing %s (usage: stragsim trace %s %s ...)", what, sub, what);
    return trace_fail(sub, "expected one %s, got extra argument '%s'", what, argv[optind + 1]);
}

static int trace_stats_cmd(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"worker", required_argument, NULL, 'w'},    {"iteration", required_argument, NULL, 'i'},
        {"value", required_argument, NULL, 'v'},     {"where", required_argument, NULL, 'W'},
        {"threshold", required_argument, NULL, 't'}, {"state-dist", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    struct trace_select sel = {0};
    const char **where = calloc((size_t)argc + 1, sizeof *where);
    double threshold = 1.5;
    const char *state_kind = NULL; /* --state-dist, default auto */
    int status = where ? -1 : trace_fail("stats", "out of memory");
    optind = 0;
    opterr = 0;
    for (int c; status < 0 && (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1;) {
        switch (c) {
        case 'w': status = cli_once("trace stats", "--worker", &sel.worker, optarg); break;
        case 'i': status = cli_once("trace stats", "--iteration", &sel.iteration, optarg); break;
        case 'v': status = cli_once("trace stats", "--value", &sel.value, optarg); break;
        case 'W': where[sel.nwhere++] = optarg; break;
        case 's': status = cli_once("trace stats", "--state-dist", &state_kind, optarg); break;
        case 't':
            if (!parse_positive(optarg, &threshold))
                status = trace_fail("stats",
                                    errno == ERANGE ? "--threshold: '%s' is out of range"
                                                    : "--threshold must be a number > 0, got '%s'",
                                    optarg);
            break;
        case 'h':
            fputs(stats_usage, stdout);
            status = 0;
            break;
        default: status = option_error("stats", c, argv); break;
        }
    }
    if (!state_kind)
        state_kind = "auto";
    if (status < 0 && strcmp(state_kind, "auto") != 0 && !trace_fit_known(state_kind))
        status = trace_fail("stats", "--state-dist: unknown distribution '%s' (expected auto|%s)",
                            state_kind, trace_fit_kinds);
    if (status < 0 && one_operand("stats", "FILE", argc, argv))
        status = 2;
    if (status < 0) {
        sel.where = where;
        struct error err;
        struct trace_data *d = NULL;
        struct trace_stats *s = NULL;
        int rc = trace_data_load(argv[optind], &sel, TRACE_NEED_VALUE | TRACE_NEED_KEYS, &d, &err);
        if (!rc)
            rc = trace_stats_compute(d, threshold, state_kind, &s, &err);
        if (!rc)
            trace_stats_write(stdout, s);
        trace_stats_free(s);
        trace_data_free(d);
        status = report_error(rc, &err);
    }
    free(where);
    return status;
}

static int fit_cmp_ks(const void *a, const void *b)
{
    double x = ((const struct trace_fit *)a)->ks, y = ((const struct trace_fit *)b)->ks;
    return (x > y) - (x < y);
}

static int trace_fit_cmd(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dist", required_argument, NULL, 'd'}, {"value", required_argument, NULL, 'v'},
        {"where", required_argument, NULL, 'W'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct trace_select sel = {0};
    const char **where = calloc((size_t)argc + 1, sizeof *where);
    const char *dist = NULL; /* --dist, default all */
    int status = where ? -1 : trace_fail("fit", "out of memory");
    optind = 0;
    opterr = 0;
    for (int c; status < 0 && (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1;) {
        switch (c) {
        case 'd': status = cli_once("trace fit", "--dist", &dist, optarg); break;
        case 'v': status = cli_once("trace fit", "--value", &sel.value, optarg); break;
        case 'W': where[sel.nwhere++] = optarg; break;
        case 'h':
            fputs(fit_usage, stdout);
            status = 0;
            break;
        default: status = option_error("fit", c, argv); break;
        }
    }
    if (!dist)
        dist = "all";
    bool all = strcmp(dist, "all") == 0;
    if (status < 0 && !all && !trace_fit_known(dist))
        status = trace_fail("fit", "--dist: unknown distribution '%s' (expected %s|all)", dist,
                            trace_fit_kinds);
    if (status < 0 && one_operand("fit", "FILE", argc, argv))
        status = 2;
    if (status < 0) {
        sel.where = where;
        struct error err;
        struct trace_data *d = NULL;
        struct trace_fit fits[8];
        size_t nfits = 0;
        int rc = trace_data_load(argv[optind], &sel, TRACE_NEED_VALUE, &d, &err);
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
    free(where);
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

static int parse_count(const char *s, long *out)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (end == s || *end || x < 1 || x > 100000000)
        return -1;
    *out = x;
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
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"workers", required_argument, NULL, 'n'},
        {"iterations", required_argument, NULL, 'i'}, {"set", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    long workers = 0, iterations = 0;
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    size_t nsets = 0;
    int status = sets ? -1 : trace_fail("gen", "out of memory");
    optind = 0;
    opterr = 0;
    for (int c; status < 0 && (c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1;) {
        switch (c) {
        case 'o': status = cli_once("trace gen", "-o/--output", &out, optarg); break;
        case 's': sets[nsets++] = optarg; break;
        case 'n':
        case 'i':
            if (parse_count(optarg, c == 'n' ? &workers : &iterations))
                status = trace_fail("gen", "%s must be an integer in [1, 1e8], got '%s'",
                                    c == 'n' ? "--workers" : "--iterations", optarg);
            break;
        case 'h':
            fputs(gen_usage, stdout);
            status = 0;
            break;
        default: status = option_error("gen", c, argv); break;
        }
    }
    if (status < 0 && one_operand("gen", "CONFIG", argc, argv))
        status = 2;
    if (status < 0 && !out)
        status = trace_fail("gen", "missing -o FILE (the trace to write)");
    if (status < 0) {
        struct error err;
        int rc = trace_gen_run(argv[optind], sets, nsets, out, workers, iterations, &err);
        status = report_error(rc, &err);
    }
    free(sets);
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
