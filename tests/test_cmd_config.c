/* test_cmd_config.c: `stragsim config --list` prints every key of every
 * table with its type, default, range and meaning; no option is bad usage.
 * Called in-process with its output captured. */
#include "app/commands.h"
#include "app/config.h"
#include "tests/cmd_capture.h"

TestSuite(cmd_config, .init = make_tmpdir, .fini = remove_tmpdir);

Test(cmd_config, list_has_every_key_of_every_table)
{
    cr_assert_eq(RUN(cmd_config, "config", "--list"), 0, "%s", err_text);
    size_t keys = 0;
    for (const struct config_key *const *t = config_tables; *t; t++) {
        for (const struct config_key *k = *t; k->name; k++, keys++) {
            char want[256];
            snprintf(want, sizeof want, "\n%s ", k->name);
            cr_expect_not_null(strstr(out_text, want), "config --list lacks %s", k->name);
        }
    }
    cr_expect_gt(keys, 30);
    cr_expect_not_null(strstr(out_text, "section.key "), "no header");
    const char *row = strstr(out_text, "\ncluster.workers ");
    cr_assert_not_null(row);
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)strcspn(row + 1, "\n"), row + 1);
    static const char *const fields[] = {" int ", " 10 ", " [1, 100000] ", "number of workers N"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        cr_expect_not_null(strstr(line, fields[i]), "'%s' lacks '%s'", line, fields[i]);

    cr_expect_eq(RUN(cmd_config, "config"), 2);
    cr_expect_str_eq(err_text,
                     "stragsim config: nothing to do (usage: stragsim config --list [SECTION])\n");
}
