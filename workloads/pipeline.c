/* pipeline.c: the `pipeline` workload: model-parallel (pipeline) training
 * of a model on Fashion-MNIST under stragglers. The computation is real,
 * the time is simulated, as in the training workload.
 *
 * The model's layers are cut into P stages on P workers (r workers each
 * with stage-replication): by workload.stages, the model spec's layers
 * split by '|', or balanced by FLOPs into workload.stage_count stages
 * (default cluster.workers / r). Every iteration takes the next
 * workload.batch examples, cuts them into workload.microbatches
 * micro-batches, and computes each micro-batch's forward and backward pass
 * stage by stage on the stages' own models (pipeline_stages.c); the
 * gradient of the batch's mean loss then takes one synchronous optimiser
 * step (so the weights are those of one worker accumulating the
 * micro-batches' gradients, for gpipe and 1f1b alike).
 *
 * Time (pipeline_timing.c): a stage task's cost is its stage's share of
 * the model's FLOPs times the micro-batch's share of the batch, split
 * 1 : workload.backward_ratio between forward and backward, so one forward
 * and backward of the batch on one worker costs 1, as everywhere else; its
 * duration is the cost times one draw from its worker's latency source at
 * the iteration. Activations cross to the next stage (and their gradients
 * back) in cluster.network_delay + bytes / cluster.bandwidth (unset:
 * infinite). Stage s runs on workers s r .. s r + r - 1.
 *
 * The scheme (schemes/pipeline.c) is the mitigation: none,
 * stage-replication (the least of r draws per stage task), or rebalance
 * (every W iterations, the layers are re-split from each worker's EWMA
 * time per unit cost, and the weights of the layers that change stage
 * cross the network: network_delay + their bytes / bandwidth, during which
 * nothing runs).
 *
 * Regularisation and tuning (doc/autotune.md): workload.weight_decay in the
 * optimiser, workload.dropout a layer of the stage that holds it (masks
 * from the full model's stream, micro-batch after micro-batch), and the
 * tuner (training_tuner.c) every workload.tuner.window iterations: it sees
 * the window's loss, validation accuracy, time and each stage's task time
 * per unit cost, and sets the learning rate, weight decay, dropout and
 * batch (micro-batches of the configured size; costs in proportion).
 *
 * Metrics: iterations, iteration_time_mean, iteration_time_se,
 * bubble_fraction (1 - busy stage time / (P x iteration time), summed over
 * iterations), throughput (images per simulated time unit),
 * peak_activation_bytes (the largest, over stages, of the micro-batches a
 * stage holds between their forward and backward times the stage's input
 * bytes: what a stage keeps with re-computation, as in GPipe), stages,
 * rebalances, rebalance_time, worker_seconds (busy time of every worker,
 * cancelled replicas' included), events (stage tasks started, replicas
 * counted), and the training metrics (final_loss, final_accuracy,
 * time_to_target, ...); one iteration_row per iteration.
 * Master compute and the optimiser step take no time; transfers do not
 * contend for links.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schemes/common/predictor.h"
#include "traces/latency.h"
#include "workloads/pipeline_stages.h"
#include "workloads/pipeline_timing.h"
#include "workloads/training_setup.h"

static const struct config_key pipeline_keys[] = {
    {"workload.stages", KEY_STRING, NULL, 0, 0, 0, NULL,
     "pipeline: the model's layers split into stages by '|' (default: balanced by FLOPs)"},
    {"workload.stage_count", KEY_INT, NULL, 1, PIPELINE_LAYERS_MAX, 0, NULL,
     "pipeline: stages of the FLOP-balanced split (default: cluster.workers / replicas)"},
    {"workload.microbatches", KEY_INT, "4", 1, 1e6, 0, NULL,
     "pipeline: micro-batches each mini-batch is cut into"},
    {"workload.schedule", KEY_ENUM, "gpipe", 0, 0, 0, "gpipe|1f1b",
     "pipeline: all forwards then all backwards, or one-forward-one-backward (both flush)"},
    {"workload.backward_ratio", KEY_REAL, "2", 0, 1e6, KEY_MIN_OPEN, NULL,
     "pipeline: cost of a stage's backward pass per unit of its forward pass"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

struct pipeline_run {
    struct training t; /* data, the full model and its optimiser, rows, evaluation */
    const struct scheme_ops *ops;
    void *scheme;
    struct scheme_pipeline cfg;
    struct latency_source *source;
    struct pipeline_layers layers;
    struct pipeline_stages stages;
    struct predictor pred; /* rebalance: per-stage-worker time per unit cost */
    bool pred_ready;
    int P, M, B;
    int B0, M0, micro_cap; /* the configured batch and micro-batches; the largest micro-batch */
    double task_least;     /* this stage task's least replica draw so far (the tuner's) */
    enum pipeline_schedule schedule;
    double backward_share, delay, bandwidth; /* bandwidth 0: infinite */
    double *forward_cost, *backward_cost, *transfer; /* (P x M) */
    void *scratch;
    uint64_t iteration;
    int status;
    struct error err;
    double time_sum, time_sq, busy_sum, span_sum, move_time, peak_bytes, worker_seconds, images;
    long rebalances, tasks;
};

/* ---- set-up ---- */

/* Task costs and transfer times of the current split. */
static void costs_fill(struct pipeline_run *r)
{
    const struct pipeline_stages *s = &r->stages;
    for (int k = 0; k < r->P; k++)
        for (int m = 0; m < r->M; m++) {
            size_t at = (size_t)k * r->M + m;
            double b = pipeline_micro_size(r->B, r->M, m);
            /* a tuned batch costs in proportion (cost_scale: B over the configured) */
            double share = s->flops[k] / r->layers.total_flops * b / r->B * r->t.cost_scale;
            r->forward_cost[at] = share * (1.0 - r->backward_share);
            r->backward_cost[at] = share * r->backward_share;
            double bytes = k + 1 < r->P ? 4.0 * b * s->input_floats[k + 1] : 0.0;
            r->transfer[at] = r->delay + (r->bandwidth > 0 ? bytes / r->bandwidth : 0.0);
        }
}

/* The micro-batches of a batch of B: the configured micro-batch size kept
 * (a tuned batch is more or fewer micro-batches, not bigger ones). */
static int micro_count(const struct pipeline_run *r, int B)
{
    if (B == r->B0)
        return r->M0;
    long M = lround((double)B * r->M0 / r->B0);
    return M < 1 ? 1 : M > B ? B : (int)M;
}

/* The stage models of split `first`, for the largest micro-batch any
 * batch the run may take cuts, at the dropout rate of the setting. */
static int stages_build(struct pipeline_run *r, const int *first, struct error *err)
{
    int status = pipeline_stages_build(&r->stages, &r->layers, r->t.model, first, r->P,
                                       r->micro_cap, err);
    if (!status)
        pipeline_stages_set_dropout(&r->stages, (float)r->t.setting[TUNER_DROPOUT]);
    return status;
}

/* The first split: workload.stages, or balanced into stage_count stages. */
static int split_choose(struct pipeline_run *r, const struct params *p, int workers, int *first,
                        struct error *err)
{
    int replicas = r->cfg.replicas;
    if (params_has(p, "workload.stages")) {
        if (params_has(p, "workload.stage_count"))
            return error_at_key(err, p, "workload.stage_count",
                                "set workload.stages or workload.stage_count, not both");
        if (pipeline_split_parse(&r->layers, params_string(p, "workload.stages"),
                                 PIPELINE_LAYERS_MAX, first, &r->P, err)) {
            char why[sizeof err->msg];
            memcpy(why, err->msg, sizeof why);
            return error_at_key(err, p, "workload.stages", "%s", why);
        }
    } else {
        const char *key = params_has(p, "workload.stage_count") ? "workload.stage_count"
                                                                : "cluster.workers";
        r->P = params_has(p, "workload.stage_count") ? (int)params_int(p, "workload.stage_count")
                                                     : workers / replicas;
        if (r->P < 1)
            return error_at_key(err, p, "scheme.replicas",
                                "%d replicas of a stage need more than %d workers", replicas,
                                workers);
        if (r->P > r->layers.count)
            return error_at_key(err, p, key, "%d stages for a model of %d layers", r->P,
                                r->layers.count);
        pipeline_split_balanced(&r->layers, r->P, NULL, first);
    }
    if (r->P * replicas > workers)
        return error_at_key(err, p, "cluster.workers",
                            "%d stages x %d replicas need %d workers, cluster.workers is %d",
                            r->P, replicas, r->P * replicas, workers);
    return 0;
}

static void run_free(struct pipeline_run *r)
{
    if (r->scheme)
        r->ops->free(r->scheme);
    latency_free(r->source);
    pipeline_stages_free(&r->stages);
    if (r->pred_ready)
        predictor_free(&r->pred);
    free(r->forward_cost);
    free(r->backward_cost);
    free(r->transfer);
    free(r->scratch);
    training_free(&r->t);
}

static int run_setup(struct pipeline_run *r, const struct params *p, uint64_t seed,
                     uint64_t point_key, struct error *err)
{
    int workers = (int)params_int(p, "cluster.workers");
    int status = training_setup_single(&r->t, p, seed, point_key, err);
    if (!status)
        status = scheme_for_workload(p, SCHEME_PIPELINE, "pipeline", &r->ops, err);
    struct scheme_env env = {.params = p, .workers = workers, .seed = seed, .point_key = point_key};
    if (!status)
        status = r->ops->create(&env, &r->scheme, err);
    if (!status)
        status = r->ops->pipeline_prepare(r->scheme, &r->cfg, err);
    if (!status)
        status = pipeline_layers_read(r->t.model, &r->layers, err);
    int first[PIPELINE_LAYERS_MAX + 1];
    if (!status)
        status = split_choose(r, p, workers, first, err);
    if (status)
        return status;
    r->B = r->t.batch_part;
    r->M = (int)params_int(p, "workload.microbatches");
    if (r->M > r->B)
        return error_at_key(err, p, "workload.microbatches",
                            "%d micro-batches of a batch of %d examples", r->M, r->B);
    r->schedule = strcmp(params_string(p, "workload.schedule"), "1f1b") == 0 ? PIPELINE_1F1B
                                                                              : PIPELINE_GPIPE;
    double ratio = params_real(p, "workload.backward_ratio");
    r->backward_share = ratio / (1.0 + ratio);
    r->delay = params_real(p, "cluster.network_delay");
    r->bandwidth = params_has(p, "cluster.bandwidth") ? params_real(p, "cluster.bandwidth") : 0.0;
    r->B0 = r->B;
    r->M0 = r->M;
    /* a tuner's batch runs up to the buffers' t.batch_cap: the most
     * micro-batches and the largest one (the last is the largest) over them */
    int B_low = r->t.tuner_cfg.tuned[TUNER_BATCH] ? (int)r->t.tuner_cfg.min[TUNER_BATCH] : r->B;
    int B_high = r->t.tuner_cfg.tuned[TUNER_BATCH] ? r->t.batch_cap : r->B;
    int M_most = r->M;
    r->micro_cap = 0;
    for (int b = B_low < r->B ? B_low : r->B; b <= B_high; b++) {
        int m = micro_count(r, b), size = pipeline_micro_size(b, m, m - 1);
        r->micro_cap = size > r->micro_cap ? size : r->micro_cap;
        M_most = m > M_most ? m : M_most;
    }
    if ((status = stages_build(r, first, err)))
        return status;
    if ((status = latency_new(p, workers, seed, point_key, &r->source, err)))
        return status;
    if (r->cfg.rebalance_every > 0) {
        if ((status = predictor_init(&r->pred, PREDICTOR_EWMA, r->cfg.rebalance_alpha, r->P, err)))
            return status;
        r->pred_ready = true;
    }
    size_t pm = (size_t)r->P * (size_t)M_most;
    r->forward_cost = malloc(pm * sizeof *r->forward_cost);
    r->backward_cost = malloc(pm * sizeof *r->backward_cost);
    r->transfer = malloc(pm * sizeof *r->transfer);
    r->scratch = malloc(pipeline_timing_scratch_bytes(r->P, M_most));
    if (!r->forward_cost || !r->backward_cost || !r->transfer || !r->scratch)
        return error_fail(err, "out of memory");
    costs_fill(r);
    return 0;
}

/* ---- the iterations ---- */

/* A stage task's duration: the least of its replicas' draws (the timing
 * takes the minimum); rebalance learns each stage worker's speed. */
static double stage_duration(void *ctx, int stage, int replica, double cost)
{
    struct pipeline_run *r = ctx;
    int worker = stage * r->cfg.replicas + replica;
    double d = latency_draw(r->source, worker, r->iteration, cost);
    if (r->pred_ready && cost > 0 && !r->status)
        r->status = predictor_observe(&r->pred, stage, d / cost, &r->err);
    /* the tuner sees the stage's time (the winning replica's: the others
     * are cancelled before they report) */
    r->task_least = replica == 0 ? d : fmin(r->task_least, d);
    if (replica == r->cfg.replicas - 1 && cost > 0)
        training_tuner_observe(&r->t, stage, r->task_least / cost);
    return d;
}

/* Rebalance: re-split by predicted slowness; returns the time the moved
 * weights take to cross the network (0: nothing moved). */
static int rebalance(struct pipeline_run *r, double *move_time, struct error *err)
{
    double slowness[PIPELINE_LAYERS_MAX];
    for (int k = 0; k < r->P; k++) {
        double v = predictor_predict(&r->pred, k);
        slowness[k] = isnan(v) ? 1.0 : v;
    }
    int first[PIPELINE_LAYERS_MAX + 1];
    pipeline_split_balanced(&r->layers, r->P, slowness, first);
    double moved = 0.0;
    for (int k = 0, old = 0; k < r->P; k++)
        for (int i = first[k]; i < first[k + 1]; i++) {
            while (i >= r->stages.first[old + 1])
                old++;
            if (old != k)
                moved += 4.0 * (double)r->layers.params[i];
        }
    *move_time = 0.0;
    if (memcmp(first, r->stages.first, (size_t)(r->P + 1) * sizeof *first) == 0)
        return 0;
    *move_time = r->delay + (r->bandwidth > 0 ? moved / r->bandwidth : 0.0);
    pipeline_stages_free(&r->stages);
    int status = stages_build(r, first, err);
    if (status)
        return status;
    costs_fill(r);
    r->rebalances++;
    return 0;
}

/* At a window's end the tuner decides (training_tuner.c: learning rate,
 * weight decay and dropout into the full model and optimiser); the stages
 * take its dropout rate, and a new batch its micro-batches and costs. */
static int tuner_window(struct pipeline_run *r, double now, struct error *err)
{
    struct training *t = &r->t;
    int status = training_tuner_window(t, t->tuner_cfg.window, t->iterations, now, err);
    if (status || !t->tuner)
        return status;
    pipeline_stages_set_dropout(&r->stages, (float)t->setting[TUNER_DROPOUT]);
    if (t->batch_part != r->B) {
        r->B = t->batch_part;
        r->M = micro_count(r, r->B);
        costs_fill(r);
    }
    return 0;
}

static int iteration_run(struct pipeline_run *r, long it, double *now, struct error *err)
{
    struct training *t = &r->t;
    if (r->cfg.rebalance_every > 0 && it > 0 && it % r->cfg.rebalance_every == 0) {
        double move;
        int status = rebalance(r, &move, err);
        if (status)
            return status;
        *now += move;
        r->move_time += move;
    }
    double loss;
    training_examples_next(t, 0, r->B);
    int status = pipeline_stages_gradient(&r->stages, t->x, t->y, r->B, r->M,
                                          &t->model->dropout_rng, t->model->grads, &loss, err);
    if (status)
        return status;
    optim_step(t->optim, t->model->params, t->model->grads);
    pipeline_stages_load(&r->stages, t->model->params);

    struct pipeline_timing timing = {
        .stages = r->P, .microbatches = r->M, .replicas = r->cfg.replicas,
        .schedule = r->schedule, .forward_cost = r->forward_cost,
        .backward_cost = r->backward_cost, .transfer = r->transfer,
        .duration = stage_duration, .ctx = r,
    };
    struct pipeline_timing_result out;
    r->iteration = (uint64_t)it;
    if (pipeline_timing_run(&timing, *now, r->scratch, &out))
        return error_fail(err, "pipeline schedule dead-locked (a bug)");
    if (r->status) {
        *err = r->err;
        return r->status;
    }
    double span = out.end - *now;
    *now = out.end;
    r->time_sum += span;
    r->time_sq += span * span;
    r->busy_sum += out.busy;
    r->worker_seconds += out.worker_seconds;
    r->tasks += 2L * r->P * r->M * r->cfg.replicas;
    r->span_sum += span * r->P;
    r->images += r->B;
    for (int k = 0; k < r->P; k++) {
        double bytes = 4.0 * out.peak_inflight[k] * r->stages.input_floats[k] *
                       (double)pipeline_micro_size(r->B, r->M, r->M - 1);
        r->peak_bytes = fmax(r->peak_bytes, bytes);
    }

    double accuracy = NAN;
    if ((it + 1) % t->eval_every == 0 || it + 1 == t->iterations)
        if ((status = training_evaluate(t, it, *now, &accuracy, err)))
            return status;
    t->rows[it] = (struct iteration_row){
        .iteration = it, .sim_time = *now, .loss = loss, .accuracy = accuracy,
        .waited = r->P * r->cfg.replicas, .residual = 0.0, .grad_rel_err = 0.0,
        .staleness = 0.0,
    };
    t->done++;
    return tuner_window(r, *now, err);
}

static int run_metrics(const struct pipeline_run *r, struct metric_list *m)
{
    double n = (double)r->t.done, mean = r->time_sum / n;
    double var = n > 1 ? fmax(0.0, (r->time_sq - n * mean * mean) / (n - 1)) : NAN;
    double sim_time = r->t.rows[r->t.done - 1].sim_time;
    int bad = training_metrics_common(&r->t, m) | metric_list_set(m, "iterations", n) |
              metric_list_set(m, "iteration_time_mean", mean) |
              metric_list_set(m, "iteration_time_se",
                              n > 1 ? sqrt(var / n) : metric_undefined()) |
              metric_list_set(m, "bubble_fraction", 1.0 - r->busy_sum / r->span_sum) |
              metric_list_set(m, "throughput", r->images / sim_time) |
              metric_list_set(m, "peak_activation_bytes", r->peak_bytes) |
              metric_list_set(m, "stages", r->P) |
              metric_list_set(m, "rebalances", (double)r->rebalances) |
              metric_list_set(m, "rebalance_time", r->move_time) |
              metric_list_set(m, "worker_seconds", r->worker_seconds) |
              metric_list_set(m, "events", (double)r->tasks);
    return bad ? -1 : 0;
}

static int pipeline_check(const struct params *p, uint64_t seed, uint64_t point_key,
                          struct error *err)
{
    struct pipeline_run r = {0};
    int status = run_setup(&r, p, seed, point_key, err);
    run_free(&r);
    return status;
}

static int pipeline_run(const struct params *p, uint64_t seed, uint64_t point_key,
                        struct workload_output *out, struct error *err)
{
    memset(out, 0, sizeof *out);
    struct pipeline_run *r = calloc(1, sizeof *r);
    if (!r)
        return error_fail(err, "out of memory");
    int status = run_setup(r, p, seed, point_key, err);
    double now = 0.0;
    for (long it = 0; !status && it < r->t.iterations; it++)
        status = iteration_run(r, it, &now, err);
    if (!status && run_metrics(r, &out->metrics))
        status = error_fail(err, "out of memory");
    if (!status) {
        out->iterations = r->t.rows;
        out->niterations = (size_t)r->t.done;
        r->t.rows = NULL;
        if (r->t.tuner)
            out->tuner = tuner_take_rows(r->t.tuner, &out->ntuner);
    } else {
        workload_output_free(out);
    }
    run_free(r);
    free(r);
    return status;
}

const struct workload_ops workload_pipeline = {
    .name = "pipeline",
    .summary = "model-parallel (pipeline) training",
    .scheme_bit = SCHEME_PIPELINE,
    .keys = pipeline_keys,
    .run = pipeline_run,
    .check = pipeline_check,
};
