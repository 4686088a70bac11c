/* test_params.c: base/params.c — config_key_check for every key type, open
 * and closed ranges, lists and their exact messages; the params map (set,
 * replace, unset, copy, typed getters, where-from), error_at_key and the
 * canonical text that point keys hash. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/params.h"

static const struct config_key keys[] = {
    {"t.count", KEY_INT, "3", 1, 10, 0, NULL, "closed range [1, 10]"},
    {"t.open", KEY_INT, NULL, 0, 5, KEY_MIN_OPEN | KEY_MAX_OPEN, NULL, "open range (0, 5)"},
    {"t.rate", KEY_REAL, "1", 0, INFINITY, KEY_MIN_OPEN, NULL, "rate > 0"},
    {"t.prob", KEY_REAL, NULL, 0, 1, 0, NULL, "probability [0, 1]"},
    {"t.flag", KEY_BOOL, "false", 0, 0, 0, NULL, "bool"},
    {"t.name", KEY_STRING, NULL, 0, 0, 0, NULL, "string"},
    {"t.mode", KEY_ENUM, "a", 0, 0, 0, "a|bb|ccc", "enum"},
    {"t.file", KEY_PATH, NULL, 0, 0, 0, NULL, "path"},
    {"t.list", KEY_REAL, NULL, 0, 10, KEY_LIST, NULL, "list of reals in [0, 10]"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

static const struct config_key *key(const char *name)
{
    const struct config_key *k = config_key_find(keys, name);
    cr_assert_not_null(k, "%s", name);
    return k;
}

/* Asserts that value is rejected with exactly `msg`. */
static void rejects(const char *name, const char *value, const char *msg)
{
    char why[256] = "";
    cr_expect_not(config_key_check(key(name), value, why, sizeof why), "%s = '%s' accepted", name,
                  value);
    cr_expect_str_eq(why, msg, "%s = '%s'", name, value);
}

static void accepts(const char *name, const char *value)
{
    char why[256] = "";
    cr_expect(config_key_check(key(name), value, why, sizeof why), "%s = '%s': %s", name, value,
              why);
}

Test(params, find_key)
{
    cr_expect_eq(config_key_find(keys, "t.rate"), &keys[2]);
    cr_expect_null(config_key_find(keys, "t.nope"));
    cr_expect_null(config_key_find(NULL, "t.rate"));
}

Test(params, int_values_and_closed_range)
{
    accepts("t.count", "1");
    accepts("t.count", "10");
    accepts("t.count", "+7");
    rejects("t.count", "0", "must be >= 1");
    rejects("t.count", "11", "must be <= 10");
    rejects("t.count", "abc", "expected an integer, got 'abc'");
    rejects("t.count", "1.5", "expected an integer, got '1.5'");
    rejects("t.count", "", "expected an integer, got ''");
    rejects("t.count", "3x", "expected an integer, got '3x'");
    rejects("t.count", "99999999999999999999",
            "'99999999999999999999' is out of range (must be <= 10)");
    rejects("t.count", "-99999999999999999999",
            "'-99999999999999999999' is out of range (must be >= 1)");
}

Test(params, int_open_range)
{
    accepts("t.open", "1");
    accepts("t.open", "4");
    rejects("t.open", "0", "must be > 0");
    rejects("t.open", "5", "must be < 5");
}

Test(params, real_values)
{
    accepts("t.rate", "0.5");
    accepts("t.rate", "1e-3");
    accepts("t.rate", "1e300");
    rejects("t.rate", "0", "must be > 0");
    rejects("t.rate", "-1", "must be > 0");
    rejects("t.rate", "fast", "expected a number, got 'fast'");
    rejects("t.rate", "nan", "expected a number, got 'nan'");
    rejects("t.rate", "inf", "expected a number, got 'inf'");
    rejects("t.rate", "1.5.2", "expected a number, got '1.5.2'");
    rejects("t.rate", "1e999", "'1e999' is out of range");
    rejects("t.rate", "1e-999", "'1e-999' is out of range (must be > 0)");
    accepts("t.prob", "0");
    accepts("t.prob", "1");
    rejects("t.prob", "1.0001", "must be <= 1");
    rejects("t.prob", "-0.1", "must be >= 0");
}

Test(params, bool_values)
{
    const char *good[] = {"true", "false", "yes", "no", "on", "off", "1", "0", "TRUE", "No"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        accepts("t.flag", good[i]);
    rejects("t.flag", "maybe", "expected true or false, got 'maybe'");
    rejects("t.flag", "2", "expected true or false, got '2'");
}

Test(params, enum_string_path)
{
    accepts("t.mode", "a");
    accepts("t.mode", "bb");
    accepts("t.mode", "ccc");
    rejects("t.mode", "b", "expected one of a|bb|ccc, got 'b'");
    rejects("t.mode", "cc", "expected one of a|bb|ccc, got 'cc'");
    rejects("t.mode", "a|bb", "expected one of a|bb|ccc, got 'a|bb'");
    rejects("t.mode", "", "expected one of a|bb|ccc, got ''");
    accepts("t.name", "anything at all");
    rejects("t.name", "", "must not be empty");
    accepts("t.file", "../data/x.csv");
    rejects("t.file", "", "must not be empty");
}

Test(params, lists)
{
    accepts("t.list", "1");
    accepts("t.list", "1, 2.5,10");
    accepts("t.list", " 0 , 3 ");
    rejects("t.list", "1, 11", "must be <= 10");
    rejects("t.list", "1, x", "expected a number, got 'x'");
    rejects("t.list", "", "must not be empty");
    rejects("t.list", "1,,2", "empty item in list '1,,2'");
    rejects("t.list", "1,2,", "empty item in list '1,2,'");
}

Test(params, set_get_replace_unset)
{
    struct params *p = params_new();
    cr_assert_not_null(p);
    cr_expect_eq(params_set(p, "a.x", "1", "f.ini", 3), 0);
    cr_expect_eq(params_set(p, "a.y", "2.5", "f.ini", 4), 0);
    cr_expect_str_eq(params_get(p, "a.x"), "1");
    cr_expect(params_has(p, "a.y"));
    cr_expect_not(params_has(p, "a.z"));
    cr_expect_null(params_get(p, "a.z"));
    cr_expect_eq(params_set(p, "a.x", "7", "--set a.x=7", 0), 0);
    cr_expect_str_eq(params_get(p, "a.x"), "7");
    cr_expect_eq(params_count(p), 2, "replacing keeps one entry");
    cr_expect_str_eq(params_key_at(p, 0), "a.x", "insertion order survives a replace");
    cr_expect_str_eq(params_value_at(p, 1), "2.5");
    params_unset(p, "a.x");
    params_unset(p, "a.nothing");
    cr_expect_eq(params_count(p), 1);
    cr_expect_str_eq(params_key_at(p, 0), "a.y");
    params_free(p);
    params_free(NULL);
}

Test(params, typed_getters)
{
    struct params *p = params_new();
    params_set(p, "n", "-42", NULL, 0);
    params_set(p, "r", "2.5e-1", NULL, 0);
    params_set(p, "b1", "Yes", NULL, 0);
    params_set(p, "b0", "off", NULL, 0);
    params_set(p, "l", "1, 2.5 ,3", NULL, 0);
    params_set(p, "bad", "1,,2", NULL, 0);
    cr_expect_eq(params_int(p, "n"), -42);
    cr_expect_float_eq(params_real(p, "r"), 0.25, 1e-15);
    cr_expect(params_bool(p, "b1"));
    cr_expect_not(params_bool(p, "b0"));
    cr_expect_eq(params_int(p, "unset"), 0);
    cr_expect_eq(params_real(p, "unset"), 0.0);
    cr_expect_not(params_bool(p, "unset"));
    cr_expect_null(params_string(p, "unset"));
    double v[2];
    cr_expect_eq(params_real_list(p, "l", v, 2), 3, "count is the full length");
    cr_expect_float_eq(v[0], 1.0, 0);
    cr_expect_float_eq(v[1], 2.5, 0);
    cr_expect_eq(params_real_list(p, "bad", v, 2), -1);
    cr_expect_eq(params_real_list(p, "unset", v, 2), 0);
    params_free(p);
}

Test(params, copy_is_deep)
{
    struct params *p = params_new();
    params_set(p, "a.x", "1", "f.ini", 3);
    params_set_section_line(p, "a", "f.ini", 2);
    struct params *c = params_copy(p);
    params_set(p, "a.x", "2", "f.ini", 9);
    cr_expect_str_eq(params_get(c, "a.x"), "1");
    const char *file;
    int line;
    params_where(c, "a.x", &file, &line);
    cr_expect_str_eq(file, "f.ini");
    cr_expect_eq(line, 3);
    params_where(c, "a.unset", &file, &line);
    cr_expect_eq(line, 2, "unset keys point at their section");
    params_free(p);
    params_free(c);
}

/* A path value resolves against the directory it was set with; copies keep
 * it, and a plain params_set (no directory) replaces it with none. */
Test(params, path_resolves_against_its_dir)
{
    struct params *p = params_new();
    char out[64];
    cr_assert_eq(params_set_dir(p, "t.file", "data/x.csv", "/cfg/run.ini", 3, "/cfg"), 0);
    cr_assert_eq(params_set_dir(p, "t.abs", "/srv/y.csv", "/cfg/run.ini", 4, "/cfg"), 0);
    cr_expect_str_eq(params_get(p, "t.file"), "data/x.csv", "stored as written");
    cr_assert(params_path(p, "t.file", out, sizeof out));
    cr_expect_str_eq(out, "/cfg/data/x.csv");
    cr_assert(params_path(p, "t.abs", out, sizeof out));
    cr_expect_str_eq(out, "/srv/y.csv");
    cr_expect_not(params_path(p, "t.none", out, sizeof out));
    cr_expect_not(params_path(p, "t.file", out, 8), "does not fit");
    struct params *q = params_copy(p);
    cr_assert(params_path(q, "t.file", out, sizeof out));
    cr_expect_str_eq(out, "/cfg/data/x.csv");
    cr_assert_eq(params_set(q, "t.file", "z.csv", "elsewhere", 0), 0);
    cr_assert(params_path(q, "t.file", out, sizeof out));
    cr_expect_str_eq(out, "z.csv");
    params_free(q);
    params_free(p);
}

Test(params, where_and_error_at_key)
{
    struct params *p = params_new();
    params_set_section_line(p, "cluster", "exp.ini", 5);
    params_set_section_line(p, "cluster", "exp.ini", 40); /* first header wins */
    params_set(p, "cluster.workers", "0", "exp.ini", 6);
    struct error err;
    cr_expect_eq(error_at_key(&err, p, "cluster.workers", "must be >= %d", 1), STRAG_EINPUT);
    cr_expect_str_eq(err.msg, "exp.ini:6: cluster.workers: must be >= 1");
    error_at_key(&err, p, "cluster.slots", "missing");
    cr_expect_str_eq(err.msg, "exp.ini:5: cluster.slots: missing");
    error_at_key(&err, p, "scheme.k", "required by kofn");
    cr_expect_str_eq(err.msg, "exp.ini: scheme.k: required by kofn", "no [scheme] section");
    params_set(p, "scheme.k", "9", "--set scheme.k=9", 0);
    error_at_key(&err, p, "scheme.k", "too big");
    cr_expect_str_eq(err.msg, "--set scheme.k=9: scheme.k: too big");
    params_free(p);
}

static bool skip_name(const char *key) { return strcmp(key, "experiment.name") == 0; }

Test(params, canonical_text)
{
    struct params *p = params_new();
    params_set(p, "z.last", "1", NULL, 0);
    params_set(p, "experiment.name", "ignored", NULL, 0);
    params_set(p, "a.first", "x y", NULL, 0);
    params_set(p, "m.mid", "", NULL, 0);
    char *all = params_canonical(p, NULL);
    cr_expect_str_eq(all, "a.first=x y\nexperiment.name=ignored\nm.mid=\nz.last=1\n");
    char *skipped = params_canonical(p, skip_name);
    cr_expect_str_eq(skipped, "a.first=x y\nm.mid=\nz.last=1\n");
    /* insertion order does not matter */
    struct params *q = params_new();
    params_set(q, "m.mid", "", NULL, 0);
    params_set(q, "a.first", "x y", NULL, 0);
    params_set(q, "z.last", "1", NULL, 0);
    char *other = params_canonical(q, NULL);
    cr_expect_str_eq(other, skipped);
    struct params *empty = params_new();
    char *none = params_canonical(empty, NULL);
    cr_expect_str_eq(none, "");
    free(all);
    free(skipped);
    free(other);
    free(none);
    params_free(p);
    params_free(q);
    params_free(empty);
}
