/* cmd_ls.c: `stragsim ls DB [--runs] [--format text|json]`: parses the
 * arguments, opens the database read-only and prints analysis/catalog.c's
 * listing. */
#include <stdio.h>

#include "analysis/catalog.h"
#include "app/cli.h"
#include "app/commands.h"

static const char ls_usage[] =
    "usage: stragsim ls DB [--runs] [--format text|json]\n"
    "\n"
    "Lists the experiments of the results database DB: id, name, when it was\n"
    "created, the stragsim version that wrote it, the hash of its config, its\n"
    "runs, and whether it is finished (every point of its config stored; '?'\n"
    "for a database written before stragsim recorded that). Two experiments\n"
    "with one name (a changed config) differ in id and config hash.\n"
    "\n"
    "  --runs             also list each experiment's runs (run id, then the\n"
    "                     params that tell them apart, and the repeat)\n"
    "  --format F         text (default) or json: {\"db\", \"experiments\": [{\"id\",\n"
    "                     \"name\", \"created\", \"tool_version\", \"config_hash\",\n"
    "                     \"runs\", \"points\", \"finished\", \"run_list\"}]}\n"
    "  -h, --help         this text\n"
    "\n"
    "An experiment id is what `stragsim rm DB --experiment N` takes.\n";

int cmd_ls(int argc, char **argv)
{
    struct catalog_options opt = {0};
    struct cli_format format = {0};
    const struct cli_option options[] = {
        {.name = "runs", .kind = CLI_FLAG, .to = &opt.runs},
        {.name = "format", .kind = CLI_CALL, .to = &format, .call = cli_parse_format},
        {0},
    };
    const struct cli_command cmd = {
        .name = "ls", .options = options, .usage = ls_usage,
        .operand = "DB", .synopsis = "stragsim ls DB [--runs]",
    };
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status < 0)
        status = cli_one_operand(&cmd, argc, argv, first);
    if (status >= 0)
        return status;
    opt.json = format.json;
    struct results *r = NULL;
    struct error err;
    int rc = results_open(argv[first], true, &r, &err);
    if (!rc)
        rc = catalog_write(r, &opt, stdout, &err);
    results_close(r);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    return rc ? 2 : 0;
}
