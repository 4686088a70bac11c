/* test_tuner.c: the tuner's decision rules on synthetic windows (no
 * training): the rule tuner's plateau, straggler-burst, staleness and
 * overfitting rules as doc/autotune.md documents them, the fixed tuner's
 * no-op, the random tuner's ranges and its one row per key per window, the
 * schedules, and the lstm tuner's grid and its online training; the
 * per-worker convolution of lstm_input = per_worker (tuner_conv.h): its
 * gradient, alone and through the LSTM behind it, against central finite
 * differences, and the tuner reading the per-worker series.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/rng.h"
#include "models/model.h"
#include "workloads/tuner.h"
#include "workloads/tuner_conv.h"

static struct tuner_config config(enum tuner_kind kind)
{
    struct tuner_config c = {
        .kind = kind, .window = 10, .iterations = 200, .decay = 0.5, .patience = 2,
        .min_delta = 0.005, .straggler_share = 0.5, .epsilon = 0.1, .hidden = 8, .history = 3,
        .lstm_lr = 0.01,
        .min = { 0.001, 60, 1e-5, 0.0, 0 },
        .max = { 1.0, 2400, 0.01, 0.5, 8 },
    };
    return c;
}

static const double start[TUNER_KNOBS] = { 0.1, 600, 0.0, 0.0, 2 };

static struct tuner *make(const struct tuner_config *c)
{
    struct tuner *tu;
    struct error err;
    cr_assert_eq(tuner_new(&tu, c, start, 1, 2, &err), 0, "%s", err.msg);
    return tu;
}

/* A calm window k: loss falling, accuracy `acc`, no stragglers. */
static struct tuner_window calm(long k, double acc)
{
    return (struct tuner_window){ .iteration = 10 * k + 9, .sim_time = 20.0 * (k + 1), .time = 20.0,
                                  .loss = 1.0 / (k + 1), .val_accuracy = acc,
                                  .straggler_share = 0.2, .staleness = 0.0 };
}

static void decide(struct tuner *tu, const struct tuner_window *w, double *s)
{
    struct error err;
    cr_assert_eq(tuner_decide(tu, w, s, &err), 0, "%s", err.msg);
}

Test(tuner, rule_lowers_the_learning_rate_on_a_validation_plateau_only)
{
    struct tuner_config c = config(TUNER_RULE);
    c.tuned[TUNER_LR] = true;
    struct tuner *tu = make(&c);
    double s[TUNER_KNOBS];
    memcpy(s, start, sizeof s);
    // gaining: held
    for (long k = 0; k < 4; k++) {
        struct tuner_window w = calm(k, 0.5 + 0.05 * k);
        decide(tu, &w, s);
        cr_expect_eq(s[TUNER_LR], 0.1, "window %ld: gaining, held", k);
    }
    // a plateau: after `patience` windows without a gain > min_delta, x decay
    struct tuner_window w = calm(4, 0.652);
    decide(tu, &w, s);
    cr_expect_eq(s[TUNER_LR], 0.1, "one flat window is not a plateau");
    w = calm(5, 0.651);
    decide(tu, &w, s);
    cr_expect_float_eq(s[TUNER_LR], 0.05, 1e-12, "two flat windows: halved");
    w = calm(6, 0.653);
    decide(tu, &w, s);
    cr_expect_float_eq(s[TUNER_LR], 0.05, 1e-12, "the count starts over after a decision");
    size_t n;
    struct tuner_row *rows = tuner_take_rows(tu, &n);
    cr_assert_eq(n, 7, "one row per window per tuned key");
    cr_expect_str_eq(rows[5].key, "learning_rate");
    cr_expect_str_eq(rows[5].reason, "plateau: lower learning rate");
    cr_expect_eq(rows[5].iteration, 59);
    cr_expect_str_eq(rows[4].reason, "hold");
    free(rows);
    tuner_free(tu);
}

Test(tuner, rule_grows_the_batch_in_a_straggler_burst_and_shrinks_it_after)
{
    struct tuner_config c = config(TUNER_RULE);
    c.tuned[TUNER_LR] = c.tuned[TUNER_BATCH] = true;
    struct tuner *tu = make(&c);
    double s[TUNER_KNOBS];
    memcpy(s, start, sizeof s);
    struct tuner_window w = calm(0, 0.5);
    decide(tu, &w, s);
    cr_expect_eq(s[TUNER_BATCH], 600);
    // a burst: the straggler share rises above the threshold (0.5)
    w = calm(1, 0.6);
    w.straggler_share = 0.6;
    decide(tu, &w, s);
    cr_expect_eq(s[TUNER_BATCH], 1200, "doubled");
    cr_expect_float_eq(s[TUNER_LR], 0.2, 1e-12, "learning rate scaled linearly");
    w = calm(2, 0.7);
    w.straggler_share = 0.7;
    decide(tu, &w, s);
    cr_expect_eq(s[TUNER_BATCH], 2400, "still rising: doubled again");
    cr_expect_float_eq(s[TUNER_LR], 0.4, 1e-12);
    w = calm(3, 0.8);
    w.straggler_share = 0.9;
    decide(tu, &w, s);
    cr_expect_eq(s[TUNER_BATCH], 2400, "clamped to batch_max");
    cr_expect_float_eq(s[TUNER_LR], 0.4, 1e-12, "and the learning rate with it");
    w = calm(4, 0.82);
    w.straggler_share = 0.9;
    decide(tu, &w, s);
    cr_expect_eq(s[TUNER_BATCH], 2400, "high but not rising: held");
    // in between the thresholds: held; well below: back toward the start
    w = calm(5, 0.85);
    w.straggler_share = 0.3;
    decide(tu, &w, s);
    cr_expect_eq(s[TUNER_BATCH], 2400);
    w = calm(6, 0.9);
    w.straggler_share = 0.1;
    decide(tu, &w, s);
    cr_expect_eq(s[TUNER_BATCH], 1200);
    cr_expect_float_eq(s[TUNER_LR], 0.2, 1e-12);
    tuner_free(tu);
}

Test(tuner, rule_tightens_the_staleness_bound_when_the_loss_rises_under_staleness)
{
    struct tuner_config c = config(TUNER_RULE);
    c.tuned[TUNER_STALENESS] = true;
    struct tuner *tu = make(&c);
    double s[TUNER_KNOBS];
    memcpy(s, start, sizeof s);
    struct tuner_window w = calm(0, 0.5);
    w.staleness = 2.5;
    decide(tu, &w, s);
    cr_expect_eq(s[TUNER_STALENESS], 2);
    w = calm(1, 0.5);
    w.loss = 2.0; /* rose from 1.0 */
    w.staleness = 2.5;
    decide(tu, &w, s);
    cr_expect_eq(s[TUNER_STALENESS], 1, "tightened");
    w = calm(2, 0.6);
    w.straggler_share = 0.8;
    decide(tu, &w, s);
    cr_expect_eq(s[TUNER_STALENESS], 2, "a straggler burst and a falling loss: loosened");
    w = calm(3, 0.7);
    w.straggler_share = 0.8;
    decide(tu, &w, s);
    cr_expect_eq(s[TUNER_STALENESS], 2, "the same share: held");
    tuner_free(tu);
}

Test(tuner, rule_regularises_when_training_loss_falls_and_validation_falls)
{
    struct tuner_config c = config(TUNER_RULE);
    c.tuned[TUNER_WEIGHT_DECAY] = c.tuned[TUNER_DROPOUT] = true;
    struct tuner *tu = make(&c);
    double s[TUNER_KNOBS];
    memcpy(s, start, sizeof s);
    struct tuner_window w = calm(0, 0.8);
    decide(tu, &w, s);
    w = calm(1, 0.7);
    decide(tu, &w, s);
    cr_expect_eq(s[TUNER_WEIGHT_DECAY], 1e-5, "from 0 to weight_decay_min");
    cr_expect_float_eq(s[TUNER_DROPOUT], 0.1, 1e-12);
    w = calm(2, 0.6);
    decide(tu, &w, s);
    cr_expect_float_eq(s[TUNER_WEIGHT_DECAY], 2e-5, 1e-18);
    tuner_free(tu);
}

Test(tuner, fixed_keeps_the_setting_and_writes_its_rows)
{
    struct tuner_config c = config(TUNER_FIXED);
    for (int k = 0; k < TUNER_KNOBS; k++)
        c.tuned[k] = true;
    struct tuner *tu = make(&c);
    double s[TUNER_KNOBS];
    memcpy(s, start, sizeof s);
    for (long k = 0; k < 5; k++) {
        struct tuner_window w = calm(k, 0.5);
        w.straggler_share = 0.9;
        decide(tu, &w, s);
        cr_expect(memcmp(s, start, sizeof s) == 0);
    }
    cr_expect_eq(tuner_nrows(tu), 25);
    tuner_free(tu);
}

Test(tuner, random_draws_inside_the_ranges_with_one_row_per_key_per_window)
{
    struct tuner_config c = config(TUNER_RANDOM);
    c.tuned[TUNER_LR] = c.tuned[TUNER_BATCH] = c.tuned[TUNER_STALENESS] = true;
    struct tuner *tu = make(&c), *again = make(&c);
    double s[TUNER_KNOBS], t[TUNER_KNOBS];
    memcpy(s, start, sizeof s);
    memcpy(t, start, sizeof t);
    double lo = 1, hi = 0;
    for (long k = 0; k < 200; k++) {
        struct tuner_window w = calm(k, 0.5);
        decide(tu, &w, s);
        decide(again, &w, t);
        cr_assert(memcmp(s, t, sizeof s) == 0, "seeded: the same draws");
        cr_assert(s[TUNER_LR] >= 0.001 && s[TUNER_LR] <= 1.0);
        cr_assert(s[TUNER_BATCH] >= 60 && s[TUNER_BATCH] <= 2400 && s[TUNER_BATCH] == round(s[TUNER_BATCH]));
        cr_assert(s[TUNER_STALENESS] >= 0 && s[TUNER_STALENESS] <= 8);
        cr_assert_eq(s[TUNER_WEIGHT_DECAY], 0.0, "not tuned, not touched");
        lo = fmin(lo, s[TUNER_LR]), hi = fmax(hi, s[TUNER_LR]);
    }
    cr_expect(lo < 0.003 && hi > 0.3, "log-uniform over the range: %g .. %g", lo, hi);
    cr_expect_eq(tuner_nrows(tu), 600);
    tuner_free(tu);
    tuner_free(again);
}

Test(tuner, schedules_step_and_cosine)
{
    struct tuner_config c = config(TUNER_SCHEDULE);
    c.tuned[TUNER_LR] = true;
    struct tuner *tu = make(&c);
    double s[TUNER_KNOBS];
    memcpy(s, start, sizeof s);
    double want[] = { 0.1, 0.1, 0.05, 0.05, 0.025 };
    for (long k = 0; k < 5; k++) {
        struct tuner_window w = calm(k, 0.5);
        decide(tu, &w, s);
        cr_expect_float_eq(s[TUNER_LR], want[k], 1e-12, "step: window %ld", k);
    }
    tuner_free(tu);
    c.cosine = true;
    tu = make(&c);
    memcpy(s, start, sizeof s);
    struct tuner_window w = calm(9, 0.5); /* iteration 99 of 200: half way */
    decide(tu, &w, s);
    cr_expect_float_eq(s[TUNER_LR], 0.001 + 0.5 * 0.099, 1e-12);
    tuner_free(tu);
}

/* 40 windows of a world where the validation gain per window grows with
 * log(lr) (up > 0) or shrinks with it (up < 0); returns the final lr. */
static double lstm_world(double up)
{
    struct tuner_config c = config(TUNER_LSTM);
    c.tuned[TUNER_LR] = true;
    c.epsilon = 0.2;
    struct tuner *tu = make(&c);
    double s[TUNER_KNOBS];
    memcpy(s, start, sizeof s);
    double acc = 0.3;
    for (long k = 0; k < 40; k++) {
        struct tuner_window w = calm(k, acc);
        double before = s[TUNER_LR];
        decide(tu, &w, s);
        double r = s[TUNER_LR] / before;
        cr_assert(fabs(r - 0.5) < 1e-12 || fabs(r - 1) < 1e-12 || fabs(r - 2) < 1e-12 ||
                      s[TUNER_LR] == 1.0 || s[TUNER_LR] == 0.001,
                  "a grid move: x%g", r);
        double x = log10(s[TUNER_LR] / 0.001) / 3.0; /* 0 .. 1 over the range */
        acc += 0.02 * (up > 0 ? x : 1.0 - x);
    }
    tuner_free(tu);
    return s[TUNER_LR];
}

Test(tuner, lstm_moves_on_its_grid_and_learns_which_move_pays)
{
    // the same tuner goes up where going up pays and down where going down does
    double high = lstm_world(1.0), low = lstm_world(-1.0);
    cr_expect(high >= 0.4, "gain grows with lr: ends at %g", high);
    cr_expect(low <= 0.0125, "gain shrinks with lr: ends at %g", low);
}

Test(tuner, window_must_be_positive)
{
    struct tuner_config c = config(TUNER_RULE);
    c.window = 0;
    struct tuner *tu;
    struct error err;
    cr_expect_eq(tuner_new(&tu, &c, start, 1, 2, &err), STRAG_EFAIL);
    cr_expect_null(tu);
}

/* ---- the per-worker convolution (lstm_input = per_worker) ---- */

enum { CV_C = 3, CV_K = 2, CV_W = 4, CV_T = 4, CV_S = 6, CV_SUMMARY = 2 };

static void conv_random(struct tuner_conv *cv, float *z, struct rng *r)
{
    cr_assert_eq(tuner_conv_init(cv, CV_C, CV_K, CV_W, r), 0);
    for (size_t i = 0; i < cv->nparams; i++) /* biases too, so that no gradient is trivially 0 */
        cv->params[i] = (float)(rng_uniform(r) - 0.5);
    for (int i = 0; i < CV_S * CV_W; i++)
        z[i] = (float)(2.0 * rng_uniform(r) - 1.0);
}

/* sum over (c, t) of weight[c t] F[c t], for the sequences ending at step 5 and step 1
 * (the second reads the clamped steps before 0) */
static double conv_loss(const struct tuner_conv *cv, const float *z, const float *weight)
{
    double loss = 0;
    size_t lasts[2] = { 5, 1 };
    for (int q = 0; q < 2; q++) {
        float F[CV_C * CV_T];
        tuner_conv_forward(cv, z, lasts[q], CV_T, F);
        for (int i = 0; i < CV_C * CV_T; i++)
            loss += (double)weight[i] * F[i];
    }
    return loss;
}

static void expect_close(double analytic, double numeric, size_t i)
{
    cr_expect(fabs(analytic - numeric) <= 2e-3 + 2e-2 * fabs(numeric),
              "parameter %zu: backward %g, finite differences %g", i, analytic, numeric);
}

Test(tuner_conv, gradient_matches_finite_differences)
{
    struct rng r;
    rng_seed(&r, 7, 8, 0, 0);
    struct tuner_conv cv;
    float z[CV_S * CV_W], weight[CV_C * CV_T];
    conv_random(&cv, z, &r);
    for (int i = 0; i < CV_C * CV_T; i++)
        weight[i] = (float)(rng_uniform(&r) - 0.5);
    tuner_conv_backward(&cv, z, 5, CV_T, weight);
    tuner_conv_backward(&cv, z, 1, CV_T, weight);
    double largest = 0;
    for (size_t i = 0; i < cv.nparams; i++) {
        float keep = cv.params[i];
        const double eps = 1e-3;
        cv.params[i] = keep + (float)eps;
        double up = conv_loss(&cv, z, weight);
        cv.params[i] = keep - (float)eps;
        double down = conv_loss(&cv, z, weight);
        cv.params[i] = keep;
        double numeric = (up - down) / (2 * eps);
        expect_close(cv.grads[i], numeric, i);
        largest = fmax(largest, fabs(numeric));
    }
    cr_expect_gt(largest, 0.1, "the check saw real gradients");
    tuner_conv_free(&cv);
}

/* 0.5 sum_b (out_b - target_b)^2 of the LSTM over (summary rows, conv channels) */
static double chain_loss(struct model *net, const struct tuner_conv *cv, const float *z,
                         const float *summary, const float *target, float *in, float *dout)
{
    size_t lasts[2] = { 5, 2 }, stride = (size_t)(CV_SUMMARY + CV_C) * CV_T;
    for (int b = 0; b < 2; b++) {
        memcpy(in + b * stride, summary + b * CV_SUMMARY * CV_T, sizeof(float) * CV_SUMMARY * CV_T);
        tuner_conv_forward(cv, z, lasts[b], CV_T, in + b * stride + CV_SUMMARY * CV_T);
    }
    const float *out;
    struct error err;
    cr_assert_eq(model_forward(net, in, 2, &out, &err), 0, "%s", err.msg);
    double loss = 0;
    for (int b = 0; b < 2; b++) {
        loss += 0.5 * ((double)out[b] - target[b]) * ((double)out[b] - target[b]);
        if (dout)
            dout[b] = out[b] - target[b];
    }
    return loss;
}

Test(tuner_conv, gradient_through_the_lstm_matches_finite_differences)
{
    struct rng r;
    rng_seed(&r, 9, 10, 0, 0);
    struct tuner_conv cv;
    float z[CV_S * CV_W];
    conv_random(&cv, z, &r);
    struct model *net;
    struct error err;
    char spec[64];
    snprintf(spec, sizeof spec, "%dx1x%d: lstm6 dense1", CV_SUMMARY + CV_C, CV_T);
    cr_assert_eq(model_new(&net, spec, &err), 0, "%s", err.msg);
    model_init(net, &r);
    size_t stride = (size_t)(CV_SUMMARY + CV_C) * CV_T;
    float summary[2 * CV_SUMMARY * CV_T], target[2] = { 1.5f, -1.0f }, in[2 * stride],
        dinp[2 * stride], dout[2];
    for (int i = 0; i < 2 * CV_SUMMARY * CV_T; i++)
        summary[i] = (float)rng_uniform(&r);
    chain_loss(net, &cv, z, summary, target, in, dout);
    model_zero_grad(net);
    cr_assert_eq(model_backward(net, dout, 2, dinp, &err), 0, "%s", err.msg);
    size_t lasts[2] = { 5, 2 };
    for (int b = 0; b < 2; b++)
        tuner_conv_backward(&cv, z, lasts[b], CV_T, dinp + b * stride + CV_SUMMARY * CV_T);
    double largest = 0;
    for (size_t i = 0; i < cv.nparams; i++) {
        float keep = cv.params[i];
        const double eps = 1e-3;
        cv.params[i] = keep + (float)eps;
        double up = chain_loss(net, &cv, z, summary, target, in, NULL);
        cv.params[i] = keep - (float)eps;
        double down = chain_loss(net, &cv, z, summary, target, in, NULL);
        cv.params[i] = keep;
        double numeric = (up - down) / (2 * eps);
        expect_close(cv.grads[i], numeric, i);
        largest = fmax(largest, fabs(numeric));
    }
    cr_expect_gt(largest, 0.01, "the check saw real gradients");
    model_free(net);
    tuner_conv_free(&cv);
}

/* 30 windows of a world whose validation gain peaks at the middle of the
 * lr range (so the tuner keeps moving), worker 0 slow in every other window
 * (`pattern`) or never, the straggler share the same: the lr decisions of
 * a per_worker lstm tuner. */
static void per_worker_decisions(bool pattern, double *lr)
{
    struct tuner_config c = config(TUNER_LSTM);
    c.tuned[TUNER_LR] = true;
    c.per_worker = true;
    c.conv_channels = 2;
    c.conv_kernel = 2;
    c.workers = CV_W;
    struct tuner *tu = make(&c);
    double s[TUNER_KNOBS];
    memcpy(s, start, sizeof s);
    double acc = 0.3;
    for (long k = 0; k < 30; k++) {
        double times[CV_W] = { pattern && k % 2 ? 5.0 : 1.0, 1.0, 1.0, 1.0 };
        struct tuner_window w = calm(k, acc);
        w.workers = CV_W;
        w.worker_time = times;
        decide(tu, &w, s);
        lr[k] = s[TUNER_LR];
        double x = log10(s[TUNER_LR] / 0.001) / 3.0; /* 0 .. 1 over the range */
        acc += 0.02 * (1.0 - 2.0 * fabs(x - 0.5));
    }
    tuner_free(tu);
}

Test(tuner_conv, per_worker_lstm_reads_the_per_worker_series)
{
    // the same summaries, other per-worker series: other decisions
    double a[30], b[30], a2[30];
    per_worker_decisions(true, a);
    per_worker_decisions(true, a2);
    per_worker_decisions(false, b);
    cr_expect_eq(memcmp(a, a2, sizeof a), 0, "the same series: the same decisions");
    cr_expect_neq(memcmp(a, b, sizeof a), 0, "another series: other decisions");
}
