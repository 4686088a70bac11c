/* test_atomic_file.c: base/atomic_file.c. A whole write is renamed onto its
 * name and leaves no temporary; a failed one leaves the old file; a device
 * is written in place and its failure named, however large the writes (a
 * failed write once made glibc read past the caller's buffer: the buffer
 * below ends at a page that may not be read). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/atomic_file.h"

static char dir[] = "/tmp/strag-atomic-XXXXXX";
static char path[256];

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.txt", dir);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(atomic_file, .init = setup, .fini = teardown);

static int files_in_dir(void)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void slurp(char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    buf[fread(buf, 1, cap - 1, f)] = '\0';
    fclose(f);
}

Test(atomic_file, commit_renames_and_abort_keeps_the_old_file)
{
    struct atomic_file af;
    struct error err;
    cr_assert_eq(atomic_file_open(&af, path, &err), 0, "%s", err.msg);
    fputs("first", af.f);
    cr_assert_eq(atomic_file_commit(&af, &err), 0, "%s", err.msg);
    cr_assert_eq(atomic_file_open(&af, path, &err), 0, "%s", err.msg);
    fputs("second", af.f);
    cr_expect_eq(files_in_dir(), 2, "the temporary sits beside the file");
    atomic_file_abort(&af);
    char buf[64];
    slurp(buf, sizeof buf);
    cr_expect_str_eq(buf, "first");
    cr_expect_eq(files_in_dir(), 1, "no temporary left");
}

Test(atomic_file, full_device_fails_with_its_reason)
{
    enum { CHUNK = 1 << 14 };
    long page = sysconf(_SC_PAGESIZE);
    char *map = mmap(NULL, CHUNK + (size_t)page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(map, MAP_FAILED);
    cr_assert_eq(mprotect(map + CHUNK, (size_t)page, PROT_NONE), 0);
    memset(map, 'x', CHUNK);
    struct atomic_file af;
    struct error err;
    cr_assert_eq(atomic_file_open(&af, "/dev/full", &err), 0, "%s", err.msg);
    for (int i = 0; i < 4; i++)
        fwrite(map, 1, CHUNK, af.f);
    cr_assert_neq(atomic_file_commit(&af, &err), 0);
    cr_expect_str_eq(err.msg, "/dev/full: cannot write: No space left on device");
    munmap(map, CHUNK + (size_t)page);
}
