/* test_layers.c: every layer's forward against a naive loop, every backward
 * against central finite differences, and the optimisers against values
 * worked out by hand.
 *
 * Gradient checks use the scalar L = sum(out * R) for a fixed random R, so
 * dout = R; L is summed in double, eps = 1e-2, and the error is measured
 * relative to the largest analytic gradient (max-abs), < 1e-3. Inputs of
 * ReLU and max pooling are drawn away from kinks and ties (distinct values
 * at least 0.05 apart, |x| >= 0.05) so a +-eps step never crosses one.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/layers.h"
#include "models/optim.h"
#include "base/rng.h"

#define EPS 1e-2f
#define TOL 1e-3

static struct rng test_rng(uint32_t index)
{
    struct rng r;
    rng_seed(&r, 42, 7, RNG_INIT, index);
    return r;
}

static float *randn(struct rng *r, size_t n)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        x[i] = (float)rng_normal(r);
    return x;
}

/* Distinct values spaced 0.05 apart, no value within 0.025 of zero, in random order. */
static float *distinct(struct rng *r, size_t n)
{
    int *perm = malloc(sizeof(int) * n);
    for (size_t i = 0; i < n; i++)
        perm[i] = (int)i;
    rng_shuffle_int(r, perm, n);
    float *x = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((perm[i] - (double)(n / 2) + 0.5) * 0.05);
    free(perm);
    return x;
}

static float max_abs_diff(const float *a, const float *b, size_t n)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++)
        m = fmaxf(m, fabsf(a[i] - b[i]));
    return m;
}

/* ---- finite differences ---- */

/* L(ctx) = sum(out * R) after a forward that reads the perturbed vector. */
typedef double (*loss_fn)(void *ctx);

static double dot_loss(const float *out, const float *R, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)out[i] * R[i];
    return s;
}

/* Checks analytic[i] against (L(v+eps) - L(v-eps)) / 2eps for every i. */
static void check_grad(const char *what, float *v, size_t n, const float *analytic, loss_fn loss,
                       void *ctx)
{
    double scale = 0.0, worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(analytic[i]));
    cr_assert(scale > 0.0, "%s: analytic gradient is all zero", what);
    for (size_t i = 0; i < n; i++) {
        float keep = v[i];
        v[i] = keep + EPS;
        double up = loss(ctx);
        v[i] = keep - EPS;
        double down = loss(ctx);
        v[i] = keep;
        double num = (up - down) / (2.0 * EPS);
        double err = fabs(num - analytic[i]) / scale;
        if (err > worst) {
            worst = err;
            at = i;
        }
    }
    cr_expect(worst < TOL, "%s: relative error %.3g at %zu (analytic %g)", what, worst, at,
              (double)analytic[at]);
}

/* ---- dense ---- */

struct dense_case {
    int B, C, OC;
    float *inp, *w, *b, *out, *R;
};

static double dense_loss(void *p)
{
    struct dense_case *c = p;
    dense_forward(c->out, c->inp, c->w, c->b, c->B, c->C, c->OC);
    return dot_loss(c->out, c->R, (size_t)c->B * c->OC);
}

Test(dense, forward_matches_naive_loop)
{
    struct rng r = test_rng(1);
    int B = 5, C = 7, OC = 4;
    float *inp = randn(&r, (size_t)B * C), *w = randn(&r, (size_t)OC * C), *b = randn(&r, OC);
    float out[5 * 4];
    dense_forward(out, inp, w, b, B, C, OC);
    for (int i = 0; i < B; i++)
        for (int o = 0; o < OC; o++) {
            double s = b[o];
            for (int k = 0; k < C; k++)
                s += (double)inp[i * C + k] * w[o * C + k];
            cr_expect_float_eq(out[i * OC + o], s, 1e-5, "out[%d][%d]", i, o);
        }
    dense_forward(out, inp, w, NULL, B, C, OC); // no bias
    double s = 0.0;
    for (int k = 0; k < C; k++)
        s += (double)inp[k] * w[k];
    cr_expect_float_eq(out[0], s, 1e-5);
    free(inp), free(w), free(b);
}

Test(dense, backward_matches_finite_differences)
{
    struct rng r = test_rng(2);
    struct dense_case c = { .B = 3, .C = 6, .OC = 5 };
    c.inp = randn(&r, 18), c.w = randn(&r, 30), c.b = randn(&r, 5), c.out = malloc(sizeof(float) * 15);
    c.R = randn(&r, 15);
    float dinp[18], dw[30] = { 0 }, db[5] = { 0 };
    dense_backward(dinp, dw, db, c.R, c.inp, c.w, c.B, c.C, c.OC);
    check_grad("dense dinp", c.inp, 18, dinp, dense_loss, &c);
    check_grad("dense dweight", c.w, 30, dw, dense_loss, &c);
    check_grad("dense dbias", c.b, 5, db, dense_loss, &c);
    // parameter gradients accumulate, the input gradient is overwritten
    float dw2[30], db2[5], dinp2[18];
    memcpy(dw2, dw, sizeof dw), memcpy(db2, db, sizeof db);
    for (int i = 0; i < 18; i++)
        dinp2[i] = 1e6f;
    dense_backward(dinp2, dw2, db2, c.R, c.inp, c.w, c.B, c.C, c.OC);
    for (int i = 0; i < 30; i++)
        cr_expect_float_eq(dw2[i], 2.0f * dw[i], 1e-5);
    for (int i = 0; i < 5; i++)
        cr_expect_float_eq(db2[i], 2.0f * db[i], 1e-5);
    cr_expect(max_abs_diff(dinp, dinp2, 18) < 1e-6f);
    free(c.inp), free(c.w), free(c.b), free(c.out), free(c.R);
}

/* L(w) + wd/2 ||w||^2: the objective SGD with L2 weight decay descends. */
struct decay_case {
    struct dense_case *dense;
    float wd;
};

static double decayed_loss(void *p)
{
    struct decay_case *c = p;
    double l2 = 0.0;
    for (int i = 0; i < c->dense->OC * c->dense->C; i++)
        l2 += (double)c->dense->w[i] * c->dense->w[i];
    return dense_loss(c->dense) + 0.5 * c->wd * l2;
}

Test(optim, weight_decay_step_is_the_gradient_of_the_l2_objective)
{
    // one plain SGD step moves the weights by -lr times the gradient of
    // L + wd/2 ||w||^2, which finite differences of that objective give
    struct rng r = test_rng(12);
    struct dense_case c = { .B = 3, .C = 6, .OC = 5 };
    c.inp = randn(&r, 18), c.w = randn(&r, 30), c.b = NULL, c.out = malloc(sizeof(float) * 15);
    c.R = randn(&r, 15);
    float dw[30] = { 0 }, w[30], step[30];
    dense_backward(NULL, dw, NULL, c.R, c.inp, c.w, c.B, c.C, c.OC);
    struct optim_config cfg = optim_config_default(OPTIM_SGD);
    cfg.lr = 0.5f, cfg.weight_decay = 0.3f;
    struct optim *o;
    struct error err;
    cr_assert_eq(optim_new(&o, &cfg, 30, &err), 0);
    memcpy(w, c.w, sizeof w);
    optim_step(o, w, dw);
    for (int i = 0; i < 30; i++)
        step[i] = (c.w[i] - w[i]) / cfg.lr;
    struct decay_case dc = { &c, cfg.weight_decay };
    check_grad("sgd + weight decay", c.w, 30, step, decayed_loss, &dc);
    // set later (a tuner): the next step uses the new decay
    optim_set_weight_decay(o, 0.0f);
    float w2[30];
    memcpy(w2, w, sizeof w2);
    optim_step(o, w2, dw);
    for (int i = 0; i < 30; i++)
        cr_expect_float_eq(w2[i], w[i] - cfg.lr * dw[i], 1e-6);
    optim_free(o);
    free(c.inp), free(c.w), free(c.out), free(c.R);
}

/* ---- conv2d ---- */

struct conv_case {
    struct conv2d_dims d;
    int B;
    float *inp, *w, *b, *out, *R, *col;
};

static void conv_naive(float *out, const float *inp, const float *w, const float *b,
                       const struct conv2d_dims *d, int B)
{
    for (int n = 0; n < B; n++)
        for (int o = 0; o < d->OC; o++)
            for (int oy = 0; oy < d->OH; oy++)
                for (int ox = 0; ox < d->OW; ox++) {
                    double s = b ? b[o] : 0.0;
                    for (int c = 0; c < d->C; c++)
                        for (int ky = 0; ky < d->K; ky++)
                            for (int kx = 0; kx < d->K; kx++) {
                                int iy = oy * d->stride - d->pad + ky, ix = ox * d->stride - d->pad + kx;
                                if (iy < 0 || iy >= d->H || ix < 0 || ix >= d->W)
                                    continue;
                                s += (double)inp[((n * d->C + c) * d->H + iy) * d->W + ix] *
                                     w[((o * d->C + c) * d->K + ky) * d->K + kx];
                            }
                    out[((n * d->OC + o) * d->OH + oy) * d->OW + ox] = (float)s;
                }
}

static double conv_loss(void *p)
{
    struct conv_case *c = p;
    conv2d_forward(c->out, c->col, c->inp, c->w, c->b, &c->d, c->B);
    return dot_loss(c->out, c->R, (size_t)c->B * c->d.OC * c->d.OH * c->d.OW);
}

/* B, C, H, W, OC, K, stride, pad: covers padding, strides, K = 1, a kernel
 * as large as the padded input, non-square images, and batches that span
 * several chunks (large images) with a partial last chunk. */
static const int conv_shapes[][8] = {
    { 2, 2, 7, 6, 3, 3, 1, 1 }, { 3, 1, 8, 8, 2, 5, 1, 2 }, { 2, 3, 9, 7, 4, 3, 2, 0 },
    { 2, 2, 9, 9, 3, 3, 2, 1 }, { 1, 2, 5, 5, 3, 1, 1, 0 }, { 2, 1, 4, 5, 2, 6, 1, 1 },
    { 2, 2, 10, 8, 2, 4, 3, 2 }, { 3, 3, 32, 32, 5, 5, 1, 2 }, { 7, 2, 20, 20, 4, 3, 1, 1 },
};

static void conv_case_new(struct conv_case *c, const int *s, struct rng *r)
{
    cr_assert_eq(conv2d_dims_make(&c->d, s[1], s[2], s[3], s[4], s[5], s[6], s[7]), 0);
    c->B = s[0];
    size_t nin = (size_t)c->B * s[1] * s[2] * s[3], nout = (size_t)c->B * s[4] * c->d.OH * c->d.OW;
    c->inp = randn(r, nin);
    c->w = randn(r, (size_t)s[4] * s[1] * s[5] * s[5]);
    c->b = randn(r, (size_t)s[4]);
    c->out = malloc(sizeof(float) * nout);
    c->R = randn(r, nout);
    c->col = malloc(sizeof(float) * conv2d_col_size(&c->d, c->B));
}

static void conv_case_free(struct conv_case *c)
{
    free(c->inp), free(c->w), free(c->b), free(c->out), free(c->R), free(c->col);
}

Test(conv2d, dims_and_bad_shapes)
{
    struct conv2d_dims d;
    cr_assert_eq(conv2d_dims_make(&d, 1, 28, 28, 6, 5, 1, 2), 0);
    cr_expect_eq(d.OH, 28);
    cr_expect_eq(d.OW, 28);
    cr_assert_eq(conv2d_dims_make(&d, 6, 14, 14, 16, 5, 1, 0), 0);
    cr_expect_eq(d.OH, 10);
    cr_assert_eq(conv2d_dims_make(&d, 1, 9, 7, 1, 3, 2, 1), 0);
    cr_expect_eq(d.OH, 5);
    cr_expect_eq(d.OW, 4);
    cr_expect_eq(conv2d_dims_make(&d, 1, 4, 4, 1, 5, 1, 0), -1);
    cr_expect_eq(conv2d_dims_make(&d, 1, 4, 4, 1, 3, 0, 0), -1);
    cr_expect_eq(conv2d_dims_make(&d, 0, 4, 4, 1, 3, 1, 0), -1);
    cr_expect_eq(conv2d_dims_make(&d, 1, 4, 4, 1, 3, 1, -1), -1);
}

Test(conv2d, forward_matches_naive_loop)
{
    struct rng r = test_rng(3);
    for (size_t k = 0; k < sizeof conv_shapes / sizeof conv_shapes[0]; k++) {
        struct conv_case c;
        conv_case_new(&c, conv_shapes[k], &r);
        size_t nout = (size_t)c.B * c.d.OC * c.d.OH * c.d.OW;
        float *ref = malloc(sizeof(float) * nout);
        conv_naive(ref, c.inp, c.w, c.b, &c.d, c.B);
        conv2d_forward(c.out, c.col, c.inp, c.w, c.b, &c.d, c.B);
        cr_expect(max_abs_diff(ref, c.out, nout) < 1e-4f, "shape %zu: max diff %g", k,
                  (double)max_abs_diff(ref, c.out, nout));
        conv_naive(ref, c.inp, c.w, NULL, &c.d, c.B);
        conv2d_forward(c.out, c.col, c.inp, c.w, NULL, &c.d, c.B);
        cr_expect(max_abs_diff(ref, c.out, nout) < 1e-4f, "shape %zu without bias", k);
        free(ref);
        conv_case_free(&c);
    }
}

Test(conv2d, backward_matches_finite_differences)
{
    struct rng r = test_rng(4);
    // the big shapes only need their forward checked; keep this test fast
    for (size_t k = 0; k < 7; k++) {
        struct conv_case c;
        conv_case_new(&c, conv_shapes[k], &r);
        size_t nin = (size_t)c.B * c.d.C * c.d.H * c.d.W, nw = (size_t)c.d.OC * c.d.C * c.d.K * c.d.K;
        float *dinp = malloc(sizeof(float) * nin), *dw = calloc(nw, sizeof(float));
        float *db = calloc((size_t)c.d.OC, sizeof(float));
        conv2d_backward(dinp, dw, db, c.R, c.inp, c.w, c.col, &c.d, c.B);
        char what[64];
        snprintf(what, sizeof what, "conv shape %zu dinp", k);
        check_grad(what, c.inp, nin, dinp, conv_loss, &c);
        snprintf(what, sizeof what, "conv shape %zu dweight", k);
        check_grad(what, c.w, nw, dw, conv_loss, &c);
        snprintf(what, sizeof what, "conv shape %zu dbias", k);
        check_grad(what, c.b, (size_t)c.d.OC, db, conv_loss, &c);
        // dinp NULL skips the input gradient but still accumulates the others
        conv2d_backward(NULL, dw, db, c.R, c.inp, c.w, c.col, &c.d, c.B);
        float *dw1 = calloc(nw, sizeof(float));
        conv2d_backward(dinp, dw1, NULL, c.R, c.inp, c.w, c.col, &c.d, c.B);
        for (size_t i = 0; i < nw; i++)
            cr_expect_float_eq(dw[i], 2.0f * dw1[i], 1e-4, "shape %zu: dweight accumulates", k);
        free(dinp), free(dw), free(db), free(dw1);
        conv_case_free(&c);
    }
}

Test(conv2d, backward_across_chunks)
{
    // shape 8: 7 images of 20x20, several per chunk with a partial last one
    struct rng r = test_rng(5);
    struct conv_case c;
    conv_case_new(&c, conv_shapes[8], &r);
    size_t nin = (size_t)c.B * c.d.C * c.d.H * c.d.W, nw = (size_t)c.d.OC * c.d.C * 9;
    float *dinp = malloc(sizeof(float) * nin), *dw = calloc(nw, sizeof(float));
    float *db = calloc((size_t)c.d.OC, sizeof(float));
    conv2d_backward(dinp, dw, db, c.R, c.inp, c.w, c.col, &c.d, c.B);
    check_grad("chunked conv dweight", c.w, nw, dw, conv_loss, &c);
    check_grad("chunked conv dbias", c.b, (size_t)c.d.OC, db, conv_loss, &c);
    // the input gradient of the last image (the partial chunk) only
    size_t last = nin / (size_t)c.B;
    float *tail = c.inp + nin - last;
    check_grad("chunked conv dinp (last image)", tail, last, dinp + nin - last, conv_loss, &c);
    free(dinp), free(dw), free(db);
    conv_case_free(&c);
}

/* ---- pooling ---- */

struct pool_case {
    int B, C, H, W, K, S, max;
    float *inp, *out, *R;
};

static void pool_forward(struct pool_case *c)
{
    if (c->max)
        maxpool_forward(c->out, c->inp, c->B, c->C, c->H, c->W, c->K, c->S);
    else
        avgpool_forward(c->out, c->inp, c->B, c->C, c->H, c->W, c->K, c->S);
}

static double pool_loss(void *p)
{
    struct pool_case *c = p;
    pool_forward(c);
    int OH = pool_out_size(c->H, c->K, c->S), OW = pool_out_size(c->W, c->K, c->S);
    return dot_loss(c->out, c->R, (size_t)c->B * c->C * OH * OW);
}

/* B, C, H, W, K, S: 2x2/2, overlapping 3x3/2 and 3x3/1, gaps (S > K), odd sizes. */
static const int pool_shapes[][6] = {
    { 2, 3, 6, 6, 2, 2 }, { 2, 2, 7, 5, 3, 2 }, { 1, 2, 5, 6, 3, 1 }, { 2, 1, 8, 7, 2, 3 },
    { 1, 2, 7, 7, 2, 2 },
};

Test(pool, forward_matches_naive_loop)
{
    struct rng r = test_rng(6);
    for (size_t k = 0; k < sizeof pool_shapes / sizeof pool_shapes[0]; k++) {
        const int *s = pool_shapes[k];
        int B = s[0], C = s[1], H = s[2], W = s[3], K = s[4], S = s[5];
        int OH = pool_out_size(H, K, S), OW = pool_out_size(W, K, S);
        float *inp = randn(&r, (size_t)B * C * H * W);
        float *mx = malloc(sizeof(float) * B * C * OH * OW), *av = malloc(sizeof(float) * B * C * OH * OW);
        maxpool_forward(mx, inp, B, C, H, W, K, S);
        avgpool_forward(av, inp, B, C, H, W, K, S);
        for (int p = 0; p < B * C; p++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    float best = -INFINITY;
                    double sum = 0.0;
                    for (int ky = 0; ky < K; ky++)
                        for (int kx = 0; kx < K; kx++) {
                            float v = inp[(p * H + oy * S + ky) * W + ox * S + kx];
                            best = fmaxf(best, v);
                            sum += v;
                        }
                    int o = (p * OH + oy) * OW + ox;
                    cr_expect_eq(mx[o], best, "shape %zu max at %d", k, o);
                    cr_expect_float_eq(av[o], sum / (K * K), 1e-6, "shape %zu avg at %d", k, o);
                }
        free(inp), free(mx), free(av);
    }
    cr_expect_eq(pool_out_size(28, 2, 2), 14);
    cr_expect_eq(pool_out_size(7, 2, 2), 3);
    cr_expect_eq(pool_out_size(1, 2, 2), 0);
}

Test(pool, backward_matches_finite_differences)
{
    struct rng r = test_rng(7);
    for (size_t k = 0; k < sizeof pool_shapes / sizeof pool_shapes[0]; k++) {
        for (int max = 0; max <= 1; max++) {
            const int *s = pool_shapes[k];
            struct pool_case c = { s[0], s[1], s[2], s[3], s[4], s[5], max, NULL, NULL, NULL };
            int OH = pool_out_size(c.H, c.K, c.S), OW = pool_out_size(c.W, c.K, c.S);
            size_t nin = (size_t)c.B * c.C * c.H * c.W, nout = (size_t)c.B * c.C * OH * OW;
            c.inp = distinct(&r, nin); // no ties: a +-eps step never changes a window's argmax
            c.out = malloc(sizeof(float) * nout);
            c.R = randn(&r, nout);
            float *dinp = malloc(sizeof(float) * nin);
            pool_forward(&c);
            if (max)
                maxpool_backward(dinp, c.R, c.inp, c.out, c.B, c.C, c.H, c.W, c.K, c.S);
            else
                avgpool_backward(dinp, c.R, c.B, c.C, c.H, c.W, c.K, c.S);
            char what[64];
            snprintf(what, sizeof what, "%s shape %zu", max ? "maxpool" : "avgpool", k);
            check_grad(what, c.inp, nin, dinp, pool_loss, &c);
            free(c.inp), free(c.out), free(c.R), free(dinp);
        }
    }
}

Test(pool, maxpool_tie_goes_to_first_element)
{
    float inp[4] = { 1.0f, 3.0f, 3.0f, 3.0f }, out[1], dout[1] = { 2.0f }, dinp[4];
    maxpool_forward(out, inp, 1, 1, 2, 2, 2, 2);
    maxpool_backward(dinp, dout, inp, out, 1, 1, 2, 2, 2, 2);
    cr_expect_eq(out[0], 3.0f);
    cr_expect_eq(dinp[0], 0.0f);
    cr_expect_eq(dinp[1], 2.0f);
    cr_expect_eq(dinp[2], 0.0f);
    cr_expect_eq(dinp[3], 0.0f);
}

/* ---- activations ---- */

enum act { ACT_RELU, ACT_TANH, ACT_SQUARE };

struct act_case {
    enum act kind;
    size_t n;
    float *inp, *out, *R;
};

static void act_forward(enum act kind, float *out, const float *inp, size_t n)
{
    if (kind == ACT_RELU)
        relu_forward(out, inp, n);
    else if (kind == ACT_TANH)
        tanh_forward(out, inp, n);
    else
        square_forward(out, inp, n);
}

static double act_loss(void *p)
{
    struct act_case *c = p;
    act_forward(c->kind, c->out, c->inp, c->n);
    return dot_loss(c->out, c->R, c->n);
}

Test(activations, forward_matches_naive)
{
    struct rng r = test_rng(8);
    size_t n = 37;
    float *x = randn(&r, n), *y = malloc(sizeof(float) * n);
    relu_forward(y, x, n);
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(y[i], x[i] > 0 ? x[i] : 0.0f);
    tanh_forward(y, x, n);
    for (size_t i = 0; i < n; i++)
        cr_expect_float_eq(y[i], tanh((double)x[i]), 1e-6);
    square_forward(y, x, n);
    for (size_t i = 0; i < n; i++)
        cr_expect_float_eq(y[i], (double)x[i] * x[i], 1e-6);
    // in place
    memcpy(y, x, sizeof(float) * n);
    relu_forward(y, y, n);
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(y[i], x[i] > 0 ? x[i] : 0.0f);
    free(x), free(y);
}

Test(activations, backward_matches_finite_differences)
{
    struct rng r = test_rng(9);
    const char *names[] = { "relu", "tanh", "square" };
    for (int kind = ACT_RELU; kind <= ACT_SQUARE; kind++) {
        struct act_case c = { (enum act)kind, 41, NULL, NULL, NULL };
        c.inp = distinct(&r, c.n); // |x| >= 0.025 > eps: no step crosses ReLU's kink
        c.out = malloc(sizeof(float) * c.n);
        c.R = randn(&r, c.n);
        float *dinp = malloc(sizeof(float) * c.n);
        act_forward(c.kind, c.out, c.inp, c.n);
        if (kind == ACT_RELU)
            relu_backward(dinp, c.R, c.out, c.n);
        else if (kind == ACT_TANH)
            tanh_backward(dinp, c.R, c.out, c.n);
        else
            square_backward(dinp, c.R, c.inp, c.n);
        check_grad(names[kind], c.inp, c.n, dinp, act_loss, &c);
        free(c.inp), free(c.out), free(c.R), free(dinp);
    }
}

/* ---- dropout ---- */

struct dropout_case {
    size_t n;
    float p;
    uint32_t seed;
    float *inp, *out, *mask, *R;
};

static double dropout_loss(void *p)
{
    struct dropout_case *c = p;
    struct rng r = test_rng(c->seed); // the same mask at every evaluation
    dropout_forward(c->out, c->mask, c->inp, c->n, c->p, &r);
    return dot_loss(c->out, c->R, c->n);
}

Test(dropout, forward_keeps_one_minus_p_scaled_and_backward_matches_finite_differences)
{
    struct rng r = test_rng(31);
    struct dropout_case c = { 4000, 0.3f, 77, NULL, NULL, NULL, NULL };
    c.inp = randn(&r, c.n);
    c.out = malloc(sizeof(float) * c.n);
    c.mask = malloc(sizeof(float) * c.n);
    c.R = randn(&r, c.n);
    dropout_loss(&c);
    size_t zeroed = 0;
    for (size_t i = 0; i < c.n; i++) {
        zeroed += c.mask[i] == 0.0f;
        cr_expect(c.mask[i] == 0.0f || c.mask[i] == 1.0f / 0.7f, "mask %g", (double)c.mask[i]);
        cr_expect_eq(c.out[i], c.inp[i] * c.mask[i]);
    }
    // Binomial(4000, 0.3): sd 29; 6 sd either side
    cr_expect(zeroed > 1026 && zeroed < 1374, "%zu of 4000 zeroed at p = 0.3", zeroed);
    float *dinp = malloc(sizeof(float) * c.n);
    dropout_backward(dinp, c.R, c.mask, c.n);
    check_grad("dropout", c.inp, 200, dinp, dropout_loss, &c);
    // p = 0: the identity, and no draw taken from the stream
    struct rng a = test_rng(5), b = test_rng(5);
    dropout_forward(c.out, c.mask, c.inp, c.n, 0.0f, &a);
    cr_expect(memcmp(c.out, c.inp, sizeof(float) * c.n) == 0);
    cr_expect_eq(rng_next(&a), rng_next(&b));
    free(c.inp), free(c.out), free(c.mask), free(c.R), free(dinp);
}

/* ---- losses ---- */

struct ce_case {
    int B, V;
    const int *labels;
    float *logits, *probs;
};

static double ce_loss(void *p)
{
    struct ce_case *c = p;
    // the mean loss; in double from the logits so the check sees no float rounding
    double total = 0.0;
    for (int b = 0; b < c->B; b++) {
        const float *z = c->logits + b * c->V;
        double m = z[0], s = 0.0;
        for (int v = 1; v < c->V; v++)
            m = fmax(m, z[v]);
        for (int v = 0; v < c->V; v++)
            s += exp(z[v] - m);
        total += -(z[c->labels[b]] - m - log(s));
    }
    return total / c->B;
}

Test(crossentropy, forward_matches_naive_and_backward_matches_finite_differences)
{
    struct rng r = test_rng(10);
    int labels[4] = { 3, 0, 9, 5 };
    struct ce_case c = { 4, 10, labels, randn(&r, 40), malloc(sizeof(float) * 40) };
    for (int i = 0; i < 40; i++)
        c.logits[i] *= 3.0f;
    c.logits[0] = 80.0f; // a large logit must not overflow exp
    float losses[4], dlogits[40];
    float mean = crossentropy_forward(losses, c.probs, c.logits, labels, 4, 10);
    cr_expect_float_eq(mean, ce_loss(&c), 1e-5);
    for (int b = 0; b < 4; b++) {
        double s = 0.0;
        for (int v = 0; v < 10; v++)
            s += c.probs[b * 10 + v];
        cr_expect_float_eq(s, 1.0, 1e-5, "row %d sums to 1", b);
        cr_expect_float_eq(losses[b], -log(c.probs[b * 10 + labels[b]]), 1e-4);
    }
    crossentropy_backward(dlogits, c.probs, labels, 4, 10, 0.25f);
    check_grad("crossentropy dlogits", c.logits, 40, dlogits, ce_loss, &c);
    // a known value: uniform logits over V classes give log V
    float z[3] = { 0.5f, 0.5f, 0.5f }, p3[3];
    int y = 1;
    cr_expect_float_eq(crossentropy_forward(NULL, p3, z, &y, 1, 3), log(3.0), 1e-6);
    free(c.logits), free(c.probs);
}

struct mse_case {
    float *out, *target;
    size_t n;
};

static double mse_loss(void *p)
{
    struct mse_case *c = p;
    double s = 0.0;
    for (size_t i = 0; i < c->n; i++)
        s += ((double)c->out[i] - c->target[i]) * ((double)c->out[i] - c->target[i]);
    return s / (double)c->n;
}

Test(mse, forward_and_backward)
{
    struct rng r = test_rng(11);
    struct mse_case c = { randn(&r, 12), randn(&r, 12), 12 };
    float d[12];
    cr_expect_float_eq(mse_forward(c.out, c.target, 12), mse_loss(&c), 1e-6);
    mse_backward(d, c.out, c.target, 12, 1.0f / 12.0f);
    check_grad("mse dout", c.out, 12, d, mse_loss, &c);
    float a[2] = { 1.0f, 3.0f }, t[2] = { 0.0f, 1.0f };
    cr_expect_float_eq(mse_forward(a, t, 2), 2.5, 1e-7); // (1 + 4) / 2
    free(c.out), free(c.target);
}

/* ---- optimisers (expected values worked out by hand; see each comment) ---- */

static struct optim *optim_make(struct optim_config cfg, size_t n)
{
    struct optim *o;
    struct error err;
    cr_assert_eq(optim_new(&o, &cfg, n, &err), 0, "%s", err.msg);
    return o;
}

Test(optim, sgd_momentum_weight_decay)
{
    struct optim_config cfg = optim_config_default(OPTIM_SGD);
    cfg.lr = 0.1f, cfg.momentum = 0.9f, cfg.weight_decay = 0.1f;
    struct optim *o = optim_make(cfg, 2);
    float p[2] = { 1.0f, -2.0f }, g[2] = { 0.5f, 0.0f };
    // step 1: g' = 0.5 + 0.1*1 = 0.6, buf = 0.6, p = 1 - 0.06 = 0.94
    //         g' = 0 + 0.1*-2 = -0.2, buf = -0.2, p = -2 + 0.02 = -1.98
    optim_step(o, p, g);
    cr_expect_float_eq(p[0], 0.94f, 1e-6);
    cr_expect_float_eq(p[1], -1.98f, 1e-6);
    // step 2: g' = 0.5 + 0.094 = 0.594, buf = 0.54 + 0.594 = 1.134, p = 0.94 - 0.1134 = 0.8266
    //         g' = -0.198, buf = -0.18 - 0.198 = -0.378, p = -1.98 + 0.0378 = -1.9422
    optim_step(o, p, g);
    cr_expect_float_eq(p[0], 0.8266f, 1e-6);
    cr_expect_float_eq(p[1], -1.9422f, 1e-6);
    cr_expect_eq(optim_steps(o), 2);
    // reset: the buffer starts over from the next gradient
    optim_reset(o);
    cr_expect_eq(optim_steps(o), 0);
    float q[2] = { 1.0f, 1.0f }, h[2] = { 1.0f, 1.0f };
    optim_step(o, q, h); // g' = 1.1, buf = 1.1: 1 - 0.11
    cr_expect_float_eq(q[0], 0.89f, 1e-6);
    optim_free(o);
}

Test(optim, plain_sgd)
{
    struct optim_config cfg = optim_config_default(OPTIM_SGD);
    cfg.lr = 0.5f;
    struct optim *o = optim_make(cfg, 1);
    float p[1] = { 2.0f }, g[1] = { 1.0f };
    optim_step(o, p, g); // 2 - 0.5
    optim_step(o, p, g); // no momentum: 1.5 - 0.5
    cr_expect_float_eq(p[0], 1.0f, 1e-7);
    optim_set_lr(o, 0.25f);
    optim_step(o, p, g);
    cr_expect_float_eq(p[0], 0.75f, 1e-7);
    optim_free(o);
}

Test(optim, adam_with_l2_weight_decay)
{
    struct optim_config cfg = optim_config_default(OPTIM_ADAM);
    cfg.lr = 0.1f, cfg.weight_decay = 0.1f;
    struct optim *o = optim_make(cfg, 1);
    float p[1] = { 1.0f }, g[1] = { 0.5f };
    // step 1: g' = 0.6, m = 0.06, v = 0.00036, m^ = 0.6, v^ = 0.36,
    //         p = 1 - 0.1 * 0.6 / (0.6 + 1e-8) = 0.9
    optim_step(o, p, g);
    cr_expect_float_eq(p[0], 0.9f, 1e-6);
    // step 2: g' = 0.59, m = 0.113, v = 0.00070774, m^ = 0.113/0.19 = 0.5947368,
    //         v^ = 0.00070774/0.001999 = 0.3540470, sqrt = 0.5950185,
    //         p = 0.9 - 0.1 * 0.5947368 / 0.5950185 = 0.8000473
    optim_step(o, p, g);
    cr_expect_float_eq(p[0], 0.8000473f, 2e-6);
    optim_free(o);
}

Test(optim, adamw_decoupled_weight_decay)
{
    struct optim_config cfg = optim_config_default(OPTIM_ADAM);
    cfg.lr = 0.1f, cfg.weight_decay = 0.1f, cfg.decoupled = true;
    struct optim *o = optim_make(cfg, 1);
    float p[1] = { 1.0f }, g[1] = { 0.5f };
    // step 1: p = 1 * (1 - 0.01) - 0.1 * 0.5 / 0.5 = 0.89
    optim_step(o, p, g);
    cr_expect_float_eq(p[0], 0.89f, 1e-6);
    // step 2: m = 0.095, v = 0.0004998, m^ = 0.5, v^ = 0.25: p = 0.89 * 0.99 - 0.1 = 0.7811
    optim_step(o, p, g);
    cr_expect_float_eq(p[0], 0.7811f, 2e-6);
    optim_free(o);
}

Test(optim, bad_config_and_kind_names)
{
    struct optim_config cfg = optim_config_default(OPTIM_ADAM);
    struct optim *o;
    struct error err;
    cfg.beta1 = 1.0f;
    cr_expect_eq(optim_new(&o, &cfg, 3, &err), 2);
    cr_expect_str_eq(err.msg, "optimiser: lr must be > 0, momentum and weight decay >= 0, betas in [0, 1) and eps > 0");
    cr_expect_null(o);
    cfg = optim_config_default(OPTIM_SGD);
    cfg.lr = 0.0f;
    cr_expect_eq(optim_new(&o, &cfg, 3, &err), 2);
    enum optim_kind k;
    cr_expect_eq(optim_kind_parse("adam", &k), 0);
    cr_expect_eq(k, OPTIM_ADAM);
    cr_expect_eq(optim_kind_parse("sgd", &k), 0);
    cr_expect_eq(k, OPTIM_SGD);
    cr_expect_eq(optim_kind_parse("Adam", &k), -1);
    cr_expect_float_eq(optim_config_default(OPTIM_ADAM).lr, 0.001f, 1e-9);
    cr_expect_float_eq(optim_config_default(OPTIM_SGD).lr, 0.01f, 1e-9);
}
