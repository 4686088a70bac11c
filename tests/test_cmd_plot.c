/* test_cmd_plot.c: the commands `stragsim plot` and `stragsim export`
 * around plot_make and export_csv: exit codes (0, or 2 with one line on
 * stderr), option checks, plot's warnings followed by its "wrote" line,
 * export to a file. What the figures and tables hold: test_plot.c. The
 * commands are called in-process with their output captured. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "app/commands.h"
#include "tests/cmd_capture.h"
#include "tests/plot_db.h"

TestSuite(cmd_plot, .init = make_tmpdir, .fini = remove_tmpdir);
TestSuite(cmd_export, .init = make_tmpdir, .fini = remove_tmpdir);

Test(cmd_plot, errors_are_one_line_and_exit_2)
{
    const char *db = make_db(), *svg = tmp_path("x.svg");
    char want[1024];
    cr_expect_eq(RUN(cmd_plot, "plot", db, "--x", "workers", "--y", "accuracy", "-o", svg), 2);
    snprintf(want, sizeof want, "%s: no runs have metric 'accuracy'\n", db);
    cr_expect_str_eq(err_text, want);
    cr_expect_eq(RUN(cmd_plot, "plot", db, "--x", "workers", "-o", svg), 2);
    cr_expect_str_eq(err_text, "stragsim plot: --x PARAM and --y METRIC are needed (or --cdf, "
                               "--iterations)\n");
    cr_expect_eq(RUN(cmd_plot, "plot", db, "--cdf", "--x", "workers", "-o", svg), 2);
    cr_expect_str_eq(err_text, "stragsim plot: --cdf takes no --x or --y (the axes are latency "
                               "and fraction)\n");
    cr_expect_eq(RUN(cmd_plot, "plot", db, "--cdf", "--where", "workers", "-o", svg), 2);
    cr_expect_str_eq(err_text, "stragsim plot: --where expects key=value, got 'workers'\n");
    struct stat st;
    cr_expect_neq(stat(svg, &st), 0, "a failed plot left a file");
}

Test(cmd_plot, warnings_then_the_wrote_line)
{
    const char *db = make_db(), *svg = tmp_path("pool.svg");
    cr_assert_eq(RUN(cmd_plot, "plot", db, "--cdf", "--group", "scheme.kind", "-o", svg), 0, "%s",
                 err_text);
    char want[512];
    snprintf(want, sizeof want,
             "stragsim plot: warning: runs pooled into one curve differ in cluster.workers "
             "(narrow with --where)\nstragsim plot: wrote %s\n",
             svg);
    cr_expect_str_eq(err_text, want);
    cr_assert_eq(RUN(cmd_plot, "plot", db, "--cdf", "--group", "scheme.kind", "--where",
                     "workers=8", "-o", svg),
                 0, "%s", err_text);
    snprintf(want, sizeof want, "stragsim plot: wrote %s\n", svg);
    cr_expect_str_eq(err_text, want);
}

Test(cmd_export, table_to_a_file_and_unknown_table)
{
    const char *db = make_db(), *csv = tmp_path("m.csv");
    cr_assert_eq(RUN(cmd_export, "export", db, "--table", "metrics", "-o", csv), 0, "%s",
                 err_text);
    static char buf[1 << 16];
    slurp(csv, buf, sizeof buf);
    cr_expect_eq(strncmp(buf, "run_id,point_key,repeat,scheme.kind,", 36), 0, "%.80s", buf);
    cr_expect_eq(RUN(cmd_export, "export", db, "--table", "events", "-o", csv), 2);
    cr_expect_str_eq(err_text, "stragsim export: unknown table 'events' (expected "
                               "jobs|iterations|tuner|metrics)\n");
}
