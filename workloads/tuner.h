/* tuner.h: an online hyperparameter tuner for the training workloads.
 *
 * Every `window` iterations the training loop hands the tuner what a real
 * controller could see of that window (struct tuner_window: the training
 * loss, the accuracy on held-out TRAINING images, the simulated time, the
 * straggler share of the per-worker task times, the staleness) and the
 * tuner sets the tuned hyperparameters (learning rate, batch, weight
 * decay, dropout, ssp staleness bound) for the next window, one
 * tuner_row per tuned key per window. It never sees the test set: its only
 * input is struct tuner_window. Kinds (doc/autotune.md):
 *   fixed     the configured values, unchanged (a run is the untuned one);
 *   schedule  learning rate by step decay or cosine annealing;
 *   rule      plateau -> lower lr; a rising straggler share -> bigger
 *             batch, lr scaled linearly; loss rising under staleness ->
 *             tighter bound;
 *             training loss down but validation down -> more regularisation;
 *   random    each tuned key drawn from its range every window;
 *   lstm      an LSTM over the window history predicts the validation gain
 *             per simulated second of each candidate on a small grid; the
 *             best is taken (epsilon-greedy) and the LSTM trained online on
 *             what each window delivered; with lstm_input = per_worker a
 *             1-D convolution over each worker's time series feeds it too
 *             (tuner_conv.h: the paper's ConvLSTM).
 * No SQLite, no clock of its own, nothing of the cluster: the loops call it.
 */
#ifndef STRAG_TUNER_H
#define STRAG_TUNER_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/metrics.h"
#include "base/params.h"

enum tuner_knob {
    TUNER_LR,
    TUNER_BATCH,
    TUNER_WEIGHT_DECAY,
    TUNER_DROPOUT,
    TUNER_STALENESS,
    TUNER_KNOBS
};

/* The key names of the knobs ("learning_rate", ...), as in workload.tuner.tune. */
extern const char *const tuner_knob_names[TUNER_KNOBS];

enum tuner_kind { TUNER_NONE, TUNER_FIXED, TUNER_SCHEDULE, TUNER_RULE, TUNER_RANDOM, TUNER_LSTM };

struct tuner_config {
    enum tuner_kind kind;
    long window;                 /* iterations per decision (>= 1) */
    long iterations;             /* of the run (cosine schedule) */
    bool tuned[TUNER_KNOBS];
    double min[TUNER_KNOBS], max[TUNER_KNOBS];
    bool cosine;                 /* schedule: cosine (else step) */
    double decay;                /* schedule step, rule plateau: lr factor */
    int patience;                /* windows without validation gain (rule), or per step */
    double min_delta;            /* a validation gain smaller than this is none */
    double straggler_share;      /* rule: share above which the batch grows */
    double epsilon;              /* lstm: exploration probability */
    int hidden, history;         /* lstm: units, windows it reads */
    double lstm_lr;              /* lstm: Adam step size */
    bool per_worker;             /* lstm: a convolution over the per-worker series too */
    int conv_channels, conv_kernel; /* its filters and their length (windows) */
    int workers;                 /* the series' width (cluster.workers) */
};

/* What the loop measured over the last window. */
struct tuner_window {
    long iteration;          /* the window's last iteration */
    double sim_time;         /* at its end */
    double time;             /* simulated seconds the window took */
    double loss;             /* mean training loss */
    double val_accuracy;     /* on held-out training images */
    double straggler_share;  /* (max - median) / max of per-worker mean task time per unit cost */
    double staleness;        /* mean staleness of the applied updates (0: synchronous) */
    int workers;             /* entries of worker_time (0: none) */
    const double *worker_time; /* per worker (pipeline: stage) mean task time per unit cost; NaN: no task */
};

/* The workload.tuner.* rows of a training workload's key table. At their
 * defaults (kind none) nothing is built and no point key changes. */
#define TUNER_CONFIG_KEYS                                                                          \
    {"workload.tuner.kind", KEY_ENUM, "none", 0, 0, 0, "none|fixed|schedule|rule|random|lstm",     \
     "training: online hyperparameter tuner (doc/autotune.md)"},                                 \
    {"workload.tuner.window", KEY_INT, "20", 1, 1e9, 0, NULL,                                    \
     "tuner: iterations per decision (ssp: x workers updates)"},                                  \
    {"workload.tuner.tune", KEY_ENUM, "learning_rate", 0, 0, KEY_LIST,                           \
     "learning_rate|batch|weight_decay|dropout|staleness", "tuner: the keys it sets"},            \
    {"workload.tuner.validation", KEY_INT, "1000", 1, 30000, 0, NULL,                            \
     "tuner: held-out training images its validation accuracy is measured on"},                  \
    {"workload.tuner.lr_min", KEY_REAL, "0.001", 0, INFINITY, KEY_MIN_OPEN, NULL, "tuner: smallest learning rate it sets"}, \
    {"workload.tuner.lr_max", KEY_REAL, "1", 0, INFINITY, KEY_MIN_OPEN, NULL, "tuner: largest learning rate it sets"},    \
    {"workload.tuner.batch_min", KEY_INT, "60", 1, 1e6, 0, NULL, "tuner: smallest batch (>= cluster.workers)"},               \
    {"workload.tuner.batch_max", KEY_INT, "2400", 1, 1e6, 0, NULL, "tuner: largest batch"},             \
    {"workload.tuner.weight_decay_min", KEY_REAL, "1e-5", 0, INFINITY, 0, NULL, "tuner: smallest nonzero weight decay"}, \
    {"workload.tuner.weight_decay_max", KEY_REAL, "0.01", 0, INFINITY, 0, NULL, "tuner: largest weight decay"}, \
    {"workload.tuner.dropout_min", KEY_REAL, "0", 0, 1, KEY_MAX_OPEN, NULL, "tuner: smallest dropout rate"},     \
    {"workload.tuner.dropout_max", KEY_REAL, "0.5", 0, 1, KEY_MAX_OPEN, NULL, "tuner: largest dropout rate"},   \
    {"workload.tuner.staleness_min", KEY_INT, "0", 0, 1000, 0, NULL, "tuner: tightest ssp staleness bound"},            \
    {"workload.tuner.staleness_max", KEY_INT, "8", 0, 1000, 0, NULL, "tuner: loosest ssp staleness bound"},            \
    {"workload.tuner.schedule", KEY_ENUM, "step", 0, 0, 0, "step|cosine",                        \
     "schedule tuner: step decay (x decay every patience windows) or cosine to lr_min"},         \
    {"workload.tuner.decay", KEY_REAL, "0.5", 0, 1, KEY_MIN_OPEN | KEY_MAX_OPEN, NULL,           \
     "tuner: learning-rate factor of a step or a plateau"},                                      \
    {"workload.tuner.patience", KEY_INT, "2", 1, 1e6, 0, NULL,                                   \
     "tuner: windows without validation gain before a plateau (schedule: per step)"},            \
    {"workload.tuner.min_delta", KEY_REAL, "0.005", 0, 1, 0, NULL,                               \
     "rule tuner: smallest validation gain (and relative loss rise) that counts"},               \
    {"workload.tuner.straggler_share", KEY_REAL, "0.5", 0, 1, KEY_MIN_OPEN | KEY_MAX_OPEN, NULL, \
     "rule tuner: straggler share of the task time above which the batch grows"},                \
    {"workload.tuner.epsilon", KEY_REAL, "0.1", 0, 1, 0, NULL,                                   \
     "lstm tuner: probability of a random grid candidate"},                                      \
    {"workload.tuner.lstm_hidden", KEY_INT, "16", 1, 256, 0, NULL, "lstm tuner: hidden units"},  \
    {"workload.tuner.lstm_history", KEY_INT, "4", 1, 64, 0, NULL,                                \
     "lstm tuner: windows it reads"},                                                            \
    {"workload.tuner.lstm_lr", KEY_REAL, "0.01", 0, INFINITY, KEY_MIN_OPEN, NULL,                \
     "lstm tuner: Adam step size of its online training"},                                       \
    {"workload.tuner.lstm_input", KEY_ENUM, "summary", 0, 0, 0, "summary|per_worker",            \
     "lstm tuner: window summaries, or also a 1-D convolution over each worker's time series (ConvLSTM)"}, \
    {"workload.tuner.conv_channels", KEY_INT, "4", 1, 64, 0, NULL,                               \
     "lstm tuner, per_worker: convolution filters"},                                             \
    {"workload.tuner.conv_kernel", KEY_INT, "3", 1, 64, 0, NULL,                                 \
     "lstm tuner, per_worker: filter length in windows"}

struct tuner;

/* Reads the workload.tuner.* keys of p into *cfg (iterations and start
 * values from the workload keys); errors are `file:line: ...` of the key.
 * ssp says whether the run is the parameter server (staleness tunable). */
int tuner_config_read(const struct params *p, bool ssp, struct tuner_config *cfg,
                      double start[TUNER_KNOBS], struct error *err);

/* A tuner starting at the setting `start`; its random stream from (seed,
 * point_key, RNG_TUNER). */
int tuner_new(struct tuner **out, const struct tuner_config *cfg, const double start[TUNER_KNOBS],
              uint64_t seed, uint64_t point_key, struct error *err);
void tuner_free(struct tuner *tu);

/* One decision: reads w, writes the setting for the next window into
 * setting (in: the current one) and appends its rows. */
int tuner_decide(struct tuner *tu, const struct tuner_window *w, double setting[TUNER_KNOBS],
                 struct error *err);

/* The decisions so far; tuner_take_rows hands the array to the caller (free()). */
size_t tuner_nrows(const struct tuner *tu);
struct tuner_row *tuner_take_rows(struct tuner *tu, size_t *nrows);

#endif
