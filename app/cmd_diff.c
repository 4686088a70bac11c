/* cmd_diff.c: `stragsim diff A.db B.db [--metrics LIST] [--format
 * text|json]`: parses the arguments, opens both databases read-only and
 * prints analysis/diff.c's side-by-side comparison. */
#include <stdio.h>

#include "analysis/diff.h"
#include "app/cli.h"
#include "app/commands.h"

static const char diff_usage[] =
    "usage: stragsim diff A.db B.db [--metrics a,b,...] [--format text|json]\n"
    "\n"
    "Shows two results databases side by side: each point found in both\n"
    "(matched as check matches them: by point key, else by params and repeat),\n"
    "with every metric of A and of B, the difference B - A, and, when both\n"
    "have repeats (experiment.repeats >= 2), the 95% confidence intervals\n"
    "(mean ± half-width, Student t) and whether they overlap. Points found in\n"
    "one database only are listed after the table. Always exits 0 when both\n"
    "databases can be read: `stragsim check` is the pass/fail gate.\n"
    "\n"
    "  --metrics LIST     only these metrics, comma-separated\n"
    "  --format F         text (default) or json: {\"a\", \"b\", \"points\": [{\"point\",\n"
    "                     \"params\", \"metrics\": [{\"name\", \"a\", \"b\", \"diff\",\n"
    "                     \"overlap\"}]}], \"only_a\", \"only_b\"}; a and b are\n"
    "                     {\"mean\", \"half_width\", \"n\"}, overlap null without repeats\n"
    "  -h, --help         this text\n";

int cmd_diff(int argc, char **argv)
{
    struct cli_format format = {0};
    struct cli_list metrics = {0};
    const struct cli_option options[] = {
        {.name = "metrics", .kind = CLI_CALL, .to = &metrics, .call = cli_parse_names},
        {.name = "format", .kind = CLI_CALL, .to = &format, .call = cli_parse_format},
        {0},
    };
    const struct cli_command cmd = {
        .name = "diff", .options = options, .usage = diff_usage,
    };
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status < 0 && argc - first != 2)
        status = argc - first < 2
                     ? cli_error(&cmd, "expected two databases (usage: stragsim diff A.db B.db)")
                     : cli_error(&cmd, "expected two databases, got extra argument '%s'",
                                 argv[first + 2]);
    if (status < 0) {
        struct diff_options opt = {.json = format.json, .metrics = metrics.items,
                                   .nmetrics = metrics.n};
        struct results *a = NULL, *b = NULL;
        struct diff_summary sum;
        struct error err;
        int rc = results_open(argv[first], true, &a, &err);
        if (!rc)
            rc = results_open(argv[first + 1], true, &b, &err);
        if (!rc)
            rc = diff_write(a, b, &opt, stdout, &sum, &err);
        results_close(a);
        results_close(b);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        else if (!opt.json)
            printf("diff: %zu points in both, %zu only in %s, %zu only in %s\n", sum.matched,
                   sum.only_a, argv[first], sum.only_b, argv[first + 1]);
        status = rc ? 2 : 0;
    }
    cli_list_free(&metrics);
    return status;
}
