/* cmd_rm.c: `stragsim rm DB --experiment N | --where KEY=VALUE... [--dry-run]`:
 * parses the arguments, opens the existing database, and deletes the
 * selected runs through analysis/prune.c, listing them. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/match.h"
#include "analysis/prune.h"
#include "app/cli.h"
#include "app/commands.h"

static const char rm_usage[] =
    "usage: stragsim rm DB --experiment N [--where KEY=VALUE]... [--dry-run]\n"
    "       stragsim rm DB --where KEY=VALUE... [--dry-run]\n"
    "\n"
    "Deletes runs from the results database DB with everything stored under\n"
    "them (params, metrics, job and iteration rows), in one transaction; an\n"
    "experiment left without runs goes too. Lists what it deletes. The database\n"
    "stays consistent (PRAGMA foreign_key_check is clean), and\n"
    "`stragsim run CONFIG --resume -o DB` then reruns exactly the deleted points.\n"
    "\n"
    "  --experiment N     the runs of experiment N (stragsim ls DB lists them)\n"
    "  --where KEY=VALUE  only runs whose param KEY is VALUE (\"repeat\" is the\n"
    "                     repeat); repeated on one key: any of the values, on\n"
    "                     different keys: all must hold (as stragsim report)\n"
    "  --dry-run          list what would be deleted; change nothing\n"
    "  -h, --help         this text\n"
    "\n"
    "With both --experiment and --where, a run must match both. Without either\n"
    "nothing is selected (rm never empties a database by default).\n";

/* "5 runs (20 params, 40 metrics, 0 job rows, 0 iteration rows)"; tuner
 * decisions only when there are some */
static void counts_print(const struct prune_counts *c)
{
    printf("%zu run%s (%zu params, %zu metrics, %zu job rows, %zu iteration rows", c->runs,
           c->runs == 1 ? "" : "s", c->params, c->metrics, c->jobs, c->iterations);
    if (c->tuner)
        printf(", %zu tuner decisions", c->tuner);
    printf(")");
    if (c->experiments)
        printf(" and %zu experiment%s", c->experiments, c->experiments == 1 ? "" : "s");
}

/* One line per picked run: its id and the params that tell the runs of
 * the database apart. */
static int picked_print(const struct results_run *runs, size_t nruns, const size_t *picked,
                        size_t n)
{
    const struct results_run **all = malloc((nruns ? nruns : 1) * sizeof *all);
    const char **keys = NULL;
    size_t nkeys = 0;
    bool repeat_varies;
    if (!all)
        return -1;
    for (size_t i = 0; i < nruns; i++)
        all[i] = &runs[i];
    int rc = match_label_keys(all, nruns, &keys, &nkeys, &repeat_varies);
    for (size_t i = 0; !rc && i < n; i++) {
        const struct results_run *run = &runs[picked[i]];
        char *label = match_label(run, keys, nkeys, true);
        if (!label) {
            rc = -1;
            break;
        }
        printf("  run %-6lld experiment %-4lld %s\n", (long long)run->id,
               (long long)run->experiment_id, label);
        free(label);
    }
    free(keys);
    free(all);
    return rc;
}

static int rm_selected(const char *path, const struct prune_selection *sel, bool dry_run,
                       struct error *err)
{
    struct results *r = NULL;
    struct results_run *runs = NULL;
    size_t nruns = 0, *picked = NULL, npicked = 0;
    struct prune_counts counts;
    int rc = results_open_existing(path, &r, err);
    if (!rc)
        rc = results_read_runs(r, &runs, &nruns, err);
    if (!rc)
        rc = prune_select(r, runs, nruns, sel, &picked, &npicked, err);
    if (!rc)
        rc = prune_delete(r, sel, runs, picked, npicked, dry_run, &counts, err);
    if (!rc && counts.runs + counts.experiments == 0)
        printf("rm: no run of %s matches; nothing deleted\n", path);
    else if (!rc) {
        printf(dry_run ? "rm: would delete " : "rm: deleted ");
        counts_print(&counts);
        printf(" from %s%s\n", path, dry_run ? " (dry run: nothing changed)" : "");
        if (picked_print(runs, nruns, picked, npicked))
            rc = error_fail(err, "out of memory");
    }
    free(picked);
    results_runs_free(runs, nruns);
    results_close(r);
    return rc;
}

int cmd_rm(int argc, char **argv)
{
    int experiment = 0;
    bool dry_run = false;
    struct cli_filters where = {0};
    const struct cli_option options[] = {
        {.name = "experiment", .kind = CLI_INT, .to = &experiment, .min = 1, .max = INT_MAX,
         .range = ">= 1 (an experiment id: stragsim ls lists them)"},
        {.name = "where", .kind = CLI_CALL, .to = &where, .call = cli_parse_where},
        {.name = "dry-run", .kind = CLI_FLAG, .to = &dry_run},
        {0},
    };
    const struct cli_command cmd = {
        .name = "rm", .options = options, .usage = rm_usage,
        .operand = "DB", .synopsis = "stragsim rm DB --experiment N | --where KEY=VALUE...",
    };
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status < 0)
        status = cli_one_operand(&cmd, argc, argv, first);
    if (status < 0 && !experiment && !where.n)
        status = cli_error(&cmd, "%s",
                           "nothing selected: give --experiment N or --where KEY=VALUE");
    if (status < 0) {
        struct prune_selection sel = {.by_experiment = experiment > 0,
                                      .experiment_id = experiment, .where = where.items,
                                      .nwhere = where.n};
        struct error err;
        int rc = rm_selected(argv[first], &sel, dry_run, &err);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        status = rc ? 2 : 0;
    }
    free(where.items);
    return status;
}
