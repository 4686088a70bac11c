/* test_lstm.c: the LSTM layer (layers_lstm.c) against an independent
 * double-precision loop: forward on every step, backward through time
 * against central finite differences of that loop, the backward's
 * accumulate/overwrite contract, a model with an lstm layer learning to
 * predict the next value of a noisy AR(1) sequence, and the lstm latency
 * predictor (schemes/common/predictor.h) built on it.
 *
 * Why a double reference for the gradient: the loss L = sum(h * R) of a
 * sequence passes every weight through T sigmoid/tanh steps; a float central
 * difference of it carries ~1e-3 of rounding at any usable eps, while in
 * double (eps = 1e-6) the difference is exact to ~1e-8, so the float
 * analytic gradient can be held to 1e-3 relative to max-abs.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/layers.h"
#include "models/model.h"
#include "models/optim.h"
#include "schemes/common/predictor.h"
#include "base/rng.h"

#define TOL 1e-3

enum { B = 3, T = 5, C = 3, H = 4, G = 4 * H };

/* One random problem: input, weights, and the R of L = sum(h * R). */
struct problem {
    float inp[B * T * C], wih[G * C], whh[G * H], bias[G], R[B * T * H];
};

static void problem_fill(struct problem *p, uint32_t seed)
{
    struct rng r;
    rng_seed(&r, 42, 9, RNG_INIT, seed);
    float *all[] = { p->inp, p->wih, p->whh, p->bias, p->R };
    size_t n[] = { B * T * C, G * C, G * H, G, B * T * H };
    for (int k = 0; k < 5; k++)
        for (size_t i = 0; i < n[k]; i++)
            all[k][i] = (float)(0.7 * rng_normal(&r));
}

/* The reference: hidden states (B,T,H) in double, with the parameters given
 * as doubles in the layer's layout. */
static void ref_lstm(double *out, const double *inp, const double *wih, const double *whh,
                     const double *bias)
{
    for (int b = 0; b < B; b++) {
        double h[H] = { 0 }, c[H] = { 0 }, a[G];
        for (int t = 0; t < T; t++) {
            const double *x = inp + ((size_t)b * T + t) * C;
            for (int k = 0; k < G; k++) {
                a[k] = bias[k];
                for (int j = 0; j < C; j++)
                    a[k] += wih[k * C + j] * x[j];
                for (int j = 0; j < H; j++)
                    a[k] += whh[k * H + j] * h[j];
            }
            for (int k = 0; k < H; k++) {
                double i = 1 / (1 + exp(-a[k])), f = 1 / (1 + exp(-a[H + k]));
                double g = tanh(a[2 * H + k]), o = 1 / (1 + exp(-a[3 * H + k]));
                c[k] = f * c[k] + i * g;
                h[k] = o * tanh(c[k]);
                out[((size_t)b * T + t) * H + k] = h[k];
            }
        }
    }
}

/* The problem in double, packed: inp | wih | whh | bias. */
struct dproblem {
    double v[B * T * C + G * C + G * H + G];
    double R[B * T * H];
};

static void dproblem_make(struct dproblem *d, const struct problem *p)
{
    const float *src[] = { p->inp, p->wih, p->whh, p->bias };
    size_t n[] = { B * T * C, G * C, G * H, G }, at = 0;
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < n[k]; i++)
            d->v[at++] = src[k][i];
    for (size_t i = 0; i < B * T * H; i++)
        d->R[i] = p->R[i];
}

static double dproblem_loss(const struct dproblem *d)
{
    double out[B * T * H], L = 0.0;
    const double *inp = d->v, *wih = inp + B * T * C, *whh = wih + G * C, *bias = whh + G * H;
    ref_lstm(out, inp, wih, whh, bias);
    for (size_t i = 0; i < B * T * H; i++)
        L += out[i] * d->R[i];
    return L;
}

Test(lstm, forward_matches_a_naive_loop)
{
    struct problem p;
    problem_fill(&p, 1);
    struct dproblem d;
    dproblem_make(&d, &p);
    double ref[B * T * H];
    const double *inp = d.v, *wih = inp + B * T * C, *whh = wih + G * C, *bias = whh + G * H;
    ref_lstm(ref, inp, wih, whh, bias);
    float out[B * T * H], cache[5 * B * T * H];
    cr_assert_eq(lstm_cache_size(B, T, H), sizeof cache / sizeof *cache);
    lstm_forward(out, cache, p.inp, p.wih, p.whh, p.bias, B, T, C, H);
    double worst = 0.0;
    for (size_t i = 0; i < B * T * H; i++)
        worst = fmax(worst, fabs(out[i] - ref[i]));
    cr_expect(worst < 1e-5, "forward: max abs error %g", worst);
    // the recurrence matters: step 2 of example 0 differs from a fresh start
    cr_expect(fabs(ref[H] - ref[0]) > 1e-3);
}

Test(lstm, backward_matches_finite_differences)
{
    struct problem p;
    problem_fill(&p, 2);
    struct dproblem d;
    dproblem_make(&d, &p);
    float out[B * T * H], cache[5 * B * T * H];
    float scratch[G * B * T + 2 * B * H];
    cr_assert_eq(lstm_scratch_size(B, T, H), sizeof scratch / sizeof *scratch);
    lstm_forward(out, cache, p.inp, p.wih, p.whh, p.bias, B, T, C, H);
    // analytic: [dinp | dwih | dwhh | dbias], packed like d.v
    float grad[B * T * C + G * C + G * H + G];
    memset(grad, 0, sizeof grad);
    float *dinp = grad, *dwih = dinp + B * T * C, *dwhh = dwih + G * C, *dbias = dwhh + G * H;
    lstm_backward(dinp, dwih, dwhh, dbias, scratch, p.R, p.inp, out, cache, p.wih, p.whh, B, T, C, H);

    double scale = 0.0, worst = 0.0;
    size_t n = sizeof grad / sizeof *grad, worst_at = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(grad[i]));
    cr_assert(scale > 0.1, "gradient too small to test: %g", scale);
    const double eps = 1e-6;
    for (size_t i = 0; i < n; i++) {
        double keep = d.v[i];
        d.v[i] = keep + eps;
        double up = dproblem_loss(&d);
        d.v[i] = keep - eps;
        double down = dproblem_loss(&d);
        d.v[i] = keep;
        double e = fabs((up - down) / (2 * eps) - grad[i]) / scale;
        if (e > worst)
            worst = e, worst_at = i;
    }
    cr_expect(worst < TOL, "relative error %.3g at packed index %zu (inp %d, wih %d, whh %d, bias %d)",
              worst, worst_at, B * T * C, G * C, G * H, G);
}

/* Weight gradients accumulate (+=); dinp is overwritten; dinp = NULL skips it
 * without changing the weight gradients. */
Test(lstm, backward_accumulates_weights_and_overwrites_dinp)
{
    struct problem p;
    problem_fill(&p, 3);
    float out[B * T * H], cache[5 * B * T * H], scratch[G * B * T + 2 * B * H];
    lstm_forward(out, cache, p.inp, p.wih, p.whh, p.bias, B, T, C, H);
    float once[B * T * C + G * C + G * H + G], twice[sizeof once / sizeof *once];
    memset(once, 0, sizeof once);
    memset(twice, 0, sizeof twice);
    float *d1 = once, *d2 = twice;
    lstm_backward(d1, d1 + B * T * C, d1 + B * T * C + G * C, d1 + B * T * C + G * C + G * H, scratch,
                  p.R, p.inp, out, cache, p.wih, p.whh, B, T, C, H);
    for (size_t i = 0; i < B * T * C; i++)
        d2[i] = 1e6f; /* garbage the backward must overwrite */
    for (int k = 0; k < 2; k++)
        lstm_backward(k ? d2 : NULL, d2 + B * T * C, d2 + B * T * C + G * C, d2 + B * T * C + G * C + G * H,
                      scratch, p.R, p.inp, out, cache, p.wih, p.whh, B, T, C, H);
    for (size_t i = 0; i < B * T * C; i++)
        cr_assert_float_eq(d2[i], d1[i], 1e-6, "dinp[%zu]", i);
    for (size_t i = B * T * C; i < sizeof once / sizeof *once; i++)
        cr_assert_float_eq(d2[i], 2 * d1[i], 1e-5 * (1 + fabs(d1[i])), "weight gradient %zu", i);
}

/* ---- learning: the next value of a noisy AR(1) sequence ---- */

enum { WINDOW = 8, SERIES = 4000, TRAIN = 3000, BATCH = 16, STEPS = 600 };

/* x_t = phi x_{t-1} + e_t, e_t ~ N(0, 1): the best predictor of x_t from the
 * past has mean squared error 1, predicting the mean has 1 / (1 - phi^2). */
Test(lstm, learns_the_next_value_of_an_ar1_sequence)
{
    const double phi = 0.8;
    float *x = malloc(sizeof(float) * SERIES);
    struct rng r;
    rng_seed(&r, 3, 1, RNG_DATA, 0);
    x[0] = 0.0f;
    for (int t = 1; t < SERIES; t++)
        x[t] = (float)(phi * x[t - 1] + rng_normal(&r));

    struct model *m;
    struct optim *o;
    struct error err;
    cr_assert_eq(model_new(&m, "1x1x8: lstm8 dense1", &err), 0, "%s", err.msg);
    struct rng ri;
    rng_seed(&ri, 3, 1, RNG_INIT, 0);
    model_init(m, &ri);
    struct optim_config oc = optim_config_default(OPTIM_ADAM);
    oc.lr = 0.01f;
    cr_assert_eq(optim_new(&o, &oc, m->nparams, &err), 0);

    float in[BATCH * WINDOW], target[BATCH], dout[BATCH];
    const float *y;
    for (int step = 0; step < STEPS; step++) {
        for (int b = 0; b < BATCH; b++) {
            int t = WINDOW + (int)rng_below(&r, TRAIN - WINDOW); /* predict x[t] from x[t-8..t) */
            memcpy(in + b * WINDOW, x + t - WINDOW, sizeof(float) * WINDOW);
            target[b] = x[t];
        }
        cr_assert_eq(model_forward(m, in, BATCH, &y, &err), 0, "%s", err.msg);
        mse_backward(dout, y, target, BATCH, 1.0f / BATCH);
        model_zero_grad(m);
        cr_assert_eq(model_backward(m, dout, BATCH, NULL, &err), 0, "%s", err.msg);
        optim_step(o, m->params, m->grads);
    }
    // held-out tail: the lstm against the mean of the training part
    double mean = 0.0, se_lstm = 0.0, se_mean = 0.0;
    for (int t = 0; t < TRAIN; t++)
        mean += x[t] / (double)TRAIN;
    for (int t = TRAIN; t < SERIES; t++) {
        cr_assert_eq(model_forward(m, x + t - WINDOW, 1, &y, &err), 0);
        se_lstm += (y[0] - x[t]) * (y[0] - x[t]);
        se_mean += (mean - x[t]) * (mean - x[t]);
    }
    double mse = se_lstm / (SERIES - TRAIN), mse_mean = se_mean / (SERIES - TRAIN);
    cr_log_info("ar1 next value: lstm mse %.3f, mean mse %.3f (optimum 1, mean 2.78)", mse, mse_mean);
    cr_expect(mse < 0.6 * mse_mean, "lstm mse %.3f vs mean %.3f", mse, mse_mean);
    cr_expect(mse < 1.3, "lstm mse %.3f, optimum 1", mse);
    model_free(m);
    optim_free(o);
    free(x);
}

/* ---- the lstm latency predictor ---- */

/* A period-3 pattern of task times: the online lstm over the last 8 times
 * learns it, the EWMA cannot (as the mlp predictor does in test_gradcode.c). */
Test(lstm, predictor_learns_a_pattern)
{
    struct predictor ls, ew;
    struct error err;
    struct predictor_net_options o = predictor_net_defaults();
    o.hidden = 8;
    cr_assert_eq(predictor_init_net(&ls, PREDICTOR_LSTM, 0.3, 2, &o, &err), 0, "%s", err.msg);
    cr_assert_eq(predictor_init(&ew, PREDICTOR_EWMA, 0.3, 2, &err), 0);
    cr_assert_not_null(ls.net);
    cr_assert_str_eq(ls.net->arch, "1x1x8: lstm8 dense1");
    const double pattern[] = {1.0, 1.0, 4.0};
    for (int k = 0; k < 1500; k++)
        for (int w = 0; w < 2; w++) {
            double x = pattern[(k + w) % 3];
            cr_assert_eq(predictor_observe(&ls, w, x, &err), 0, "%s", err.msg);
            cr_assert_eq(predictor_observe(&ew, w, x, &err), 0);
        }
    cr_log_info("rel mae: lstm %g, ewma %g", predictor_rel_mae(&ls), predictor_rel_mae(&ew));
    cr_assert(predictor_rel_mae(&ls) < 0.5 * predictor_rel_mae(&ew), "lstm %g ewma %g",
              predictor_rel_mae(&ls), predictor_rel_mae(&ew));
    /* worker 0 saw ..., 1, 1, 4 last (k = 1499: index 2), so next is 1 */
    cr_assert_float_eq(predictor_predict(&ls, 0), 1.0, 0.3);
    predictor_free(&ls);
    predictor_free(&ew);
}

Test(lstm, predictor_kinds_and_bad_options)
{
    enum predictor_kind k;
    cr_assert_eq(predictor_kind_parse("lstm", &k), 0);
    cr_assert_eq(k, PREDICTOR_LSTM);
    cr_assert_eq(predictor_kind_parse("gru", &k), -1);
    struct predictor p;
    struct error err;
    struct predictor_net_options o = predictor_net_defaults();
    o.window = PREDICTOR_WINDOW_MAX + 1;
    cr_assert_neq(predictor_init_net(&p, PREDICTOR_LSTM, 0.3, 2, &o, &err), 0);
    cr_assert_str_eq(err.msg, "predictor window 33 is outside 1..32");
    o = predictor_net_defaults();
    o.lr = 0;
    cr_assert_neq(predictor_init_net(&p, PREDICTOR_LSTM, 0.3, 2, &o, &err), 0);
    cr_assert_str_eq(err.msg, "predictor network needs hidden >= 1 and lr > 0 (got 16, 0)");
}
