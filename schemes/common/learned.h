/* learned.h: what the trainers of the learned codes share (ParM parity
 * models in parm_model.h, the split-image learned decoder in split_model.h,
 * learned Lagrange coding in llc_model.h): the training options, the
 * per-epoch progress record, the learning-rate schedule, the deterministic
 * train/validation split and shuffles, the spec-text rule for sub-networks,
 * and the weights-file naming of a code made of several networks.
 *
 * Naming rule: a learned code stores each of its networks in its own
 * weights file (models/weights.h format) named "<stem>.<part>.bin", where
 * <stem> is the scheme.learned_weights key and <part> names the network
 * ("parity"; "node0".."node<N-1>", "decoder", "avg0".. for split; "worker",
 * "decoder" for learned-lagrange). Each file's architecture string is its
 * network's spec, so a file loaded into the wrong network is refused.
 *
 * Knows no particular code and no config file: `stragsim train` hands a
 * code's trainer (scheme_ops.train) a struct learned_train_env.
 */
#ifndef STRAG_LEARNED_H
#define STRAG_LEARNED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "models/fmnist.h"
#include "models/model.h"
#include "models/optim.h"
#include "models/train.h"
#include "base/error.h"
#include "base/params.h"

/* The config keys only `stragsim train` reads (train.target and the split
 * trainer's straggler scenarios; the schemes declare the rest), listed for
 * the driver's validator and `config --list`. No table default (it would
 * enter every run's params): absent keys take the default in their
 * meaning, applied by the trainer. train.target's choices are "base" and
 * the schemes with a .train hook (scheme_train_targets). */
extern const struct config_key learned_config_keys[];

struct learned_options {
    uint64_t seed;
    int epochs;                 /* >= 1 */
    int batch;                  /* examples (groups, images) per optimiser step */
    struct optim_config optim;  /* optim.lr is the starting rate */
    enum train_schedule schedule;
    size_t validation;          /* training images held out for per-epoch validation */
    size_t limit;               /* train on at most this many images; 0 = all */
    int threads;                /* OpenBLAS threads (a process-wide setting) */
};

/* One epoch's record: `val_name` names what val_accuracy measures
 * ("degraded_accuracy", "accuracy_1_straggler", ...). */
struct learned_epoch {
    int epoch, epochs;
    double loss;                /* mean training loss over the epoch */
    double val_accuracy;        /* NaN without a validation set */
    const char *val_name;
    double seconds;
};

typedef void (*learned_progress_fn)(const struct learned_epoch *e, void *ctx);

/* What `stragsim train` hands a learned code's trainer (scheme_ops.train):
 * the config's params, the [train] options, both Fashion-MNIST sets, where
 * to report, and the driver's way to save a network. The trainer reads its
 * scheme.* keys, trains, saves each network through save and writes its
 * test-set summary lines to log. */
struct learned_train_env {
    const struct params *params;
    struct learned_options opt;
    const struct fmnist *train, *test;
    learned_progress_fn progress; /* one call per epoch; NULL when quiet */
    void *progress_ctx;
    FILE *log;                    /* test-set summary lines; NULL when quiet */
    const char *origin;           /* the config file: where location-less errors point */
    /* Writes network m as the weights file "<stem>.<part>.bin" (the
     * scheme.learned_weights stem); ctx is the driver's. */
    int (*save)(void *ctx, const struct model *m, const char *part, struct error *err);
    void *ctx;
};

/* A trainer's STRAG_EINPUT error without a location ("file:...") is about
 * the config: prefixes env->origin. Returns rc. */
int learned_located(const struct learned_train_env *env, int rc, struct error *err);

/* The KEY_PATH value of key resolved (params_path) into out; unset: the
 * error "missing: <why>" at the key's place. */
int learned_path(const struct params *p, const char *key, const char *why, char *out,
                 size_t outlen, struct error *err);

/* The value of an optional key without a table default, else fallback. */
const char *learned_string_or(const struct params *p, const char *key, const char *fallback);
long learned_int_or(const struct params *p, const char *key, long fallback);

/* The training and validation index sets of `data` under o (the split of
 * fmnist_split(o->seed), so every trainer with one seed holds out the same
 * images as models/train.c). Caller frees both (*val may be NULL when
 * o->validation is 0). STRAG_EINPUT (no location) if validation >= n. */
int learned_split(const struct learned_options *o, const struct fmnist *data, int **train,
                  size_t *ntrain, int **val, size_t *nval, struct error *err);

/* Shuffles idx in place with stream (seed, 0, RNG_DATA, 1 + pass). */
void learned_shuffle(uint64_t seed, long pass, int *idx, size_t n);

/* The learning rate of step t of T under o's schedule. */
float learned_lr(const struct learned_options *o, long t, long T);

/* Builds a sub-network from spec text. Text with a ':' is a full spec; text
 * without one is a layer list that gets `input` prepended ("dense64 relu
 * dense10" on a 14x14 patch becomes "1x14x14: dense64 relu dense10"); a
 * table name ("mlp") is that model.
 * The model is initialised from stream (seed, 0, RNG_INIT, index). */
int learned_net_new(struct model **out, const char *spec, struct act_shape input,
                    uint64_t seed, uint64_t index, struct error *err);

/* "<stem>.<part>.bin" into out; false if it does not fit. */
bool learned_weights_path(char *out, size_t outlen, const char *stem, const char *part);

/* Mean softmax cross-entropy of logits (B x V) against labels, the number of
 * argmax hits in *correct (may be NULL), and dlogits (B x V, may be NULL)
 * = scale * d(sum of losses)/dlogits. probs is B x V scratch. */
double learned_xent(const float *logits, const int *labels, int B, int V, float scale,
                    float *probs, float *dlogits, int *correct);

/* Forward of n examples x (n x m->input_size) in chunks, copied into out
 * (n x m->outputs). */
int learned_forward_all(struct model *m, const float *x, size_t n, float *out,
                        struct error *err);

/* Sets OpenBLAS to `threads` threads (learned_options.threads). */
void learned_set_threads(int threads);

#endif
