/* cmd_export.c: `stragsim export DB --table jobs|iterations|metrics -o
 * FILE.csv`: parses the arguments and writes the table through
 * analysis/export.c. The file is written under a temporary name and renamed
 * (base/atomic_file.c), so a failed export never leaves a half-written FILE. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/export.h"
#include "base/atomic_file.h"
#include "app/cli.h"
#include "app/commands.h"

static const char export_usage[] =
    "usage: stragsim export DB --table jobs|iterations|metrics -o FILE.csv\n"
    "\n"
    "Writes one table of the results database DB as CSV (RFC 4180) for other\n"
    "tools. Every row starts with run_id, point_key, repeat and the params that\n"
    "vary across the runs; then the table's own columns (metrics: one column\n"
    "per metric, one row per run). Empty cells are NULL / NaN.\n"
    "\n"
    "  --table T          jobs, iterations or metrics\n"
    "  -o, --output FILE  the CSV file ('-' for standard output)\n"
    "  -h, --help         this text\n";

/* one line "stragsim export: ..." on stderr, exit status 2 */
#define export_fail(...) cli_fail("export", __VA_ARGS__)

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
    static const struct option longopts[] = {
        {"table", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *table = NULL, *output = NULL;
    int status = -1;
    optind = 0;
    opterr = 0;
    for (int c; status < 0 && (c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1;) {
        switch (c) {
        case 't': status = cli_once("export", "--table", &table, optarg); break;
        case 'o': status = cli_once("export", "-o/--output", &output, optarg); break;
        case 'h':
            fputs(export_usage, stdout);
            status = 0;
            break;
        default:
            status = cli_option_error("export", c, argv);
            break;
        }
    }
    if (status < 0 && !table)
        status = export_fail("--table %s is needed", export_tables);
    if (status < 0 && !output)
        status = export_fail("%s", "-o FILE.csv is needed");
    if (status < 0 && argc - optind != 1)
        status = argc - optind == 0
                     ? export_fail("%s", "missing DB (usage: stragsim export DB --table T -o FILE)")
                     : export_fail("expected one DB, got extra argument '%s'", argv[optind + 1]);
    if (status < 0) {
        struct results *r = NULL;
        struct error err;
        int rc = results_open(argv[optind], true, &r, &err);
        if (!rc)
            rc = export_to_file(r, table, output, &err);
        results_close(r);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        status = rc ? 2 : 0;
    }
    return status;
}
