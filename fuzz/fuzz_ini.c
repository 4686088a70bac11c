/* fuzz_ini.c: libFuzzer harness for the experiment config reader: the input
 * is an ini file given to config_load (inih, key tables, [sweep] grid), then
 * the first points of its sweep are built. Any input must give a config or
 * one error line, never a crash, a hang or a sanitizer report. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_file.h"
#include "app/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file_write("fuzz.ini", data, size);
    struct config *c = NULL;
    struct error err;
    if (config_load(path, NULL, 0, &c, &err)) {
        if (!memchr(err.msg, '\0', sizeof err.msg) || strchr(err.msg, '\n'))
            __builtin_trap(); /* a message must be one terminated line */
        return 0;
    }
    size_t n = config_points(c);
    for (size_t i = 0; i < n && i < 8; i++) {
        struct params *p = NULL;
        int repeat;
        char *key = NULL;
        if (config_point(c, i, &p, &repeat, &key, &err) == 0) {
            params_free(p);
            free(key);
        }
    }
    config_free(c);
    return 0;
}
