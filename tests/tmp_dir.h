/* tmp_dir.h: a fresh mkdtemp directory per test (make_tmpdir as a suite's
 * .init, remove_tmpdir as its .fini), paths in it, and files written into
 * it and read back; and a lone temporary file for tests without the
 * directory. Header-only, for the test programs. */
#ifndef STRAG_TEST_TMP_DIR_H
#define STRAG_TEST_TMP_DIR_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static inline void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/stragsim-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static inline void remove_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_expect_eq(system(cmd), 0);
}

/* tmpdir/name, in a rotating set of 16 buffers (a test holds a few paths). */
static inline const char *tmp_path(const char *name)
{
    static char bufs[16][512];
    static int next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

static inline void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* The file at path into buf (cap bytes with the terminating 0; empty if
 * there is no file). */
static inline void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f)
        fclose(f);
}

/* Writes text to tmpdir/name; returns the path (tmp_path's). */
static inline const char *tmp_write(const char *name, const char *text)
{
    const char *path = tmp_path(name);
    write_text(path, text);
    return path;
}

/* Writes text to a fresh file /tmp/stragsim-test-XXXXXX<suffix> (suffix:
 * 4 characters, such as ".ini"), outside any test directory; its path goes
 * to path (64 bytes). The caller removes it. */
static inline void temp_file_write(const char *text, const char *suffix, char *path)
{
    snprintf(path, 64, "/tmp/stragsim-test-XXXXXX%s", suffix);
    int fd = mkstemps(path, 4);
    cr_assert(fd >= 0);
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

#endif
