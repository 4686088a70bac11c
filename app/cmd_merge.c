/* cmd_merge.c: `stragsim merge OUT.db IN.db...`: parses the arguments,
 * checks every input, opens (or creates) OUT and merges through
 * analysis/merge.c. A merge that fails leaves a new OUT file nowhere. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/merge.h"
#include "app/cli.h"
#include "app/commands.h"

static const char merge_usage[] =
    "usage: stragsim merge OUT.db IN.db...\n"
    "\n"
    "Copies every experiment and run of the results databases IN.db (with\n"
    "their params, metrics, job and iteration rows) into OUT.db, created when\n"
    "missing: e.g. the parts of one sweep run on several machines without MPI\n"
    "(run each with --points, then merge). A point stored in OUT.db or in two\n"
    "inputs is kept once when its metrics are identical, bit for bit; when\n"
    "they differ, merge names the point and the metric and writes nothing.\n"
    "Everything is one transaction.\n"
    "\n"
    "  -h, --help         this text\n";

/* Same file (device and inode), when both exist. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* Removes OUT and its WAL files (a merge into a new file failed). */
static void out_remove(const char *path)
{
    char side[4200];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

int cmd_merge(int argc, char **argv)
{
    const struct cli_option options[] = {{0}};
    const struct cli_command cmd = {
        .name = "merge", .options = options, .usage = merge_usage,
    };
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status < 0 && argc - first < 2)
        status = cli_error(&cmd, "%s",
                           argc - first == 0
                               ? "missing OUT.db and IN.db (usage: stragsim merge OUT.db IN.db...)"
                               : "missing IN.db (usage: stragsim merge OUT.db IN.db...)");
    if (status >= 0)
        return status;
    const char *out_path = argv[first];
    const char *const *inputs = (const char *const *)argv + first + 1;
    size_t ninputs = (size_t)(argc - first - 1);
    struct error err;
    int rc = 0;
    /* every input first: a bad one changes nothing, not even a new OUT */
    for (size_t i = 0; !rc && i < ninputs; i++) {
        struct results *in = NULL;
        if (same_file(inputs[i], out_path))
            rc = error_at(&err, NULL, 0, "stragsim merge: %s is the output database", inputs[i]);
        else
            rc = results_open(inputs[i], true, &in, &err);
        results_close(in);
    }
    struct stat st;
    bool created = stat(out_path, &st) != 0;
    struct results *out = NULL;
    struct merge_summary sum;
    if (!rc)
        rc = results_open(out_path, false, &out, &err);
    if (!rc)
        rc = merge_into(out, inputs, ninputs, &sum, &err);
    results_close(out);
    if (rc && created && out)
        out_remove(out_path);
    if (rc) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    printf("merge: %zu database%s into %s: %zu run%s copied, %zu identical duplicate%s kept "
           "once, %zu experiment%s added\n",
           sum.inputs, sum.inputs == 1 ? "" : "s", out_path, sum.copied,
           sum.copied == 1 ? "" : "s", sum.duplicates, sum.duplicates == 1 ? "" : "s",
           sum.experiments, sum.experiments == 1 ? "" : "s");
    return 0;
}
