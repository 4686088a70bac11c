/* cmd_export.c: `stragsim export DB --table jobs|iterations|tuner|metrics -o
 * FILE.csv`: parses the arguments and writes the table through
 * analysis/export.c. The file is written under a temporary name and renamed
 * (base/atomic_file.c), so a failed export never leaves a half-written FILE. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/export.h"
#include "base/atomic_file.h"
#include "app/cli.h"
#include "app/commands.h"

static const char export_usage[] =
    "usage: stragsim export DB --table jobs|iterations|tuner|metrics -o FILE.csv\n"
    "\n"
    "Writes one table of the results database DB as CSV (RFC 4180) for other\n"
    "tools. Every row starts with run_id, point_key, repeat and the params that\n"
    "vary across the runs; then the table's own columns (metrics: one column\n"
    "per metric, one row per run). Empty cells are NULL / NaN.\n"
    "\n"
    "  --table T          jobs, iterations, tuner (decisions) or metrics\n"
    "  -o, --output FILE  the CSV file ('-' for standard output)\n"
    "  -h, --help         this text\n";

/* Writes the table to `path` ("-": standard output) through atomic_file. */
static int export_to_file(struct results *r, const char *table, const char *path,
                          struct error *err)
{
    struct atomic_file out;
    int rc = atomic_file_open(&out, path, err);
    if (rc)
        return rc;
    rc = export_csv(r, table, out.f, err);
    if (rc)
        atomic_file_abort(&out);
    else
        rc = atomic_file_commit(&out, err);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    const char *table = NULL, *output = NULL;
    const struct cli_option options[] = {
        {.name = "table", .kind = CLI_ONCE, .to = &table},
        {.name = "output", .letter = 'o', .kind = CLI_ONCE, .to = &output, .label = "-o/--output"},
        {0},
    };
    const struct cli_command cmd = {
        .name = "export", .options = options, .usage = export_usage,
        .operand = "DB", .synopsis = "stragsim export DB --table T -o FILE",
    };
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status < 0 && !table)
        status = cli_error(&cmd, "--table %s is needed", export_tables);
    if (status < 0 && !output)
        status = cli_error(&cmd, "%s", "-o FILE.csv is needed");
    if (status < 0)
        status = cli_one_operand(&cmd, argc, argv, first);
    if (status < 0) {
        struct results *r = NULL;
        struct error err;
        int rc = results_open(argv[first], true, &r, &err);
        if (!rc)
            rc = export_to_file(r, table, output, &err);
        results_close(r);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        status = rc ? 2 : 0;
    }
    return status;
}
