/* test_inference.c: the coded-inference schemes (berrut, nercc, lagrange)
 * through their scheme_ops on real models, and the `inference` workload end
 * to end through the stragsim binary. Scheme tests build small models from
 * spec text with seeded random weights and synthetic inputs, so they need no
 * data files: Lagrange coding of a polynomial network (dense, square,
 * dense: degree 2) recovers its outputs from any (K-1) 2 + 1 results; the
 * berrut decoder is D_F times the returned outputs, cached per pattern; the
 * Byzantine mode finds sign-flipped workers; nercc's grid search picks from
 * its grid; sizing errors give exact messages. The end-to-end tests run
 * small configs on the Fashion-MNIST test set and shipped weights.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "params_lines.h"
#include "tmp_dir.h"
#include "models/model.h"
#include "schemes/codes/code_berrut.h"
#include "schemes/scheme.h"
#include "base/rng.h"

/* ---- a scheme on a model, driven by hand ---- */

struct rig {
    struct params *p;
    const struct scheme_ops *ops;
    void *self;
    struct model *model;
    struct scheme_infer inf;
};

/* kv: "key=value" strings, NULL-terminated; scheme.kind names the scheme.
 * Every key of the scheme's table with a default is filled first. */
static int rig_open(struct rig *r, int workers, const char *spec, const char *const *kv,
                    struct error *err)
{
    memset(r, 0, sizeof *r);
    r->p = scheme_params(kv, &r->ops);
    struct scheme_env env = {.params = r->p, .workers = workers, .seed = 7, .point_key = 11};
    int rc = r->ops->create(&env, &r->self, err);
    if (rc)
        return rc;
    cr_assert_eq(model_new(&r->model, spec, err), 0, "%s", err->msg);
    struct rng g;
    rng_seed(&g, 3, 0, RNG_INIT, 0);
    model_init(r->model, &g);
    r->inf = (struct scheme_infer){.input_size = r->model->input_size,
                                   .outputs = r->model->outputs, .model = r->model};
    return STRAG_OK;
}

static void rig_close(struct rig *r)
{
    if (r->self)
        r->ops->free(r->self);
    model_free(r->model);
    params_free(r->p);
}

static void random_inputs(float *x, size_t n, uint32_t stream)
{
    struct rng g;
    rng_seed(&g, 5, 0, RNG_DATA, stream);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)rng_uniform(&g);
}

/* Encodes K random inputs, runs the coded batch; Yc (coded x m) and the
 * exact outputs Y (K x m) are returned in malloc'd arrays. */
static void rig_forward(struct rig *r, float **Yc, float **Y)
{
    int k = r->inf.queries, n = r->inf.coded, d = r->inf.input_size, m = r->inf.outputs;
    float *X = malloc(sizeof(float) * k * d), *Xc = malloc(sizeof(float) * n * d);
    random_inputs(X, (size_t)k * d, 1);
    r->ops->infer_encode(r->self, X, d, Xc);
    struct error err = {0};
    const float *out;
    *Yc = malloc(sizeof(float) * n * m);
    *Y = malloc(sizeof(float) * k * m);
    cr_assert_eq(model_forward(r->model, Xc, n, &out, &err), 0, "%s", err.msg);
    memcpy(*Yc, out, sizeof(float) * n * m);
    cr_assert_eq(model_forward(r->model, X, k, &out, &err), 0, "%s", err.msg);
    memcpy(*Y, out, sizeof(float) * k * m);
    free(X);
    free(Xc);
}

static double max_abs(const float *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

Test(inference, lagrange_recovers_a_polynomial_network_exactly)
{
    /* K = 4, deg f = 2: R = 7 results; N = 10 so any 3 may straggle */
    const char *kv[] = {"scheme.kind=lagrange", "scheme.degree=2", "scheme.stragglers=3",
                        "workload.queries=4", NULL};
    struct rig r;
    struct error err = {0};
    cr_assert_eq(rig_open(&r, 10, "64: dense16 square dense10", kv, &err), 0, "%s", err.msg);
    cr_assert_eq(r.ops->infer_prepare(r.self, &r.inf, &err), 0, "%s", err.msg);
    cr_assert_eq(r.inf.queries, 4);
    cr_assert_eq(r.inf.coded, 10);
    float *Yc, *Y, Yhat[40];
    rig_forward(&r, &Yc, &Y);
    double scale = max_abs(Y, 40);
    /* The model runs in float32, so "exact" means float rounding times the
     * interpolation's conditioning: ~1e-7 when the returned nodes surround
     * the data nodes, ~1e-4 when a one-sided set must extrapolate to them.
     * Any R of them works; the scheme spreads its pick when more arrive. */
    const int patterns[4][10] = {{0, 2, 3, 5, 7, 8, 9}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
                                 {0, 1, 2, 3, 4, 5, 6}, {3, 4, 5, 6, 7, 8, 9}};
    const int counts[4] = {7, 10, 7, 7};
    const double tolerance[4] = {1e-6, 1e-6, 3e-4, 3e-4};
    for (int t = 0; t < 4; t++) {
        cr_assert_eq(r.ops->infer_decode(r.self, patterns[t], counts[t], Yc, 10, Yhat, &err), 0,
                     "%s", err.msg);
        for (int i = 0; i < 40; i++)
            cr_assert(fabs(Yhat[i] - Y[i]) <= tolerance[t] * scale, "pattern %d [%d]: %g vs %g",
                      t, i, Yhat[i], Y[i]);
    }
    free(Yc);
    free(Y);
    rig_close(&r);
}

Test(inference, lagrange_sizing_errors)
{
    const char *kv[] = {"scheme.kind=lagrange", "scheme.degree=2", "scheme.stragglers=3",
                        "workload.queries=5", NULL};
    struct rig r;
    struct error err = {0};
    cr_assert_eq(rig_open(&r, 10, "8: dense2", kv, &err), STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "t.ini:4: workload.queries: K = 5 queries need 12 workers, "
                              "cluster.workers is 10");
    rig_close(&r);
}

Test(inference, berrut_decodes_with_its_cached_matrix)
{
    const char *kv[] = {"scheme.kind=berrut", "scheme.stragglers=2", NULL};
    struct rig r;
    struct error err = {0};
    cr_assert_eq(rig_open(&r, 12, "32: dense8 relu dense5", kv, &err), 0, "%s", err.msg);
    cr_assert_eq(r.ops->infer_prepare(r.self, &r.inf, &err), 0, "%s", err.msg);
    cr_assert_eq(r.inf.queries, 10); /* default K = N - S */
    float *Yc, *Y, Yhat[50];
    rig_forward(&r, &Yc, &Y);
    int returned[10] = {0, 1, 2, 4, 5, 6, 7, 8, 10, 11};
    double alpha[10], z[12], D[100];
    berrut_data_nodes(10, alpha);
    berrut_worker_nodes(12, BERRUT_NODES_N, z);
    berrut_decoder(alpha, 10, z, returned, 10, D);
    for (int rep = 0; rep < 3; rep++) {
        cr_assert_eq(r.ops->infer_decode(r.self, returned, 10, Yc, 5, Yhat, &err), 0);
        for (int j = 0; j < 10; j++)
            for (int i = 0; i < 5; i++) {
                double want = 0.0;
                for (int l = 0; l < 10; l++)
                    want += D[j * 10 + l] * Yc[returned[l] * 5 + i];
                cr_assert(fabs(Yhat[j * 5 + i] - want) < 1e-5 * (1 + fabs(want)));
            }
    }
    struct metric_list m = {0};
    r.ops->add_metrics(r.self, &m);
    cr_assert_eq(metric_list_get(&m, "decode_patterns"), 1.0);
    cr_assert_float_eq(metric_list_get(&m, "decode_cache_hit_rate"), 2.0 / 3.0, 1e-12);
    metric_list_clear(&m);
    free(Yc);
    free(Y);
    rig_close(&r);
}

Test(inference, berrut_beyond_64_workers)
{
    /* N = 80: straggler patterns need two 64-bit words; stragglers above 64 */
    const char *kv[] = {"scheme.kind=berrut", "scheme.stragglers=3", "workload.queries=40", NULL};
    struct rig r;
    struct error err = {0};
    cr_assert_eq(rig_open(&r, 80, "16: dense3", kv, &err), 0, "%s", err.msg);
    cr_assert_eq(r.ops->infer_prepare(r.self, &r.inf, &err), 0, "%s", err.msg);
    float *Yc, *Y, Yhat[40 * 3];
    rig_forward(&r, &Yc, &Y);
    int a[77], b[77], na = 0, nb = 0;
    for (int w = 0; w < 80; w++) {
        if (w != 66 && w != 70 && w != 79)
            a[na++] = w;
        if (w != 66 && w != 70 && w != 78)
            b[nb++] = w;
    }
    double alpha[40], z[80], D[40 * 77];
    berrut_data_nodes(40, alpha);
    berrut_worker_nodes(80, BERRUT_NODES_N, z);
    for (int t = 0; t < 4; t++) { /* a, b, a, b: two patterns, two cache hits */
        const int *f = t % 2 ? b : a;
        cr_assert_eq(r.ops->infer_decode(r.self, f, 77, Yc, 3, Yhat, &err), 0, "%s", err.msg);
        berrut_decoder(alpha, 40, z, f, 77, D);
        for (int j = 0; j < 40; j++)
            for (int i = 0; i < 3; i++) {
                double want = 0.0;
                for (int l = 0; l < 77; l++)
                    want += D[j * 77 + l] * Yc[f[l] * 3 + i];
                cr_assert(fabs(Yhat[j * 3 + i] - want) < 1e-4 * (1 + fabs(want)),
                          "pattern %d [%d,%d]: %g vs %g", t % 2, j, i, Yhat[j * 3 + i], want);
            }
    }
    struct metric_list m = {0};
    r.ops->add_metrics(r.self, &m);
    cr_assert_eq(metric_list_get(&m, "decode_patterns"), 2.0);
    metric_list_clear(&m);
    free(Yc);
    free(Y);
    rig_close(&r);
}

Test(inference, berrut_byzantine_mode_locates_sign_flips)
{
    /* a linear model: the coded outputs are an exact Berrut rational, so the
     * locator must name every flipped worker. K = 3, A = 2, S = 1: N = 10 */
    const char *kv[] = {"scheme.kind=berrut", "scheme.stragglers=1", "scheme.adversaries=2",
                        NULL};
    struct rig r;
    struct error err = {0};
    cr_assert_eq(rig_open(&r, 10, "16: dense4", kv, &err), 0, "%s", err.msg);
    cr_assert_eq(r.ops->infer_prepare(r.self, &r.inf, &err), 0, "%s", err.msg);
    cr_assert_eq(r.inf.queries, 3);
    float *Yc, *Y, Yhat[12];
    rig_forward(&r, &Yc, &Y);
    int returned[9] = {0, 1, 2, 3, 4, 6, 7, 8, 9};
    for (int rep = 0; rep < 20; rep++)
        cr_assert_eq(r.ops->infer_decode(r.self, returned, 9, Yc, 4, Yhat, &err), 0, "%s",
                     err.msg);
    struct metric_list m = {0};
    r.ops->add_metrics(r.self, &m);
    cr_assert_eq(metric_list_get(&m, "adversaries_located"), 1.0);
    metric_list_clear(&m);
    free(Yc);
    free(Y);
    rig_close(&r);
}

Test(inference, berrut_sizing_errors)
{
    const char *kv[] = {"scheme.kind=berrut", "scheme.coded_workers=minimal", NULL};
    struct rig r;
    struct error err = {0};
    cr_assert_eq(rig_open(&r, 10, "8: dense2", kv, &err), STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "t.ini:2: scheme.coded_workers: minimal needs workload.queries (K)");
    rig_close(&r);
    const char *kv2[] = {"scheme.kind=berrut", "scheme.coded_workers=minimal",
                         "workload.queries=8", "scheme.stragglers=3", NULL};
    cr_assert_eq(rig_open(&r, 10, "8: dense2", kv2, &err), STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "t.ini:2: scheme.coded_workers: K = 8 needs 11 workers, "
                              "cluster.workers is 10");
    rig_close(&r);
}

/* 200 synthetic validation queries for nercc's grid search. */
static float validation_data[200 * 32];

static int validation_synthetic(void *ctx, const float **x, int *n, struct error *err)
{
    (void)ctx;
    (void)err;
    random_inputs(validation_data, 200 * 32, 9);
    *x = validation_data;
    *n = 200;
    return STRAG_OK;
}

Test(inference, nercc_grid_search_picks_from_its_grid)
{
    const char *kv[] = {"scheme.kind=nercc", "scheme.stragglers=2", "workload.queries=8",
                        "scheme.lambda_grid=0,1e-4,1", NULL};
    struct rig r;
    struct error err = {0};
    cr_assert_eq(rig_open(&r, 12, "32: dense8 relu dense5", kv, &err), 0, "%s", err.msg);
    r.inf.validation = validation_synthetic;
    cr_assert_eq(r.ops->infer_prepare(r.self, &r.inf, &err), 0, "%s", err.msg);
    struct metric_list m = {0};
    r.ops->add_metrics(r.self, &m);
    double le = metric_list_get(&m, "lambda_enc"), ld = metric_list_get(&m, "lambda_dec");
    cr_assert(le == 0 || le == 1e-4 || le == 1, "lambda_enc %g", le);
    cr_assert(ld == 0 || ld == 1e-4 || ld == 1, "lambda_dec %g", ld);
    cr_assert(le < 1 || ld < 1, "the heaviest smoothing on both ends should never win");
    metric_list_clear(&m);
    /* decoding after tuning works and is close to the exact outputs */
    float *Yc, *Y, Yhat[40];
    rig_forward(&r, &Yc, &Y);
    int returned[10] = {0, 1, 3, 4, 5, 6, 7, 9, 10, 11};
    cr_assert_eq(r.ops->infer_decode(r.self, returned, 10, Yc, 5, Yhat, &err), 0, "%s", err.msg);
    double se = 0, ss = 0;
    for (int i = 0; i < 40; i++) {
        se += (Yhat[i] - Y[i]) * (Yhat[i] - Y[i]);
        ss += Y[i] * Y[i];
    }
    cr_assert(se < 0.1 * ss, "relative squared error %g", se / ss);
    free(Yc);
    free(Y);
    rig_close(&r);
}

Test(inference, nercc_without_validation_fails_cleanly)
{
    const char *kv[] = {"scheme.kind=nercc", "scheme.stragglers=1", NULL};
    struct rig r;
    struct error err = {0};
    cr_assert_eq(rig_open(&r, 6, "4: dense2", kv, &err), 0, "%s", err.msg);
    cr_assert_eq(r.ops->infer_prepare(r.self, &r.inf, &err), STRAG_EFAIL);
    cr_assert_str_eq(err.msg, "nercc: no validation queries to tune on");
    rig_close(&r);
}

/* ---- the workload end to end, through the binary ---- */

TestSuite(inference_e2e, .init = make_tmpdir, .fini = remove_tmpdir);

/* Runs `stragsim run` on an ini with the given body, which ends in its
 * [workload] section (the shipped weights directory is added there);
 * returns the exit status. */
static int run_config(const char *body)
{
    const char *bin = getenv("STRAGSIM"), *root = getenv("STRAGSIM_SOURCE_ROOT");
    cr_assert(bin && root, "STRAGSIM and STRAGSIM_SOURCE_ROOT must be set (meson test does)");
    char path[512], cmd[2048];
    snprintf(path, sizeof path, "%s/t.ini", tmpdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "%sweights = %s/models/weights\n", body, root);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' run t.ini -o r.db --quiet 2> err.txt", tmpdir, bin);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The metric of the run whose scheme.kind is `kind`. */
static double metric_of(const char *kind, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/r.db", tmpdir);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db,
                                    "SELECT m.value FROM metrics m JOIN params p ON p.run_id = "
                                    "m.run_id AND p.key = 'scheme.kind' WHERE p.value = ?1 AND "
                                    "m.name = ?2", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    double v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_double(st, 0) : NAN;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static bool have_data(void)
{
    struct stat st;
    return stat("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", &st) == 0;
}

Test(inference_e2e, exact_and_coded_schemes)
{
    if (!have_data())
        cr_skip_test("Fashion-MNIST is not installed (dataset-fashion-mnist)");
    const char *ini = "[experiment]\nseed = 3\n[cluster]\nworkers = 10\n[latency]\nkind = exp\n"
                      "[scheme]\nstragglers = 2\nr = 2\n[sweep]\n"
                      "scheme.kind = uncoded, replication, berrut\n"
                      "[workload]\nkind = inference\njobs = 300\nmodel = mlp\nqueries = 8\n";
    cr_assert_eq(run_config(ini), 0);
    /* exact schemes: decoded = the model's outputs */
    const char *exact[] = {"uncoded", "replication"};
    for (int i = 0; i < 2; i++) {
        cr_expect_eq(metric_of(exact[i], "agreement"), 1.0);
        cr_expect_eq(metric_of(exact[i], "rmse"), 0.0);
        cr_expect_eq(metric_of(exact[i], "accuracy"), metric_of(exact[i], "base_accuracy"));
        cr_expect_eq(metric_of(exact[i], "queries"), 2400.0);
    }
    /* the shipped mlp is ~89% accurate; 2400 queries: +-4 standard errors */
    double base = metric_of("uncoded", "base_accuracy");
    cr_expect(fabs(base - 0.89) < 4 * sqrt(0.89 * 0.11 / 2400) + 0.01, "base %g", base);
    /* berrut: approximate, far above chance, below the exact model */
    double acc = metric_of("berrut", "accuracy"), agr = metric_of("berrut", "agreement");
    cr_expect(acc > 0.5 && acc < metric_of("berrut", "base_accuracy"), "berrut accuracy %g", acc);
    cr_expect(agr > 0.5 && agr < 1.0, "berrut agreement %g", agr);
    cr_expect(metric_of("berrut", "rmse") > 0.0);
    cr_expect_eq(metric_of("berrut", "jobs"), 300.0);
}

Test(inference_e2e, bad_data_dir_is_one_line)
{
    const char *ini = "[latency]\nkind = exp\n[scheme]\nkind = berrut\n"
                      "[workload]\nkind = inference\njobs = 10\nmodel = logreg\n"
                      "data_dir = /nonexistent\n";
    cr_assert_eq(run_config(ini), 2);
    char path[512], line[1024] = "";
    snprintf(path, sizeof path, "%s/err.txt", tmpdir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(line, sizeof line, f));
    fclose(f);
    cr_expect(strstr(line, "/nonexistent/t10k-images-idx3-ubyte.gz") != NULL, "%s", line);
}

/* barycentric with d = 0 is berrut: the same decoded outputs, so the same
 * accuracy, agreement and rmse, on the same luck (common streams). */
Test(inference_e2e, barycentric_d0_is_berrut)
{
    if (!have_data())
        cr_skip_test("Fashion-MNIST is not installed (dataset-fashion-mnist)");
    const char *ini = "[experiment]\nseed = 3\n[cluster]\nworkers = 10\n[latency]\nkind = exp\n"
                      "[scheme]\nstragglers = 2\nd = 0\n[sweep]\n"
                      "scheme.kind = berrut, barycentric\n"
                      "[workload]\nkind = inference\njobs = 300\nmodel = mlp\nqueries = 8\n";
    cr_assert_eq(run_config(ini), 0);
    const char *same[] = {"accuracy", "agreement", "rmse", "latency_mean", "decode_patterns"};
    for (int i = 0; i < 5; i++)
        cr_expect_eq(metric_of("berrut", same[i]), metric_of("barycentric", same[i]), "%s: %.17g vs %.17g",
                     same[i], metric_of("berrut", same[i]), metric_of("barycentric", same[i]));
    cr_expect_eq(metric_of("barycentric", "decode_results_mean"), 8.0);
}

/* A deadline decodes from fewer results, sooner; still far above chance. */
Test(inference_e2e, barycentric_deadline_decodes_early)
{
    if (!have_data())
        cr_skip_test("Fashion-MNIST is not installed (dataset-fashion-mnist)");
    const char *ini = "[experiment]\nseed = 3\n[cluster]\nworkers = 10\n[latency]\nkind = exp\n"
                      "[scheme]\nkind = barycentric\nstragglers = 2\nd = 1\n"
                      "decode_when = first\ndeadline = 0.1\n"
                      "[workload]\nkind = inference\njobs = 300\nmodel = mlp\nqueries = 8\n";
    cr_assert_eq(run_config(ini), 0);
    double used = metric_of("barycentric", "decode_results_mean");
    double by_deadline = metric_of("barycentric", "deadline_decodes");
    cr_expect(used >= 1.0 && used < 8.0, "decoded from %g results on average", used);
    cr_expect(by_deadline > 0.0 && by_deadline <= 1.0, "deadline decided %g of the jobs", by_deadline);
    double acc = metric_of("barycentric", "accuracy");
    cr_expect(acc > 0.3, "accuracy %g", acc);
}

/* letcc's default lambda rule at large N: with S/N fixed the error of
 * interpolation (lambda = 0) keeps falling with N, and the rule's smoothing
 * bias must stay below it. The rule in the interval's units with c = 1e-3
 * (the earlier default) gave here an RMSE about 3x interpolation's at
 * N = 100, K = 16, S = 12 (LeNet5: 3.19 against 0.17); the default must stay
 * within 25% of it. Same seed and streams: the same straggler patterns. */
static double letcc_rmse(const char *lambda_line)
{
    char ini[1024], cmd[600];
    snprintf(cmd, sizeof cmd, "rm -f '%s/r.db'", tmpdir);
    cr_assert_eq(system(cmd), 0);
    snprintf(ini, sizeof ini,
             "[experiment]\nseed = 3\n[cluster]\nworkers = 100\n[latency]\nkind = exp\n"
             "[scheme]\nkind = letcc\nstragglers = 12\n%s"
             "[workload]\nkind = inference\njobs = 60\nmodel = mlp\nqueries = 16\n",
             lambda_line);
    cr_assert_eq(run_config(ini), 0);
    return metric_of("letcc", "rmse");
}

Test(inference_e2e, letcc_default_lambda_holds_at_large_n)
{
    if (!have_data())
        cr_skip_test("Fashion-MNIST is not installed (dataset-fashion-mnist)");
    double by_rule = letcc_rmse("");
    double interpolated = letcc_rmse("lambda_dec = 0\n");
    cr_expect(interpolated > 0.0 && by_rule < 1.25 * interpolated,
              "letcc rmse %g with the default lambda, %g interpolating", by_rule, interpolated);
}
