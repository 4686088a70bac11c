/* learned_nets.h: what test_learned.c and test_llc_designs.c (the learned
 * codes) both need: random images, zeroed biases, gradients against central
 * differences, learned-lagrange's interpolation error and gradient check
 * (either design), the shipped weights' directory with the Fashion-MNIST
 * test set, and a shipped learned-lagrange network loaded from it.
 * Header-only, for the test programs. */
#ifndef STRAG_TEST_LEARNED_NETS_H
#define STRAG_TEST_LEARNED_NETS_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "models/fmnist.h"
#include "schemes/learned_lagrange_model.h"

/* n uniform images (FMNIST_PIXELS values in [0, 1) each) from stream seed. */
static inline void random_images(float *x, int n, uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed, 0, RNG_DATA, 0);
    for (int i = 0; i < n * FMNIST_PIXELS; i++)
        x[i] = (float)rng_uniform(&r);
}

/* Zeroes every tensor whose name ends in ".bias". */
static inline void zero_bias(struct model *m)
{
    for (int t = 0; t < m->ntensors; t++)
        if (strstr(m->tensors[t].name, ".bias"))
            memset(m->params + m->tensors[t].offset, 0, m->tensors[t].count * sizeof(float));
}

/* A copy of m's gradients (the loss recomputed by check_grads overwrites them). */
static inline float *grads_copy(const struct model *m)
{
    float *g = malloc(m->nparams * sizeof *g);
    cr_assert_not_null(g);
    memcpy(g, m->grads, m->nparams * sizeof *g);
    return g;
}

/* Checks every `stride`-th parameter of m: d loss / d p from `grads`
 * against (loss(p + h) - loss(p - h)) / 2h, with loss_fn recomputing. */
static inline void check_grads(struct model *m, const float *grads, double (*loss_fn)(void *),
                               void *ctx, int stride, const char *what)
{
    const float h = 1e-2f;
    int checked = 0;
    for (size_t i = 0; i < m->nparams; i += (size_t)stride) {
        float keep = m->params[i];
        m->params[i] = keep + h;
        double up = loss_fn(ctx);
        m->params[i] = keep - h;
        double down = loss_fn(ctx);
        m->params[i] = keep;
        double numeric = (up - down) / (2 * h);
        cr_assert(fabs(numeric - grads[i]) <= 2e-3 + 0.05 * fabs(numeric),
                  "%s param %zu: analytic %g, numeric %g", what, i, grads[i], numeric);
        checked++;
    }
    cr_assert_gt(checked, 3);
}

/* The largest |D g - direct| over the K x 10 outputs: D the interpolation
 * matrix (K x R) of the workers used[0..R), g their outputs (R x 10),
 * direct the network on the K queries themselves (K x 10). A NaN counts as
 * an infinite difference. */
static inline double llc_interpolation_error(const struct llc_nets *n, const int *used, int R,
                                             const float *g, const float *direct)
{
    float D[LLC_MAX_WORKERS * LLC_MAX_WORKERS];
    struct error err;
    cr_assert_eq(llc_decoder_matrix(n, used, R, D, &err), STRAG_OK, "%s", err.msg);
    double worst = 0;
    for (int j = 0; j < n->K; j++)
        for (int c = 0; c < 10; c++) {
            float y = 0;
            for (int l = 0; l < R; l++)
                y += D[j * R + l] * g[l * 10 + c];
            double e = fabs(y - direct[j * 10 + c]);
            worst = isnan(e) ? INFINITY : fmax(worst, e);
        }
    return worst;
}

/* Two jobs of K = 3 images, each decoded from its own R = 4 of N = 6 workers. */
struct llc_case {
    struct llc_nets *n;
    float x[2 * 3 * FMNIST_PIXELS];
    int labels[2 * 3];
    int used[2 * 4];
};

static inline double llc_case_loss(void *ctx)
{
    struct llc_case *c = ctx;
    double loss;
    struct error err;
    cr_assert_eq(llc_loss_and_grad(c->n, c->x, c->labels, 2, c->used, &loss, &err), STRAG_OK,
                 "%s", err.msg);
    return loss;
}

/* learned-lagrange's joint loss (K = 3, N = 6, R = 4 in `shape`) against
 * central differences: every feature_stride-th parameter of the feature
 * extractor (the feature design's; 0 for the input design, which has
 * none), worker_stride-th of the worker, decoder_stride-th of the decoder. */
static inline void llc_check_gradients(const struct llc_shape *shape, int feature_stride,
                                       int worker_stride, int decoder_stride)
{
    static struct llc_case c = {.labels = {1, 4, 7, 2, 9, 0}, .used = {0, 1, 3, 4, 1, 2, 3, 5}};
    struct error err;
    cr_assert_eq(llc_nets_new(shape, 3, &c.n, &err), STRAG_OK, "%s", err.msg);
    cr_assert_eq(c.n->feature != NULL, feature_stride > 0);
    random_images(c.x, 6, 11);
    llc_case_loss(&c);
    float *gf = c.n->feature ? grads_copy(c.n->feature) : NULL;
    float *gw = grads_copy(c.n->worker), *gd = grads_copy(c.n->decoder);
    if (gf)
        check_grads(c.n->feature, gf, llc_case_loss, &c, feature_stride, "feature");
    check_grads(c.n->worker, gw, llc_case_loss, &c, worker_stride, "worker");
    check_grads(c.n->decoder, gd, llc_case_loss, &c, decoder_stride, "decoder");
    free(gf);
    free(gw);
    free(gd);
    llc_nets_free(c.n);
}

/* ---- the shipped weights and the test set ---- */

static struct fmnist test_set;
static char weights_dir[4096];

/* weights_dir: models/weights of $STRAGSIM_SOURCE_ROOT (meson test sets it). */
static inline void weights_dir_set(void)
{
    const char *root = getenv("STRAGSIM_SOURCE_ROOT");
    cr_assert_not_null(root, "STRAGSIM_SOURCE_ROOT is not set (run through meson test)");
    snprintf(weights_dir, sizeof weights_dir, "%s/models/weights", root);
}

/* A suite's .init and .fini for tests on the shipped weights and the test set. */
static inline void load_test_set(void)
{
    struct error err;
    cr_assert_eq(fmnist_load(NULL, FMNIST_TEST, &test_set, &err), STRAG_OK, "%s", err.msg);
    weights_dir_set();
}

static inline void free_test_set(void) { fmnist_free(&test_set); }

/* The learned-lagrange networks of `shape` with the shipped weights `stem`
 * (a stem under weights_dir). */
static inline struct llc_nets *llc_shipped(const struct llc_shape *shape, const char *stem)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", weights_dir, stem);
    struct llc_nets *n;
    struct error err;
    cr_assert_eq(llc_nets_new(shape, 1, &n, &err), STRAG_OK, "%s", err.msg);
    cr_assert_eq(llc_nets_load(n, path, &err), STRAG_OK, "%s", err.msg);
    return n;
}

/* The accuracy on the whole test set of the networks (seed 1's random
 * R-subsets of the workers). */
static inline double llc_test_accuracy(struct llc_nets *n)
{
    double acc;
    struct error err;
    cr_assert_eq(llc_evaluate(n, &test_set, NULL, test_set.n, 1, &acc, &err), STRAG_OK, "%s",
                 err.msg);
    return acc;
}

#endif
