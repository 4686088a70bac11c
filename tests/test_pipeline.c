/* test_pipeline.c: the pipeline workload's parts against what they must
 * equal: the gpipe iteration time with deterministic stage times and no
 * transfers, sum_s (t_s + u_s) + (M-1)(max_s t_s + max_s u_s) (equal and
 * unequal stages, one slow stage; 1f1b the same for equal stages); stage
 * replication as the least of r exponential draws on every stage task;
 * the weights after k iterations of the staged forward and backward passes
 * against one worker accumulating the micro-batches' gradients (float32
 * rounding), and with dropout and weight decay against one worker training
 * on the whole batch; the FLOP-balanced split; and whole runs through the
 * workload: schedules and mitigations that share a point's streams end with
 * the same weights, rebalancing moves work off a persistently slow worker,
 * and a tuned batch is more micro-batches of the configured size.
 * The whole runs need the Fashion-MNIST files (workload.data_dir's default).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "tmp_dir.h"
#include "app/config.h"
#include "base/rng.h"
#include "models/optim.h"
#include "workloads/pipeline_stages.h"
#include "workloads/pipeline_timing.h"
#include "workloads/workload.h"

/* ---- timing ---- */

/* Deterministic durations: a task takes its cost. */
static double duration_cost(void *ctx, int stage, int replica, double cost)
{
    (void)ctx, (void)stage, (void)replica;
    return cost;
}

/* One iteration with stage times t (forward) and u (backward) for every
 * micro-batch, no transfers. */
static double iteration_time(enum pipeline_schedule schedule, int P, int M, const double *t,
                             const double *u)
{
    double f[64 * 16], b[64 * 16], x[64 * 16] = {0};
    for (int s = 0; s < P; s++)
        for (int m = 0; m < M; m++)
            f[s * M + m] = t[s], b[s * M + m] = u[s];
    struct pipeline_timing timing = {
        .stages = P, .microbatches = M, .replicas = 1, .schedule = schedule,
        .forward_cost = f, .backward_cost = b, .transfer = x, .duration = duration_cost,
    };
    void *scratch = malloc(pipeline_timing_scratch_bytes(P, M));
    struct pipeline_timing_result out;
    cr_assert_eq(pipeline_timing_run(&timing, 2.0, scratch, &out), 0);
    free(scratch);
    return out.end - 2.0;
}

static double gpipe_formula(int P, int M, const double *t, const double *u)
{
    double sum = 0, tmax = 0, umax = 0;
    for (int s = 0; s < P; s++) {
        sum += t[s] + u[s];
        tmax = fmax(tmax, t[s]);
        umax = fmax(umax, u[s]);
    }
    return sum + (M - 1) * (tmax + umax);
}

/* dyadic times, so every sum is exact */
Test(pipeline_timing, gpipe_equal_stages)
{
    double t[4] = {0.25, 0.25, 0.25, 0.25}, u[4] = {0.5, 0.5, 0.5, 0.5};
    for (int M = 1; M <= 8; M++)
        cr_assert_eq(iteration_time(PIPELINE_GPIPE, 4, M, t, u), gpipe_formula(4, M, t, u), "M %d",
                     M);
    /* 4 x 0.75 + 7 x 0.75 */
    cr_assert_eq(iteration_time(PIPELINE_GPIPE, 4, 8, t, u), 8.25);
}

Test(pipeline_timing, gpipe_unequal_stages)
{
    double t[5] = {0.125, 0.5, 0.25, 0.375, 0.0625}, u[5] = {0.25, 0.75, 1.0, 0.5, 0.125};
    for (int M = 1; M <= 12; M++)
        cr_assert_eq(iteration_time(PIPELINE_GPIPE, 5, M, t, u), gpipe_formula(5, M, t, u), "M %d",
                     M);
}

Test(pipeline_timing, gpipe_one_slow_stage)
{
    double t[4] = {0.25, 0.25, 2.0, 0.25}, u[4] = {0.5, 0.5, 4.0, 0.5};
    for (int M = 1; M <= 8; M++)
        cr_assert_eq(iteration_time(PIPELINE_GPIPE, 4, M, t, u), gpipe_formula(4, M, t, u), "M %d",
                     M);
    /* the slow stage sets the pace: (M-1) x 6 on top of one pass */
    cr_assert_eq(iteration_time(PIPELINE_GPIPE, 4, 8, t, u), 8.25 + 7 * 6.0);
}

Test(pipeline_timing, one_f_one_b_equal_stages_and_memory)
{
    double t[4] = {0.25, 0.25, 0.25, 0.25}, u[4] = {0.5, 0.5, 0.5, 0.5};
    for (int M = 1; M <= 8; M++)
        cr_assert_eq(iteration_time(PIPELINE_1F1B, 4, M, t, u), gpipe_formula(4, M, t, u), "M %d",
                     M);
    /* in flight: gpipe holds all M micro-batches, 1f1b min(P - s, M) on stage s */
    double f[32], b[32], x[32] = {0};
    for (int i = 0; i < 32; i++)
        f[i] = 0.25, b[i] = 0.5;
    for (int k = 0; k < 2; k++) {
        struct pipeline_timing timing = {
            .stages = 4, .microbatches = 8, .replicas = 1,
            .schedule = k ? PIPELINE_1F1B : PIPELINE_GPIPE, .forward_cost = f,
            .backward_cost = b, .transfer = x, .duration = duration_cost,
        };
        void *scratch = malloc(pipeline_timing_scratch_bytes(4, 8));
        struct pipeline_timing_result out;
        cr_assert_eq(pipeline_timing_run(&timing, 0.0, scratch, &out), 0);
        free(scratch);
        for (int s = 0; s < 4; s++)
            cr_assert_eq(out.peak_inflight[s], k ? 4 - s : 8, "schedule %d stage %d", k, s);
    }
}

Test(pipeline_timing, transfers_add_per_boundary)
{
    /* one micro-batch: the transfers add twice per boundary (there and back) */
    double f[3] = {1, 1, 1}, b[3] = {2, 2, 2}, x[3] = {0.5, 0.25, 0};
    struct pipeline_timing timing = {
        .stages = 3, .microbatches = 1, .replicas = 1, .schedule = PIPELINE_GPIPE,
        .forward_cost = f, .backward_cost = b, .transfer = x, .duration = duration_cost,
    };
    void *scratch = malloc(pipeline_timing_scratch_bytes(3, 1));
    struct pipeline_timing_result out;
    cr_assert_eq(pipeline_timing_run(&timing, 0.0, scratch, &out), 0);
    free(scratch);
    cr_assert_eq(out.end, 9.0 + 2 * 0.75);
    cr_assert_eq(out.busy, 9.0);
}

/* Exponential draws, each recorded, in the order they are asked for. */
struct exp_draws {
    struct rng rng;
    double rate;
    double drawn[4096];
    int count;
};

static double duration_exp(void *ctx, int stage, int replica, double cost)
{
    (void)stage, (void)replica;
    struct exp_draws *e = ctx;
    double d = cost * rng_exp(&e->rng, e->rate);
    if (e->count < 4096)
        e->drawn[e->count++] = d;
    return d;
}

Test(pipeline_timing, replication_is_the_least_of_r_exponentials)
{
    enum { P = 3, R = 3, ITER = 4000 };
    double f[P] = {1, 1, 1}, b[P] = {1, 1, 1}, x[P] = {0};
    struct exp_draws *e = calloc(1, sizeof *e);
    rng_seed(&e->rng, 7, 1, 0, 0);
    e->rate = 1.0;
    struct pipeline_timing timing = {
        .stages = P, .microbatches = 1, .replicas = R, .schedule = PIPELINE_GPIPE,
        .forward_cost = f, .backward_cost = b, .transfer = x, .duration = duration_exp, .ctx = e,
    };
    void *scratch = malloc(pipeline_timing_scratch_bytes(P, 1));
    double sum = 0, sq = 0;
    for (int it = 0; it < ITER; it++) {
        e->count = 0;
        struct pipeline_timing_result out;
        cr_assert_eq(pipeline_timing_run(&timing, 0.0, scratch, &out), 0);
        /* one micro-batch runs the 2P tasks one after another: the time is
         * the sum over tasks of the least of each task's r draws */
        cr_assert_eq(e->count, 2 * P * R);
        double want = 0;
        for (int task = 0; task < 2 * P; task++) {
            double least = INFINITY;
            for (int r = 0; r < R; r++)
                least = fmin(least, e->drawn[task * R + r]);
            want += least;
        }
        cr_assert_float_eq(out.end, want, 1e-12);
        sum += out.end;
        sq += out.end * out.end;
    }
    /* min of r Exp(1) is Exp(r): mean 2P/r, variance 2P/r^2 */
    double mean = sum / ITER, se = sqrt((sq / ITER - mean * mean) / ITER);
    cr_assert(fabs(mean - 2.0 * P / R) < 4 * se, "mean %g, want %g (se %g)", mean, 2.0 * P / R, se);
    cr_assert(fabs(se * se * ITER - 2.0 * P / (R * R)) < 0.1 * 2.0 * P / (R * R));
    free(scratch);
    free(e);
}

/* ---- computation ---- */

/* Both stage tests: a batch of B images in M micro-batches, K steps. */
enum { PAIR_B = 24, PAIR_M = 5, PAIR_K = 3 };

/* lenet5 cut into 4 stages by `split`, next to the same network on one
 * worker (ref) with the same initial weights (stream seed, seed + 1) and
 * an SGD optimizer each (learning rate 0.1, the momentum and weight decay
 * given); with dropout > 0 both networks have the layer and the same
 * dropout stream. The stream r then draws the batches (stage_pair_step). */
struct stage_pair {
    struct model *full, *ref;
    struct pipeline_stages st;
    struct optim *opt, *ref_opt;
    struct rng r;
    float *x;
    int y[PAIR_B];
};

static void stage_pair_new(struct stage_pair *sp, float dropout, uint64_t seed, const char *split,
                           float momentum, float weight_decay)
{
    struct error err;
    if (dropout > 0) {
        cr_assert_eq(model_new_dropout(&sp->full, "lenet5", dropout, &err), 0, "%s", err.msg);
        cr_assert_eq(model_new_dropout(&sp->ref, "lenet5", dropout, &err), 0, "%s", err.msg);
    } else {
        cr_assert_eq(model_new(&sp->full, "lenet5", &err), 0, "%s", err.msg);
        cr_assert_eq(model_new(&sp->ref, "lenet5", &err), 0, "%s", err.msg);
    }
    rng_seed(&sp->r, seed, seed + 1, 0, 0);
    model_init(sp->full, &sp->r);
    memcpy(sp->ref->params, sp->full->params, sp->full->nparams * sizeof(float));
    if (dropout > 0) {
        rng_seed(&sp->full->dropout_rng, seed, seed + 1, RNG_DROPOUT, 0);
        rng_seed(&sp->ref->dropout_rng, seed, seed + 1, RNG_DROPOUT, 0);
    }
    struct pipeline_layers layers;
    cr_assert_eq(pipeline_layers_read(sp->full, &layers, &err), 0, "%s", err.msg);
    int first[PIPELINE_LAYERS_MAX + 1], P;
    cr_assert_eq(pipeline_split_parse(&layers, split, 8, first, &P, &err), 0, "%s", err.msg);
    cr_assert_eq(P, 4);
    cr_assert_eq(pipeline_stages_build(&sp->st, &layers, sp->full, first, P, PAIR_B / PAIR_M + 1,
                                       &err),
                 0, "%s", err.msg);
    struct optim_config oc = optim_config_default(OPTIM_SGD);
    oc.lr = 0.1f;
    oc.momentum = momentum;
    oc.weight_decay = weight_decay;
    cr_assert_eq(optim_new(&sp->opt, &oc, sp->full->nparams, &err), 0, "%s", err.msg);
    cr_assert_eq(optim_new(&sp->ref_opt, &oc, sp->full->nparams, &err), 0, "%s", err.msg);
    sp->x = malloc(PAIR_B * 784 * sizeof *sp->x);
    cr_assert_not_null(sp->x);
}

/* One step of the stages: the next batch (PAIR_B uniform images and
 * labels from r) through them, dropout masks from `dropout_rng`, and
 * their optimizer's step; returns the batch's loss. */
static double stage_pair_step(struct stage_pair *sp, struct rng *dropout_rng)
{
    for (int i = 0; i < PAIR_B * 784; i++)
        sp->x[i] = (float)rng_uniform(&sp->r);
    for (int i = 0; i < PAIR_B; i++)
        sp->y[i] = (int)(rng_next(&sp->r) % 10);
    double loss;
    struct error err;
    cr_assert_eq(pipeline_stages_gradient(&sp->st, sp->x, sp->y, PAIR_B, PAIR_M, dropout_rng,
                                          sp->full->grads, &loss, &err),
                 0, "%s", err.msg);
    optim_step(sp->opt, sp->full->params, sp->full->grads);
    pipeline_stages_load(&sp->st, sp->full->params);
    return loss;
}

/* After step k: the losses agree to 1e-5 and every weight to 1e-5 of the
 * largest (float32 rounding of another summation order). */
static void stage_pair_expect_equal(const struct stage_pair *sp, int k, double loss,
                                    double ref_loss)
{
    cr_assert_float_eq(loss, ref_loss, 1e-5, "iteration %d: loss %g against %g", k, loss,
                       ref_loss);
    double worst = 0, scale = 0;
    for (size_t q = 0; q < sp->full->nparams; q++) {
        worst = fmax(worst, fabs(sp->full->params[q] - sp->ref->params[q]));
        scale = fmax(scale, fabs(sp->ref->params[q]));
    }
    cr_assert(worst <= 1e-5 * scale, "iteration %d: max difference %g (largest weight %g)", k,
              worst, scale);
}

static void stage_pair_free(struct stage_pair *sp)
{
    free(sp->x);
    optim_free(sp->opt);
    optim_free(sp->ref_opt);
    pipeline_stages_free(&sp->st);
    model_free(sp->full);
    model_free(sp->ref);
}

Test(pipeline_stages, weights_equal_single_worker_gradient_accumulation)
{
    struct stage_pair sp;
    stage_pair_new(&sp, 0, 3,
                   "conv6k5p2 relu maxpool2 | conv16k5 relu | maxpool2 dense120 relu | "
                   "dense84 relu dense10",
                   0.9f, 0);
    struct model *full = sp.full, *ref = sp.ref;
    float *acc = malloc(full->nparams * sizeof *acc);
    struct error err;
    for (int k = 0; k < PAIR_K; k++) {
        double loss = stage_pair_step(&sp, NULL);
        /* one worker: the micro-batches' mean-loss gradients, weighted b/B */
        memset(acc, 0, full->nparams * sizeof *acc);
        double ref_loss = 0;
        for (int m = 0; m < PAIR_M; m++) {
            int start = pipeline_micro_start(PAIR_B, PAIR_M, m);
            int b = pipeline_micro_size(PAIR_B, PAIR_M, m);
            float l;
            model_zero_grad(ref);
            cr_assert_eq(model_loss_and_grad(ref, sp.x + start * 784, sp.y + start, b, &l, NULL,
                                             &err),
                         0);
            ref_loss += (double)l * b / PAIR_B;
            for (size_t q = 0; q < full->nparams; q++)
                acc[q] += ref->grads[q] * (float)b / (float)PAIR_B;
        }
        optim_step(sp.ref_opt, ref->params, acc);
        stage_pair_expect_equal(&sp, k, loss, ref_loss);
    }
    free(acc);
    stage_pair_free(&sp);
}

/* Dropout and weight decay: the stages, drawing their masks micro-batch
 * after micro-batch from one stream, against one worker training on the
 * whole batch with the same stream (model_loss_and_grad), K SGD steps
 * with weight decay; the layer sits between stages 3 and 4 here. */
Test(pipeline_stages, dropout_and_weight_decay_equal_single_worker_training)
{
    struct stage_pair sp;
    stage_pair_new(&sp, 0.3f, 5,
                   "conv6k5p2 relu maxpool2 | conv16k5 relu | maxpool2 dense120 relu dense84 "
                   "relu | dropout0.3 dense10",
                   0.5f, 0.01f);
    struct model *full = sp.full, *ref = sp.ref;
    struct error err;
    for (int k = 0; k < PAIR_K; k++) {
        double loss = stage_pair_step(&sp, &full->dropout_rng);
        float ref_loss;
        model_zero_grad(ref);
        cr_assert_eq(model_loss_and_grad(ref, sp.x, sp.y, PAIR_B, &ref_loss, NULL, &err), 0, "%s",
                     err.msg);
        optim_step(sp.ref_opt, ref->params, ref->grads);
        stage_pair_expect_equal(&sp, k, loss, ref_loss);
    }
    /* the streams moved alike: the next draw is the same */
    cr_assert_eq(rng_next(&full->dropout_rng), rng_next(&ref->dropout_rng));
    /* and dropout was on: without it the loss differs */
    struct model *plain;
    cr_assert_eq(model_new(&plain, "lenet5", &err), 0);
    memcpy(plain->params, ref->params, ref->nparams * sizeof(float));
    float with, without;
    model_zero_grad(ref);
    model_zero_grad(plain);
    cr_assert_eq(model_loss_and_grad(ref, sp.x, sp.y, PAIR_B, &with, NULL, &err), 0);
    cr_assert_eq(model_loss_and_grad(plain, sp.x, sp.y, PAIR_B, &without, NULL, &err), 0);
    cr_assert_gt(fabs((double)with - without), 1e-6, "dropout changed nothing");
    model_free(plain);
    stage_pair_free(&sp);
}

Test(pipeline_stages, balanced_split)
{
    struct error err;
    struct model *full;
    cr_assert_eq(model_new(&full, "lenet5", &err), 0);
    struct pipeline_layers layers;
    cr_assert_eq(pipeline_layers_read(full, &layers, &err), 0);
    cr_assert_eq(layers.count, 11);
    /* conv1 6x1x5x5 on 28x28: 2 x 150 x 784 */
    cr_assert_eq(layers.flops[0], 2.0 * 150 * 784);
    int first[PIPELINE_LAYERS_MAX + 1];
    for (int P = 1; P <= 11; P++) {
        pipeline_split_balanced(&layers, P, NULL, first);
        cr_assert_eq(first[0], 0);
        cr_assert_eq(first[P], 11);
        for (int k = 0; k < P; k++)
            cr_assert_lt(first[k], first[k + 1], "P %d: stage %d is empty", P, k);
    }
    /* two stages: conv2 (240 000 FLOPs... x 2) outweighs all the rest, so
     * the cut falls just before it */
    pipeline_split_balanced(&layers, 2, NULL, first);
    cr_assert_eq(first[1], 3);
    /* with a stage worker 100 times slower, the split is the best of all
     * three-stage splits (by brute force) */
    double slow[3] = {1, 100, 1};
    pipeline_split_balanced(&layers, 3, slow, first);
    double prefix[12] = {0};
    for (int i = 0; i < 11; i++)
        prefix[i + 1] = prefix[i] + layers.flops[i];
    double best = INFINITY;
    for (int i = 1; i < 11; i++)
        for (int j = i + 1; j < 11; j++)
            best = fmin(best, fmax(fmax(prefix[i], 100 * (prefix[j] - prefix[i])),
                                   prefix[11] - prefix[j]));
    double got = fmax(fmax(prefix[first[1]], 100 * (prefix[first[2]] - prefix[first[1]])),
                      prefix[11] - prefix[first[2]]);
    cr_assert_eq(got, best);
    cr_assert_lt(prefix[first[2]] - prefix[first[1]], 0.01 * prefix[11]);
    model_free(full);
}

Test(pipeline_stages, split_errors)
{
    struct error err;
    struct model *full;
    cr_assert_eq(model_new(&full, "mlp", &err), 0);
    struct pipeline_layers layers;
    cr_assert_eq(pipeline_layers_read(full, &layers, &err), 0);
    int first[PIPELINE_LAYERS_MAX + 1], P;
    cr_assert_eq(pipeline_split_parse(&layers, "dense200 relu | dense100 relu", 8, first, &P, &err),
                 STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "the stages cover 4 of the model's 5 layers");
    cr_assert_eq(pipeline_split_parse(&layers, "dense200 | dense200 relu dense100 relu dense10", 8,
                                      first, &P, &err),
                 STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "stage 2's layer 'dense200' is not the model's layer 2 ('relu'): the "
                              "stages must cover the model's layers once, in order");
    cr_assert_eq(pipeline_split_parse(&layers, "dense200 relu dense100 relu dense10 | relu", 8,
                                      first, &P, &err),
                 STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "stage 2's layer 'relu' is not the model's layer 6 ('none, the "
                              "model ends'): the stages must cover the model's layers once, "
                              "in order");
    cr_assert_eq(pipeline_split_parse(&layers, "dense200 relu | | dense100 relu dense10", 8, first,
                                      &P, &err),
                 STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "stage 2 is empty");
    cr_assert_eq(pipeline_split_parse(&layers, "dense200 relu|dense100 relu|dense10", 2, first, &P,
                                      &err),
                 STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "more than 2 stages");
    cr_assert_eq(pipeline_split_parse(&layers, "dense200 relu|dense100 relu|dense10", 8, first, &P,
                                      &err),
                 0);
    cr_assert_eq(P, 3);
    cr_assert_eq(first[1], 2);
    cr_assert_eq(first[2], 4);
    cr_assert_eq(first[3], 5);
    model_free(full);
}

/* ---- whole runs ---- */

/* Runs point 0 of the config `text` (plus --set lines) through the
 * pipeline workload with a fixed point key, so that runs differing in
 * their schedule or scheme share every stream. */
static void pipeline_ok(const char *text, const char *const *sets, size_t nsets,
                        struct workload_output *out)
{
    char path[64];
    temp_file_write(text, ".ini", path);
    struct config *c = NULL;
    struct error err = {{0}};
    cr_assert_eq(config_load(path, sets, nsets, &c, &err), 0, "%s", err.msg);
    unlink(path);
    struct params *p = NULL;
    char *key = NULL;
    int repeat;
    cr_assert_eq(config_point(c, 0, &p, &repeat, &key, &err), 0, "%s", err.msg);
    const struct workload_ops *w = workload_find("pipeline");
    cr_assert_not_null(w);
    cr_assert_eq(w->run(p, 1, 0x5eed, out, &err), 0, "%s", err.msg);
    params_free(p);
    free(key);
    config_free(c);
}

/* Writes `trace` (columns w, it, t) to a fresh .csv, its path to csv (64
 * bytes), and to ini (1024 bytes) a pipeline run of lenet5 (batch 32 in 4
 * micro-batches) on 3 stage workers whose durations replay it; `cluster`
 * and `scheme` are more lines of their sections, `workload_tail` of
 * [workload] after its train_limit. */
static void replay_config(const char *trace, const char *cluster, const char *scheme,
                          int iterations, const char *workload_tail, char *csv, char *ini)
{
    temp_file_write(trace, ".csv", csv);
    int n = snprintf(ini, 1024,
                     "[cluster]\nworkers = 3\n%s[latency]\nkind = replay\nfile = %s\n"
                     "worker_column = w\niteration_column = it\nvalue_column = t\n"
                     "[scheme]\nkind = none\n%s"
                     "[workload]\nkind = pipeline\nmodel = lenet5\niterations = %d\nbatch = 32\n"
                     "microbatches = 4\ntrain_limit = 2000\n%s",
                     cluster, csv, scheme, iterations, workload_tail);
    cr_assert(n > 0 && n < 1024);
}

static const char small_ini[] =
    "[cluster]\nworkers = 4\n[latency]\nkind = exp\nrate = 1\n[scheme]\nkind = none\n"
    "replicas = 2\nrebalance_every = 2\n"
    "[workload]\nkind = pipeline\nmodel = mlp\niterations = 6\nbatch = 32\nmicrobatches = 4\n"
    "train_limit = 2000\ntest_limit = 500\neval_every = 3\nlearning_rate = 0.1\n";

Test(pipeline_run, schedules_and_mitigations_share_the_weights)
{
    const char *variants[][2] = {
        {"workload.schedule=gpipe", "scheme.kind=none"},
        {"workload.schedule=1f1b", "scheme.kind=none"},
        {"workload.schedule=gpipe", "scheme.kind=stage-replication"},
        {"workload.schedule=1f1b", "scheme.kind=rebalance"},
        {"cluster.bandwidth=1e5", "cluster.network_delay=0.01"},
    };
    double loss[5], accuracy[5], time[5];
    for (int v = 0; v < 5; v++) {
        struct workload_output out;
        pipeline_ok(small_ini, variants[v], 2, &out);
        loss[v] = metric_list_get(&out.metrics, "final_loss");
        accuracy[v] = metric_list_get(&out.metrics, "final_accuracy");
        time[v] = metric_list_get(&out.metrics, "iteration_time_mean");
        cr_assert_eq(out.niterations, 6u);
        cr_assert(isfinite(out.iterations[5].accuracy));
        cr_assert(!isfinite(out.iterations[4].accuracy));
        workload_output_free(&out);
    }
    for (int v = 1; v < 5; v++) {
        cr_assert_eq(loss[v], loss[0], "%s %s", variants[v][0], variants[v][1]);
        cr_assert_eq(accuracy[v], accuracy[0], "%s %s", variants[v][0], variants[v][1]);
    }
    /* the mlp learns something in 6 steps, and the schedules' times differ */
    cr_assert_lt(loss[0], 2.2);
    cr_assert_neq(time[0], time[1]);
    /* the network only adds (same draws, later starts): every iteration's
     * critical path crosses each of the 3 stage boundaries there and back,
     * 0.01 + bytes / bandwidth each */
    cr_assert_gt(time[4], time[0] + 0.01);
}

Test(pipeline_run, rebalance_moves_work_off_a_slow_worker)
{
    /* LeNet5 on three stage workers (28.9%, 56.7% and 14.3% of the FLOPs),
     * the last persistently 8x slow (a replayed trace): it holds the
     * slowest stage until rebalancing moves its layers to the others */
    char csv[64], ini[1024];
    replay_config("w,it,t\n0,0,1\n0,1,1\n1,0,1\n1,1,1\n2,0,8\n2,1,8\n", "bandwidth = 1e6\n",
                  "rebalance_every = 2\n", 8, "test_limit = 500\n", csv, ini);
    const char *none[] = {"scheme.kind=none"}, *rebalance[] = {"scheme.kind=rebalance"};
    struct workload_output a, b;
    pipeline_ok(ini, none, 1, &a);
    pipeline_ok(ini, rebalance, 1, &b);
    unlink(csv);
    double ta = metric_list_get(&a.metrics, "iteration_time_mean");
    double tb = metric_list_get(&b.metrics, "iteration_time_mean");
    cr_assert_eq(metric_list_get(&a.metrics, "rebalances"), 0.0);
    cr_assert_geq(metric_list_get(&b.metrics, "rebalances"), 1.0);
    /* the weights moved over the network: bytes / bandwidth, charged */
    cr_assert_gt(metric_list_get(&b.metrics, "rebalance_time"), 0.0);
    cr_assert_lt(tb, 0.8 * ta, "rebalanced %g against %g", tb, ta);
    /* same weights: re-splitting does not change the computation */
    cr_assert_eq(metric_list_get(&a.metrics, "final_loss"),
                 metric_list_get(&b.metrics, "final_loss"));
    workload_output_free(&a);
    workload_output_free(&b);
}

Test(pipeline_run, a_tuned_batch_is_more_micro_batches_of_the_same_size)
{
    /* three stage workers, the second 8x slow from iteration 4 on (a
     * replayed trace, so every duration is its cost times the trace's
     * value): the rule tuner doubles the batch at the window that sees it
     * (32 in 4 micro-batches -> 64), and from then on an iteration is one
     * of a configured batch of 64 in 8 micro-batches of the same 8
     * images, at twice its cost (a batch costs in proportion to the
     * configured 32) */
    char csv[64], ini[1024], trace[512] = "w,it,t\n";
    for (int w = 0; w < 3; w++)
        for (int it = 0; it < 12; it++)
            snprintf(trace + strlen(trace), sizeof trace - strlen(trace), "%d,%d,%d\n", w, it,
                     w == 1 && it >= 4 ? 8 : 1);
    replay_config(trace, "", "", 12, "test_limit = 200\neval_every = 6\n", csv, ini);
    const char *tuned[] = {"workload.tuner.kind=rule", "workload.tuner.window=2",
                           "workload.tuner.tune=batch", "workload.tuner.batch_min=16",
                           "workload.tuner.batch_max=64", "workload.tuner.validation=100"};
    const char *big[] = {"workload.batch=64", "workload.microbatches=8"};
    struct workload_output a, b;
    pipeline_ok(ini, tuned, 6, &a);
    pipeline_ok(ini, big, 2, &b);
    unlink(csv);
    /* one row per window (5 windows: after iterations 2, 4, ..., 10) */
    cr_assert_eq(a.ntuner, 5u);
    cr_assert_eq(a.tuner[1].value, 32.0, "the calm windows hold the batch");
    cr_assert_eq(a.tuner[2].value, 64.0, "%s", a.tuner[2].reason);
    cr_assert_eq(a.tuner[2].iteration, 5);
    cr_assert_eq(a.tuner[4].value, 64.0, "a share that stays high does not grow it again");
    for (int it = 6; it < 12; it++) {
        double ta = a.iterations[it].sim_time - a.iterations[it - 1].sim_time;
        double tb = b.iterations[it].sim_time - b.iterations[it - 1].sim_time;
        cr_assert(fabs(ta - 2.0 * tb) <= 1e-12 * tb, "iteration %d: %.17g against 2 x %.17g", it,
                  ta, tb);
    }
    workload_output_free(&a);
    workload_output_free(&b);
}
