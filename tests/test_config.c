/* test_config.c: app/config.c — sweep expansion (counts, ordering, point
 * keys), --set precedence, defaults, and every malformed-ini case with its
 * exact one-line message. Config files are written into a mkdtemp dir. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmp_dir.h"
#include "app/config.h"
#include "schemes/scheme.h"
#include "base/rng.h"
#include "traces/latency.h"
#include "workloads/workload.h"

TestSuite(config, .init = make_tmpdir, .fini = remove_tmpdir);

static const char minimal[] = "[workload]\n"
                              "kind = latency\n"
                              "[latency]\n"
                              "kind = exp\n";

/* Loads text (plus a [latency] section, which has a required key) as ok.ini. */
static struct config *load_ok(const char *text, const char *const *sets, size_t nsets)
{
    char full[8192];
    snprintf(full, sizeof full, "%s%s", text,
             strstr(text, "[latency]") ? "" : "\n[latency]\nkind = exp\n");
    const char *path = tmp_write("ok.ini", full);
    struct config *c = NULL;
    struct error err = {{0}};
    int rc = config_load(path, sets, nsets, &c, &err);
    cr_assert_eq(rc, 0, "config_load failed: %s", err.msg);
    return c;
}

/* Loads text as bad.ini and expects STRAG_EINPUT with message
 * "<tmpdir>/bad.ini<suffix>" (suffix starts with ':'). */
static void load_fails(const char *text, const char *const *sets, size_t nsets, const char *suffix)
{
    const char *path = tmp_write("bad.ini", text);
    struct config *c = NULL;
    struct error err = {{0}};
    int rc = config_load(path, sets, nsets, &c, &err);
    cr_expect_eq(rc, STRAG_EINPUT, "rc %d for: %s", rc, text);
    cr_expect_null(c);
    char want[1024];
    snprintf(want, sizeof want, "%s%s", path, suffix);
    cr_expect_str_eq(err.msg, want);
    config_free(c);
}

/* ---- sweeps ---- */

Test(config, no_sweep_is_one_point_per_repeat)
{
    struct config *c = load_ok("[experiment]\nrepeats = 3\n[workload]\nkind = latency\n", NULL, 0);
    cr_expect_eq(config_points(c), 3);
    cr_expect_eq(config_axes(c), 0);
    config_free(c);
}

Test(config, sweep_counts_and_order)
{
    struct config *c = load_ok("[experiment]\n"
                               "repeats = 2\n"
                               "[workload]\n"
                               "kind = latency\n"
                               "[sweep]\n"
                               "scheme.kind = uncoded, replication, hedged\n"
                               "cluster.workers = 4,6\n",
                               NULL, 0);
    cr_assert_eq(config_points(c), 12);
    cr_expect_eq(config_axes(c), 2);
    cr_expect_str_eq(config_axis_key(c, 0), "scheme.kind");
    cr_expect_str_eq(config_axis_key(c, 1), "cluster.workers");
    const char *kinds[] = {"uncoded", "replication", "hedged"};
    const char *workers[] = {"4", "6"};
    char *keys[12];
    for (size_t i = 0; i < 12; i++) {
        struct params *p;
        int repeat;
        struct error err;
        cr_assert_eq(config_point(c, i, &p, &repeat, &keys[i], &err), 0, "%s", err.msg);
        /* first axis slowest, repeats fastest */
        cr_expect_str_eq(params_get(p, "scheme.kind"), kinds[i / 4], "point %zu", i);
        cr_expect_str_eq(params_get(p, "cluster.workers"), workers[(i / 2) % 2], "point %zu", i);
        cr_expect_eq(repeat, (int)(i % 2), "point %zu", i);
        cr_expect_eq(strlen(keys[i]), 16);
        cr_expect_eq(strspn(keys[i], "0123456789abcdef"), 16, "hex key '%s'", keys[i]);
        params_free(p);
    }
    for (size_t i = 0; i < 12; i++)
        for (size_t j = 0; j < i; j++)
            cr_expect_str_neq(keys[i], keys[j], "points %zu and %zu share a key", i, j);
    for (size_t i = 0; i < 12; i++)
        free(keys[i]);
    config_free(c);
}

Test(config, point_keys_are_stable_and_ignore_name_and_db)
{
    struct config *a =
        load_ok("[experiment]\nname = one\ndb = a.db\n[workload]\nkind = latency\n", NULL, 0);
    struct config *b = load_ok("; another file, same simulation\n"
                               "[workload]\nkind = latency\n[experiment]\nname = two\n",
                               NULL, 0);
    struct config *d = load_ok("[workload]\nkind = latency\n[cluster]\nworkers = 11\n", NULL, 0);
    struct params *p;
    int repeat;
    char *ka, *kb, *kd;
    struct error err;
    cr_assert_eq(config_point(a, 0, &p, &repeat, &ka, &err), 0);
    params_free(p);
    cr_assert_eq(config_point(b, 0, &p, &repeat, &kb, &err), 0);
    params_free(p);
    cr_assert_eq(config_point(d, 0, &p, &repeat, &kd, &err), 0);
    params_free(p);
    cr_expect_str_eq(ka, kb);
    cr_expect_str_neq(ka, kd);
    free(ka);
    free(kb);
    free(kd);
    config_free(a);
    config_free(b);
    config_free(d);
}

/* The point key of point 0 of a config text (caller frees). */
static char *first_point_key(const char *text)
{
    struct config *c = load_ok(text, NULL, 0);
    struct params *p;
    int repeat;
    char *key;
    struct error err;
    cr_assert_eq(config_point(c, 0, &p, &repeat, &key, &err), 0, "%s", err.msg);
    params_free(p);
    config_free(c);
    return key;
}

Test(config, default_values_do_not_enter_the_point_key)
{
    /* cluster.slots defaults to 1: writing it out, or a stragsim that grew a
     * new key with a default, must not change the key (and so the numbers) */
    char *implicit = first_point_key("[workload]\nkind = latency\n");
    char *explicit_default = first_point_key("[cluster]\nslots = 1\n[workload]\nkind = latency\n");
    char *other = first_point_key("[cluster]\nslots = 2\n[workload]\nkind = latency\n");
    cr_expect_str_eq(implicit, explicit_default);
    cr_expect_str_neq(implicit, other);
    free(implicit);
    free(explicit_default);
    free(other);
}

Test(config, tuner_settings_without_a_tuner_leave_the_point_key)
{
    /* workload.tuner.window is read only when there is a tuner: without one
     * it reaches no simulation, so it must neither split points nor be
     * stored; with a tuner it must do both */
    const char *base = "[scheme]\nkind = naive\n[workload]\nkind = training\n";
    char *plain = first_point_key(base);
    char text[256];
    snprintf(text, sizeof text, "%stuner.window = 7\n", base);
    char *idle = first_point_key(text);
    snprintf(text, sizeof text, "%stuner.kind = rule\n", base);
    char *rule = first_point_key(text);
    snprintf(text, sizeof text, "%stuner.kind = rule\ntuner.window = 7\n", base);
    char *rule7 = first_point_key(text);
    cr_expect_str_eq(plain, idle);
    cr_expect_str_neq(plain, rule);
    cr_expect_str_neq(rule, rule7);
    free(plain);
    free(idle);
    free(rule);
    free(rule7);
}

Test(config, point_key_is_hash_of_canonical_params_and_repeat)
{
    struct config *c = load_ok("[experiment]\nrepeats = 2\n[workload]\nkind = latency\n", NULL, 0);
    for (size_t i = 0; i < 2; i++) {
        struct params *p;
        int repeat;
        char *key;
        struct error err;
        cr_assert_eq(config_point(c, i, &p, &repeat, &key, &err), 0, "%s", err.msg);
        char *canon = config_point_canonical(p);
        char text[16384];
        snprintf(text, sizeof text, "%s\nrepeat=%d", canon, repeat);
        char want[17];
        snprintf(want, sizeof want, "%016llx", (unsigned long long)rng_hash_string(text));
        cr_expect_str_eq(key, want);
        cr_expect_eq(config_key_hash(key), rng_hash_string(text));
        free(canon);
        free(key);
        params_free(p);
    }
    config_free(c);
}

Test(config, more_repeats_keep_the_keys_of_the_first_ones)
{
    /* experiment.repeats is not in the point key: raising it and resuming
     * runs only the new repeats */
    struct config *two =
        load_ok("[experiment]\nrepeats = 2\n[workload]\nkind = latency\n", NULL, 0);
    struct config *three =
        load_ok("[experiment]\nrepeats = 3\n[workload]\nkind = latency\n", NULL, 0);
    for (size_t i = 0; i < 2; i++) {
        struct params *p;
        int repeat;
        char *a, *b;
        struct error err;
        cr_assert_eq(config_point(two, i, &p, &repeat, &a, &err), 0);
        params_free(p);
        cr_assert_eq(config_point(three, i, &p, &repeat, &b, &err), 0);
        params_free(p);
        cr_expect_str_eq(a, b, "repeat %zu", i);
        free(a);
        free(b);
    }
    config_free(two);
    config_free(three);
}

Test(config, long_sweep_line_and_indented_lines)
{
    /* longer than inih's default 200-character line buffer */
    char text[4096] = "[workload]\nkind = latency\n  jobs = 20\n[sweep]\nlatency.rate = 1";
    for (int i = 2; i <= 120; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), ", %d", i);
    strcat(text, "\n");
    struct config *c = load_ok(text, NULL, 0);
    cr_expect_eq(config_points(c), 120);
    cr_expect_str_eq(params_get(config_base(c), "workload.jobs"), "20");
    config_free(c);
}

Test(config, bom_crlf_and_comments)
{
    struct config *c = load_ok("\xEF\xBB\xBF[workload]\r\n"
                               "; a comment\r\n"
                               "# another\r\n"
                               "kind = latency ; inline comment\r\n"
                               "jobs = 42\r\n",
                               NULL, 0);
    cr_expect_str_eq(params_get(config_base(c), "workload.kind"), "latency");
    cr_expect_str_eq(params_get(config_base(c), "workload.jobs"), "42");
    config_free(c);
    load_fails("\xEF\xBB\xBF[workloads]\r\nkind = latency\r\n", NULL, 0,
               ":1: unknown section [workloads]");
}

Test(config, sweep_values_carry_their_line)
{
    struct config *c =
        load_ok("[workload]\nkind = latency\n\n[sweep]\ncluster.workers = 3, 5\n", NULL, 0);
    struct params *p;
    int repeat;
    char *key;
    struct error err;
    cr_assert_eq(config_point(c, 1, &p, &repeat, &key, &err), 0);
    const char *file;
    int line;
    params_where(p, "cluster.workers", &file, &line);
    cr_expect_eq(line, 5);
    cr_expect_str_eq(params_get(p, "cluster.workers"), "5");
    params_free(p);
    free(key);
    config_free(c);
}

Test(config, scheme_must_serve_the_workload)
{
    struct config *c =
        load_ok("[workload]\nkind = training\n[scheme]\nkind = kofn\nk = 2\n", NULL, 0);
    struct params *p;
    int repeat;
    char *key;
    struct error err;
    cr_expect_eq(config_point(c, 0, &p, &repeat, &key, &err), STRAG_EINPUT);
    char want[600];
    snprintf(want, sizeof want,
             "%s:4: scheme.kind: scheme 'kofn' does not run the training workload", config_path(c));
    cr_expect_str_eq(err.msg, want);
    config_free(c);
}

/* ---- defaults, --set ---- */

Test(config, defaults_filled)
{
    struct config *c = load_ok(minimal, NULL, 0);
    const struct params *p = config_base(c);
    cr_expect_str_eq(params_get(p, "experiment.name"), "ok");
    cr_expect_str_eq(params_get(p, "experiment.seed"), "1");
    cr_expect_str_eq(params_get(p, "experiment.repeats"), "1");
    cr_expect_null(params_get(p, "experiment.db"));
    cr_expect_str_eq(params_get(p, "cluster.workers"), "10");
    cr_expect_str_eq(params_get(p, "cluster.slots"), "1");
    cr_expect_str_eq(params_get(p, "cluster.cancel"), "true");
    cr_expect_str_eq(params_get(p, "workload.arrival"), "closed");
    cr_expect_str_eq(params_get(p, "workload.jobs"), "10000");
    cr_expect_str_eq(params_get(p, "workload.data_dir"), "/usr/share/datasets/fashion-mnist");
    cr_expect_str_eq(params_get(p, "train.validation"), "5000");
    /* other tables' defaults too */
    cr_expect_str_eq(params_get(p, "latency.rate"), "1");
    cr_expect_str_eq(params_get(p, "scheme.kind"), "uncoded");
    config_free(c);
}

/* KEY_PATH values are stored as written and resolved (params_path) against
 * the config file's directory, sweep values too; a relative --set value is
 * stored as written too and resolves against the working directory. */
Test(config, paths_resolve_against_the_config_dir)
{
    const char *sets[] = {"workload.weights=w.bin"};
    struct config *c = load_ok("[experiment]\ndb = out/r.db\n[workload]\nkind = latency\n"
                               "arrival = replay\narrival_file = /abs/a.csv\n"
                               "[sweep]\nlatency.file = t1.csv, /abs/t2.csv\n",
                               sets, 1);
    char want[600], got[600], cwd[400];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    const struct params *base = config_base(c);
    cr_expect_str_eq(params_get(base, "experiment.db"), "out/r.db");
    cr_assert(params_path(base, "experiment.db", got, sizeof got));
    snprintf(want, sizeof want, "%s/out/r.db", tmpdir);
    cr_expect_str_eq(got, want);
    cr_assert(params_path(base, "workload.arrival_file", got, sizeof got));
    cr_expect_str_eq(got, "/abs/a.csv");
    snprintf(want, sizeof want, "%s/w.bin", cwd);
    cr_expect_str_eq(params_get(base, "workload.weights"), "w.bin");
    cr_assert(params_path(base, "workload.weights", got, sizeof got));
    cr_expect_str_eq(got, want);
    cr_expect_not(params_path(base, "latency.file", got, sizeof got), "unset: a sweep axis");
    const char *files[] = {"t1.csv", "/abs/t2.csv"};
    for (size_t i = 0; i < 2; i++) {
        struct params *p;
        int repeat;
        char *key;
        struct error err;
        cr_assert_eq(config_point(c, i, &p, &repeat, &key, &err), 0, "%s", err.msg);
        cr_expect_str_eq(params_get(p, "latency.file"), files[i]);
        cr_assert(params_path(p, "latency.file", got, sizeof got));
        snprintf(want, sizeof want, "%s%s%s", i ? "" : tmpdir, i ? "" : "/", files[i]);
        cr_expect_str_eq(got, want);
        params_free(p);
        free(key);
    }
    cr_expect_not(params_path(base, "experiment.db", got, 8), "too long for 8 bytes");
    config_free(c);
}

/* The point key hashes paths as typed: the same command run from two
 * checkouts (working directories) gives the same keys, and a relative path
 * given by --set, plain or swept, resolves against the working directory. */
static char *point_key_from(const char *const *sets, size_t nsets, const char *dir, char *path,
                            size_t pathlen)
{
    char back[4096];
    cr_assert_not_null(getcwd(back, sizeof back));
    cr_assert_eq(chdir(dir), 0);
    struct config *c = load_ok("[workload]\nkind = latency\n", sets, nsets);
    struct params *p;
    int repeat;
    char *key;
    struct error err;
    cr_assert_eq(config_point(c, 0, &p, &repeat, &key, &err), 0, "%s", err.msg);
    cr_assert(params_path(p, "latency.file", path, pathlen));
    params_free(p);
    config_free(c);
    cr_assert_eq(chdir(back), 0);
    return key;
}

Test(config, point_key_does_not_depend_on_the_working_directory)
{
    char a[600], b[600], got[700], want[700];
    snprintf(a, sizeof a, "%s/checkout-a", tmpdir);
    snprintf(b, sizeof b, "%s/checkout-b", tmpdir);
    cr_assert(mkdir(a, 0755) == 0 || errno == EEXIST);
    cr_assert(mkdir(b, 0755) == 0 || errno == EEXIST);
    const char *plain[] = {"latency.kind=replay", "latency.file=traces/t.csv"};
    const char *swept[] = {"latency.kind=replay", "sweep.latency.file=traces/t.csv, u.csv"};
    for (int s = 0; s < 2; s++) {
        const char *const *sets = s ? swept : plain;
        char *ka = point_key_from(sets, 2, a, got, sizeof got);
        snprintf(want, sizeof want, "%s/traces/t.csv", a);
        cr_expect_str_eq(got, want, "resolved against the working directory");
        char *kb = point_key_from(sets, 2, b, got, sizeof got);
        snprintf(want, sizeof want, "%s/traces/t.csv", b);
        cr_expect_str_eq(got, want);
        cr_expect_str_eq(ka, kb, "%s: the same key from either checkout", s ? "swept" : "plain");
        free(ka);
        free(kb);
    }
}

Test(config, set_overrides_file_and_sweep)
{
    const char *sets[] = {"cluster.workers=6", "scheme.kind=hedged", "sweep.cluster.slots=1, 2"};
    struct config *c = load_ok("[workload]\nkind = latency\n[cluster]\nworkers = 4\n"
                               "[sweep]\nscheme.kind = uncoded, kofn\n",
                               sets, 3);
    cr_expect_str_eq(params_get(config_base(c), "cluster.workers"), "6");
    cr_expect_eq(config_points(c), 2, "the scheme.kind axis is gone, the slots axis is new");
    cr_expect_eq(config_axes(c), 1);
    cr_expect_str_eq(config_axis_key(c, 0), "cluster.slots");
    struct params *p;
    int repeat;
    char *key;
    struct error err;
    cr_assert_eq(config_point(c, 1, &p, &repeat, &key, &err), 0, "%s", err.msg);
    cr_expect_str_eq(params_get(p, "scheme.kind"), "hedged");
    cr_expect_str_eq(params_get(p, "cluster.slots"), "2");
    cr_expect_not_null(strstr(config_text(c), "; --set cluster.workers=6\n"));
    cr_expect_not_null(strstr(config_text(c), "workers = 4\n"));
    params_free(p);
    free(key);
    config_free(c);
}

static void set_fails(const char *set, const char *msg)
{
    const char *path = tmp_write("ok.ini", minimal);
    struct config *c = NULL;
    struct error err = {{0}};
    cr_expect_eq(config_load(path, &set, 1, &c, &err), STRAG_EINPUT, "%s", set);
    cr_expect_str_eq(err.msg, msg);
    config_free(c);
}

Test(config, set_errors)
{
    set_fails("cluster.workers", "--set cluster.workers: expected section.key=value");
    set_fails("workers=3", "--set workers=3: expected section.key=value");
    set_fails("cluster.nope=1", "--set cluster.nope=1: unknown key 'cluster.nope'");
    set_fails("cluster.workers=0", "--set cluster.workers=0: cluster.workers: must be >= 1");
    set_fails(
        "cluster.cancel=perhaps",
        "--set cluster.cancel=perhaps: cluster.cancel: expected true or false, got 'perhaps'");
    set_fails("sweep.cluster.workers=",
              "--set sweep.cluster.workers=: sweep of cluster.workers has no values");
}

/* ---- malformed files: each gives one exact line ---- */

Test(config, unreadable_file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/missing.ini", tmpdir);
    struct config *c = NULL;
    struct error err;
    cr_expect_eq(config_load(path, NULL, 0, &c, &err), STRAG_EINPUT);
    char want[600];
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory", path);
    cr_expect_str_eq(err.msg, want);
    cr_expect_eq(config_load(tmpdir, NULL, 0, &c, &err), STRAG_EINPUT);
    snprintf(want, sizeof want, "%s: cannot read: Is a directory", tmpdir);
    cr_expect_str_eq(err.msg, want);
}

Test(config, unknown_section)
{
    load_fails("[workload]\nkind = latency\n\n[clutser]\nworkers = 3\n", NULL, 0,
               ":4: unknown section [clutser]");
}

Test(config, malformed_section_header)
{
    load_fails("[workload\nkind = latency\n", NULL, 0, ":1: malformed section header '[workload'");
}

Test(config, unknown_key)
{
    load_fails("[workload]\nkind = latency\n[cluster]\nworker = 3\n", NULL, 0,
               ":4: unknown key 'worker' in [cluster]");
}

Test(config, key_outside_section)
{
    load_fails("workers = 3\n[workload]\nkind = latency\n", NULL, 0,
               ":1: key 'workers' outside any section");
}

Test(config, duplicate_key)
{
    load_fails("[cluster]\nworkers = 3\n[workload]\nkind = latency\n[cluster]\n  workers = 4\n",
               NULL, 0, ":6: duplicate key 'workers' in [cluster] (first on line 2)");
}

Test(config, bad_int)
{
    load_fails("[workload]\nkind = latency\njobs = many\n", NULL, 0,
               ":3: workload.jobs: expected an integer, got 'many'");
}

Test(config, bad_real)
{
    load_fails("[workload]\nkind = latency\n[cluster]\nnetwork_delay = 1.5ms\n", NULL, 0,
               ":4: cluster.network_delay: expected a number, got '1.5ms'");
}

Test(config, out_of_range)
{
    load_fails("[workload]\nkind = latency\n[cluster]\nworkers = 0\n", NULL, 0,
               ":4: cluster.workers: must be >= 1");
    load_fails("[workload]\nkind = latency\nrate = 0\n", NULL, 0, ":3: workload.rate: must be > 0");
}

Test(config, bad_bool)
{
    load_fails("[workload]\nkind = latency\n[cluster]\ncancel = sometimes\n", NULL, 0,
               ":4: cluster.cancel: expected true or false, got 'sometimes'");
}

Test(config, bad_enum)
{
    load_fails("[workload]\nkind = latencies\n", NULL, 0,
               ":2: workload.kind: expected one of latency|inference|training|pipeline, got 'latencies'");
}

Test(config, line_without_equals)
{
    load_fails("[workload]\nkind = latency\njobs 100\n", NULL, 0,
               ":3: expected 'key = value' or '[section]', got 'jobs 100'");
}

Test(config, missing_required_key)
{
    load_fails("[cluster]\nworkers = 3\n", NULL, 0, ": missing required key workload.kind");
    load_fails("[cluster]\nworkers = 3\n[workload]\njobs = 5\n", NULL, 0,
               ":3: missing required key workload.kind");
}

Test(config, empty_sweep)
{
    load_fails("[workload]\nkind = latency\n[sweep]\ncluster.workers =\n", NULL, 0,
               ":4: sweep of cluster.workers has no values");
    load_fails("[workload]\nkind = latency\n[sweep]\ncluster.workers = 2,,3\n", NULL, 0,
               ":4: sweep of cluster.workers has an empty value");
}

Test(config, sweep_of_unknown_key)
{
    load_fails("[workload]\nkind = latency\n[sweep]\ncluster.nodes = 2, 3\n", NULL, 0,
               ":4: unknown key 'cluster.nodes' in [sweep]");
    load_fails("[workload]\nkind = latency\n[sweep]\nworkers = 2, 3\n", NULL, 0,
               ":4: unknown key 'workers' in [sweep]");
}

Test(config, sweep_value_checked)
{
    load_fails("[workload]\nkind = latency\n[sweep]\ncluster.workers = 2, 0\n", NULL, 0,
               ":4: cluster.workers: must be >= 1");
    load_fails("[workload]\nkind = latency\n[sweep]\ncluster.workers = 2, 3, 2\n", NULL, 0,
               ":4: sweep of cluster.workers lists '2' twice");
}

Test(config, sweep_of_unsweepable_key)
{
    load_fails("[workload]\nkind = latency\n[sweep]\nexperiment.db = a.db, b.db\n", NULL, 0,
               ":4: experiment.db cannot be swept");
    load_fails("[workload]\nkind = latency\n[sweep]\ncluster.workers = 2\ncluster.workers = 3\n",
               NULL, 0, ":5: duplicate key 'cluster.workers' in [sweep] (first on line 4)");
}

Test(config, unknown_scheme_lists_known_ones)
{
    const char *path = tmp_write("bad.ini", "[workload]\nkind = latency\n[scheme]\nkind = magic\n");
    struct config *c = NULL;
    struct error err;
    cr_expect_eq(config_load(path, NULL, 0, &c, &err), STRAG_EINPUT);
    char want[600];
    snprintf(want, sizeof want, "%s:4: scheme.kind: ", path);
    cr_expect_eq(strncmp(err.msg, want, strlen(want)), 0, "%s", err.msg);
}

/* The workload.kind choices `config --list` prints are the registry's names,
 * in its order (filled from it before main), and every registered workload
 * finds itself. */
Test(config, workload_kind_choices_are_the_registry)
{
    const struct config_key *k = config_key_find(driver_keys, "workload.kind");
    cr_assert_not_null(k);
    char names[256] = "";
    for (const struct workload_ops *const *w = workload_registry; *w; w++) {
        cr_expect_eq(workload_find((*w)->name), *w);
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                 w == workload_registry ? "" : "|", (*w)->name);
    }
    cr_expect_str_eq(k->choices, names);
    cr_expect_null(workload_find("magic"));
    cr_expect_null(workload_find(NULL));
}

/* The same for scheme.kind: the registry's names, in its order. */
Test(config, scheme_kind_choices_are_the_registry)
{
    const struct config_key *k = config_key_find(scheme_common_keys, "scheme.kind");
    cr_assert_not_null(k);
    char names[1024] = "";
    for (const struct scheme_ops *const *s = scheme_registry; *s; s++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                 s == scheme_registry ? "" : "|", (*s)->name);
    cr_expect_str_eq(k->choices, names);
    cr_expect(strstr(names, "uncoded|kofn|") == names, "%s", names);
}

Test(config, path_resolve)
{
    char out[64];
    cr_expect(params_path_resolve("/a/b", "c.csv", out, sizeof out));
    cr_expect_str_eq(out, "/a/b/c.csv");
    cr_expect(params_path_resolve("/a/b", "/abs/c.csv", out, sizeof out));
    cr_expect_str_eq(out, "/abs/c.csv");
    cr_expect(params_path_resolve(NULL, "c.csv", out, sizeof out));
    cr_expect_str_eq(out, "c.csv");
    cr_expect_not(params_path_resolve("/a",
                                      "0123456789012345678901234567890123456789"
                                      "0123456789012345678901234567890123456789",
                                      out, sizeof out));
}

Test(config, path_relative)
{
    static const char *const cases[][3] = {
        {"/a/b/c", "/a/d/e", "../../d/e"}, {"/a/b", "/a/b/c.csv", "c.csv"},
        {"/a/b", "/a/b", "."},             {"/a/b", "/a/bc", "../bc"},
        {"/a/b/", "/a/b/c", "c"},          {"/", "/x/y", "x/y"},
        {"/x/y", "/", "../.."},            {"/a/b", "/a", ".."},
    };
    char out[64], back[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert(params_path_relative(cases[i][0], cases[i][1], out, sizeof out), "%s %s",
                  cases[i][0], cases[i][1]);
        cr_expect_str_eq(out, cases[i][2], "from %s to %s", cases[i][0], cases[i][1]);
        /* and back: resolved against dir it names the same place (lexically) */
        cr_expect(params_path_resolve(cases[i][0], out, back, sizeof back));
    }
    cr_expect_not(params_path_relative("a/b", "/c", out, sizeof out), "relative dir");
    cr_expect_not(params_path_relative("/a", "c", out, sizeof out), "relative path");
    cr_expect_not(params_path_relative("/a/b/c/d/e/f/g", "/0123456789", out, 16), "too long");
}

/* Regression (found by fuzz/fuzz_ini): blanks after the last newline made
 * the line reader look at the byte before its buffer. The sanitizer run of
 * the suite (scripts/test.sh) fails here without the fix. */
Test(config, blanks_after_the_last_line)
{
    static const char *const tails[] = {"\t", " ", " \t \t"};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "%s%s", minimal, tails[i]);
        const char *path = tmp_write("tail.ini", text);
        struct config *c = NULL;
        struct error err = {{0}};
        cr_expect_eq(config_load(path, NULL, 0, &c, &err), 0, "%s", err.msg);
        cr_expect_eq(config_points(c), 1);
        config_free(c);
    }
}

/* ---- point identity: no two distinct points share a key ---- */

/* Up to `max` valid values of def other than its default, into out (each
 * at most 31 chars). */
static size_t other_values(const struct config_key *def, char (*out)[32], size_t max)
{
    char cand[16][32];
    size_t nc = 0;
    if (def->type == KEY_ENUM) {
        const char *s = def->choices;
        while (s && *s && nc < 16) {
            size_t n = strcspn(s, "|");
            snprintf(cand[nc++], 32, "%.*s", (int)n, s);
            s += n + (s[n] == '|');
        }
    } else if (def->type == KEY_BOOL) {
        snprintf(cand[nc++], 32, "true");
        snprintf(cand[nc++], 32, "false");
    } else if (def->type == KEY_INT || def->type == KEY_REAL) {
        double lo = isfinite(def->min) ? def->min : 0, hi = isfinite(def->max) ? def->max : lo + 8;
        const double at[] = {0, 0.25, 0.5, 1, 1.0 / 3, 0.75};
        for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
            double v = lo + at[i] * (hi - lo);
            if (def->type == KEY_INT)
                snprintf(cand[nc++], 32, "%.0f", floor(v) + (at[i] == 1 ? 0 : i));
            else
                snprintf(cand[nc++], 32, "%.6g", v);
        }
        if (def->flags & KEY_LIST) /* a list of two of them */
            snprintf(cand[nc++], 32, "%.15s,%.15s", cand[2], cand[3]);
    } else {
        snprintf(cand[nc++], 32, "a.bin");
        snprintf(cand[nc++], 32, "b.bin");
    }
    size_t n = 0;
    for (size_t i = 0; i < nc && n < max; i++) {
        char why[256];
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            dup |= strcmp(out[j], cand[i]) == 0;
        if (!dup && config_key_check(def, cand[i], why, sizeof why) &&
            !(def->default_value && strcmp(def->default_value, cand[i]) == 0))
            snprintf(out[n++], 32, "%s", cand[i]);
    }
    return n;
}

struct keyed_point {
    char key[17];
    char label[160];
};

/* Point key of `ini` with the --set overrides sets[0..n). */
static void key_with(const char *ini, const char *const *sets, size_t n, struct keyed_point *kp,
                     const char *label)
{
    const char *path = tmp_write("keys.ini", ini);
    struct config *c = NULL;
    struct error err = {{0}};
    cr_assert_eq(config_load(path, sets, n, &c, &err), 0, "%s: %s", label, err.msg);
    struct params *p;
    int repeat;
    char *key;
    cr_assert_eq(config_point(c, 0, &p, &repeat, &key, &err), 0, "%s: %s", label, err.msg);
    snprintf(kp->key, sizeof kp->key, "%s", key);
    snprintf(kp->label, sizeof kp->label, "%s", label);
    free(key);
    params_free(p);
    config_free(c);
}

static int keyed_cmp(const void *a, const void *b)
{
    return strcmp(((const struct keyed_point *)a)->key, ((const struct keyed_point *)b)->key);
}

static void expect_distinct(struct keyed_point *kp, size_t n)
{
    qsort(kp, n, sizeof *kp, keyed_cmp);
    for (size_t i = 1; i < n; i++)
        cr_expect_str_neq(kp[i - 1].key, kp[i].key, "'%s' and '%s' share a point key",
                          kp[i - 1].label, kp[i].label);
}

/* Every scheme, each of its own keys and scheme_common_keys set to two
 * values other than its own default: every such point has a key of its own
 * (the bug this catches: lagrange's scheme.nodes = chebyshev and = n
 * collided because chebyshev is another scheme's default). Writing a key's
 * own default out gives the key of the scheme's baseline. */
Test(config, every_scheme_key_value_has_its_own_point_key)
{
    size_t cap = 4096, n = 0;
    struct keyed_point *kp = calloc(cap, sizeof *kp);
    cr_assert_not_null(kp);
    for (size_t s = 0; scheme_registry[s]; s++) {
        const struct scheme_ops *ops = scheme_registry[s];
        const char *wl = ops->workloads & SCHEME_LATENCY     ? "latency"
                         : ops->workloads & SCHEME_INFERENCE ? "inference"
                         : ops->workloads & SCHEME_TRAINING  ? "training"
                                                             : "pipeline";
        char ini[256], kind[64], set[128], label[160];
        snprintf(ini, sizeof ini, "[workload]\nkind = %s\n[latency]\nkind = exp\n", wl);
        snprintf(kind, sizeof kind, "scheme.kind=%s", ops->name);
        const char *sets[2] = {kind, set};
        struct keyed_point base;
        key_with(ini, sets, 1, &base, ops->name);
        kp[n++] = base;
        const struct config_key *tables[] = {ops->keys, scheme_common_keys};
        for (size_t t = 0; t < 2; t++) {
            for (const struct config_key *k = tables[t]; k && k->name; k++) {
                if (strcmp(k->name, "scheme.kind") == 0 ||
                    (t == 1 && config_key_find(ops->keys, k->name)))
                    continue;
                char values[3][32];
                size_t nv = other_values(k, values, 2);
                cr_expect_geq(nv, k->type == KEY_BOOL || k->type == KEY_ENUM ? 1u : 2u,
                              "%s %s: no test values", ops->name, k->name);
                for (size_t v = 0; v < nv; v++) {
                    snprintf(set, sizeof set, "%s=%s", k->name, values[v]);
                    snprintf(label, sizeof label, "%s %s", ops->name, set);
                    cr_assert_lt(n, cap);
                    key_with(ini, sets, 2, &kp[n++], label);
                }
                if (k->default_value) {
                    struct keyed_point d;
                    snprintf(set, sizeof set, "%s=%s", k->name, k->default_value);
                    snprintf(label, sizeof label, "%s %s", ops->name, set);
                    key_with(ini, sets, 2, &d, label);
                    cr_expect_str_eq(d.key, base.key, "%s: its own default changed the key",
                                     label);
                }
            }
        }
    }
    expect_distinct(kp, n);
    free(kp);
}

/* The same for every latency kind and each latency key it reads (markov:
 * with each i.i.d. kind in each state); a key the kind does not read
 * leaves the key as it is. */
Test(config, every_latency_key_value_has_its_own_point_key)
{
    size_t cap = 4096, n = 0;
    struct keyed_point *kp = calloc(cap, sizeof *kp);
    cr_assert_not_null(kp);
    static const char *const iid[] = {"exp", "shifted_exp", "pareto", "lognormal", "weibull"};
    for (size_t l = 0; latency_kinds[l]; l++) {
        bool markov = strcmp(latency_kinds[l]->name, "markov") == 0;
        for (size_t a = 0; a < (markov ? sizeof iid / sizeof iid[0] : 1); a++) {
            char ini[256], label[160], set[128];
            snprintf(ini, sizeof ini,
                     "[workload]\nkind = latency\n[latency]\nkind = %s\n%s%s%s%s",
                     latency_kinds[l]->name, markov ? "active.kind = " : "",
                     markov ? iid[a] : "", markov ? "\nslow.kind = " : "",
                     markov ? iid[sizeof iid / sizeof iid[0] - 1 - a] : "");
            if (markov)
                strcat(ini, "\n");
            struct params *p = params_new();
            cr_assert_not_null(p);
            params_set(p, "latency.kind", latency_kinds[l]->name, NULL, 0);
            if (markov) {
                params_set(p, "latency.active.kind", iid[a], NULL, 0);
                params_set(p, "latency.slow.kind", iid[sizeof iid / sizeof iid[0] - 1 - a], NULL,
                           0);
            }
            const char *sets[1] = {set};
            struct keyed_point base;
            snprintf(label, sizeof label, "%s/%s", latency_kinds[l]->name, markov ? iid[a] : "");
            key_with(ini, NULL, 0, &base, label);
            kp[n++] = base;
            for (const struct config_key *k = latency_keys; k->name; k++) {
                if (strstr(k->name, ".kind"))
                    continue;
                char values[3][32];
                size_t nv = other_values(k, values, 2);
                bool reads = latency_key_applies(p, k->name);
                for (size_t v = 0; v < nv; v++) {
                    snprintf(set, sizeof set, "%s=%s", k->name, values[v]);
                    snprintf(label, sizeof label, "%s/%s %s", latency_kinds[l]->name,
                             markov ? iid[a] : "", set);
                    struct keyed_point one;
                    key_with(ini, sets, 1, &one, label);
                    if (reads) {
                        cr_assert_lt(n, cap);
                        kp[n++] = one;
                    } else {
                        cr_expect_str_eq(one.key, base.key, "%s: not read, yet keyed", label);
                    }
                }
            }
            params_free(p);
        }
    }
    expect_distinct(kp, n);
    free(kp);
}

/* Point keys pinned to literals computed by tests/oracles/point_key.py
 * (python3, FNV-1a 64 + splitmix64 over the canonical form documented in
 * app/config.c, with the kept params worked out by hand from these texts):
 * a change to the canonical form, the applicability rules or the hash
 * changes stored keys, and must be deliberate. */
Test(config, point_keys_match_independently_computed_literals)
{
    char *k = first_point_key("[workload]\nkind = latency\n[latency]\nkind = exp\n");
    cr_expect_str_eq(k, "12557865af8c4267");
    free(k);
    k = first_point_key("[cluster]\nworkers = 6\n[latency]\nkind = exp\nshape = 3\n"
                        "[workload]\nkind = latency\nmodel = lenet5\n[train]\nepochs = 5\n"
                        "[scheme]\nkind = lagrange\nnodes = n\nstragglers = 2\ndegree = 0\n");
    cr_expect_str_eq(k, "8ecc9f25bf3caac9");
    free(k);
    struct config *c = load_ok("[experiment]\nrepeats = 2\ncommon_streams = false\n"
                               "[workload]\nkind = latency\n"
                               "[latency]\nkind = markov\np_active_to_slow = 0.1\n"
                               "p_slow_to_active = 0.5\nactive.kind = exp\nactive.rate = 2\n"
                               "active.shape = 3\nslow.kind = pareto\nslow.shape = 2\n"
                               "slow.scale = 1\n",
                               NULL, 0);
    struct params *p;
    int repeat;
    struct error err;
    cr_assert_eq(config_point(c, 1, &p, &repeat, &k, &err), 0, "%s", err.msg);
    cr_expect_eq(repeat, 1);
    cr_expect_str_eq(k, "7ba1b895c9323ec4");
    free(k);
    params_free(p);
    config_free(c);
}
