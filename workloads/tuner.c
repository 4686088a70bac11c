/* tuner.c: the online hyperparameter tuner (tuner.h): its keys, the five
 * decision rules, the LSTM tuner's network, the decision rows.
 *
 * A setting is TUNER_KNOBS doubles (learning rate, batch, weight decay,
 * dropout, staleness bound). Every decision clamps each tuned knob to its
 * [min, max] and writes one row per tuned knob; knobs not tuned are never
 * touched. Ranges are searched on a log scale for the learning rate, the
 * batch and the weight decay (factors matter there), linearly for dropout
 * and the staleness bound.
 */
#include "workloads/tuner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "models/layers.h"
#include "models/model.h"
#include "models/optim.h"
#include "workloads/tuner_conv.h"

const char *const tuner_knob_names[TUNER_KNOBS] = {
    [TUNER_LR] = "learning_rate", [TUNER_BATCH] = "batch", [TUNER_WEIGHT_DECAY] = "weight_decay",
    [TUNER_DROPOUT] = "dropout",  [TUNER_STALENESS] = "staleness",
};

/* The workload.tuner.* keys of each knob's range. */
static const char *const knob_min_keys[TUNER_KNOBS] = {
    "workload.tuner.lr_min", "workload.tuner.batch_min", "workload.tuner.weight_decay_min",
    "workload.tuner.dropout_min", "workload.tuner.staleness_min",
};
static const char *const knob_max_keys[TUNER_KNOBS] = {
    "workload.tuner.lr_max", "workload.tuner.batch_max", "workload.tuner.weight_decay_max",
    "workload.tuner.dropout_max", "workload.tuner.staleness_max",
};

static const bool knob_log[TUNER_KNOBS] = {
    [TUNER_LR] = true, [TUNER_BATCH] = true, [TUNER_WEIGHT_DECAY] = true,
};
static const bool knob_integer[TUNER_KNOBS] = { [TUNER_BATCH] = true, [TUNER_STALENESS] = true };

/* LSTM tuner: per window step, 5 observed features then the setting. */
enum { LSTM_OBS = 5, LSTM_FEATURES = LSTM_OBS + TUNER_KNOBS, LSTM_TRAIN_STEPS = 20,
       LSTM_SAMPLES = 64, GRID_MAX = 243 };

struct lstm_step {
    float f[LSTM_FEATURES];
};

/* per_worker: the convolution's channels are the LSTM's input rows after the summary's */
enum { CONV_SERIES_FIRST = LSTM_FEATURES }; /* the conv channels follow the summary rows */

struct tuner {
    struct tuner_config cfg;
    double start[TUNER_KNOBS];
    struct rng rng;
    long windows;
    /* rule */
    double best_val, prev_loss, prev_val, prev_share;
    int since_best;
    /* lstm: steps[k] = (obs of window k, setting of window k+1), reward[k]
     * = what window k+1 delivered (filled one window later) */
    struct model *net;
    struct optim *opt;
    struct lstm_step *steps;
    double *reward;
    size_t nsteps, cap;
    double time_ref, last_val;
    float *batch_in, *batch_out;
    int nfeat;               /* LSTM input rows: LSTM_FEATURES (+ conv channels) */
    /* per_worker: the convolution, its optimiser, the series (cap x workers)
     * and the LSTM's input gradient (LSTM_SAMPLES x nfeat x history) */
    struct tuner_conv conv;
    struct optim *conv_opt;
    float *series, *dinp;
    /* rows */
    struct tuner_row *rows;
    size_t nrows, rows_cap;
};

/* ---- keys ---- */

int tuner_config_read(const struct params *p, bool ssp, struct tuner_config *cfg,
                      double start[TUNER_KNOBS], struct error *err)
{
    memset(cfg, 0, sizeof *cfg);
    static const char *const kinds[] = { "none", "fixed", "schedule", "rule", "random", "lstm" };
    const char *kind = params_string(p, "workload.tuner.kind");
    for (int k = 0; kind && k < (int)(sizeof kinds / sizeof kinds[0]); k++)
        if (strcmp(kind, kinds[k]) == 0)
            cfg->kind = (enum tuner_kind)k;
    cfg->window = params_int(p, "workload.tuner.window");
    cfg->iterations = params_int(p, "workload.iterations");
    cfg->cosine = strcmp(params_string(p, "workload.tuner.schedule"), "cosine") == 0;
    cfg->decay = params_real(p, "workload.tuner.decay");
    cfg->patience = (int)params_int(p, "workload.tuner.patience");
    cfg->min_delta = params_real(p, "workload.tuner.min_delta");
    cfg->straggler_share = params_real(p, "workload.tuner.straggler_share");
    cfg->epsilon = params_real(p, "workload.tuner.epsilon");
    cfg->hidden = (int)params_int(p, "workload.tuner.lstm_hidden");
    cfg->history = (int)params_int(p, "workload.tuner.lstm_history");
    cfg->lstm_lr = params_real(p, "workload.tuner.lstm_lr");
    cfg->per_worker = strcmp(params_string(p, "workload.tuner.lstm_input"), "per_worker") == 0;
    cfg->conv_channels = (int)params_int(p, "workload.tuner.conv_channels");
    cfg->conv_kernel = (int)params_int(p, "workload.tuner.conv_kernel");
    cfg->workers = (int)params_int(p, "cluster.workers");
    start[TUNER_LR] = params_real(p, "workload.learning_rate");
    start[TUNER_BATCH] = (double)params_int(p, "workload.batch");
    start[TUNER_WEIGHT_DECAY] = params_real(p, "workload.weight_decay");
    start[TUNER_DROPOUT] = params_has(p, "workload.dropout") ? params_real(p, "workload.dropout") : 0.0;
    start[TUNER_STALENESS] = ssp ? (double)params_int(p, "scheme.staleness") : 0.0;
    if (cfg->kind == TUNER_NONE)
        return 0;

    char tune[256];
    snprintf(tune, sizeof tune, "%s", params_string(p, "workload.tuner.tune"));
    for (char *save = NULL, *name = strtok_r(tune, ", ", &save); name;
         name = strtok_r(NULL, ", ", &save))
        for (int k = 0; k < TUNER_KNOBS; k++)
            if (strcmp(name, tuner_knob_names[k]) == 0)
                cfg->tuned[k] = true;
    if (cfg->tuned[TUNER_STALENESS] && !ssp)
        return error_at_key(err, p, "workload.tuner.tune",
                            "staleness: only the ssp scheme has a staleness bound to tune");
    if (cfg->tuned[TUNER_STALENESS] && start[TUNER_STALENESS] < 0)
        return error_at_key(err, p, "workload.tuner.tune",
                            "staleness: scheme.staleness is unbounded (< 0), nothing to tune");
    if (cfg->per_worker && cfg->kind != TUNER_LSTM)
        return error_at_key(err, p, "workload.tuner.lstm_input",
                            "per_worker: only the lstm tuner reads it (workload.tuner.kind = lstm)");
    if (cfg->kind == TUNER_SCHEDULE && !cfg->tuned[TUNER_LR])
        return error_at_key(err, p, "workload.tuner.tune",
                            "the schedule tuner sets learning_rate: tune it");
    for (int k = 0; k < TUNER_KNOBS; k++) {
        cfg->min[k] = params_real(p, knob_min_keys[k]);
        cfg->max[k] = params_real(p, knob_max_keys[k]);
        if (knob_integer[k]) {
            cfg->min[k] = (double)params_int(p, knob_min_keys[k]);
            cfg->max[k] = (double)params_int(p, knob_max_keys[k]);
        }
        if (cfg->tuned[k] && cfg->min[k] > cfg->max[k])
            return error_at_key(err, p, knob_max_keys[k], "%g is less than %s (%g)", cfg->max[k],
                                knob_min_keys[k], cfg->min[k]);
        if (cfg->tuned[k] && knob_log[k] && !(cfg->min[k] > 0))
            return error_at_key(err, p, knob_min_keys[k],
                                "must be > 0 (%s is searched on a log scale)", tuner_knob_names[k]);
    }
    if (cfg->tuned[TUNER_BATCH] && cfg->min[TUNER_BATCH] < (double)params_int(p, "cluster.workers"))
        return error_at_key(err, p, knob_min_keys[TUNER_BATCH],
                            "%g is less than one example per worker (%ld workers)",
                            cfg->min[TUNER_BATCH], params_int(p, "cluster.workers"));
    return 0;
}

/* ---- rows and settings ---- */

static int row_add(struct tuner *tu, const struct tuner_window *w, int knob, double value,
                   const char *reason, struct error *err)
{
    if (tu->nrows == tu->rows_cap) {
        size_t cap = tu->rows_cap ? 2 * tu->rows_cap : 64;
        struct tuner_row *r = realloc(tu->rows, cap * sizeof *r);
        if (!r)
            return error_fail(err, "out of memory");
        tu->rows = r;
        tu->rows_cap = cap;
    }
    struct tuner_row *r = &tu->rows[tu->nrows++];
    memset(r, 0, sizeof *r);
    r->iteration = w->iteration;
    r->sim_time = w->sim_time;
    r->value = value;
    snprintf(r->key, sizeof r->key, "%s", tuner_knob_names[knob]);
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    return 0;
}

static double clamp(const struct tuner *tu, int k, double v)
{
    v = fmin(fmax(v, tu->cfg.min[k]), tu->cfg.max[k]);
    return knob_integer[k] ? round(v) : v;
}

/* Position of v in knob k's range, in [0, 1] (log scale where factors matter). */
static double knob_unit(const struct tuner *tu, int k, double v)
{
    double lo = tu->cfg.min[k], hi = tu->cfg.max[k];
    if (!(hi > lo))
        return 0.5;
    if (knob_log[k] && lo > 0 && v > 0)
        return (log(v) - log(lo)) / (log(hi) - log(lo));
    return (v - lo) / (hi - lo);
}

static double knob_from_unit(const struct tuner *tu, int k, double u)
{
    double lo = tu->cfg.min[k], hi = tu->cfg.max[k];
    double v = knob_log[k] ? exp(log(lo) + u * (log(hi) - log(lo))) : lo + u * (hi - lo);
    return clamp(tu, k, v);
}

/* ---- fixed, schedule, random ---- */

static int decide_fixed(struct tuner *tu, const struct tuner_window *w, double *s,
                        struct error *err)
{
    for (int k = 0; k < TUNER_KNOBS; k++)
        if (tu->cfg.tuned[k] && row_add(tu, w, k, s[k], "fixed", err))
            return STRAG_EFAIL;
    return 0;
}

static int decide_schedule(struct tuner *tu, const struct tuner_window *w, double *s,
                           struct error *err)
{
    const struct tuner_config *c = &tu->cfg;
    double lr0 = tu->start[TUNER_LR];
    if (c->cosine) {
        double progress = fmin(1.0, (double)(w->iteration + 1) / (double)c->iterations);
        s[TUNER_LR] = c->min[TUNER_LR] + 0.5 * (lr0 - c->min[TUNER_LR]) * (1.0 + cos(M_PI * progress));
    } else {
        s[TUNER_LR] = lr0 * pow(c->decay, (double)(tu->windows / c->patience));
    }
    s[TUNER_LR] = clamp(tu, TUNER_LR, s[TUNER_LR]);
    int rc = row_add(tu, w, TUNER_LR, s[TUNER_LR], c->cosine ? "cosine schedule" : "step schedule", err);
    for (int k = 0; k < TUNER_KNOBS && !rc; k++)
        if (k != TUNER_LR && c->tuned[k])
            rc = row_add(tu, w, k, s[k], "schedule: held", err);
    return rc;
}

static int decide_random(struct tuner *tu, const struct tuner_window *w, double *s,
                         struct error *err)
{
    for (int k = 0; k < TUNER_KNOBS; k++) {
        if (!tu->cfg.tuned[k])
            continue;
        s[k] = knob_from_unit(tu, k, rng_uniform(&tu->rng));
        if (row_add(tu, w, k, s[k], "random", err))
            return STRAG_EFAIL;
    }
    return 0;
}

/* ---- rule ---- */

static int decide_rule(struct tuner *tu, const struct tuner_window *w, double *s,
                       struct error *err)
{
    const struct tuner_config *c = &tu->cfg;
    const char *why[TUNER_KNOBS] = { "hold", "hold", "hold", "hold", "hold" };
    bool first = tu->windows == 0;
    bool gained = w->val_accuracy > tu->best_val + c->min_delta;
    if (gained || first) {
        tu->best_val = fmax(tu->best_val, w->val_accuracy);
        tu->since_best = 0;
    } else {
        tu->since_best++;
    }
    // 1. a validation plateau: lower the learning rate
    if (c->tuned[TUNER_LR] && tu->since_best >= c->patience) {
        s[TUNER_LR] = clamp(tu, TUNER_LR, s[TUNER_LR] * c->decay);
        tu->since_best = 0;
        why[TUNER_LR] = "plateau: lower learning rate";
    }
    // 2. the straggler share of the time rises above the threshold: a bigger
    //    batch (fewer synchronisations per epoch), the learning rate scaled
    //    linearly; a share that stays high (persistent stragglers) is not a
    //    new reason to grow again
    bool burst = w->straggler_share > c->straggler_share && w->straggler_share > tu->prev_share;
    if (c->tuned[TUNER_BATCH]) {
        double b = s[TUNER_BATCH], nb = b;
        if (burst)
            nb = clamp(tu, TUNER_BATCH, 2.0 * b);
        else if (w->straggler_share < 0.5 * c->straggler_share && b > tu->start[TUNER_BATCH])
            nb = clamp(tu, TUNER_BATCH, fmax(0.5 * b, tu->start[TUNER_BATCH]));
        if (nb != b) {
            why[TUNER_BATCH] = nb > b ? "stragglers: grow batch" : "stragglers gone: shrink batch";
            if (c->tuned[TUNER_LR]) {
                s[TUNER_LR] = clamp(tu, TUNER_LR, s[TUNER_LR] * nb / b);
                why[TUNER_LR] = "linear scaling with the batch";
            }
            s[TUNER_BATCH] = nb;
        }
    }
    // 3. the loss rose while updates were stale: tighten the bound; stragglers
    //    and a falling loss: loosen it
    bool loss_rose = !first && w->loss > tu->prev_loss * (1.0 + c->min_delta);
    if (c->tuned[TUNER_STALENESS]) {
        double sb = s[TUNER_STALENESS];
        if (loss_rose && w->staleness > 1.0) {
            s[TUNER_STALENESS] = clamp(tu, TUNER_STALENESS, sb - 1.0);
            why[TUNER_STALENESS] = "stale updates hurt the loss: tighten";
        } else if (!loss_rose && burst) {
            s[TUNER_STALENESS] = clamp(tu, TUNER_STALENESS, sb + 1.0);
            why[TUNER_STALENESS] = "stragglers: loosen";
        }
    }
    // 4. training loss down but validation accuracy down: regularise more
    bool overfit = !first && w->loss < tu->prev_loss && w->val_accuracy < tu->prev_val - c->min_delta;
    if (overfit && c->tuned[TUNER_WEIGHT_DECAY]) {
        double wd = s[TUNER_WEIGHT_DECAY];
        s[TUNER_WEIGHT_DECAY] = clamp(tu, TUNER_WEIGHT_DECAY, wd > 0 ? 2.0 * wd : c->min[TUNER_WEIGHT_DECAY]);
        why[TUNER_WEIGHT_DECAY] = "overfitting: more weight decay";
    }
    if (overfit && c->tuned[TUNER_DROPOUT]) {
        s[TUNER_DROPOUT] = clamp(tu, TUNER_DROPOUT, s[TUNER_DROPOUT] + 0.1);
        why[TUNER_DROPOUT] = "overfitting: more dropout";
    }
    tu->prev_loss = w->loss;
    tu->prev_val = w->val_accuracy;
    tu->prev_share = w->straggler_share;
    for (int k = 0; k < TUNER_KNOBS; k++)
        if (c->tuned[k] && row_add(tu, w, k, s[k], why[k], err))
            return STRAG_EFAIL;
    return 0;
}

/* ---- lstm ---- */

static void lstm_step_fill(const struct tuner *tu, struct lstm_step *st, const struct tuner_window *w,
                           const double *s)
{
    st->f[0] = (float)fmin(w->loss, 10.0);
    st->f[1] = (float)w->val_accuracy;
    st->f[2] = (float)log(fmax(w->time, 1e-9) / tu->time_ref);
    st->f[3] = (float)w->straggler_share;
    st->f[4] = (float)(w->staleness / 10.0);
    for (int k = 0; k < TUNER_KNOBS; k++)
        st->f[LSTM_OBS + k] = (float)(tu->cfg.tuned[k] ? knob_unit(tu, k, s[k]) : 0.0);
}

/* The network's input (F,1,T) for the sequence ending at step `last`
 * (earlier steps padded with the first), the last step being *final. */
static void lstm_input(const struct tuner *tu, size_t last, const struct lstm_step *final, float *in)
{
    int T = tu->cfg.history;
    for (int t = 0; t < T; t++) {
        long k = (long)last - (T - 1 - t);
        const struct lstm_step *st = t == T - 1 ? final : &tu->steps[k < 0 ? 0 : k];
        for (int f = 0; f < LSTM_FEATURES; f++)
            in[(size_t)f * T + t] = st->f[f];
    }
    if (tu->cfg.per_worker) /* the convolution's channels: rows LSTM_FEATURES .. nfeat - 1 */
        tuner_conv_forward(&tu->conv, tu->series, last, T, in + (size_t)CONV_SERIES_FIRST * T);
}

/* Appends step k's per-worker series: log of each worker's time over the
 * median worker's (0 for a worker that ran nothing). */
static void series_fill(struct tuner *tu, size_t k, const struct tuner_window *w)
{
    int W = tu->cfg.workers, n = 0;
    double sorted[W];
    float *z = tu->series + k * (size_t)W;
    for (int i = 0; i < W && i < w->workers; i++)
        if (isfinite(w->worker_time[i]) && w->worker_time[i] > 0)
            sorted[n++] = w->worker_time[i];
    for (int i = 1; i < n; i++) /* insertion sort: a few workers */
        for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            double x = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = x;
        }
    double median = n ? sorted[n / 2] : 1.0;
    for (int i = 0; i < W; i++) {
        bool seen = i < w->workers && isfinite(w->worker_time[i]) && w->worker_time[i] > 0;
        z[i] = seen ? (float)log(w->worker_time[i] / median) : 0.0f;
    }
}

static int lstm_setup(struct tuner *tu, struct error *err)
{
    char spec[64];
    tu->nfeat = LSTM_FEATURES + (tu->cfg.per_worker ? tu->cfg.conv_channels : 0);
    snprintf(spec, sizeof spec, "%dx1x%d: lstm%d dense1", tu->nfeat, tu->cfg.history, tu->cfg.hidden);
    struct optim_config oc = optim_config_default(OPTIM_ADAM);
    oc.lr = (float)tu->cfg.lstm_lr;
    int rc = model_new(&tu->net, spec, err);
    if (!rc)
        rc = optim_new(&tu->opt, &oc, tu->net->nparams, err);
    if (!rc)
        rc = model_reserve(tu->net, GRID_MAX > LSTM_SAMPLES ? GRID_MAX : LSTM_SAMPLES, err);
    if (rc)
        return rc;
    tu->batch_in = malloc(sizeof(float) * GRID_MAX * (size_t)tu->nfeat * (size_t)tu->cfg.history);
    tu->batch_out = malloc(sizeof(float) * GRID_MAX);
    if (!tu->batch_in || !tu->batch_out)
        return error_fail(err, "out of memory");
    struct rng init = tu->rng;
    model_init(tu->net, &init);
    rng_next(&tu->rng); /* the exploration draws start after the init's */
    if (!tu->cfg.per_worker)
        return 0;
    /* the convolution's weights continue the init stream; Adam like the LSTM's */
    tu->dinp = malloc(sizeof(float) * LSTM_SAMPLES * (size_t)tu->nfeat * (size_t)tu->cfg.history);
    if (!tu->dinp || tuner_conv_init(&tu->conv, tu->cfg.conv_channels, tu->cfg.conv_kernel,
                                     tu->cfg.workers, &init))
        return error_fail(err, "out of memory");
    return optim_new(&tu->conv_opt, &oc, tu->conv.nparams, err);
}

/* A few Adam steps on the most recent LSTM_SAMPLES (sequence, reward) pairs. */
static int lstm_train(struct tuner *tu, struct error *err)
{
    size_t have = tu->nsteps - 1; /* the last step has no reward yet */
    if (have == 0)
        return 0;
    size_t from = have > LSTM_SAMPLES ? have - LSTM_SAMPLES : 0;
    int B = (int)(have - from), T = tu->cfg.history;
    size_t stride = (size_t)tu->nfeat * T;
    float target[LSTM_SAMPLES];
    for (int b = 0; b < B; b++)
        target[b] = (float)tu->reward[from + (size_t)b];
    for (int step = 0; step < LSTM_TRAIN_STEPS; step++) {
        /* every step: the convolution's channels move with its weights */
        for (int b = 0; (step == 0 || tu->cfg.per_worker) && b < B; b++)
            lstm_input(tu, from + (size_t)b, &tu->steps[from + (size_t)b],
                       tu->batch_in + (size_t)b * stride);
        const float *out;
        int rc = model_forward(tu->net, tu->batch_in, B, &out, err);
        if (rc)
            return rc;
        mse_backward(tu->batch_out, out, target, (size_t)B, 1.0f / (float)B);
        model_zero_grad(tu->net);
        if ((rc = model_backward(tu->net, tu->batch_out, B, tu->cfg.per_worker ? tu->dinp : NULL,
                                 err)))
            return rc;
        optim_step(tu->opt, tu->net->params, tu->net->grads);
        if (!tu->cfg.per_worker)
            continue;
        memset(tu->conv.grads, 0, tu->conv.nparams * sizeof *tu->conv.grads);
        for (int b = 0; b < B; b++)
            tuner_conv_backward(&tu->conv, tu->series, from + (size_t)b, T,
                                tu->dinp + (size_t)b * stride + (size_t)CONV_SERIES_FIRST * T);
        optim_step(tu->conv_opt, tu->conv.params, tu->conv.grads);
    }
    return 0;
}

/* Candidate k of the grid: per tuned knob down, hold or up (base 3 digits). */
static void candidate(const struct tuner *tu, int index, const double *s, double *out)
{
    memcpy(out, s, sizeof(double) * TUNER_KNOBS);
    for (int k = 0; k < TUNER_KNOBS; k++) {
        if (!tu->cfg.tuned[k])
            continue;
        int move = index % 3 - 1; /* -1, 0, +1 */
        index /= 3;
        double v = s[k];
        if (k == TUNER_DROPOUT)
            v += 0.1 * move;
        else if (k == TUNER_STALENESS)
            v += move;
        else if (k == TUNER_WEIGHT_DECAY && v <= 0)
            v = move > 0 ? tu->cfg.min[k] : 0.0;
        else
            v *= pow(2.0, move);
        out[k] = k == TUNER_WEIGHT_DECAY && v <= 0 ? 0.0 : clamp(tu, k, v);
    }
}

static int decide_lstm(struct tuner *tu, const struct tuner_window *w, double *s,
                       struct error *err)
{
    if (tu->windows == 0) {
        tu->time_ref = fmax(w->time, 1e-9);
        tu->last_val = w->val_accuracy;
    } else { /* what the last window delivered: validation gain per reference window */
        tu->reward[tu->nsteps - 1] = 10.0 * (w->val_accuracy - tu->last_val) * tu->time_ref /
                                     fmax(w->time, 1e-9);
        tu->last_val = w->val_accuracy;
    }
    if (tu->nsteps == tu->cap) {
        size_t cap = tu->cap ? 2 * tu->cap : 64;
        struct lstm_step *st = realloc(tu->steps, cap * sizeof *st);
        double *rw = st ? realloc(tu->reward, cap * sizeof *rw) : NULL;
        if (st)
            tu->steps = st;
        if (rw)
            tu->reward = rw;
        float *z = rw && tu->cfg.per_worker
                       ? realloc(tu->series, cap * (size_t)tu->cfg.workers * sizeof *z)
                       : NULL;
        if (z)
            tu->series = z;
        if (!st || !rw || (tu->cfg.per_worker && !z))
            return error_fail(err, "out of memory");
        tu->cap = cap;
    }
    if (tu->cfg.per_worker)
        series_fill(tu, tu->nsteps, w);
    tu->nsteps++;
    /* this window's step with the setting kept, until a move is chosen: the
     * padding of the first sequences reads it */
    lstm_step_fill(tu, &tu->steps[tu->nsteps - 1], w, s);
    int rc = lstm_train(tu, err);
    if (rc)
        return rc;
    int tuned = 0, n = 1;
    for (int k = 0; k < TUNER_KNOBS; k++)
        tuned += tu->cfg.tuned[k];
    for (int k = 0; k < tuned && n < GRID_MAX; k++)
        n *= 3;
    int T = tu->cfg.history, pick = -1;
    const char *why = "lstm: best predicted gain";
    if (rng_uniform(&tu->rng) < tu->cfg.epsilon) {
        pick = (int)rng_below(&tu->rng, (uint64_t)n);
        why = "lstm: exploration";
    }
    double cand[TUNER_KNOBS];
    struct lstm_step st;
    for (int c = 0; c < n; c++) {
        candidate(tu, c, s, cand);
        lstm_step_fill(tu, &st, w, cand);
        lstm_input(tu, tu->nsteps - 1, &st, tu->batch_in + (size_t)c * tu->nfeat * T);
    }
    const float *pred;
    if ((rc = model_forward(tu->net, tu->batch_in, n, &pred, err)))
        return rc;
    if (pick < 0)
        pick = model_argmax(pred, n);
    candidate(tu, pick, s, cand);
    memcpy(s, cand, sizeof cand);
    lstm_step_fill(tu, &tu->steps[tu->nsteps - 1], w, s);
    tu->reward[tu->nsteps - 1] = NAN;
    for (int k = 0; k < TUNER_KNOBS; k++)
        if (tu->cfg.tuned[k] && row_add(tu, w, k, s[k], why, err))
            return STRAG_EFAIL;
    return 0;
}

/* ---- the tuner ---- */

int tuner_new(struct tuner **out, const struct tuner_config *cfg, const double start[TUNER_KNOBS],
              uint64_t seed, uint64_t point_key, struct error *err)
{
    *out = NULL;
    if (cfg->window < 1)
        return error_fail(err, "tuner: window must be >= 1, got %ld", cfg->window);
    struct tuner *tu = calloc(1, sizeof *tu);
    if (!tu)
        return error_fail(err, "out of memory");
    tu->cfg = *cfg;
    memcpy(tu->start, start, sizeof tu->start);
    rng_seed(&tu->rng, seed, point_key, RNG_TUNER, 0);
    int rc = cfg->kind == TUNER_LSTM ? lstm_setup(tu, err) : 0;
    if (rc) {
        tuner_free(tu);
        return rc;
    }
    *out = tu;
    return 0;
}

void tuner_free(struct tuner *tu)
{
    if (!tu)
        return;
    model_free(tu->net);
    optim_free(tu->opt);
    free(tu->steps);
    free(tu->reward);
    free(tu->batch_in);
    free(tu->batch_out);
    tuner_conv_free(&tu->conv);
    optim_free(tu->conv_opt);
    free(tu->series);
    free(tu->dinp);
    free(tu->rows);
    free(tu);
}

int tuner_decide(struct tuner *tu, const struct tuner_window *w, double setting[TUNER_KNOBS],
                 struct error *err)
{
    int rc = 0;
    switch (tu->cfg.kind) {
    case TUNER_NONE:
        break;
    case TUNER_FIXED:
        rc = decide_fixed(tu, w, setting, err);
        break;
    case TUNER_SCHEDULE:
        rc = decide_schedule(tu, w, setting, err);
        break;
    case TUNER_RULE:
        rc = decide_rule(tu, w, setting, err);
        break;
    case TUNER_RANDOM:
        rc = decide_random(tu, w, setting, err);
        break;
    case TUNER_LSTM:
        rc = decide_lstm(tu, w, setting, err);
        break;
    }
    tu->windows++;
    return rc;
}

size_t tuner_nrows(const struct tuner *tu)
{
    return tu->nrows;
}

struct tuner_row *tuner_take_rows(struct tuner *tu, size_t *nrows)
{
    struct tuner_row *rows = tu->rows;
    *nrows = tu->nrows;
    tu->rows = NULL;
    tu->nrows = tu->rows_cap = 0;
    return rows;
}
