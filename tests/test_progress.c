/* test_progress.c: app/progress.c, the progress line of `stragsim run`:
 * drawn only when on, with counts, label, elapsed time and ETA; nothing
 * for --quiet or a file that is not a terminal. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "app/progress.h"

Test(progress, draws_only_when_on)
{
    FILE *f = tmpfile();
    struct progress *p = progress_new(f, 3, PROGRESS_ON);
    progress_skip(p);
    progress_begin(p, "scheme.k=4 repeat 0");
    progress_done(p);
    progress_begin(p, "scheme.k=8 repeat 0");
    progress_done(p);
    progress_finish(p);
    progress_free(p);
    static char buf[4096];
    rewind(f);
    buf[fread(buf, 1, sizeof buf - 1, f)] = 0;
    fclose(f);
    /* redraws are throttled: the first (1/3, after the skip) and the last
     * (3/3, forced when all points are done) are always drawn */
    cr_expect_not_null(strstr(buf, "] 1/3 "), "%s", buf);
    /* the last line: ETA 0 (nothing left); elapsed is whatever this machine
     * took, so only its shape is checked */
    const char *last = strstr(buf, "] 3/3 scheme.k=8 repeat 0  elapsed ");
    cr_assert_not_null(last, "%s", buf);
    char elapsed[32] = "", eta[32] = "";
    cr_expect_eq(sscanf(last, "] 3/3 scheme.k=8 repeat 0  elapsed %31[0-9:]  ETA %31[0-9:]",
                        elapsed, eta),
                 2, "%s", buf);
    cr_expect(strlen(elapsed) >= 4 && elapsed[strlen(elapsed) - 3] == ':', "%s", buf);
    cr_expect_str_eq(eta, "0:00", "%s", buf);
    cr_expect_eq(buf[strlen(buf) - 1], '\n');

    /* --quiet, and a file that is not a terminal: nothing */
    for (int mode = 0; mode < 2; mode++) {
        f = tmpfile();
        p = progress_new(f, 2, mode ? PROGRESS_OFF : PROGRESS_AUTO);
        progress_begin(p, "x");
        progress_done(p);
        progress_finish(p);
        progress_free(p);
        cr_expect_eq(ftell(f), 0, "mode %d wrote something", mode);
        fclose(f);
    }
}

/* ---- config --list ---- */

