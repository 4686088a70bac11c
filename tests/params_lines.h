/* params_lines.h: params from "key=value" strings, as the config loader
 * would set them from one section of test.ini: [SECTION] opens on line 1,
 * the i-th string is on line i + 2 (so errors name a line). For the tests
 * of one section's readers (test_latency.c, test_schemes.c). Header-only,
 * for the test programs. */
#ifndef STRAG_TEST_PARAMS_LINES_H
#define STRAG_TEST_PARAMS_LINES_H

#include <stdio.h>
#include <string.h>

#include "base/params.h"

static inline struct params *params_of(const char *section, const char *const *kv, size_t n)
{
    struct params *p = params_new();
    params_set_section_line(p, section, "test.ini", 1);
    for (size_t i = 0; i < n; i++) {
        char key[128];
        const char *eq = strchr(kv[i], '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv[i]), kv[i]);
        params_set(p, key, eq + 1, "test.ini", (int)i + 2);
    }
    return p;
}

/* PARAMS_IN("scheme", "scheme.k=3", "scheme.kind=kofn") */
#define PARAMS_IN(section, ...)                                                            \
    params_of(section, (const char *const[]){__VA_ARGS__},                                \
              sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

#endif
