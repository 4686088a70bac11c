/* fuzz_file.c: see fuzz_file.h. */
#include "fuzz/fuzz_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[256];

static void fuzz_dir_remove(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir);
}

const char *fuzz_file_write(const char *name, const uint8_t *data, size_t size)
{
    static char path[512];
    if (!fuzz_dir[0]) {
        const char *base = getenv("TMPDIR");
        if (!base)
            base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/stragsim-fuzz-XXXXXX", base);
        if (!mkdtemp(fuzz_dir))
            abort();
        atexit(fuzz_dir_remove);
    }
    snprintf(path, sizeof path, "%s/%s", fuzz_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
        abort();
    return path;
}
