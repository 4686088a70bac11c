/* oracle_run.h: running an independent Python reference (a script in tests/oracles/)
 * from a Criterion test. The test writes a case file (oracle_io.py's format:
 * one `name rows cols values...` or `name str text` per line), runs the
 * oracle on it with a python3 that has numpy and scipy, and reads the
 * oracle's answer (same format) back by name.
 *
 * The interpreter: $ORACLE_PYTHON if set, else /usr/bin/python3 (Debian's,
 * where python3-numpy and python3-scipy install), else python3 on PATH; the
 * first one that imports numpy and scipy. Without one, oracle_require skips
 * the test with the reason (reported as skipped, never passed).
 * Header-only (static): each test file that includes it gets its own copy.
 */
#ifndef STRAG_TEST_ORACLE_RUN_H
#define STRAG_TEST_ORACLE_RUN_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char oracle_python_path[256];

/* A python3 with numpy and scipy, or NULL. */
static inline const char *oracle_python(void)
{
    if (oracle_python_path[0])
        return oracle_python_path;
    const char *env = getenv("ORACLE_PYTHON");
    const char *candidates[] = {env && *env ? env : "/usr/bin/python3", "/usr/bin/python3",
                                "python3"};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "'%s' -c 'import numpy, scipy' >/dev/null 2>&1", candidates[i]);
        if (system(cmd) == 0) {
            snprintf(oracle_python_path, sizeof oracle_python_path, "%s", candidates[i]);
            return oracle_python_path;
        }
    }
    return NULL;
}

/* Skips the calling test when no python3 with numpy and scipy is found. */
#define oracle_require()                                                                         \
    do {                                                                                         \
        if (!oracle_python())                                                                    \
            cr_skip_test("no python3 with numpy and scipy (install python3-numpy "               \
                         "python3-scipy, or set ORACLE_PYTHON): the oracle cannot run");          \
    } while (0)

/* A case under construction: a temporary file. */
struct oracle_case {
    char path[64], answer[72];
    FILE *f;
};

static inline void oracle_open(struct oracle_case *c)
{
    snprintf(c->path, sizeof c->path, "/tmp/strag-oracle-XXXXXX");
    int fd = mkstemp(c->path);
    cr_assert(fd >= 0);
    c->f = fdopen(fd, "w");
    cr_assert_not_null(c->f);
    snprintf(c->answer, sizeof c->answer, "%s.out", c->path);
}

static inline void oracle_str(struct oracle_case *c, const char *name, const char *text)
{
    fprintf(c->f, "%s str %s\n", name, text);
}

static inline void oracle_doubles(struct oracle_case *c, const char *name, const double *v, int rows,
                           int cols)
{
    fprintf(c->f, "%s %d %d", name, rows, cols);
    for (long i = 0; i < (long)rows * cols; i++)
        fprintf(c->f, " %.17g", v[i]);
    fputc('\n', c->f);
}

static inline void oracle_floats(struct oracle_case *c, const char *name, const float *v, int rows,
                          int cols)
{
    fprintf(c->f, "%s %d %d", name, rows, cols);
    for (long i = 0; i < (long)rows * cols; i++)
        fprintf(c->f, " %.9g", (double)v[i]);
    fputc('\n', c->f);
}

static inline void oracle_ints(struct oracle_case *c, const char *name, const int *v, int n)
{
    fprintf(c->f, "%s 1 %d", name, n);
    for (int i = 0; i < n; i++)
        fprintf(c->f, " %d", v[i]);
    fputc('\n', c->f);
}

static inline void oracle_number(struct oracle_case *c, const char *name, double v)
{
    oracle_doubles(c, name, &v, 1, 1);
}

/* Runs tests/oracles/<script> on the case; the answer goes to c->answer. */
static inline void oracle_run(struct oracle_case *c, const char *script)
{
    fclose(c->f);
    c->f = NULL;
    const char *root = getenv("STRAGSIM_SOURCE_ROOT");
    cr_assert_not_null(root, "STRAGSIM_SOURCE_ROOT must be set (meson test does)");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/oracles/%s' '%s' > '%s'", oracle_python(), root,
             script, c->path, c->answer);
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "oracle %s failed on %s (status %d)", script, c->path, rc);
}

/* The answer's block `name` (rows x cols values) into out (malloc'd). */
static inline double *oracle_get(const struct oracle_case *c, const char *name, int rows, int cols)
{
    FILE *f = fopen(c->answer, "r");
    cr_assert_not_null(f, "%s", c->answer);
    char key[64];
    int r, k;
    double *out = NULL;
    while (fscanf(f, "%63s %d %d", key, &r, &k) == 3) {
        bool want = strcmp(key, name) == 0;
        if (want) {
            cr_assert(r == rows && k == cols, "oracle %s is %dx%d, expected %dx%d", name, r, k,
                      rows, cols);
            out = malloc(sizeof *out * (size_t)r * k);
        }
        for (long i = 0; i < (long)r * k; i++) {
            double v;
            cr_assert_eq(fscanf(f, "%lf", &v), 1);
            if (want)
                out[i] = v;
        }
        if (want)
            break;
    }
    fclose(f);
    cr_assert_not_null(out, "oracle answer has no %s", name);
    return out;
}

static inline void oracle_close(struct oracle_case *c)
{
    if (c->f)
        fclose(c->f);
    unlink(c->path);
    unlink(c->answer);
}

/* Every got[i] within tol * (1 + max |want|) of want[i]. */
static inline void oracle_expect_close(const float *got, const double *want, long n, double tol,
                                const char *what)
{
    double scale = 0.0;
    for (long i = 0; i < n; i++)
        scale = fmax(scale, fabs(want[i]));
    for (long i = 0; i < n; i++)
        cr_assert(fabs(got[i] - want[i]) <= tol * (1.0 + scale), "%s[%ld]: %.9g, oracle %.9g",
                  what, i, (double)got[i], want[i]);
}

#endif
