/* check_points.h: the small results databases of test_check.c (analysis
 * level) and test_cmd_check.c (the commands): four sweep points of two
 * schemes, written with results_write_run into a fresh directory per test
 * (tmp_dir.h). Header-only, for the test programs. */
#ifndef STRAG_TEST_CHECK_POINTS_H
#define STRAG_TEST_CHECK_POINTS_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/results.h"
#include "tests/tmp_dir.h"

/* One sweep point: kofn points have scheme.k, uncoded ones do not (a key
 * only some runs have is not a column by itself: scheme.kind tells them apart). */
struct point {
    const char *key, *scheme, *rate;
    int repeat;
    double mean, p99, accuracy;
};

static const struct point base_points[] = {
    {"k1", "kofn", "1", 0, 0.5, 1.25, 0.9},
    {"k2", "kofn", "2", 0, 0.25, 0.625, 0.875},
    {"u1", "uncoded", "1", 0, 1.5, 4.5, NAN},
    {"u2", "uncoded", "2", 0, 0.75, 2.25, NAN},
};
enum { NBASE = sizeof base_points / sizeof base_points[0] };

/* Writes the points into a new database at path, point keys prefixed. */
static inline void db_build(const char *path, const struct point *pts, size_t n,
                            const char *key_prefix)
{
    struct results *r;
    struct error err;
    int64_t exp;
    cr_assert_eq(results_open(path, false, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment(r, "demo", "[experiment]\n", &exp, &err), 0, "%s", err.msg);
    for (size_t i = 0; i < n; i++) {
        struct params *p = params_new();
        params_set(p, "experiment.name", "demo", NULL, 0);
        params_set(p, "experiment.db", path, NULL, 0);
        params_set(p, "workload.kind", "latency", NULL, 0);
        params_set(p, "scheme.kind", pts[i].scheme, NULL, 0);
        if (strcmp(pts[i].scheme, "kofn") == 0)
            params_set(p, "scheme.k", "2", NULL, 0);
        params_set(p, "latency.rate", pts[i].rate, NULL, 0);
        struct metric_list m = {0};
        metric_list_set(&m, "jobs", 1000);
        metric_list_set(&m, "latency_mean", pts[i].mean);
        metric_list_set(&m, "latency_p99", pts[i].p99);
        metric_list_set(&m, "accuracy", pts[i].accuracy);
        char key[64];
        snprintf(key, sizeof key, "%s%s", key_prefix, pts[i].key);
        struct run_record rec = {.point_key = key, .repeat = pts[i].repeat, .seed = 1,
                                 .params = p, .metrics = &m};
        cr_assert_eq(results_write_run(r, exp, &rec, &err), 0, "%s", err.msg);
        params_free(p);
        metric_list_clear(&m);
    }
    results_close(r);
}

/* The base points with one change applied. */
static inline void points_copy(struct point out[NBASE])
{
    memcpy(out, base_points, sizeof base_points);
}

#endif
