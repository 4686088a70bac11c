/* test_learned.c: the learned codes (parm, split, learned-lagrange).
 * ParM: the encoders (sum, bilinear 2x2 down-sampling, tile placement), the
 * exact reconstruction of a linear bias-free model by `add`, the bias
 * identity, the subtraction decoder, and the serving rules on a real engine
 * and cluster (cancel the parity, decode and cancel the straggler, equal
 * resources). Split: tiling geometry against hand-placed patches (every
 * pixel in exactly one), the tilings that do not tile named, a CNN node
 * against direct loops, an erased node cannot reach the decoder, the joint
 * gradient against central differences. Learned
 * Lagrange: a linear worker is recovered exactly from any R >= K workers,
 * the gradient through the interpolation against central differences.
 * `stragsim train`: exact messages, a tiny run writing every network, a
 * CNN split code over column strips trained then loaded and served,
 * byte-identical reruns. Shipped weights on the Fashion-MNIST test set: the
 * ParM paper's orderings, split above averaging with one straggler (and
 * within 3 points of the full-image MLP without stragglers), and each
 * shipped file's exact count of correct test images. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_capture.h"
#include "learned_nets.h"
#include "params_lines.h"
#include "scheme_harness.h"
#include "models/weights.h"
#include "schemes/learned_lagrange_model.h"
#include "schemes/scheme.h"
#include "app/commands.h"
#include "sim/engine.h"
#include "schemes/parm_model.h"
#include "schemes/split_model.h"
#include "base/rng.h"

static struct model *make_model(const char *spec, uint64_t seed)
{
    struct model *m;
    struct error err;
    cr_assert_eq(model_new(&m, spec, &err), STRAG_OK, "%s", err.msg);
    struct rng r;
    rng_seed(&r, seed, 0, RNG_INIT, 0);
    model_init(m, &r);
    return m;
}

Test(parm, add_is_the_sum)
{
    float x[3 * FMNIST_PIXELS], p[FMNIST_PIXELS];
    random_images(x, 3, 1);
    parm_encode(PARM_ADD, 3, x, p);
    for (int i = 0; i < FMNIST_PIXELS; i++)
        cr_assert_float_eq(p[i], x[i] + x[FMNIST_PIXELS + i] + x[2 * FMNIST_PIXELS + i], 1e-6);
}

Test(parm, resize_by_two_is_the_block_mean)
{
    float img[FMNIST_PIXELS], out[14 * 14];
    random_images(img, 1, 2);
    parm_resize(img, 28, 28, out, 14, 14);
    for (int y = 0; y < 14; y++)
        for (int x = 0; x < 14; x++) {
            float mean = (img[2 * y * 28 + 2 * x] + img[2 * y * 28 + 2 * x + 1] +
                          img[(2 * y + 1) * 28 + 2 * x] + img[(2 * y + 1) * 28 + 2 * x + 1]) /
                         4;
            cr_assert_float_eq(out[y * 14 + x], mean, 1e-6, "(%d,%d)", y, x);
        }
}

Test(parm, concat_places_the_tiles)
{
    /* image i constant i+1: k = 4 gives quadrants 1 2 / 3 4, k = 2 halves 1 | 2 */
    float x[4 * FMNIST_PIXELS], p[FMNIST_PIXELS];
    for (int i = 0; i < 4; i++)
        for (int q = 0; q < FMNIST_PIXELS; q++)
            x[i * FMNIST_PIXELS + q] = (float)(i + 1);
    parm_encode(PARM_CONCAT, 4, x, p);
    cr_assert_float_eq(p[0], 1, 1e-6);
    cr_assert_float_eq(p[27], 2, 1e-6);
    cr_assert_float_eq(p[14 * 28 + 13], 3, 1e-6);
    cr_assert_float_eq(p[27 * 28 + 27], 4, 1e-6);
    parm_encode(PARM_CONCAT, 2, x, p);
    cr_assert_float_eq(p[27 * 28 + 13], 1, 1e-6);
    cr_assert_float_eq(p[14], 2, 1e-6);
}

Test(parm, linear_model_without_bias_reconstructs_exactly)
{
    struct model *f = make_model("logreg", 3);
    zero_bias(f);
    struct error err;
    for (int k = 2; k <= PARM_MAX_K; k++) {
        float x[PARM_MAX_K * FMNIST_PIXELS], p[FMNIST_PIXELS], outs[PARM_MAX_K * 10];
        float parity_out[10], decoded[10];
        random_images(x, k, 10 + (uint64_t)k);
        parm_encode(PARM_ADD, k, x, p);
        const float *o;
        cr_assert_eq(model_forward(f, x, k, &o, &err), STRAG_OK, "%s", err.msg);
        memcpy(outs, o, (size_t)k * 10 * sizeof *outs);
        /* the parity model of a linear F is F itself */
        cr_assert_eq(model_forward(f, p, 1, &o, &err), STRAG_OK, "%s", err.msg);
        memcpy(parity_out, o, sizeof parity_out);
        for (int j = 0; j < k; j++) {
            parm_decode(parity_out, outs, k, j, 10, decoded);
            for (int c = 0; c < 10; c++)
                cr_assert_float_eq(decoded[c], outs[j * 10 + c], 1e-4, "k=%d j=%d c=%d", k, j,
                                   c);
        }
    }
    model_free(f);
}

Test(parm, bias_breaks_the_sum_by_k_minus_one_biases)
{
    /* F(sum X) = sum F(X) - (k-1) b for an affine F */
    struct model *f = make_model("logreg", 4);
    size_t bias = f->tensors[1].offset;
    for (int c = 0; c < 10; c++)
        f->params[bias + c] = 0.1f * (float)(c + 1);
    float x[3 * FMNIST_PIXELS], p[FMNIST_PIXELS], sum[10] = {0};
    random_images(x, 3, 5);
    parm_encode(PARM_ADD, 3, x, p);
    struct error err;
    const float *o;
    cr_assert_eq(model_forward(f, x, 3, &o, &err), STRAG_OK, "%s", err.msg);
    for (int i = 0; i < 3; i++)
        for (int c = 0; c < 10; c++)
            sum[c] += o[i * 10 + c];
    cr_assert_eq(model_forward(f, p, 1, &o, &err), STRAG_OK, "%s", err.msg);
    for (int c = 0; c < 10; c++)
        cr_assert_float_eq(o[c], sum[c] - 2 * f->params[bias + c], 1e-4, "c=%d", c);
    model_free(f);
}

Test(parm, decode_subtracts_the_others)
{
    float parity[2] = {10, 20}, outs[3 * 2] = {1, 2, 3, 4, 5, 6}, d[2];
    parm_decode(parity, outs, 3, 1, 2, d);
    cr_assert_float_eq(d[0], 10 - 1 - 5, 1e-6);
    cr_assert_float_eq(d[1], 20 - 2 - 6, 1e-6);
}

Test(parm, bad_parameters_are_named)
{
    struct error err;
    enum parm_encoder e;
    cr_assert_eq(parm_check(PARM_CONCAT, 3, &err), STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "encoder concat needs k = 2 or 4, got 3");
    cr_assert_eq(parm_check(PARM_ADD, 5, &err), STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "encoder add needs k in 2..4, got 5");
    cr_assert_eq(parm_encoder_parse("xor", &e), -1);
    cr_assert_eq(parm_encoder_parse("concat", &e), 0);
    cr_assert_eq(e, PARM_CONCAT);
}

/* Split networks over N patches tiled as `tiling` says (grid: grid_rows). */
static struct split_nets *make_split_tiled(int nodes, const char *tiling, int grid_rows,
                                           const char *node_model, bool mask_input)
{
    struct split_shape shape = {.nodes = nodes, .node_model = node_model,
                                .decoder_model = "dense16 relu dense10", .mask_input = mask_input};
    struct error err;
    bool grid_at;
    cr_assert_eq(split_tile(nodes, tiling, grid_rows, &shape.grid_rows, &shape.grid_cols,
                            &grid_at, &err),
                 STRAG_OK, "%s", err.msg);
    struct split_nets *s;
    cr_assert_eq(split_nets_new(&shape, false, 7, &s, &err), STRAG_OK, "%s", err.msg);
    return s;
}

static struct split_nets *make_split(int nodes, bool mask_input)
{
    return make_split_tiled(nodes, "auto", 0, "dense8 relu dense10", mask_input);
}

/* Tilings with their patches written out by hand: patch `index` is the
 * h x w block whose top-left pixel is (y0, x0). */
static const struct tiling_case {
    int nodes;
    const char *tiling;
    int grid_rows;
    int h, w;             /* every patch's shape */
    int index, y0, x0;    /* one patch's place */
} tiling_cases[] = {
    {2, "auto", 0, 14, 28, 1, 14, 0},   /* today's halves: top, bottom */
    {4, "auto", 0, 14, 14, 1, 0, 14},   /* quadrants: 1 is the top right */
    {4, "auto", 0, 14, 14, 2, 14, 0},   /* 2 the bottom left */
    {7, "auto", 0, 4, 28, 5, 20, 0},    /* strips of 4 rows */
    {14, "auto", 0, 4, 14, 3, 4, 14},   /* 7 x 2: patch 3 is row 1, right half */
    {28, "auto", 0, 4, 7, 27, 24, 21},  /* 7 x 4 */
    {16, "auto", 0, 7, 7, 6, 7, 14},    /* 4 x 4 */
    {2, "cols", 0, 28, 14, 1, 0, 14},   /* left, right */
    {4, "rows", 0, 7, 28, 3, 21, 0},
    {4, "cols", 0, 28, 7, 2, 0, 14},
    {28, "rows", 0, 1, 28, 13, 13, 0},  /* one pixel row each */
    {8, "grid", 2, 14, 7, 5, 14, 7},    /* 2 x 4: 5 is row 1, column 1 */
    {8, "grid", 4, 7, 14, 5, 14, 14},   /* 4 x 2: 5 is row 2, column 1 */
    {28, "grid", 4, 7, 4, 9, 7, 8},     /* 4 x 7: 9 is row 1, column 2 */
};

Test(split, patches_tile_the_image)
{
    float img[FMNIST_PIXELS];
    for (int i = 0; i < FMNIST_PIXELS; i++)
        img[i] = (float)i;
    for (size_t t = 0; t < sizeof tiling_cases / sizeof tiling_cases[0]; t++) {
        const struct tiling_case *c = &tiling_cases[t];
        struct split_nets *s = make_split_tiled(c->nodes, c->tiling, c->grid_rows,
                                                "dense8 relu dense10", false);
        cr_assert_eq(s->patch_h, c->h, "case %zu", t);
        cr_assert_eq(s->patch_w, c->w, "case %zu", t);
        int P = s->patch_h * s->patch_w;
        /* every pixel lands in exactly one patch */
        int seen[FMNIST_PIXELS] = {0};
        float patch[FMNIST_PIXELS];
        for (int i = 0; i < c->nodes; i++) {
            split_patch(s, i, img, patch);
            for (int q = 0; q < P; q++)
                seen[(int)patch[q]]++;
        }
        for (int q = 0; q < FMNIST_PIXELS; q++)
            cr_assert_eq(seen[q], 1, "case %zu: N=%d pixel %d", t, c->nodes, q);
        /* the hand-placed patch, pixel by pixel */
        split_patch(s, c->index, img, patch);
        for (int y = 0; y < c->h; y++)
            for (int x = 0; x < c->w; x++)
                cr_assert_float_eq(patch[y * c->w + x], (c->y0 + y) * 28 + c->x0 + x, 0,
                                   "case %zu: (%d, %d)", t, y, x);
        split_nets_free(s);
    }
}

Test(split, tilings_that_do_not_tile_are_named)
{
    static const struct {
        int nodes;
        const char *tiling;
        int grid_rows;
        bool grid_at;
        const char *msg;
    } cases[] = {
        {3, "auto", 0, false, "no grid of 3 equal patches tiles the 28x28 image (patch rows "
                              "and columns must divide 28)"},
        {6, "auto", 0, false, "no grid of 6 equal patches tiles the 28x28 image (patch rows "
                              "and columns must divide 28)"},
        {5, "rows", 0, false, "5 rows do not tile the 28x28 image (28 is not a multiple of 5)"},
        {8, "cols", 0, false, "8 cols do not tile the 28x28 image (28 is not a multiple of 8)"},
        {8, "grid", 0, true, "tiling grid needs grid_rows (the grid's rows)"},
        {8, "grid", 3, true, "grid_rows = 3 does not divide patches = 8"},
        {8, "grid", 8, true, "a 8 x 1 grid does not tile the 28x28 image (28 is not a multiple "
                             "of both)"},
        {1, "auto", 0, false, "patches must be in 2..28, got 1"},
        {29, "rows", 0, false, "patches must be in 2..28, got 29"},
        {4, "diagonal", 0, false, "tiling must be one of auto|rows|cols|grid, got 'diagonal'"},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        struct error err;
        int rows = -1, cols = -1;
        bool grid_at = !cases[t].grid_at;
        cr_assert_eq(split_tile(cases[t].nodes, cases[t].tiling, cases[t].grid_rows, &rows,
                                &cols, &grid_at, &err),
                     STRAG_EINPUT, "case %zu", t);
        cr_assert_str_eq(err.msg, cases[t].msg, "case %zu", t);
        cr_assert_eq(grid_at, cases[t].grid_at, "case %zu", t);
    }
    /* today's patch counts keep today's tiles */
    int rows, cols;
    bool grid_at;
    struct error err;
    int want[3][3] = {{2, 2, 1}, {4, 2, 2}, {7, 7, 1}};
    for (int t = 0; t < 3; t++) {
        cr_assert_eq(split_tile(want[t][0], "auto", 0, &rows, &cols, &grid_at, &err), STRAG_OK);
        cr_assert(rows == want[t][1] && cols == want[t][2], "N=%d: %d x %d", want[t][0], rows,
                  cols);
    }
}

/* A CNN node (conv 3x3 pad 1, ReLU, 2x2 max pooling, dense) on a 7x14
 * patch against the same net written as plain loops over its weights
 * (PyTorch layouts: conv (OC,1,3,3), dense (10, OC*H*W) over (C,H,W)). */
Test(split, a_cnn_node_matches_direct_loops)
{
    enum { OC = 3, H = 7, W = 14, PH = 3, PW = 7 };
    struct split_nets *s = make_split_tiled(8, "grid", 4, "conv3k3p1 relu maxpool2 dense10", false);
    cr_assert_eq(s->patch_h, H);
    cr_assert_eq(s->patch_w, W);
    float x[2 * FMNIST_PIXELS], z[8 * 2 * 10];
    random_images(x, 2, 21);
    struct error err;
    cr_assert_eq(split_nodes_forward(s, x, 2, z, &err), STRAG_OK, "%s", err.msg);
    const int node = 5; /* grid row 2, column 1: pixels (14.., 14..) */
    const struct model *m = s->node[node];
    const float *cw = m->params + m->tensors[0].offset, *cb = m->params + m->tensors[1].offset;
    const float *dw = m->params + m->tensors[2].offset, *db = m->params + m->tensors[3].offset;
    cr_assert_eq(m->tensors[0].count, (size_t)OC * 9);
    cr_assert_eq(m->tensors[2].count, (size_t)10 * OC * PH * PW);
    for (int b = 0; b < 2; b++) {
        const float *img = x + b * FMNIST_PIXELS;
        double conv[OC][H][W], pooled[OC][PH][PW];
        for (int o = 0; o < OC; o++)
            for (int y = 0; y < H; y++)
                for (int xx = 0; xx < W; xx++) {
                    double a = cb[o];
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int py = y + ky - 1, px = xx + kx - 1;
                            if (py >= 0 && py < H && px >= 0 && px < W)
                                a += cw[o * 9 + ky * 3 + kx] * img[(14 + py) * 28 + 14 + px];
                        }
                    conv[o][y][xx] = a > 0 ? a : 0;
                }
        for (int o = 0; o < OC; o++) /* floor: row 6 is dropped */
            for (int y = 0; y < PH; y++)
                for (int xx = 0; xx < PW; xx++)
                    pooled[o][y][xx] = fmax(fmax(conv[o][2 * y][2 * xx], conv[o][2 * y][2 * xx + 1]),
                                            fmax(conv[o][2 * y + 1][2 * xx],
                                                 conv[o][2 * y + 1][2 * xx + 1]));
        for (int c = 0; c < 10; c++) {
            double a = db[c];
            for (int o = 0; o < OC; o++)
                for (int y = 0; y < PH; y++)
                    for (int xx = 0; xx < PW; xx++)
                        a += dw[c * OC * PH * PW + (o * PH + y) * PW + xx] * pooled[o][y][xx];
            cr_assert_float_eq(z[(node * 2 + b) * 10 + c], a, 1e-4, "image %d class %d", b, c);
        }
    }
    split_nets_free(s);
}

Test(split, an_erased_node_cannot_reach_the_decoder)
{
    struct split_nets *s = make_split(4, true);
    float x[2 * FMNIST_PIXELS], z[4 * 2 * 10], a[2 * 10], b[2 * 10];
    random_images(x, 2, 8);
    struct error err;
    cr_assert_eq(split_nodes_forward(s, x, 2, z, &err), STRAG_OK, "%s", err.msg);
    cr_assert_eq(split_decode(s, z, 2, 1u << 2, a, &err), STRAG_OK, "%s", err.msg);
    for (int q = 0; q < 2 * 10; q++)
        z[2 * 2 * 10 + q] += 100; /* node 2's outputs */
    cr_assert_eq(split_decode(s, z, 2, 1u << 2, b, &err), STRAG_OK, "%s", err.msg);
    for (int q = 0; q < 2 * 10; q++)
        cr_assert_float_eq(a[q], b[q], 0, "%d", q);
    cr_assert_eq(split_decode(s, z, 2, 0, b, &err), STRAG_OK, "%s", err.msg);
    bool differs = false;
    for (int q = 0; q < 2 * 10; q++)
        differs |= a[q] != b[q];
    cr_assert(differs, "an arrived node must change the output");
    split_nets_free(s);
}

Test(split, bad_parameters_are_named)
{
    struct error err;
    struct split_shape shape = {4, 2, 2, "dense8 relu dense10", "dense16 relu dense10", false};
    struct split_nets *bad;
    shape.grid_cols = 1;
    cr_assert_eq(split_nets_new(&shape, false, 1, &bad, &err), STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "4 patches in a 2 x 1 grid do not tile 28x28");
    shape.grid_cols = 2;
    shape.node_model = "dense8 relu dense5";
    struct split_nets *s;
    cr_assert_eq(split_nets_new(&shape, true, 1, &s, &err), STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "node model 'dense8 relu dense5': the averaging baseline needs "
                              "10 outputs, has 5");
    shape.node_model = "100: dense10";
    cr_assert_eq(split_nets_new(&shape, false, 1, &s, &err), STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "model spec '100: dense10': takes 100 inputs, needs 196");
}

Test(llc, a_linear_worker_is_recovered_from_any_r_at_least_k)
{
    /* g linear without bias: g(u(z)) has degree K-1 in z, so R >= K results
     * interpolate it exactly back at the data nodes. */
    struct llc_shape shape = {3, 6, 4, "dense10", "dense10", LLC_DESIGN_INPUT, NULL};
    struct llc_nets *n;
    struct error err;
    cr_assert_eq(llc_nets_new(&shape, 1, &n, &err), STRAG_OK, "%s", err.msg);
    zero_bias(n->worker);
    float x[3 * FMNIST_PIXELS], u[4 * FMNIST_PIXELS], direct[3 * 10], g[4 * 10];
    random_images(x, 3, 9);
    const float *o;
    cr_assert_eq(model_forward(n->worker, x, 3, &o, &err), STRAG_OK, "%s", err.msg);
    memcpy(direct, o, sizeof direct);
    int subsets[3][4] = {{0, 1, 2, 3}, {2, 3, 4, 5}, {0, 2, 3, 5}};
    for (int t = 0; t < 3; t++) {
        llc_encode(n, x, subsets[t], 4, u);
        cr_assert_eq(model_forward(n->worker, u, 4, &o, &err), STRAG_OK, "%s", err.msg);
        memcpy(g, o, sizeof g);
        double worst = llc_interpolation_error(n, subsets[t], 4, g, direct);
        cr_assert_leq(worst, 1e-3, "subset %d: largest difference %g", t, worst);
    }
    llc_nets_free(n);
}

Test(llc, bad_parameters_are_named)
{
    struct llc_shape shape = {4, 8, 9, "dense10", "dense10", LLC_DESIGN_INPUT, NULL};
    struct error err;
    cr_assert_eq(llc_check(&shape, &err), STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "recovery threshold R = 9 must be in 1..8 (the workers)");
    shape.R = 6;
    shape.decoder_model = "dense4";
    struct llc_nets *n;
    cr_assert_eq(llc_nets_new(&shape, 1, &n, &err), STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "decoder model 'dense4': needs 10 outputs, has 4");
}

/* ---- shipped weights on the test set ---- */

static struct model *load_model(const char *spec, const char *file)
{
    struct model *m;
    struct error err;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", weights_dir, file);
    cr_assert_eq(model_new(&m, spec, &err), STRAG_OK, "%s", err.msg);
    cr_assert_eq(weights_load(m, path, &err), STRAG_OK, "%s", err.msg);
    return m;
}

static struct parm_eval parm_shipped(struct model *base, enum parm_encoder e, int k)
{
    char file[64];
    snprintf(file, sizeof file, "parm-%s-k%d.parity.bin", parm_encoder_name(e), k);
    /* a parity model is stored under its base model's spec text */
    struct model *parity = load_model(base->arch, file);
    struct parm_eval ev;
    struct error err;
    cr_assert_eq(parm_evaluate(base, parity, e, k, &test_set, NULL, test_set.n, &ev, &err),
                 STRAG_OK, "%s", err.msg);
    model_free(parity);
    return ev;
}

TestSuite(shipped, .init = load_test_set, .fini = free_test_set);

/* The shipped files' exact counts of correct evaluations on the 10,000 test
 * images (no training involved: only the forward pass's rounding could move
 * a count, by flipping a near-tie between two logits). Measured on an AMD
 * EPYC with OPENBLAS_CORETYPE Prescott, Sandybridge, Haswell, SkylakeX and
 * Zen: the same counts on all five kernels. The margin allows a kernel that
 * rounds one near-tie the other way. */
enum { SHIPPED_MARGIN = 1 };

/* accuracy is a count of correct evaluations over `evaluations`. */
static void expect_count(double accuracy, double evaluations, long want, const char *what)
{
    long count = lround(accuracy * evaluations);
    cr_expect_float_eq(accuracy * evaluations, (double)count, 1e-6, "%s: not a count", what);
    cr_expect(labs(count - want) <= SHIPPED_MARGIN, "%s: %ld of %.0f correct, not %ld", what,
              count, evaluations, want);
}

Test(shipped, parm_degraded_accuracy_orderings)
{
    struct model *base = load_model("mlp", "mlp.bin");
    struct parm_eval add2 = parm_shipped(base, PARM_ADD, 2);
    struct parm_eval add3 = parm_shipped(base, PARM_ADD, 3);
    struct parm_eval add4 = parm_shipped(base, PARM_ADD, 4);
    struct parm_eval cat2 = parm_shipped(base, PARM_CONCAT, 2);
    struct parm_eval cat4 = parm_shipped(base, PARM_CONCAT, 4);
    cr_log_info("degraded: add k=2 %.4f k=3 %.4f k=4 %.4f; concat k=2 %.4f k=4 %.4f",
                add2.degraded_accuracy, add3.degraded_accuracy, add4.degraded_accuracy,
                cat2.degraded_accuracy, cat4.degraded_accuracy);
    cr_expect_gt(add2.degraded_accuracy, add3.degraded_accuracy);
    cr_expect_gt(add3.degraded_accuracy, add4.degraded_accuracy);
    cr_expect_gt(cat2.degraded_accuracy, cat4.degraded_accuracy);
    cr_expect_geq(cat2.degraded_accuracy, add2.degraded_accuracy);
    cr_expect_geq(cat4.degraded_accuracy, add4.degraded_accuracy);
    struct parm_eval all[] = {add2, add3, add4, cat2, cat4};
    const long degraded_correct[] = {8303, 7802, 7330, 8482, 7390};
    const int k[] = {2, 3, 4, 2, 4};
    for (int i = 0; i < 5; i++) {
        cr_expect_gt(all[i].available_accuracy, all[i].degraded_accuracy, "variant %d", i);
        /* groups of k images; 10,000 is not a multiple of 3 */
        expect_count(all[i].degraded_accuracy, (double)(all[i].groups * (size_t)k[i]),
                     degraded_correct[i], "parm degraded");
    }
    model_free(base);
}

Test(shipped, split_four_nodes_one_straggler)
{
    struct split_shape shape = {4, 2, 2, SPLIT_DEFAULT_NODE, SPLIT_DEFAULT_DECODER, false};
    struct split_nets *s;
    struct error err;
    char stem[8192];
    snprintf(stem, sizeof stem, "%s/split-n4", weights_dir);
    cr_assert_eq(split_nets_new(&shape, true, 1, &s, &err), STRAG_OK, "%s", err.msg);
    cr_assert_eq(split_nets_load(s, stem, &err), STRAG_OK, "%s", err.msg);
    struct split_eval ev;
    cr_assert_eq(split_evaluate(s, &test_set, NULL, test_set.n, &ev, &err), STRAG_OK, "%s",
                 err.msg);
    cr_log_info("split N=4: 0 stragglers %.4f (avg %.4f), 1 straggler %.4f (avg %.4f)",
                ev.accuracy[0], ev.averaging_accuracy[0], ev.accuracy[1],
                ev.averaging_accuracy[1]);
    /* each image once with no straggler, under each of the 4 one-straggler masks */
    expect_count(ev.accuracy[0], 10000, 8937, "split, no straggler");
    expect_count(ev.accuracy[1], 40000, 35294, "split, one straggler");
    expect_count(ev.averaging_accuracy[1], 40000, 34428, "split averaging, one straggler");
    cr_expect_gt(ev.accuracy[1], ev.averaging_accuracy[1]);
    struct model *full = load_model("mlp", "mlp.bin");
    struct train_eval te;
    cr_assert_eq(train_evaluate(full, &test_set, NULL, test_set.n, 500, 1, &te, &err), STRAG_OK,
                 "%s", err.msg);
    cr_log_info("full-image mlp %.4f", te.accuracy);
    cr_expect_geq(ev.accuracy[0], te.accuracy - 0.03);
    model_free(full);
    split_nets_free(s);
}

Test(shipped, learned_lagrange_classifies)
{
    struct llc_shape shape = {4, 8, 6, LLC_DEFAULT_WORKER, LLC_DEFAULT_DECODER,
                              LLC_DESIGN_INPUT, NULL};
    struct llc_nets *n = llc_shipped(&shape, "llc-n8-k4-r6");
    double acc = llc_test_accuracy(n);
    cr_log_info("learned-lagrange N=8 K=4 R=6: %.4f", acc);
    expect_count(acc, 10000, 8662, "learned-lagrange");
    llc_nets_free(n);
}

/* ---- parm's serving rules on a real engine and cluster ---- */

/* Unit-cost task durations per worker, chosen by each test. */
static const double *unit_of_worker;

static double unit_per_worker(uint64_t job, int worker)
{
    (void)job;
    return unit_of_worker[worker];
}

/* parm with k = 2 on 3 workers (base 0 and 1, parity 2), cluster.cancel
 * off so only the scheme's own cancellations free a worker; runs job 0 and
 * returns its latency. */
static double parm_serve(struct harness *h, const char *parity)
{
    harness_start_seeded(h, "parm",
                         PARAMS_IN("scheme", "scheme.k=2", "scheme.encoder=add", parity), 3,
                         false, unit_per_worker, 1, 1);
    return harness_job(h, 0);
}

Test(parm_serving, data_first_cancels_the_parity)
{
    static const double units[] = {1, 1, 5};
    unit_of_worker = units;
    struct harness h;
    double latency = parm_serve(&h, "scheme.parity=true");
    cr_assert_float_eq(latency, 0.5, 1e-12);
    /* the parity (cost 1/2 x 5) was preempted at 0.5 */
    cr_assert_float_eq(cluster_worker_seconds(h.cl), 1.5, 1e-12);
    cr_assert_float_eq(harness_metric(&h, "parity_useful"), 0, 1e-12);
    cr_assert_float_eq(harness_metric(&h, "query_latency_p50"), 0.5, 1e-12);
    harness_end(&h);
}

Test(parm_serving, parity_and_k_minus_1_decode_and_cancel_the_straggler)
{
    static const double units[] = {1, 10, 1};
    unit_of_worker = units;
    struct harness h;
    double latency = parm_serve(&h, "scheme.parity=true");
    cr_assert_float_eq(latency, 0.5, 1e-12);
    /* worker 1 (5 time units of work) was cancelled at the decode */
    cr_assert_float_eq(cluster_worker_seconds(h.cl), 1.5, 1e-12);
    cr_assert_float_eq(harness_metric(&h, "parity_useful"), 1, 1e-12);
    cr_assert_float_eq(harness_metric(&h, "query_latency_p999"), 0.5, 1e-9);
    harness_end(&h);
}

Test(parm_serving, equal_resources_uses_every_worker_for_the_base_model)
{
    /* no parity: the two queries go to the two least-loaded of 3 workers
     * (0 and 1 by round robin); the job waits for the straggler */
    static const double units[] = {1, 10, 1};
    unit_of_worker = units;
    struct harness h;
    double latency = parm_serve(&h, "scheme.parity=false");
    cr_assert_float_eq(latency, 5, 1e-12);
    cr_assert_float_eq(harness_metric(&h, "parity_useful"), 0, 1e-12);
    harness_end(&h);
}

/* ---- `stragsim train` / `run` on the learned codes: messages, a tiny run ---- */

static void cli_setup(void)
{
    make_tmpdir();
    weights_dir_set();
}
static void cli_teardown(void) { remove_tmpdir(); }

TestSuite(learned_cli, .init = cli_setup, .fini = cli_teardown);

/* train.target's choices, the usage and a bad target's error come from the
 * registry: the schemes with a .train hook, in registry order. */
Test(learned_cli, the_targets_are_the_schemes_with_a_trainer)
{
    char want[512] = "base";
    for (const struct scheme_ops *const *s = scheme_registry; *s; s++)
        if ((*s)->train)
            snprintf(want + strlen(want), sizeof want - strlen(want), "|%s", (*s)->name);
    cr_assert_str_eq(want, "base|parm|split|learned-lagrange");
    cr_assert_str_eq(scheme_train_targets, want);
    cr_assert_eq(RUN(cmd_train, "train", "--help"), 0);
    cr_assert(strstr(out_text, "\ntrain.target = parm | split | learned-lagrange trains a "
                               "learned code\n"),
              "%s", out_text);
    const char *cfg = tmp_path("t.ini");
    write_text(cfg, "[train]\ntarget = uncoded\n");
    cr_assert_eq(RUN(cmd_train, "train", cfg, "--quiet"), 2);
    char line[1024];
    snprintf(line, sizeof line, "%s:2: train.target: expected one of %s, got 'uncoded'\n", cfg,
             want);
    cr_assert_str_eq(err_text, line);
}

Test(learned_cli, concat_with_k_3_is_refused_at_its_line)
{
    const char *cfg = tmp_path("p.ini");
    write_text(cfg, "[workload]\nweights = w.bin\n[scheme]\nencoder = concat\nk = 3\n"
                    "learned_weights = out\n[train]\ntarget = parm\n");
    cr_assert_eq(RUN(cmd_train, "train", cfg, "--quiet"), 2);
    char want[1024];
    snprintf(want, sizeof want, "%s:5: scheme.k: encoder concat needs k = 2 or 4, got 3\n", cfg);
    cr_assert_str_eq(err_text, want);
}

Test(learned_cli, a_missing_weights_stem_is_named)
{
    const char *cfg = tmp_path("s.ini");
    write_text(cfg, "[scheme]\npatches = 4\n[train]\ntarget = split\n");
    cr_assert_eq(RUN(cmd_train, "train", cfg, "--quiet"), 2);
    char want[1024];
    snprintf(want, sizeof want,
             "%s:1: scheme.learned_weights: missing: the stem of the weights files to write\n",
             cfg);
    cr_assert_str_eq(err_text, want);
}

Test(learned_cli, split_trains_and_writes_every_network)
{
    const char *cfg = tmp_path("s.ini");
    write_text(cfg, "[scheme]\npatches = 2\nlearned_weights = net\n"
                    "[train]\ntarget = split\nepochs = 1\nlimit = 256\nvalidation = 200\n");
    cr_assert_eq(RUN(cmd_train, "train", cfg), 0, "%s", err_text);
    cr_assert(strstr(err_text, "epoch 1/1 loss="), "%s", err_text);
    cr_assert(strstr(err_text, "accuracy_1_straggler="), "%s", err_text);
    const char *parts[] = {"node0", "node1", "decoder", "avg0", "avg1"};
    for (int i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "net.%s.bin", parts[i]);
        cr_assert_eq(access(tmp_path(name), R_OK), 0, "%s missing", name);
    }
    /* a second training refuses to overwrite the stem's files, unless --force */
    cr_assert_eq(RUN(cmd_train, "train", cfg, "--quiet"), 2);
    cr_assert(strstr(err_text, ":3: scheme.learned_weights: ") &&
                  strstr(err_text, "exists: set another stem (e.g. --set "
                                   "scheme.learned_weights=FILE), or overwrite it with --force\n"),
              "%s", err_text);
    cr_assert_eq(RUN(cmd_train, "train", cfg, "--quiet", "--force"), 0, "%s", err_text);
}

/* Train a CNN-node split code over 4 column strips, then: the networks
 * loaded back score on the test set what the trainer logged, and `run`
 * serves them (tiling and node spec from the config, as at training). */
Test(learned_cli, split_cnn_columns_train_then_serve)
{
    const char *cfg = tmp_path("c.ini");
    const char *scheme = "[scheme]\nkind = split\npatches = 4\ntiling = cols\n"
                         "node_model = conv2k3p1 relu maxpool2 dense10\nlearned_weights = cnn\n";
    char text[8192];
    snprintf(text, sizeof text,
             "[cluster]\nworkers = 4\n[latency]\nkind = exp\nrate = 1\n"
             "[workload]\nkind = inference\nmodel = mlp\nweights = %s/mlp.bin\nqueries = 1\n"
             "jobs = 30\n%s[train]\ntarget = split\nepochs = 1\nlimit = 2048\n"
             "learning_rate = 0.01\n"
             "validation = 200\n",
             weights_dir, scheme);
    write_text(cfg, text);
    cr_assert_eq(RUN(cmd_train, "train", cfg), 0, "%s", err_text);
    double logged[4];
    for (int e = 0; e < 4; e++) {
        char key[32];
        snprintf(key, sizeof key, "test: stragglers=%d accuracy=", e);
        const char *at = strstr(err_text, key);
        cr_assert_not_null(at, "%s", err_text);
        logged[e] = atof(at + strlen(key));
    }
    struct split_shape shape = {.nodes = 4, .grid_rows = 1, .grid_cols = 4,
                                .node_model = "conv2k3p1 relu maxpool2 dense10",
                                .decoder_model = SPLIT_DEFAULT_DECODER};
    struct split_nets *nets;
    struct error err;
    cr_assert_eq(split_nets_new(&shape, true, 1, &nets, &err), STRAG_OK, "%s", err.msg);
    cr_assert_eq(nets->patch_h, 28);
    cr_assert_eq(nets->patch_w, 7);
    cr_assert_eq(split_nets_load(nets, tmp_path("cnn"), &err), STRAG_OK, "%s", err.msg);
    struct fmnist test;
    cr_assert_eq(fmnist_load(NULL, FMNIST_TEST, &test, &err), STRAG_OK, "%s", err.msg);
    struct split_eval ev;
    cr_assert_eq(split_evaluate(nets, &test, NULL, test.n, &ev, &err), STRAG_OK, "%s", err.msg);
    for (int e = 0; e < 4; e++)
        cr_expect_float_eq(ev.accuracy[e], logged[e], 0.6e-4, "%d stragglers", e);
    cr_expect_gt(ev.accuracy[0], 0.3, "one epoch on 2048 images learns something: %.4f",
                 ev.accuracy[0]);
    fmnist_free(&test);
    split_nets_free(nets);
    /* the same weights under another tiling are another network's shape */
    cr_assert_eq(RUN(cmd_run, "run", cfg, "-o", tmp_path("c.db"), "--quiet"), 0, "%s", err_text);
    cr_assert_eq(RUN(cmd_run, "run", cfg, "-o", tmp_path("c2.db"), "--quiet", "--set",
                     "scheme.tiling=rows"),
                 2);
    cr_assert(strstr(err_text, "architecture is '1x28x7: "), "%s", err_text);
}

Test(learned_cli, parm_needs_k_queries_per_job)
{
    const char *cfg = tmp_path("r.ini");
    char text[8192];
    snprintf(text, sizeof text,
             "[cluster]\nworkers = 3\n[latency]\nkind = exp\nrate = 1\n"
             "[workload]\nkind = inference\nqueries = 3\njobs = 10\nweights = %s/mlp.bin\n"
             "[scheme]\nkind = parm\nk = 2\nlearned_weights = nowhere\n",
             weights_dir);
    write_text(cfg, text);
    cr_assert_eq(RUN(cmd_run, "run", cfg, "-o", tmp_path("r.db"), "--quiet"), 2);
    char want[1024];
    snprintf(want, sizeof want, "%s:8: workload.queries: parm needs workload.queries = scheme.k (2), got 3\n",
             cfg);
    cr_assert_str_eq(err_text, want);
}

Test(learned_cli, training_is_deterministic)
{
    const char *cfg = tmp_path("d.ini");
    write_text(cfg, "[cluster]\nworkers = 4\n[workload]\nqueries = 2\n"
                    "[scheme]\nstragglers = 1\n"
                    "[train]\ntarget = learned-lagrange\nepochs = 1\nlimit = 512\n"
                    "validation = 100\nthreads = 2\n");
    char a[64], b[64];
    for (int run = 0; run < 2; run++) {
        char set[600];
        snprintf(set, sizeof set, "scheme.learned_weights=%s", tmp_path(run ? "b" : "a"));
        cr_assert_eq(RUN(cmd_train, "train", cfg, "--quiet", "--set", set), 0, "%s", err_text);
    }
    snprintf(a, sizeof a, "a.worker.bin");
    snprintf(b, sizeof b, "b.worker.bin");
    static char ta[1 << 20], tb[1 << 20];
    FILE *fa = fopen(tmp_path(a), "rb"), *fb = fopen(tmp_path(b), "rb");
    cr_assert(fa && fb);
    size_t na = fread(ta, 1, sizeof ta, fa), nb = fread(tb, 1, sizeof tb, fb);
    fclose(fa);
    fclose(fb);
    cr_assert_eq(na, nb);
    cr_assert(na > 0 && memcmp(ta, tb, na) == 0, "two runs wrote different weights");
}

/* ---- gradients of the joint losses against central differences ---- */

Test(llc, gradients_flow_through_the_interpolation)
{
    struct llc_shape shape = {3, 6, 4, "dense8 tanh dense6", "dense8 tanh dense10",
                              LLC_DESIGN_INPUT, NULL};
    llc_check_gradients(&shape, 0, 97, 7);
}

struct split_case {
    struct split_nets *s;
    float x[3 * FMNIST_PIXELS];
    int labels[3];
    unsigned masks[4];
};

static double split_case_loss(void *ctx)
{
    struct split_case *c = ctx;
    double loss;
    struct error err;
    cr_assert_eq(split_loss_and_grad(c->s, c->x, c->labels, 3, c->masks, 4, &loss, &err),
                 STRAG_OK, "%s", err.msg);
    return loss;
}

Test(split, joint_gradients_respect_the_masks)
{
    /* masks: none, node 0, node 2, nodes 1 and 3 erased */
    static struct split_case c = {.labels = {3, 8, 5}, .masks = {0, 1, 4, 10}};
    struct split_shape shape = {4, 2, 2, "dense6 tanh dense5", "dense8 tanh dense10", true};
    struct error err;
    cr_assert_eq(split_nets_new(&shape, false, 5, &c.s, &err), STRAG_OK, "%s", err.msg);
    random_images(c.x, 3, 12);
    double loss;
    cr_assert_eq(split_loss_and_grad(c.s, c.x, c.labels, 3, c.masks, 4, &loss, &err), STRAG_OK,
                 "%s", err.msg);
    for (int i = 0; i < 4; i++) {
        struct model *m = c.s->node[i];
        float *g = grads_copy(m);
        char what[16];
        snprintf(what, sizeof what, "node%d", i);
        check_grads(m, g, split_case_loss, &c, 53, what);
        free(g);
    }
    /* fresh decoder gradients: the node checks recomputed the loss */
    cr_assert_eq(split_loss_and_grad(c.s, c.x, c.labels, 3, c.masks, 4, &loss, &err), STRAG_OK);
    float *g = grads_copy(c.s->decoder);
    check_grads(c.s->decoder, g, split_case_loss, &c, 5, "decoder");
    free(g);
    split_nets_free(c.s);
}
