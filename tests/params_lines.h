/* params_lines.h: params from "key=value" strings, as the config loader
 * would set them (so errors name a line): one section of test.ini for the
 * tests of that section's readers (test_latency.c, test_schemes.c), or a
 * scheme's keys with its defaults filled for the tests that drive a scheme
 * by hand (test_inference.c, test_oracles.c, test_oracles_training.c).
 * Header-only, for the test programs. */
#ifndef STRAG_TEST_PARAMS_LINES_H
#define STRAG_TEST_PARAMS_LINES_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/params.h"
#include "schemes/scheme.h"

/* Sets "key=value" on p, as read at file:line. */
static inline void params_set_kv(struct params *p, const char *kv, const char *file, int line)
{
    char key[128];
    const char *eq = strchr(kv, '=');
    snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
    params_set(p, key, eq + 1, file, line);
}

/* Params of one section: [section] opens on line 1 of test.ini, the i-th
 * of the n strings kv is on line i + 2. */
static inline struct params *params_of(const char *section, const char *const *kv, size_t n)
{
    struct params *p = params_new();
    params_set_section_line(p, section, "test.ini", 1);
    for (size_t i = 0; i < n; i++)
        params_set_kv(p, kv[i], "test.ini", (int)i + 2);
    return p;
}

/* PARAMS_IN("scheme", "scheme.k=3", "scheme.kind=kofn") */
#define PARAMS_IN(section, ...)                                                            \
    params_of(section, (const char *const[]){__VA_ARGS__},                                \
              sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* Params for driving a scheme by hand: the NULL-terminated "key=value"
 * strings kv, the i-th on line i + 1 of t.ini, then (at line 0) every key
 * of the scheme they name in scheme.kind that has a default and is not
 * given, as the config loader fills them; *ops is that scheme. */
static inline struct params *scheme_params(const char *const *kv, const struct scheme_ops **ops)
{
    struct params *p = params_new();
    for (const char *const *t = kv; *t; t++)
        params_set_kv(p, *t, "t.ini", (int)(t - kv) + 1);
    *ops = scheme_find(params_get(p, "scheme.kind"));
    cr_assert_not_null(*ops);
    for (const struct config_key *k = (*ops)->keys; k->name; k++)
        if (k->default_value && !params_has(p, k->name))
            params_set(p, k->name, k->default_value, "t.ini", 0);
    return p;
}

#endif
