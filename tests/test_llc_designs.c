/* test_llc_designs.c: learned Lagrange coding's two system designs
 * (schemes/learned_lagrange_model.h). Feature design: with a linear
 * bias-free feature extractor and worker, the interpolated worker outputs
 * equal the worker on the features of each query exactly, from any R >= K
 * workers (g(f(u)) has degree K - 1 in z); the gradient through the
 * encoding and the interpolation against central differences. FLOP counts
 * of both designs against hand computation from the layer shapes. Shipped
 * weights: one trained set of each design served at several (N, R) without
 * retraining (the paper's flexibility), each its exact count of correct
 * test images; the scheme's serving path of the feature design (a job's
 * images carried in the task inputs, each worker extracting and encoding)
 * gives the logits of the model functions, and its FLOP metrics. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learned_nets.h"
#include "models/weights.h"
#include "schemes/learned_lagrange_model.h"
#include "schemes/scheme.h"
#include "base/metrics.h"
#include "base/params.h"
#include "base/rng.h"

/* Linear bias-free networks of the feature design (K = 3 of N = 6 workers,
 * 12 features, 10 outputs, recovery threshold R) and the worker on the
 * features of 3 random images x: direct (3 x 10). */
static struct llc_nets *linear_feature_nets(int R, float *x, float *direct)
{
    struct llc_shape shape = {3, 6, R, "dense10", "dense10", LLC_DESIGN_FEATURE, "dense12"};
    struct llc_nets *n;
    struct error err;
    cr_assert_eq(llc_nets_new(&shape, 1, &n, &err), STRAG_OK, "%s", err.msg);
    cr_assert_eq(n->width, 12);
    zero_bias(n->feature);
    zero_bias(n->worker);
    float f[3 * 12];
    random_images(x, 3, 9);
    const float *o;
    cr_assert_eq(model_forward(n->feature, x, 3, &o, &err), STRAG_OK, "%s", err.msg);
    memcpy(f, o, sizeof f);
    cr_assert_eq(model_forward(n->worker, f, 3, &o, &err), STRAG_OK, "%s", err.msg);
    memcpy(direct, o, 3 * 10 * sizeof *direct);
    return n;
}

Test(llc_feature, linear_networks_are_recovered_from_any_r_at_least_k)
{
    float x[3 * FMNIST_PIXELS], direct[3 * 10], g[4 * 10];
    struct llc_nets *n = linear_feature_nets(4, x, direct);
    struct error err;
    int subsets[3][4] = {{0, 1, 2, 3}, {2, 3, 4, 5}, {0, 2, 3, 5}};
    for (int t = 0; t < 3; t++) {
        cr_assert_eq(llc_workers_forward(n, x, subsets[t], 4, g, &err), STRAG_OK, "%s", err.msg);
        double worst = llc_interpolation_error(n, subsets[t], 4, g, direct);
        cr_assert_leq(worst, 1e-3, "subset %d: largest difference %g", t, worst);
    }
    llc_nets_free(n);
}

Test(llc_feature, fewer_than_k_results_do_not_recover)
{
    /* The same with R = 2 < K = 3: a degree-2 polynomial is not recovered
     * from 2 points (the test above is not vacuous). */
    float x[3 * FMNIST_PIXELS], direct[3 * 10], g[2 * 10];
    struct llc_nets *n = linear_feature_nets(2, x, direct);
    struct error err;
    int used[2] = {1, 4};
    cr_assert_eq(llc_workers_forward(n, x, used, 2, g, &err), STRAG_OK, "%s", err.msg);
    double worst = llc_interpolation_error(n, used, 2, g, direct);
    cr_assert_gt(worst, 1e-2);
    llc_nets_free(n);
}

/* ---- FLOPs against hand computation (a multiply-add is 2) ---- */

Test(llc_flops, input_design)
{
    /* K = 4, N = 8, R = 6; worker 784-200-100-10, decoder 10-64-10 */
    struct llc_shape shape = {4, 8, 6, LLC_DEFAULT_WORKER, LLC_DEFAULT_DECODER,
                              LLC_DESIGN_INPUT, NULL};
    struct llc_nets *n;
    struct error err;
    cr_assert_eq(llc_nets_new(&shape, 1, &n, &err), STRAG_OK, "%s", err.msg);
    struct llc_flops f = llc_flops_of(n);
    double encode = 2.0 * 8 * 4 * 784;              /* N coded queries of K images */
    double interpolate = 2.0 * 4 * 6 * 10;          /* K x R times R x 10 */
    double decode = 4 * 2.0 * (10 * 64 + 64 * 10);  /* K decoder passes */
    cr_assert_float_eq(f.master_job, encode + interpolate + decode, 1e-9);
    cr_assert_float_eq(f.master_job, 60896.0, 1e-9);
    cr_assert_float_eq(f.worker_task, 2.0 * (784 * 200 + 200 * 100 + 100 * 10), 1e-9);
    cr_assert_float_eq(f.worker_task, 355600.0, 1e-9);
    llc_nets_free(n);
}

Test(llc_flops, feature_design)
{
    /* K = 4, N = 8, R = 6; feature 784-64, worker 64-64-10, decoder 10-64-10 */
    struct llc_shape shape = {4, 8, 6, "dense64 relu dense10", LLC_DEFAULT_DECODER,
                              LLC_DESIGN_FEATURE, "dense64 relu"};
    struct llc_nets *n;
    struct error err;
    cr_assert_eq(llc_nets_new(&shape, 1, &n, &err), STRAG_OK, "%s", err.msg);
    struct llc_flops f = llc_flops_of(n);
    double interpolate = 2.0 * 4 * 6 * 10, decode = 4 * 2.0 * (10 * 64 + 64 * 10);
    cr_assert_float_eq(f.master_job, interpolate + decode, 1e-9);
    cr_assert_float_eq(f.master_job, 10720.0, 1e-9);
    double features = 4 * 2.0 * 784 * 64, encode = 2.0 * 4 * 64,
           head = 2.0 * (64 * 64 + 64 * 10);
    cr_assert_float_eq(f.worker_task, features + encode + head, 1e-9);
    cr_assert_float_eq(f.worker_task, 411392.0, 1e-9);
    llc_nets_free(n);
}

/* ---- the gradient through the encoding and the interpolation ---- */

Test(llc_feature, gradients_flow_through_encoding_and_interpolation)
{
    struct llc_shape shape = {3, 6, 4, "dense8 tanh dense6", "dense8 tanh dense10",
                              LLC_DESIGN_FEATURE, "dense5 tanh"};
    llc_check_gradients(&shape, 331, 5, 7);
}

/* ---- one trained weights set served at several (N, R): flexibility ---- */

TestSuite(llc_flexible, .init = load_test_set, .fini = free_test_set);

struct served {
    int N, R;
    long correct; /* of the 10,000 test images (seed 1's random R-subsets) */
};

/* Serves the weights `stem` (trained at N = 8, K = 4, R = 6) at each
 * served[i]'s (N, R): the nodes, E and D_F change, the weights do not.
 * Exact counts as for the other shipped files (test_learned.c: a kernel
 * may round one near-tie the other way), and each within `drop` of the
 * trained point's accuracy. */
static void serve_at(struct llc_shape shape, const char *stem, const struct served *served,
                     int count, double drop)
{
    double trained = NAN;
    for (int i = 0; i < count; i++) {
        shape.N = served[i].N;
        shape.R = served[i].R;
        struct llc_nets *n = llc_shipped(&shape, stem);
        double acc = llc_test_accuracy(n);
        long got = lround(acc * 10000);
        cr_log_info("%s served at N=%d R=%d: %ld", stem, shape.N, shape.R, got);
        cr_expect(labs(got - served[i].correct) <= 1, "%s at N=%d R=%d: %ld correct, not %ld",
                  stem, shape.N, shape.R, got, served[i].correct);
        if (shape.N == 8 && shape.R == 6)
            trained = acc;
        else
            cr_expect_geq(acc, trained - drop, "%s at N=%d R=%d: %.4f, trained point %.4f", stem,
                          shape.N, shape.R, acc, trained);
        llc_nets_free(n);
    }
}

/* first the trained point (N = 8, R = 6) */
static const struct served input_points[] = {
    {8, 6, 8662}, {8, 4, 8636}, {8, 8, 8672}, {12, 8, 8631}, {16, 8, 8552},
};
static const struct served feature_points[] = {
    {8, 6, 8815}, {8, 4, 8807}, {8, 8, 8819}, {12, 8, 8800}, {16, 8, 8757},
};

Test(llc_flexible, input_design_weights_serve_other_n_and_r)
{
    struct llc_shape shape = {4, 8, 6, LLC_DEFAULT_WORKER, LLC_DEFAULT_DECODER,
                              LLC_DESIGN_INPUT, NULL};
    serve_at(shape, "llc-n8-k4-r6", input_points, 5, 0.02);
}

Test(llc_flexible, feature_design_weights_serve_other_n_and_r)
{
    struct llc_shape shape = {4, 8, 6, "dense64 relu dense10", LLC_DEFAULT_DECODER,
                              LLC_DESIGN_FEATURE, "dense64 relu"};
    serve_at(shape, "llc-feature-n8-k4-r6", feature_points, 5, 0.02);
}

/* ---- the scheme serving the feature design ---- */

Test(llc_flexible, the_scheme_serves_the_feature_design_as_the_model_computes)
{
    char stem[8192];
    snprintf(stem, sizeof stem, "%s/llc-feature-n8-k4-r6", weights_dir);
    const char *kv[][2] = {
        {"scheme.kind", "learned-lagrange"}, {"scheme.design", "feature"},
        {"scheme.stragglers", "2"}, {"scheme.recovery_threshold", "6"},
        {"scheme.feature_model", "dense64 relu"}, {"scheme.worker_model", "dense64 relu dense10"},
        {"scheme.decoder_model", LLC_DEFAULT_DECODER}, {"scheme.learned_weights", stem},
        {"workload.queries", "4"}, {"workload.model", "mlp"},
    };
    struct params *p = params_new();
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        cr_assert_eq(params_set(p, kv[i][0], kv[i][1], "test.ini", (int)i + 1), 0);
    const struct scheme_ops *ops = scheme_find("learned-lagrange");
    cr_assert_not_null(ops);
    void *self = NULL;
    struct error err;
    struct scheme_env env = {.params = p, .workers = 8, .seed = 1, .point_key = 1};
    cr_assert_eq(ops->create(&env, &self, &err), STRAG_OK, "%s", err.msg);
    struct scheme_infer inf = {.queries = 4, .input_size = FMNIST_PIXELS, .outputs = 10};
    cr_assert_eq(ops->infer_prepare(self, &inf, &err), STRAG_OK, "%s", err.msg);
    cr_assert_eq(inf.coded, 8);

    static float X[4 * FMNIST_PIXELS], Xc[8 * FMNIST_PIXELS];
    float Yc[8 * 10], Y[4 * 10];
    memcpy(X, test_set.images, sizeof X);
    ops->infer_encode(self, X, FMNIST_PIXELS, Xc);
    cr_assert_eq(ops->infer_forward(self, Xc, 1, Yc, &err), STRAG_OK, "%s", err.msg);
    int returned[6] = {0, 1, 3, 4, 6, 7};
    float g[6 * 10];
    for (int l = 0; l < 6; l++)
        memcpy(g + l * 10, Yc + returned[l] * 10, 10 * sizeof *g);
    cr_assert_eq(ops->infer_decode(self, returned, 6, Yc, 10, Y, &err), STRAG_OK, "%s", err.msg);

    /* the same from the model functions */
    struct llc_shape shape = {4, 8, 6, "dense64 relu dense10", LLC_DEFAULT_DECODER,
                              LLC_DESIGN_FEATURE, "dense64 relu"};
    struct llc_nets *n = llc_shipped(&shape, "llc-feature-n8-k4-r6");
    /* all 8 workers in one batch, as served (a GEMM's rounding may depend
     * on the batch), then the returned rows */
    int all[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    float all_g[8 * 10], want_g[6 * 10], want[4 * 10];
    cr_assert_eq(llc_workers_forward(n, X, all, 8, all_g, &err), STRAG_OK, "%s", err.msg);
    for (int l = 0; l < 6; l++)
        memcpy(want_g + l * 10, all_g + returned[l] * 10, 10 * sizeof *want_g);
    cr_assert_eq(memcmp(g, want_g, sizeof g), 0, "worker outputs differ");
    cr_assert_eq(llc_decode(n, returned, 6, want_g, want, &err), STRAG_OK, "%s", err.msg);
    cr_assert_eq(memcmp(Y, want, sizeof Y), 0, "decoded logits differ");
    llc_nets_free(n);

    struct metric_list m = {0};
    ops->add_metrics(self, &m);
    cr_assert_float_eq(metric_list_get(&m, "task_flops"), 411392.0, 1e-9);
    cr_assert_float_eq(metric_list_get(&m, "master_flops_per_query"), 10720.0 / 4, 1e-9);
    cr_assert_float_eq(metric_list_get(&m, "worker_flops_per_query"), 411392.0 * 8 / 4, 1e-9);
    metric_list_clear(&m);
    ops->free(self);
    params_free(p);
}
