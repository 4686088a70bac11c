/* ssp.c: the `training` workload with the `ssp` scheme: a
 * stale-synchronous parameter server (Ho et al., NIPS'13) on the cluster.
 *
 * Worker p owns data partition p and loops over clocks: it reads the
 * parameters (a snapshot), computes the gradient of its next mini-batch at
 * that snapshot (a task on the cluster: cost batch/B, duration from the
 * latency source at iteration = p's clock), and pushes it; the server
 * applies each push at once (SGD, optionally eta / staleness). Staleness =
 * updates applied since p read. Worker p may start clock c only when every
 * worker has finished at least c - s clocks (s < 0: never blocks). Every
 * worker runs workload.iterations clocks, each of B/n examples by default,
 * so a run sees as much data as that many synchronous iterations.
 *
 * The predictor (schemes/common/predictor.h: EWMA, AR(1), or a small MLP or LSTM
 * trained online) sees each task's time per unit cost
 * and drives scheme.action: batch (B split in proportion to predicted
 * speed) or skip (a worker predicted slower than skip_factor x the median
 * sits one clock out, never two in a row, so its prediction stays fed).
 *
 * One iteration_row per applied update: the loss and the staleness of the
 * push, and grad_rel_err = ||g(stale params) - g(current params)|| /
 * ||g(current params)|| on the same examples (the cost of staleness,
 * computed off the clock). Test accuracy every eval_every x n updates.
 * It does not model the server's compute or the network beyond
 * cluster.network_delay.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schemes/common/predictor.h"
#include "schemes/ssp.h"
#include "sim/cluster.h"
#include "sim/engine.h"
#include "workloads/ssp.h"
#include "workloads/training_setup.h"
#include "traces/latency.h"

struct ssp_worker {
    long clock;          /* clocks finished (skipped ones included) */
    long version_read;   /* server version at this clock's read */
    int batch;           /* examples of the running clock */
    double cost;         /* its task's cost */
    bool busy, skipped_last;
    float *snapshot;     /* (np) parameters read */
};

struct ssp_run {
    struct training *t;
    const struct ssp_config *cfg;
    struct latency_source *source;
    struct engine *engine;
    struct cluster *cluster;
    struct predictor pred;
    struct ssp_worker *w; /* (n) */
    double *speed;        /* (n) scratch: predictions */
    long version, skipped, stale_max;
    double stale_sum;
    int status;
    struct error err;
};

static double ssp_duration(void *ctx, int worker, uint64_t clock, double cost)
{
    struct ssp_run *r = ctx;
    return latency_draw(r->source, worker, clock, cost);
}

static long min_clock(const struct ssp_run *r)
{
    long m = r->w[0].clock;
    for (int q = 1; q < r->t->n; q++)
        if (r->w[q].clock < m)
            m = r->w[q].clock;
    return m;
}

static int double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Predictions of every worker into r->speed; false while some is unknown. */
static bool predictions(struct ssp_run *r)
{
    for (int q = 0; q < r->t->n; q++) {
        r->speed[q] = predictor_predict(&r->pred, q);
        if (isnan(r->speed[q]) || r->speed[q] <= 0)
            return false;
    }
    return true;
}

/* skip: is worker p predicted slower than skip_factor x the median? */
static bool predicted_straggler(struct ssp_run *r, int p)
{
    if (!predictions(r))
        return false;
    double mine = r->speed[p];
    qsort(r->speed, (size_t)r->t->n, sizeof *r->speed, double_cmp);
    return mine > r->cfg->skip_factor * r->speed[r->t->n / 2];
}

/* batch: B in proportion to predicted speed (1 / predicted time). */
static int batch_of(struct ssp_run *r, int p)
{
    struct training *t = r->t;
    long batch = lround(t->setting[TUNER_BATCH]); /* workload.batch unless tuned */
    int equal = (int)(batch / t->n);
    if (r->cfg->action != SSP_ACTION_BATCH || !predictions(r))
        return equal > 0 ? (equal < t->batch_cap ? equal : t->batch_cap) : 1;
    double total = 0.0;
    for (int q = 0; q < t->n; q++)
        total += 1.0 / r->speed[q];
    long b = lround((double)batch * (1.0 / r->speed[p]) / total);
    return (int)(b < 1 ? 1 : b > t->batch_cap ? t->batch_cap : b);
}

/* Starts worker p's next clock if it has one and the bound allows it. */
static void worker_try_start(struct ssp_run *r, int p)
{
    struct ssp_worker *w = &r->w[p];
    struct training *t = r->t;
    while (!w->busy && w->clock < t->iterations) {
        long bound = lround(t->setting[TUNER_STALENESS]); /* scheme.staleness unless tuned */
        if (bound >= 0 && w->clock - min_clock(r) > bound)
            return; /* blocked until the slowest catches up */
        if (r->cfg->action == SSP_ACTION_SKIP && !w->skipped_last && predicted_straggler(r, p)) {
            w->skipped_last = true;
            w->clock++;
            r->skipped++;
            continue;
        }
        w->skipped_last = false;
        memcpy(w->snapshot, t->model->params, t->np * sizeof *w->snapshot);
        w->version_read = r->version;
        w->batch = batch_of(r, p);
        w->cost = (double)w->batch / (double)t->batch;
        uint32_t job = cluster_job_open(r->cluster, (uint64_t)w->clock);
        if (job == UINT32_MAX || cluster_submit(r->cluster, job, p, w->cost, p) == UINT32_MAX) {
            r->status = error_fail(&r->err, "out of memory");
            engine_stop(r->engine);
            return;
        }
        w->busy = true;
    }
}

static double rel_diff(const float *a, const float *b, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t q = 0; q < n; q++) {
        double d = (double)a[q] - b[q];
        num += d * d;
        den += (double)b[q] * b[q];
    }
    return den > 0 ? sqrt(num / den) : 0.0;
}

/* The server applies worker p's push: the gradient at p's snapshot. */
static int server_apply(struct ssp_run *r, int p, double now, struct error *err)
{
    struct training *t = r->t;
    struct ssp_worker *w = &r->w[p];
    float *stale = t->grads, *fresh = t->grads + t->np, *current = t->message;
    /* batch / B for the batch now (workload.batch unless tuned): n equal
     * pushes make one step of the mean gradient; the cost (time) stays
     * relative to workload.batch */
    float scale = (float)((double)w->batch / t->setting[TUNER_BATCH]);
    double loss;
    /* the gradient the worker computed: at its snapshot */
    memcpy(current, t->model->params, t->np * sizeof *current);
    memcpy(t->model->params, w->snapshot, t->np * sizeof *current);
    struct rng masks = t->model->dropout_rng;
    int status = training_gradient(t, p, w->batch, scale, stale, &loss, err);
    memcpy(t->model->params, current, t->np * sizeof *current);
    /* off the clock: the same examples (and dropout masks) at the current
     * parameters; the mask stream then goes on as if this had not run */
    struct rng next = t->model->dropout_rng;
    t->model->dropout_rng = masks;
    float l;
    if (!status)
        status = model_loss_and_grad(t->model, t->x, t->y, w->batch, &l, NULL, err);
    t->model->dropout_rng = next;
    if (status)
        return status;
    for (size_t q = 0; q < t->np; q++)
        fresh[q] = scale * t->model->grads[q];
    double rel = rel_diff(stale, fresh, t->np);

    long tau = r->version - w->version_read;
    float base_lr = (float)t->setting[TUNER_LR]; /* workload.learning_rate unless tuned */
    optim_set_lr(t->optim, r->cfg->staleness_lr && tau > 1 ? base_lr / (float)tau : base_lr);
    optim_step(t->optim, t->model->params, stale);
    r->version++;
    r->stale_sum += (double)tau;
    if (tau > r->stale_max)
        r->stale_max = tau;
    if (rel > t->rel_err_max)
        t->rel_err_max = rel;
    t->rel_err_sum += rel;

    long index = t->done;
    double accuracy = NAN;
    if ((index + 1) % (t->eval_every * t->n) == 0) {
        status = training_evaluate(t, index, now, &accuracy, err);
        if (status)
            return status;
    }
    t->rows[index] = (struct iteration_row){
        .iteration = index, .sim_time = now, .loss = l, .accuracy = accuracy, .waited = 1,
        .residual = NAN, .grad_rel_err = rel, .staleness = (double)tau,
    };
    t->done++;
    return training_tuner_window(t, t->tuner_cfg.window * t->n, t->iterations * t->n, now, err);
}

static void ssp_result(void *ctx, struct cluster *cl, const struct cluster_result *res)
{
    struct ssp_run *r = ctx;
    int p = res->worker;
    struct ssp_worker *w = &r->w[p];
    training_tuner_observe(r->t, p, (res->finished - res->started) / res->cost);
    if (!r->status)
        r->status = predictor_observe(&r->pred, p, (res->finished - res->started) / res->cost,
                                      &r->err);
    if (!r->status)
        r->status = server_apply(r, p, engine_now(r->engine), &r->err);
    cluster_job_finish(cl, res->job);
    w->busy = false;
    w->clock++;
    if (r->status) {
        engine_stop(r->engine);
        return;
    }
    worker_try_start(r, p);
    for (int q = 0; q < r->t->n; q++) /* the slowest may have moved: unblock */
        if (q != p)
            worker_try_start(r, q);
}

static void ssp_free(struct ssp_run *r)
{
    cluster_free(r->cluster);
    engine_free(r->engine);
    latency_free(r->source);
    predictor_free(&r->pred);
    for (int q = 0; r->w && q < r->t->n; q++)
        free(r->w[q].snapshot);
    free(r->w);
    free(r->speed);
}

static int ssp_setup(struct ssp_run *r, const struct params *p, uint64_t seed,
                     uint64_t point_key, struct error *err)
{
    struct training *t = r->t;
    int n = t->n;
    int status = latency_new(p, n, seed, point_key, &r->source, err);
    if (!status)
        status = predictor_init_net(&r->pred, r->cfg->predictor, r->cfg->predictor_alpha, n,
                                    &r->cfg->predictor_net, err);
    if (status)
        return status;
    r->w = calloc((size_t)n, sizeof *r->w);
    r->speed = malloc((size_t)n * sizeof *r->speed);
    r->engine = engine_new();
    if (!r->w || !r->speed || !r->engine)
        return error_fail(err, "out of memory");
    for (int q = 0; q < n; q++)
        if (!(r->w[q].snapshot = malloc(t->np * sizeof *r->w[q].snapshot)))
            return error_fail(err, "out of memory");
    struct cluster_config cc = {
        .workers = n,
        .slots = 1,
        .network_delay = params_real(p, "cluster.network_delay"),
        .cancel = true,
        .job_state_bytes = 0,
    };
    struct cluster_hooks hooks = {.ctx = r, .duration = ssp_duration, .result = ssp_result};
    if (!(r->cluster = cluster_new(r->engine, &cc, &hooks)))
        return error_fail(err, "out of memory");
    return 0;
}

static int ssp_metrics(struct ssp_run *r, struct metric_list *m)
{
    struct training *t = r->t;
    double updates = (double)t->done, clocks = (double)t->iterations;
    double total = t->rows[t->done - 1].sim_time;
    int bad = training_metrics_common(t, m) | metric_list_set(m, "iterations", updates) |
              /* per clock: comparable with a synchronous iteration of B examples */
              metric_list_set(m, "iteration_time_mean", total / clocks) |
              metric_list_set(m, "iteration_time_se", metric_undefined()) |
              metric_list_set(m, "staleness_mean", r->stale_sum / updates) |
              metric_list_set(m, "staleness_max", (double)r->stale_max) |
              metric_list_set(m, "skipped_fraction", (double)r->skipped / (clocks * t->n)) |
              metric_list_set(m, "predictor_mae", predictor_mae(&r->pred)) |
              metric_list_set(m, "predictor_rel_mae", predictor_rel_mae(&r->pred)) |
              metric_list_set(m, "predictor_baseline_mae", predictor_baseline_mae(&r->pred)) |
              metric_list_set(m, "worker_seconds", cluster_worker_seconds(r->cluster) / clocks) |
              metric_list_set(m, "events", (double)engine_events(r->engine));
    return bad ? -1 : 0;
}

int training_ssp_run(struct training *t, const struct params *p, uint64_t seed,
                     uint64_t point_key, struct workload_output *out, struct error *err)
{
    struct ssp_run r = {.t = t, .cfg = t->tr.ssp};
    int status = ssp_setup(&r, p, seed, point_key, err);
    if (!status) {
        for (int q = 0; q < t->n; q++)
            worker_try_start(&r, q);
        engine_run(r.engine);
        if (r.status) {
            *err = r.err;
            status = r.status;
        } else if (cluster_failed(r.cluster)) {
            status = error_fail(err, "out of memory during the simulation");
        } else if (t->done == 0) {
            status = error_fail(err, "ssp: no update was applied");
        } else if (isnan(t->rows[t->done - 1].accuracy)) { /* the final model, always */
            struct iteration_row *last = &t->rows[t->done - 1];
            status = training_evaluate(t, t->done - 1, last->sim_time, &last->accuracy, err);
        }
    }
    if (!status && ssp_metrics(&r, &out->metrics))
        status = error_fail(err, "out of memory");
    if (!status) {
        out->iterations = t->rows;
        out->niterations = (size_t)t->done;
        t->rows = NULL;
        if (t->tuner)
            out->tuner = tuner_take_rows(t->tuner, &out->ntuner);
    } else {
        workload_output_free(out);
    }
    ssp_free(&r);
    return status;
}
