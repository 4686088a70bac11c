/* test_conv_direct.c: the direct conv forward paths (layers_conv_direct.c)
 * against the im2col + GEMM reference, against each other, fused against
 * unfused, and inside models (inference and training).
 *
 * Tolerance against im2col: both sum the same n = C*K*K products and the
 * bias in different orders (sequential FMAs here, OpenBLAS's blocked kernel
 * there); each is within gamma_n * S of the exact sum, where
 * S = sum |w x| + |bias| and gamma_n = n u / (1 - n u), u = 2^-24 (float32
 * rounding), so they differ by at most 2 gamma_n S. The direct paths run
 * every output in one order on every instruction set, so among themselves
 * (and fused against unfused) the test is memcmp.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/layers.h"
#include "models/model.h"
#include "base/rng.h"

static float *randn(struct rng *r, size_t n)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        x[i] = (float)rng_normal(r);
    return x;
}

/* C, H, W, OC, K, stride, pad: every conv layer of the shipped and tested
 * model specs (LeNet5's two first; its conv16k3 variant; the small specs
 * of the scheme and config tests). */
static const int spec_shapes[][7] = {
    { 1, 28, 28, 6, 5, 1, 2 }, { 6, 14, 14, 16, 5, 1, 0 }, { 6, 14, 14, 16, 3, 1, 0 },
    { 1, 28, 28, 4, 5, 1, 0 }, { 1, 8, 8, 3, 3, 1, 1 },    { 2, 9, 9, 4, 3, 1, 0 },
    { 4, 3, 3, 3, 2, 2, 1 },   { 1, 10, 10, 3, 3, 1, 1 },  { 3, 5, 5, 2, 2, 1, 0 },
    { 2, 1, 5, 4, 1, 1, 0 },
};
enum { NSHAPES = sizeof spec_shapes / sizeof spec_shapes[0] };

/* odd batches: below, across and above the AVX2 (8) and AVX-512 (16) groups */
static const int batches[] = { 1, 7, 17, 33 };

static const enum conv2d_path direct_paths[] = { CONV2D_PORTABLE, CONV2D_AVX2, CONV2D_AVX512 };

struct conv_case {
    struct conv2d_dims d;
    int B;
    size_t nin, nout;
    float *inp, *w, *b, *col;
};

static void conv_case_new(struct conv_case *c, const int *s, int B, struct rng *r)
{
    cr_assert_eq(conv2d_dims_make(&c->d, s[0], s[1], s[2], s[3], s[4], s[5], s[6]), 0);
    c->B = B;
    c->nin = (size_t)B * s[0] * s[1] * s[2];
    c->nout = (size_t)B * s[3] * c->d.OH * c->d.OW;
    c->inp = randn(r, c->nin);
    c->w = randn(r, (size_t)s[3] * s[0] * s[4] * s[4]);
    c->b = randn(r, (size_t)s[3]);
    c->col = malloc(sizeof(float) * conv2d_col_size(&c->d, B));
}

static void conv_case_free(struct conv_case *c)
{
    free(c->inp), free(c->w), free(c->b), free(c->col);
}

static float *conv_run(struct conv_case *c, enum conv2d_path path)
{
    float *out = malloc(sizeof(float) * c->nout);
    c->d.path = path;
    conv2d_forward(out, c->col, c->inp, c->w, c->b, &c->d, c->B);
    return out;
}

/* S = sum |w x| + |bias| of output (n, o, oy, ox), in double */
static double abs_terms(const struct conv_case *c, int n, int o, int oy, int ox)
{
    const struct conv2d_dims *d = &c->d;
    double s = fabs(c->b[o]);
    for (int ch = 0; ch < d->C; ch++)
        for (int ky = 0; ky < d->K; ky++)
            for (int kx = 0; kx < d->K; kx++) {
                int iy = oy * d->stride - d->pad + ky, ix = ox * d->stride - d->pad + kx;
                if (iy >= 0 && iy < d->H && ix >= 0 && ix < d->W)
                    s += fabs((double)c->inp[((size_t)(n * d->C + ch) * d->H + iy) * d->W + ix] *
                              c->w[((o * d->C + ch) * d->K + ky) * d->K + kx]);
            }
    return s;
}

Test(conv_direct, every_path_matches_im2col_within_float_rounding)
{
    struct rng r;
    rng_seed(&r, 42, 9, RNG_INIT, 1);
    for (int k = 0; k < NSHAPES; k++)
        for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
            struct conv_case c;
            conv_case_new(&c, spec_shapes[k], batches[bi], &r);
            float *ref = conv_run(&c, CONV2D_IM2COL);
            const double n = (double)c.d.C * c.d.K * c.d.K + 1, u = ldexp(1.0, -24);
            const double gamma = n * u / (1 - n * u);
            for (size_t p = 0; p < sizeof direct_paths / sizeof direct_paths[0]; p++) {
                if (!conv2d_path_supported(direct_paths[p]))
                    continue;
                float *out = conv_run(&c, direct_paths[p]);
                size_t bad = 0, i = 0;
                for (int b = 0; b < c.B; b++)
                    for (int o = 0; o < c.d.OC; o++)
                        for (int oy = 0; oy < c.d.OH; oy++)
                            for (int ox = 0; ox < c.d.OW; ox++, i++)
                                if (fabs((double)out[i] - ref[i]) > 2 * gamma * abs_terms(&c, b, o, oy, ox))
                                    bad++;
                cr_expect_eq(bad, 0, "shape %d, batch %d, %s: %zu outputs off by more than 2 gamma_n S",
                             k, c.B, conv2d_path_name(direct_paths[p]), bad);
                free(out);
            }
            free(ref);
            conv_case_free(&c);
        }
}

Test(conv_direct, all_direct_paths_give_the_same_bits)
{
    struct rng r;
    rng_seed(&r, 42, 9, RNG_INIT, 2);
    int compared = 0;
    for (int k = 0; k < NSHAPES; k++)
        for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
            struct conv_case c;
            conv_case_new(&c, spec_shapes[k], batches[bi], &r);
            float *portable = conv_run(&c, CONV2D_PORTABLE);
            for (size_t p = 1; p < sizeof direct_paths / sizeof direct_paths[0]; p++) {
                if (!conv2d_path_supported(direct_paths[p]))
                    continue;
                float *out = conv_run(&c, direct_paths[p]);
                cr_expect(memcmp(out, portable, sizeof(float) * c.nout) == 0,
                          "shape %d, batch %d: %s differs from portable", k, c.B,
                          conv2d_path_name(direct_paths[p]));
                compared++;
                free(out);
            }
            free(portable);
            conv_case_free(&c);
        }
    cr_log_info("compared %d (shape, batch, instruction set) runs bitwise", compared);
}

Test(conv_direct, an_image_gets_the_same_bits_in_any_batch)
{
    struct rng r;
    rng_seed(&r, 42, 9, RNG_INIT, 3);
    struct conv_case c;
    conv_case_new(&c, spec_shapes[1], 17, &r);
    c.d.path = conv2d_path_best();
    float *all = conv_run(&c, c.d.path), *one = malloc(sizeof(float) * c.nout / 17);
    size_t in1 = c.nin / 17, out1 = c.nout / 17;
    conv2d_forward(one, c.col, c.inp + 16 * in1, c.w, c.b, &c.d, 1);
    cr_expect(memcmp(one, all + 16 * out1, sizeof(float) * out1) == 0);
    free(all), free(one);
    conv_case_free(&c);
}

Test(conv_direct, fused_pool_and_relu_match_the_separate_layers_bitwise)
{
    struct rng r;
    rng_seed(&r, 42, 9, RNG_INIT, 4);
    // pool window, stride, relu
    const int epilogues[][3] = { { 2, 2, 1 }, { 2, 2, 0 }, { 0, 0, 1 }, { 2, 1, 1 }, { 3, 2, 0 } };
    for (int k = 0; k < NSHAPES; k++)
        for (size_t e = 0; e < sizeof epilogues / sizeof epilogues[0]; e++)
            for (size_t p = 0; p < sizeof direct_paths / sizeof direct_paths[0]; p++) {
                struct conv2d_epilogue ep = { epilogues[e][0], epilogues[e][1], epilogues[e][2] };
                struct conv_case c;
                conv_case_new(&c, spec_shapes[k], 17, &r);
                int PH = ep.pool_k ? pool_out_size(c.d.OH, ep.pool_k, ep.pool_s) : c.d.OH;
                int PW = ep.pool_k ? pool_out_size(c.d.OW, ep.pool_k, ep.pool_s) : c.d.OW;
                if (!conv2d_path_supported(direct_paths[p]) || PH < 1 || PW < 1) {
                    conv_case_free(&c);
                    continue;
                }
                size_t n = (size_t)c.B * c.d.OC * PH * PW;
                float *sep = conv_run(&c, direct_paths[p]), *pooled = malloc(sizeof(float) * n);
                float *fused = malloc(sizeof(float) * n);
                if (ep.pool_k)
                    maxpool_forward(pooled, sep, c.B, c.d.OC, c.d.OH, c.d.OW, ep.pool_k, ep.pool_s);
                else
                    memcpy(pooled, sep, sizeof(float) * n);
                if (ep.relu)
                    relu_forward(pooled, pooled, n);
                conv2d_forward_fused(fused, c.col, c.inp, c.w, c.b, &c.d, c.B, &ep);
                cr_expect(memcmp(fused, pooled, sizeof(float) * n) == 0,
                          "shape %d, epilogue %zu, %s: fused differs", k, e,
                          conv2d_path_name(direct_paths[p]));
                free(sep), free(pooled), free(fused);
                conv_case_free(&c);
            }
}

static const char *const conv_specs[] = {
    "lenet5",
    "1x28x28: conv6k5p2 relu maxpool2 conv16k3 relu maxpool2 dense120 relu dense84 relu dense10",
    "2x9x9: conv4k3 relu avgpool2 conv3k2s2p1 square flatten dense5",
    "1x10x10: conv3k3p1 maxpool2 relu conv2k2 relu maxpool2s1 dense3",
};

static struct model *model_on(const char *spec, enum conv2d_path path)
{
    struct model *m;
    struct error err;
    enum conv2d_path before = conv2d_path_default();
    conv2d_path_set_default(path);
    cr_assert_eq(model_new(&m, spec, &err), 0, "%s", err.msg);
    conv2d_path_set_default(before);
    struct rng r;
    rng_seed(&r, 42, 9, RNG_INIT, 5);
    model_init(m, &r);
    return m;
}

Test(conv_direct, model_infer_gives_model_forwards_bits_and_refuses_backward)
{
    for (size_t s = 0; s < sizeof conv_specs / sizeof conv_specs[0]; s++) {
        struct model *m = model_on(conv_specs[s], conv2d_path_best());
        struct rng r;
        rng_seed(&r, 42, 9, RNG_DATA, 6);
        const int B = 19;
        float *x = randn(&r, (size_t)B * m->input_size);
        const float *y;
        struct error err;
        size_t n = (size_t)B * m->outputs;
        float *kept = malloc(sizeof(float) * n);
        cr_assert_eq(model_forward(m, x, B, &y, &err), 0, "%s", err.msg);
        memcpy(kept, y, sizeof(float) * n);
        cr_assert_eq(model_infer(m, x, B, &y, &err), 0, "%s", err.msg);
        cr_expect(memcmp(kept, y, sizeof(float) * n) == 0, "%s: model_infer differs", conv_specs[s]);
        float *dlogits = calloc(n, sizeof(float));
        cr_expect_neq(model_backward(m, dlogits, B, NULL, &err), 0);
        cr_expect(strstr(err.msg, "inference pass") != NULL, "%s", err.msg);
        free(x), free(kept), free(dlogits);
        model_free(m);
    }
}

/* Training uses the direct forward and im2col's backward: its loss and
 * gradients agree with the all-im2col model's to float rounding (relative
 * to the largest gradient: a rounding can move a near-tie of a max pool). */
Test(conv_direct, training_gradients_match_im2col)
{
    for (size_t s = 0; s < sizeof conv_specs / sizeof conv_specs[0]; s++) {
        struct model *ref = model_on(conv_specs[s], CONV2D_IM2COL);
        struct model *m = model_on(conv_specs[s], conv2d_path_best());
        struct rng r;
        rng_seed(&r, 42, 9, RNG_DATA, 7);
        const int B = 13;
        float *x = randn(&r, (size_t)B * m->input_size);
        int *labels = malloc(sizeof(int) * B);
        for (int b = 0; b < B; b++)
            labels[b] = (int)(rng_uniform(&r) * m->outputs) % m->outputs;
        float loss_ref, loss;
        struct error err;
        model_zero_grad(ref);
        model_zero_grad(m);
        cr_assert_eq(model_loss_and_grad(ref, x, labels, B, &loss_ref, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(model_loss_and_grad(m, x, labels, B, &loss, NULL, &err), 0, "%s", err.msg);
        cr_expect(fabsf(loss - loss_ref) <= 1e-5f * fabsf(loss_ref), "%s: loss %g vs %g",
                  conv_specs[s], (double)loss, (double)loss_ref);
        float gmax = 0.0f, dmax = 0.0f;
        for (size_t i = 0; i < m->nparams; i++) {
            gmax = fmaxf(gmax, fabsf(ref->grads[i]));
            dmax = fmaxf(dmax, fabsf(m->grads[i] - ref->grads[i]));
        }
        cr_expect(dmax <= 1e-4f * gmax, "%s: gradients differ by %g (largest %g)", conv_specs[s],
                  (double)dmax, (double)gmax);
        free(x), free(labels);
        model_free(ref);
        model_free(m);
    }
}

Test(conv_direct, path_names)
{
    enum conv2d_path p;
    for (int i = CONV2D_IM2COL; i <= CONV2D_AVX512; i++) {
        cr_assert_eq(conv2d_path_parse(conv2d_path_name((enum conv2d_path)i), &p), 0);
        cr_expect_eq(p, (enum conv2d_path)i);
    }
    cr_assert_eq(conv2d_path_parse("auto", &p), 0);
    cr_expect_eq(p, conv2d_path_best());
    cr_expect(conv2d_path_supported(p));
    cr_expect_eq(conv2d_path_parse("avx1024", &p), -1);
}
