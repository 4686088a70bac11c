/* test_oracles.c: every coded-inference scheme (berrut, nercc, letcc, lagrange, bspline,
 * learned-lagrange, split, parm) against an independent reference,
 * tests/oracles/inference_oracle.py (numpy/scipy, written from the papers'
 * formulas; it reads the weights files itself). Each test serves jobs the
 * way the inference workload does (workloads/inference.c): infer_prepare,
 * then per job infer_encode, the scheme's infer_forward (or the base model),
 * the job run on an engine and cluster with fixed per-worker durations so
 * the arrived set is known, infer_decode of what arrived before the job was
 * done, and infer_scored. The coded queries, the workers' outputs and the
 * decoded outputs are each compared with the oracle's. Inputs are seeded
 * uniform pixels; the learned codes use the shipped weights
 * (models/weights), so no data set is needed.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params_lines.h"
#include "models/model.h"
#include "models/weights.h"
#include "oracle_run.h"
#include "schemes/scheme.h"
#include "sim/engine.h"
#include "base/rng.h"

/* ---- a scheme served as the inference workload serves it ---- */

struct serve {
    const struct scheme_ops *ops;
    void *self;
    struct params *p;
    struct model *model;
    struct scheme_infer inf;
    int workers;
    char weights[512], base[512];  /* learned weights stem, base weights file */
    /* the job on the cluster */
    const double *unit;            /* per-worker duration of a unit-cost task */
    struct engine *e;
    struct cluster *cl;
    bool done;
    unsigned long long arrived;    /* coded rows (tags) seen before done */
};

static void serve_params(struct serve *s, const char *const *kv)
{
    s->p = scheme_params(kv, &s->ops);
    if (!params_has(s->p, "workload.warmup"))
        params_set(s->p, "workload.warmup", "0", "t.ini", 0);
}

/* Opens scheme kv (scheme.kind in it) on `workers` workers over the base
 * model `model` (a table name: its shipped weights are loaded). */
static void serve_open(struct serve *s, int workers, const char *model, const char *const *kv)
{
    *s = (struct serve){.workers = workers};
    const char *root = getenv("STRAGSIM_SOURCE_ROOT");
    cr_assert_not_null(root, "STRAGSIM_SOURCE_ROOT must be set (meson test does)");
    serve_params(s, kv);
    if (params_has(s->p, "scheme.learned_weights"))
        snprintf(s->weights, sizeof s->weights, "%s/models/weights/%s", root,
                 params_get(s->p, "scheme.learned_weights"));
    if (params_has(s->p, "scheme.learned_weights")) /* absolute: no config directory */
        params_set(s->p, "scheme.learned_weights", s->weights, "t.ini", 0);
    struct error err = {{0}};
    struct scheme_env env = {.params = s->p, .workers = workers, .seed = 7, .point_key = 11};
    cr_assert_eq(s->ops->create(&env, &s->self, &err), 0, "%s", err.msg);
    cr_assert_eq(model_new(&s->model, model, &err), 0, "%s", err.msg);
    snprintf(s->base, sizeof s->base, "%s/models/weights/%s.bin", root, model);
    cr_assert_eq(weights_load(s->model, s->base, &err), 0, "%s", err.msg);
    s->inf = (struct scheme_infer){
        .queries = params_has(s->p, "workload.queries") ? (int)params_int(s->p, "workload.queries")
                                                        : workers,
        .input_size = s->model->input_size, .outputs = s->model->outputs, .model = s->model};
    cr_assert_eq(s->ops->infer_prepare(s->self, &s->inf, &err), 0, "%s", err.msg);
}

static void serve_close(struct serve *s)
{
    s->ops->free(s->self);
    model_free(s->model);
    params_free(s->p);
}

static double hook_duration(void *ctx, int worker, uint64_t job, double cost)
{
    (void)job;
    const struct serve *s = ctx;
    return cost * s->unit[worker];
}

static void hook_result(void *ctx, struct cluster *cl, const struct cluster_result *r)
{
    struct serve *s = ctx;
    if (s->done)
        return;
    s->arrived |= 1ull << r->tag; /* the coded row, as the workload records it */
    if (s->ops->on_result(s->self, cl, r)) {
        s->done = true;
        cluster_job_finish(cl, r->job);
    }
}

static void hook_timer(void *ctx, struct cluster *cl, uint32_t job, int tag)
{
    struct serve *s = ctx;
    if (!s->done && s->ops->on_timer && s->ops->on_timer(s->self, cl, job, tag)) {
        s->done = true;
        cluster_job_finish(cl, job);
    }
}

/* Runs job `index` alone with the per-worker unit durations; returned gets
 * the coded rows that arrived before the scheme called it done. */
static int serve_arrivals(struct serve *s, uint64_t index, const double *unit, int *returned)
{
    s->unit = unit;
    s->done = false;
    s->arrived = 0;
    s->e = engine_new();
    struct cluster_config cfg = {.workers = s->workers, .slots = 1, .cancel = true,
                                 .job_state_bytes = s->ops->job_state_size(s->self)};
    struct cluster_hooks hooks = {.ctx = s, .duration = hook_duration, .result = hook_result,
                                  .timer = hook_timer};
    s->cl = cluster_new(s->e, &cfg, &hooks);
    cr_assert_not_null(s->cl);
    uint32_t job = cluster_job_open(s->cl, index);
    s->ops->job_start(s->self, s->cl, job);
    engine_run(s->e);
    cr_assert(s->done, "job %llu never finished", (unsigned long long)index);
    cluster_free(s->cl);
    engine_free(s->e);
    int nf = 0;
    for (int t = 0; t < 64; t++)
        if (s->arrived >> t & 1)
            returned[nf++] = t;
    return nf;
}

/* One job: encode K seeded queries, compute the coded outputs, arrive with
 * `unit`, decode, and compare all three stages with the oracle. `expect_nf`
 * is the arrived count worked out by hand from `unit`; extra(case) adds
 * scheme settings to the case. Returns the decoded outputs (K x m, malloc'd). */
static float *serve_job(struct serve *s, uint64_t index, const double *unit, int expect_nf,
                        void (*extra)(struct oracle_case *), double tol_decode)
{
    int K = s->inf.queries, n = s->inf.coded, d = s->inf.input_size, m = s->inf.outputs;
    float *X = malloc(sizeof *X * K * d), *Xc = malloc(sizeof *Xc * n * d);
    float *Yc = malloc(sizeof *Yc * n * m), *Y = malloc(sizeof *Y * K * m);
    struct rng g;
    rng_seed(&g, 5, index, RNG_DATA, 0);
    for (int i = 0; i < K * d; i++)
        X[i] = (float)rng_uniform(&g);
    s->ops->infer_encode(s->self, X, d, Xc);
    struct error err = {{0}};
    if (s->ops->infer_forward) {
        cr_assert_eq(s->ops->infer_forward(s->self, Xc, 1, Yc, &err), 0, "%s", err.msg);
    } else {
        const float *out;
        cr_assert_eq(model_forward(s->model, Xc, n, &out, &err), 0, "%s", err.msg);
        memcpy(Yc, out, sizeof *Yc * n * m);
    }
    int returned[64];
    int nf = serve_arrivals(s, index, unit, returned);
    cr_assert_eq(nf, expect_nf, "job %llu: %d results arrived, expected %d",
                 (unsigned long long)index, nf, expect_nf);
    cr_assert_eq(s->ops->infer_decode(s->self, returned, nf, Yc, m, Y, &err), 0, "%s", err.msg);

    struct oracle_case c;
    oracle_open(&c);
    oracle_str(&c, "scheme", s->ops->name);
    oracle_number(&c, "K", K);
    oracle_number(&c, "N", n);
    oracle_floats(&c, "X", X, K, d);
    oracle_floats(&c, "Xc", Xc, n, d);
    oracle_floats(&c, "Yc", Yc, n, m);
    oracle_ints(&c, "returned", returned, nf);
    if (s->weights[0])
        oracle_str(&c, "stem", s->weights);
    oracle_str(&c, "base", s->base);
    if (extra)
        extra(&c);
    oracle_run(&c, "inference_oracle.py");
    double *want = oracle_get(&c, "Xc", n, d);
    oracle_expect_close(Xc, want, (long)n * d, 1e-6, "encoded Xc");
    free(want);
    if (s->ops->infer_forward) {
        want = oracle_get(&c, "Yc", n, m);
        oracle_expect_close(Yc, want, (long)n * m, 1e-5, "workers' Yc");
        free(want);
    }
    want = oracle_get(&c, "Y", K, m);
    oracle_expect_close(Y, want, (long)K * m, tol_decode, "decoded Y");
    free(want);
    oracle_close(&c);
    free(X);
    free(Xc);
    free(Yc);
    return Y;
}

/* ---- the linear codes ---- */

static void nodes_n(struct oracle_case *c) { oracle_str(c, "nodes", "N"); }

Test(oracles, berrut_encodes_and_decodes_like_the_oracle)
{
    oracle_require();
    const char *kv[] = {"scheme.kind=berrut", "scheme.stragglers=2", "workload.queries=6", NULL};
    struct serve s;
    serve_open(&s, 8, "mlp", kv);
    /* workers 1 and 6 straggle: done at the 6th result, {0,2,3,4,5,7} */
    static const double unit[8] = {1, 9, 2, 3, 1.5, 2.5, 8, 1.2};
    free(serve_job(&s, 0, unit, 6, nodes_n, 1e-6));
    /* all but the last two (the Berrut decoder's signs follow positions) */
    static const double late[8] = {1, 1, 1, 1, 1, 1, 5, 6};
    free(serve_job(&s, 1, late, 6, nodes_n, 1e-6));
    serve_close(&s);
}

static void nercc_extra(struct oracle_case *c)
{
    oracle_str(c, "nodes", "N");
    oracle_number(c, "lambda_enc", 1e-3);
    oracle_number(c, "lambda_dec", 1e-2);
}

/* Fixed lambdas (no grid search), so the oracle's spline is determined.
 * The tolerance is float32 rounding of outputs of size ~10: a Berrut or an
 * interpolating decoder is off by orders of magnitude more. */
Test(oracles, nercc_encodes_and_decodes_like_the_oracle)
{
    oracle_require();
    const char *kv[] = {"scheme.kind=nercc", "scheme.stragglers=3", "workload.queries=8",
                        "scheme.lambda_enc=1e-3", "scheme.lambda_dec=1e-2", NULL};
    struct serve s;
    serve_open(&s, 11, "mlp", kv);
    /* stragglers 0, 5, 10: both end nodes lost, so the decoder extrapolates */
    static const double unit[11] = {9, 1, 1, 1, 1, 9, 1, 1, 1, 1, 9};
    free(serve_job(&s, 0, unit, 8, nercc_extra, 1e-6));
    static const double mid[11] = {1, 1, 1, 7, 8, 9, 1, 1, 1, 1, 1};
    free(serve_job(&s, 1, mid, 8, nercc_extra, 1e-6));
    serve_close(&s);
}

static void letcc_noiseless(struct oracle_case *c)
{
    oracle_str(c, "setting", "noiseless");
    oracle_str(c, "units", "workers");
    oracle_number(c, "stragglers", 3);
    oracle_number(c, "scale", 2.0);
}

static void letcc_noisy(struct oracle_case *c)
{
    oracle_str(c, "setting", "noisy");
    oracle_str(c, "units", "interval");
    oracle_number(c, "stragglers", 3);
    oracle_number(c, "scale", 1e-2);
}

/* lambda from the rule (N = 11, S = 3) and lambda_enc = lambda_dec, in the
 * default units (workers) and in the interval's: the oracle computes both
 * from the formulas, so the scheme's wiring of its keys is checked too. */
Test(oracles, letcc_encodes_and_decodes_like_the_oracle)
{
    oracle_require();
    const char *kv[] = {"scheme.kind=letcc", "scheme.stragglers=3", "workload.queries=8",
                        "scheme.lambda_scale=2", NULL};
    struct serve s;
    serve_open(&s, 11, "mlp", kv);
    static const double unit[11] = {9, 1, 1, 1, 1, 9, 1, 1, 1, 1, 9};
    free(serve_job(&s, 0, unit, 8, letcc_noiseless, 1e-6));
    serve_close(&s);
    const char *noisy[] = {"scheme.kind=letcc", "scheme.stragglers=3", "workload.queries=8",
                           "scheme.lambda_setting=noisy", "scheme.lambda_scale=1e-2",
                           "scheme.lambda_units=interval", NULL};
    serve_open(&s, 11, "mlp", noisy);
    static const double mid[11] = {1, 1, 1, 7, 8, 9, 1, 1, 1, 1, 1};
    free(serve_job(&s, 0, mid, 8, letcc_noisy, 1e-6));
    serve_close(&s);
}

Test(oracles, lagrange_encodes_and_decodes_like_the_oracle)
{
    oracle_require();
    /* approximate mode: all N - S = 5 returned results interpolated */
    const char *kv[] = {"scheme.kind=lagrange", "scheme.stragglers=2", "workload.queries=3", NULL};
    struct serve s;
    serve_open(&s, 7, "mlp", kv);
    static const double unit[7] = {1, 5, 1, 1, 6, 1, 1};
    free(serve_job(&s, 0, unit, 5, NULL, 1e-5));
    serve_close(&s);
}

static void bspline_default(struct oracle_case *c)
{
    oracle_str(c, "nodes", "N-1");
    oracle_number(c, "degree", 3);
    oracle_str(c, "boundary", "not-a-knot");
    oracle_str(c, "encoder", "berrut");
}

static void bspline_linear(struct oracle_case *c)
{
    bspline_default(c);
    oracle_str(c, "extrapolate", "linear");
}

static void bspline_lagrange_quintic(struct oracle_case *c)
{
    oracle_str(c, "nodes", "N-1");
    oracle_number(c, "degree", 5);
    oracle_str(c, "boundary", "not-a-knot");
    oracle_str(c, "encoder", "lagrange");
}

static void bspline_natural_spline(struct oracle_case *c)
{
    oracle_str(c, "nodes", "N-1");
    oracle_number(c, "degree", 3);
    oracle_str(c, "boundary", "natural");
    oracle_str(c, "encoder", "spline");
}

/* BSCC: the cubic B-spline decoder (SciPy's make_interp_spline) behind a
 * Berrut encoder (end pieces continued, or linear, beyond the returned
 * nodes), the natural variant behind the spline encoder, a quintic behind a
 * Lagrange encoder. */
Test(oracles, bspline_encodes_and_decodes_like_the_oracle)
{
    oracle_require();
    const char *kv[] = {"scheme.kind=bspline", "scheme.stragglers=3", "workload.queries=5", NULL};
    struct serve s;
    serve_open(&s, 10, "mlp", kv);
    /* stragglers 0, 1 and 6: the first data node lies beyond the returned
     * nodes, so the decoder extrapolates */
    static const double unit[10] = {9, 8, 1, 1, 1, 1, 7, 1, 1, 1};
    free(serve_job(&s, 0, unit, 7, bspline_default, 1e-5));
    serve_close(&s);
    const char *lin[] = {"scheme.kind=bspline", "scheme.stragglers=3", "workload.queries=5",
                         "scheme.extrapolate=linear", NULL};
    serve_open(&s, 10, "mlp", lin);
    free(serve_job(&s, 0, unit, 7, bspline_linear, 1e-5));
    serve_close(&s);
    const char *nat[] = {"scheme.kind=bspline", "scheme.stragglers=2", "workload.queries=6",
                         "scheme.boundary=natural", "scheme.encoder=spline", NULL};
    serve_open(&s, 9, "mlp", nat);
    static const double mid[9] = {1, 1, 1, 6, 1, 1, 1, 7, 1};
    free(serve_job(&s, 0, mid, 7, bspline_natural_spline, 1e-5));
    serve_close(&s);
    const char *lag[] = {"scheme.kind=bspline", "scheme.stragglers=2", "workload.queries=4",
                         "scheme.spline_degree=5", "scheme.encoder=lagrange", NULL};
    serve_open(&s, 9, "mlp", lag);
    free(serve_job(&s, 0, mid, 7, bspline_lagrange_quintic, 1e-5));
    serve_close(&s);
}

/* ---- the learned codes, with the shipped weights ---- */

Test(oracles, learned_lagrange_end_to_end)
{
    oracle_require();
    const char *kv[] = {"scheme.kind=learned-lagrange", "scheme.stragglers=3",
                        "workload.queries=4", "scheme.learned_weights=llc-n8-k4-r5", NULL};
    struct serve s;
    serve_open(&s, 8, "mlp", kv);
    static const double unit[8] = {1, 4, 1.1, 1.2, 5, 1.3, 6, 1.4};
    free(serve_job(&s, 0, unit, 5, NULL, 1e-5));
    static const double other[8] = {7, 1, 1, 8, 1, 1, 9, 1};
    free(serve_job(&s, 1, other, 5, NULL, 1e-5));
    serve_close(&s);
}

static void split_learned(struct oracle_case *c)
{
    oracle_str(c, "combine", "learned");
    oracle_str(c, "mask_input", "false");
}

static void split_average(struct oracle_case *c)
{
    oracle_str(c, "combine", "average");
}

Test(oracles, split_end_to_end)
{
    oracle_require();
    const char *kv[] = {"scheme.kind=split", "scheme.patches=4", "scheme.stragglers=1",
                        "workload.queries=1", "scheme.learned_weights=split-n4", NULL};
    struct serve s;
    serve_open(&s, 4, "mlp", kv);
    static const double slow2[4] = {1, 1, 3, 1}, slow0[4] = {4, 1, 1, 2};
    free(serve_job(&s, 0, slow2, 3, split_learned, 1e-5));
    free(serve_job(&s, 1, slow0, 3, split_learned, 1e-5));
    serve_close(&s);
    const char *avg[] = {"scheme.kind=split", "scheme.patches=4", "scheme.stragglers=1",
                         "workload.queries=1", "scheme.learned_weights=split-n4",
                         "scheme.combine=average", NULL};
    serve_open(&s, 4, "mlp", avg);
    free(serve_job(&s, 0, slow2, 3, split_average, 1e-5));
    serve_close(&s);
}

/* parm k = 2 on 6 workers: base instances 0..3, parity 4 and 5. Job 0: all
 * data outputs first (the parity is cancelled); job 1: the second query's
 * instance straggles, so it is decoded from the parity by subtraction. The
 * reconstruction metric compares the decoded argmax with the base model's
 * on the lost query, which the oracle's Y gives too. */
Test(oracles, parm_end_to_end)
{
    oracle_require();
    const char *kv[] = {"scheme.kind=parm", "scheme.k=2", "workload.queries=2",
                        "scheme.learned_weights=parm-add-k2", NULL};
    struct serve s;
    serve_open(&s, 6, "mlp", kv);
    cr_assert_eq(s.inf.coded, 3);
    /* least-loaded placement from an idle pool: queries on workers 0 and 1,
     * the parity on worker 4 */
    static const double data_first[6] = {1, 1, 1, 1, 5, 5};
    float *Y = serve_job(&s, 0, data_first, 2, NULL, 1e-5);
    for (int j = 0; j < 2; j++)
        s.ops->infer_scored(s.self, j, true);
    free(Y);
    /* round robin moved on: queries on workers 2 and 3, the parity on 5 */
    static const double lost_second[6] = {20, 20, 1, 20, 1.5, 1.5};
    Y = serve_job(&s, 1, lost_second, 2, NULL, 1e-5);
    for (int j = 0; j < 2; j++)
        s.ops->infer_scored(s.self, j, j == 0);
    free(Y);
    struct metric_list m = {0};
    s.ops->add_metrics(s.self, &m);
    cr_assert_float_eq(metric_list_get(&m, "parity_useful"), 0.5, 1e-12);
    cr_assert_float_eq(metric_list_get(&m, "reconstructed_fraction"), 0.25, 1e-12);
    cr_assert_float_eq(metric_list_get(&m, "degraded_accuracy"), 0.0, 1e-12);
    cr_assert_float_eq(metric_list_get(&m, "available_accuracy"), 1.0, 1e-12);
    metric_list_clear(&m);
    serve_close(&s);
}
