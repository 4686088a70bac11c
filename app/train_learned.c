/* train_learned.c: `stragsim train` for a learned code (train_learned.h).
 * Reads the [train] options shared with the base trainer and the
 * Fashion-MNIST sets, refuses an existing weights file before training,
 * prints progress, and runs the .train hook of the scheme train.target
 * names; the learning itself lives beside each scheme, in its *_model.c. */
#include "app/train_learned.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/weights.h"
#include "schemes/common/learned.h"
#include "schemes/scheme.h"

enum { PATHLEN = 4096 };

/* The driver's side of a training: what save_part and the refusal need. */
struct learned_job {
    const struct params *p;
    char stem[PATHLEN]; /* scheme.learned_weights, resolved */
    bool quiet;
};

static void print_epoch(const struct learned_epoch *e, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "epoch %d/%d loss=%.4f %s=%.4f (%.1f s)\n", e->epoch, e->epochs, e->loss,
            e->val_name, e->val_accuracy, e->seconds);
}

/* learned_train_env.save: network m as STEM.PART.bin. */
static int save_part(void *ctx, const struct model *m, const char *part, struct error *err)
{
    const struct learned_job *j = ctx;
    char path[PATHLEN];
    if (!learned_weights_path(path, sizeof path, j->stem, part))
        return error_at_key(err, j->p, "scheme.learned_weights", "path too long");
    int rc = weights_save(m, path, err);
    if (!rc && !j->quiet)
        fprintf(stderr, "wrote %s\n", path);
    return rc;
}

/* Refuses before training when a weights file of the stem exists
 * (STEM.PART.bin, learned_weights_path): the shipped learned codes are not
 * overwritten by a retrain unless --force says so. */
static int stem_unused(const struct learned_job *j, struct error *err)
{
    char pattern[PATHLEN + 8];
    glob_t found;
    snprintf(pattern, sizeof pattern, "%s.*.bin", j->stem);
    int rc = glob(pattern, GLOB_NOSORT, NULL, &found);
    if (rc == 0)
        rc = error_at_key(err, j->p, "scheme.learned_weights",
                          "%s exists: set another stem (e.g. --set scheme.learned_weights=FILE), "
                          "or overwrite it with --force",
                          found.gl_pathv[0]);
    else
        rc = STRAG_OK;
    globfree(&found);
    return rc;
}

/* The [train] options every learned code shares. */
static int learned_options_from(const struct params *p, struct learned_options *o,
                                 struct error *err)
{
    enum optim_kind kind;
    if (optim_kind_parse(params_string(p, "train.optimizer"), &kind) != 0)
        return error_at_key(err, p, "train.optimizer", "unknown optimizer");
    *o = (struct learned_options){
        .seed = (uint64_t)params_int(p, "experiment.seed"),
        .epochs = (int)params_int(p, "train.epochs"),
        .batch = (int)params_int(p, "train.batch"),
        .optim = optim_config_default(kind),
        .schedule = strcmp(learned_string_or(p, "train.schedule", "cosine"), "constant") == 0
                        ? TRAIN_CONSTANT
                        : TRAIN_COSINE,
        .validation = (size_t)params_int(p, "train.validation"),
        .limit = (size_t)learned_int_or(p, "train.limit", 0),
        .threads = (int)params_int(p, "train.threads"),
    };
    o->optim.lr = (float)params_real(p, "train.learning_rate");
    o->optim.momentum = (float)params_real(p, "train.momentum");
    o->optim.weight_decay = (float)params_real(p, "train.weight_decay");
    return STRAG_OK;
}

bool train_learned_wanted(const struct config *cfg)
{
    const char *t = params_get(config_base(cfg), "train.target");
    return t && strcmp(t, "base") != 0;
}

int train_learned(const struct config *cfg, bool quiet, bool force, struct error *err)
{
    const struct params *p = config_base(cfg);
    const struct scheme_ops *code = scheme_find(params_get(p, "train.target"));
    if (!code || !code->train) /* the key's validation lets no other value through */
        return error_at_key(err, p, "train.target", "must be one of %s", scheme_train_targets);
    struct learned_job j = {.p = p, .quiet = quiet};
    struct fmnist train = {0}, test = {0};
    struct learned_train_env env = {
        .params = p,
        .train = &train,
        .test = &test,
        .progress = quiet ? NULL : print_epoch,
        .log = quiet ? NULL : stderr,
        .origin = config_path(cfg),
        .save = save_part,
        .ctx = &j,
    };
    int rc = learned_options_from(p, &env.opt, err);
    if (!rc)
        rc = learned_path(p, "scheme.learned_weights", "the stem of the weights files to write",
                          j.stem, sizeof j.stem, err);
    if (!rc && !force)
        rc = stem_unused(&j, err);
    char data_dir[PATHLEN];
    if (!rc && !params_path(p, "workload.data_dir", data_dir, sizeof data_dir))
        rc = error_at_key(err, p, "workload.data_dir", "path too long");
    if (!rc)
        rc = fmnist_load(data_dir, FMNIST_TRAIN, &train, err);
    if (!rc)
        rc = fmnist_load(data_dir, FMNIST_TEST, &test, err);
    if (!rc)
        rc = code->train(&env, err);
    fmnist_free(&train);
    fmnist_free(&test);
    return rc;
}
