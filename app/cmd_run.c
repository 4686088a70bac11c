/* cmd_run.c: `stragsim run CONFIG.ini [-o DB] [--set section.key=value]...
 * [--resume] [--quiet] [--max-memory SIZE] [--smoke] [--points LIST]
 * [--reverse] [--threads N]`: parses the arguments, installs
 * the stop signal handlers (stop.h) that let a sweep stop between points,
 * runs the sweep (run.c) and prints the summary table (analysis/report.c).
 * The work itself is run.c's. */
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/report.h"
#include "app/cli.h"
#include "app/commands.h"
#include "app/memory.h"
#include "app/run.h"
#include "app/run_mpi.h"
#include "app/smoke.h"
#include "app/stop.h"
#include "workloads/workload.h"

static const char run_usage[] =
    "usage: stragsim run CONFIG.ini [-o DB] [--set section.key=value]... [--resume] [--quiet]\n"
    "                    [--max-memory SIZE] [--smoke] [--points LIST] [--reverse]\n"
    "                    [--threads N] [--dry-run [--show N]]\n"
    "\n"
    "Runs every point of the config's sweep (times experiment.repeats) and\n"
    "writes each finished point to the results database in one transaction.\n"
    "Every point is validated before anything is written.\n"
    "\n"
    "  -o, --output DB     results database (default: experiment.db, else results.db)\n"
    "  --set S.K=VALUE     override a config key (repeatable); --set sweep.S.K=v1,v2\n"
    "                      sets a sweep axis; a --set key that the file sweeps is\n"
    "                      no longer swept\n"
    "  --resume            skip points already in DB (without it, a DB that holds\n"
    "                      any point of this config is refused)\n"
    "  -q, --quiet         no progress lines and no summary table\n"
    "  --max-memory SIZE   refuse a point estimated to need more memory than SIZE\n"
    "                      (512M, 2G, ...; default: MemAvailable of /proc/meminfo)\n"
    "  --smoke             cap the config to a run of seconds (the caps below; they\n"
    "                      become --set lines, so smoke points have their own keys)\n"
    "  --points LIST       run only these points, in this order: numbers as the\n"
    "                      progress lines count them (1 to the number of points)\n"
    "                      and ranges, e.g. 3 or 1,4 or 2-5,8; a point keeps its\n"
    "                      number, key and results however it is selected\n"
    "  --reverse           run the (selected) points last first\n"
    "  --threads N         threads of a point's computation (default: the CPUs this\n"
    "                      process may use; 1 per rank under MPI). Speed only: the\n"
    "                      numbers are the same bits on any count, and OpenBLAS\n"
    "                      runs single-threaded during a point\n"
    "  --dry-run           validate every point, then print the number of points,\n"
    "                      the points, which are already in DB, and estimates of\n"
    "                      memory and time (the time calibrated on DB's timed runs);\n"
    "                      run nothing, write nothing (DB is not created)\n"
    "  --show N            with --dry-run: list the first N points (default 20;\n"
    "                      0: every point)\n"
    "  -h, --help          this text\n"
    "\n"
    "Every point's numbers depend only on its params and seed: not on the points\n"
    "run before it, their order, --points, --threads, OPENBLAS_NUM_THREADS or\n"
    "the MPI rank.\n"
    "\n"
    "SIGINT/SIGTERM/SIGHUP finish and write the point in flight, then exit with\n"
    "130/143/129; rerun with --resume to finish. During validation they stop at\n"
    "once, with nothing written. A second signal stops at once.\n"
    "\n"
    "Under MPI (mpirun -np P stragsim run ..., or srun) rank 0 hands the points\n"
    "out to every rank, longest first, and alone writes DB; the numbers are\n"
    "those of a single-process run.\n"
    "Exit status: 0 ok, 2 bad usage or bad input, 1 internal failure.\n"
    "\n"
    "--smoke caps:\n";

/* The default of --threads: the CPUs this process may run on, or 1 per rank
 * under MPI (the ranks are the parallelism there: never both). */
static int run_default_threads(void)
{
    if (run_mpi_ranks() > 1)
        return 1;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* The summary table (stdout, so it can be piped; progress is on stderr):
 * the report of the database just written, other experiments' runs in it
 * included. */
static void run_print_report(const char *db_path)
{
    struct results *db = NULL;
    struct error err;
    struct report_options opt = {.format = REPORT_TEXT};
    if (results_open(db_path, true, &db, &err) || report_write(db, &opt, stdout, &err))
        fprintf(stderr, "%s\n", err.msg);
    results_close(db);
}

/* --max-memory SIZE (memory.h) into a run_options. */
static int max_memory_option(const struct cli_command *cmd, const struct cli_option *o,
                             char *value)
{
    struct run_options *ro = o->to;
    if (!memory_parse_size(value, &ro->max_memory))
        return cli_error(cmd, "--max-memory: expected a size such as 512M or 2G, got '%s'",
                         value);
    return -1;
}

static void run_help_caps(FILE *out) { smoke_caps_print(out, SMOKE_RUN); }

int cmd_run(int argc, char **argv)
{
    struct run_options o = {.progress = stderr, .warnings = stderr, .stop = run_stop_flag()};
    struct cli_list sets = {0};
    bool quiet = false;
    int threads = 0, show = -1; /* --show: -1 not given */
    const struct cli_option options[] = {
        {.name = "output", .letter = 'o', .kind = CLI_ONCE, .to = &o.db_path,
         .label = "-o/--output"},
        {.name = "set", .kind = CLI_LIST, .to = &sets},
        {.name = "resume", .kind = CLI_FLAG, .to = &o.resume},
        {.name = "quiet", .letter = 'q', .kind = CLI_FLAG, .to = &quiet},
        {.name = "max-memory", .kind = CLI_CALL, .to = &o, .call = max_memory_option},
        {.name = "smoke", .kind = CLI_FLAG, .to = &o.smoke},
        {.name = "points", .kind = CLI_ONCE, .to = &o.points},
        {.name = "reverse", .kind = CLI_FLAG, .to = &o.reverse},
        {.name = "threads", .kind = CLI_INT, .to = &threads, .min = 1, .max = 1024},
        {.name = "dry-run", .kind = CLI_FLAG, .to = &o.dry_run},
        {.name = "show", .kind = CLI_INT, .to = &show, .min = 0, .max = INT_MAX,
         .range = ">= 0 (0: every point)"},
        {0},
    };
    const struct cli_command cmd = {
        .name = "run", .options = options, .usage = run_usage, .usage_more = run_help_caps,
        .try_help = true,
    };
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status < 0 && show >= 0 && !o.dry_run)
        status = cli_error(&cmd, "%s", "--show applies with --dry-run only");
    if (status < 0 && first != argc - 1)
        status = first >= argc ? cli_error(&cmd, "%s", "expected a config file")
                               : cli_error(&cmd, "unexpected argument '%s'", argv[first + 1]);
    if (status >= 0) {
        cli_list_free(&sets);
        return status;
    }
    if (quiet)
        o.progress = NULL;
    o.show = show < 0 ? 20 : (size_t)show;
    o.config_path = argv[first];
    o.sets = sets.items;
    o.nsets = sets.n;

    struct error err;
    if (run_mpi_begin(&argc, &argv, &err)) {
        cli_list_free(&sets);
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    workload_set_threads(threads ? threads : run_default_threads());
    run_stop_install();

    struct run_summary sum;
    int rc = run_experiment(&o, &sum, &err);
    run_stop_uninstall();
    cli_list_free(&sets);
    bool worker = run_mpi_rank() > 0;
    run_mpi_end();
    if (worker) /* rank 0 reports for every rank */
        return rc ? 1 : 0;
    if (rc) {
        fprintf(stderr, "%s\n", err.msg);
        return rc == STRAG_EINPUT ? 2 : 1;
    }
    if (sum.dry_run)
        return 0;
    if (sum.stopped && sum.before_write) {
        fprintf(stderr, "stragsim run: stopped by signal while validating the %zu points; nothing "
                        "written\n",
                sum.points);
        return 128 + run_stop_signal();
    }
    if (sum.stopped) {
        fprintf(stderr,
                "stragsim run: stopped by signal after writing %zu points; %zu of %zu are in %s; "
                "rerun with --resume to finish\n",
                sum.written, sum.written + sum.skipped, sum.points, sum.db_path);
        return 128 + run_stop_signal();
    }
    if (o.progress) {
        if (sum.skipped)
            fprintf(stderr, "skipped %zu points already in %s\n", sum.skipped, sum.db_path);
        run_print_report(sum.db_path);
    }
    return 0;
}
