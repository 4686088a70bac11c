/* train_learned.c: `stragsim train` for the learned codes (train_learned.h).
 * Reads the [train] options shared with the base trainer, the code's
 * scheme.* keys, the Fashion-MNIST training set, runs the trainer of
 * schemes/, prints progress and a test-set summary to stderr, writes the
 * weights files. The learning itself lives in the schemes/ files named *_model.c. */
#include "app/train_learned.h"

#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/weights.h"
#include "schemes/common/learned.h"
#include "schemes/learned_lagrange_model.h"
#include "schemes/parm_model.h"
#include "schemes/split_model.h"

enum { PATHLEN = 4096 };

/* What every target needs: options, data, the weights stem, the config. */
struct learned_job {
    const struct config *cfg;
    const struct params *p;
    struct learned_options opt;
    struct fmnist train, test;
    char stem[PATHLEN];
    bool quiet;
};

static void print_epoch(const struct learned_epoch *e, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "epoch %d/%d loss=%.4f %s=%.4f (%.1f s)\n", e->epoch, e->epochs, e->loss,
            e->val_name, e->val_accuracy, e->seconds);
}

static const char *key_or(const struct params *p, const char *key, const char *fallback)
{
    const char *v = params_get(p, key);
    return v ? v : fallback;
}

static long int_or(const struct params *p, const char *key, long fallback)
{
    return params_has(p, key) ? params_int(p, key) : fallback;
}

/* Resolves `key` (a path relative to the config file) into out. */
static int path_key(const struct learned_job *j, const char *key, const char *why, char *out,
                    struct error *err)
{
    if (!params_has(j->p, key))
        return error_at_key(err, j->p, key, "missing: %s", why);
    if (!params_path(j->p, key, out, PATHLEN))
        return error_at_key(err, j->p, key, "path too long");
    return STRAG_OK;
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

static int save_part(const struct learned_job *j, const struct model *m, const char *part,
                     struct error *err)
{
    char path[PATHLEN];
    if (!learned_weights_path(path, sizeof path, j->stem, part))
        return error_at_key(err, j->p, "scheme.learned_weights", "path too long");
    int rc = weights_save(m, path, err);
    if (!rc && !j->quiet)
        fprintf(stderr, "wrote %s\n", path);
    return rc;
}

/* The base model of workload.model with workload.weights loaded. */
static int load_base(const struct learned_job *j, struct model **base, struct error *err)
{
    char path[PATHLEN];
    int rc = path_key(j, "workload.weights", "the base model's weights file", path, err);
    if (!rc)
        rc = model_new(base, params_string(j->p, "workload.model"), err);
    if (!rc)
        rc = weights_load(*base, path, err);
    return rc;
}

/* A trainer's error has no location: it is about this config. */
static int located(const struct learned_job *j, int rc, struct error *err)
{
    if (rc == STRAG_EINPUT && !strchr(err->msg, ':')) {
        struct error e = *err;
        error_at(err, config_path(j->cfg), 0, "%s", e.msg);
    }
    return rc;
}

static int run_parm(struct learned_job *j, struct error *err)
{
    struct parm_train_config c = {.k = (int)int_or(j->p, "scheme.k", 2), .opt = j->opt};
    if (parm_encoder_parse(key_or(j->p, "scheme.encoder", "add"), &c.encoder) != 0)
        return error_at_key(err, j->p, "scheme.encoder", "must be add or concat");
    struct error e;
    if (parm_check(c.encoder, c.k, &e))
        return error_at_key(err, j->p, "scheme.k", "%s", e.msg);
    struct model *base = NULL, *parity = NULL;
    int rc = load_base(j, &base, err);
    if (!rc)
        rc = located(j, parm_train(&c, base, &j->train, &parity, j->quiet ? NULL : print_epoch,
                                   NULL, err), err);
    if (!rc)
        rc = save_part(j, parity, "parity", err);
    struct parm_eval ev;
    if (!rc)
        rc = parm_evaluate(base, parity, c.encoder, c.k, &j->test, NULL, j->test.n, &ev, err);
    if (!rc && !j->quiet)
        fprintf(stderr,
                "test: k=%d encoder=%s available_accuracy=%.4f degraded_accuracy=%.4f "
                "reconstruction_accuracy=%.4f\n",
                c.k, parm_encoder_name(c.encoder), ev.available_accuracy, ev.degraded_accuracy,
                ev.reconstruction_accuracy);
    model_free(base);
    model_free(parity);
    return rc;
}

static int run_split(struct learned_job *j, struct error *err)
{
    struct split_train_config c = {
        .shape = {.nodes = (int)int_or(j->p, "scheme.patches", 4),
                  .node_model = key_or(j->p, "scheme.node_model", SPLIT_DEFAULT_NODE),
                  .decoder_model = key_or(j->p, "scheme.decoder_model", SPLIT_DEFAULT_DECODER),
                  .mask_input = params_has(j->p, "scheme.mask_input") &&
                                params_bool(j->p, "scheme.mask_input")},
        .stragglers = (int)int_or(j->p, "scheme.train_stragglers", 1),
        .erasure_prob = params_has(j->p, "scheme.erasure_prob")
                            ? params_real(j->p, "scheme.erasure_prob")
                            : 0,
        .baseline = !params_has(j->p, "scheme.baseline") || params_bool(j->p, "scheme.baseline"),
        .opt = j->opt,
    };
    struct error e;
    if (split_check(c.shape.nodes, &e))
        return error_at_key(err, j->p, "scheme.patches", "%s", e.msg);
    if (c.stragglers >= c.shape.nodes)
        return error_at_key(err, j->p, "scheme.train_stragglers",
                            "must be below scheme.nodes (%d)", c.shape.nodes);
    struct split_nets *nets = NULL;
    int rc = located(j, split_train(&c, &j->train, &nets, j->quiet ? NULL : print_epoch, NULL,
                                    err), err);
    char part[32];
    for (int i = 0; !rc && i < nets->nodes; i++) {
        snprintf(part, sizeof part, "node%d", i);
        rc = save_part(j, nets->node[i], part, err);
    }
    if (!rc)
        rc = save_part(j, nets->decoder, "decoder", err);
    for (int i = 0; !rc && nets->avg[0] && i < nets->nodes; i++) {
        snprintf(part, sizeof part, "avg%d", i);
        rc = save_part(j, nets->avg[i], part, err);
    }
    struct split_eval ev;
    if (!rc)
        rc = split_evaluate(nets, &j->test, NULL, j->test.n, &ev, err);
    for (int s = 0; !rc && !j->quiet && s < nets->nodes; s++)
        fprintf(stderr, "test: stragglers=%d accuracy=%.4f averaging_accuracy=%.4f\n", s,
                ev.accuracy[s], ev.averaging_accuracy[s]);
    split_nets_free(nets);
    return rc;
}

static int run_llc(struct learned_job *j, struct error *err)
{
    int workers = (int)params_int(j->p, "cluster.workers");
    int stragglers = (int)int_or(j->p, "scheme.stragglers", 1);
    struct llc_train_config c = {
        .shape = {.K = (int)int_or(j->p, "workload.queries", 2),
                  .N = workers,
                  .R = (int)int_or(j->p, "scheme.recovery_threshold", workers - stragglers),
                  .worker_model = key_or(j->p, "scheme.worker_model", LLC_DEFAULT_WORKER),
                  .decoder_model = key_or(j->p, "scheme.decoder_model", LLC_DEFAULT_DECODER)},
        .opt = j->opt,
    };
    char init[PATHLEN];
    if (params_has(j->p, "scheme.worker_init")) {
        int rc = path_key(j, "scheme.worker_init", "", init, err);
        if (rc)
            return rc;
        c.worker_init = init;
    }
    struct error e;
    if (llc_check(&c.shape, &e))
        return error_at_key(err, j->p, "scheme.recovery_threshold", "%s", e.msg);
    struct llc_nets *nets = NULL;
    int rc = located(j, llc_train(&c, &j->train, &nets, j->quiet ? NULL : print_epoch, NULL,
                                  err), err);
    if (!rc)
        rc = save_part(j, nets->worker, "worker", err);
    if (!rc)
        rc = save_part(j, nets->decoder, "decoder", err);
    double acc = 0;
    if (!rc)
        rc = llc_evaluate(nets, &j->test, NULL, j->test.n, j->opt.seed, &acc, err);
    if (!rc && !j->quiet)
        fprintf(stderr, "test: N=%d K=%d R=%d accuracy=%.4f\n", c.shape.N, c.shape.K, c.shape.R,
                acc);
    llc_nets_free(nets);
    return rc;
}

static const struct {
    const char *name;
    int (*run)(struct learned_job *j, struct error *err);
} targets[] = {
    {"parm", run_parm},
    {"split", run_split},
    {"learned-lagrange", run_llc},
};

bool train_learned_wanted(const struct config *cfg)
{
    const char *t = params_get(config_base(cfg), "train.target");
    return t && strcmp(t, "base") != 0;
}

int train_learned(const struct config *cfg, bool quiet, bool force, struct error *err)
{
    const struct params *p = config_base(cfg);
    const char *target = params_get(p, "train.target");
    size_t t = 0, n = sizeof targets / sizeof targets[0];
    while (target && t < n && strcmp(targets[t].name, target) != 0)
        t++;
    if (!target || t == n)
        return error_at_key(err, p, "train.target", "must be parm, split or learned-lagrange");
    struct learned_job *j = calloc(1, sizeof *j);
    if (!j)
        return error_fail(err, "out of memory");
    j->cfg = cfg;
    j->p = p;
    j->quiet = quiet;
    enum optim_kind kind;
    int rc = STRAG_OK;
    if (optim_kind_parse(params_string(p, "train.optimizer"), &kind) != 0)
        rc = error_at_key(err, p, "train.optimizer", "unknown optimizer");
    if (!rc) {
        j->opt = (struct learned_options){
            .seed = (uint64_t)params_int(p, "experiment.seed"),
            .epochs = (int)params_int(p, "train.epochs"),
            .batch = (int)params_int(p, "train.batch"),
            .optim = optim_config_default(kind),
            .schedule = strcmp(key_or(p, "train.schedule", "cosine"), "constant") == 0
                            ? TRAIN_CONSTANT
                            : TRAIN_COSINE,
            .validation = (size_t)params_int(p, "train.validation"),
            .limit = (size_t)int_or(p, "train.limit", 0),
            .threads = (int)params_int(p, "train.threads"),
        };
        j->opt.optim.lr = (float)params_real(p, "train.learning_rate");
        j->opt.optim.momentum = (float)params_real(p, "train.momentum");
        j->opt.optim.weight_decay = (float)params_real(p, "train.weight_decay");
        rc = path_key(j, "scheme.learned_weights", "the stem of the weights files to write",
                      j->stem, err);
    }
    if (!rc && !force)
        rc = stem_unused(j, err);
    char data_dir[PATHLEN];
    if (!rc && !params_path(p, "workload.data_dir", data_dir, sizeof data_dir))
        rc = error_at_key(err, p, "workload.data_dir", "path too long");
    if (!rc)
        rc = fmnist_load(data_dir, FMNIST_TRAIN, &j->train, err);
    if (!rc)
        rc = fmnist_load(data_dir, FMNIST_TEST, &j->test, err);
    if (!rc)
        rc = targets[t].run(j, err);
    fmnist_free(&j->train);
    fmnist_free(&j->test);
    free(j);
    return rc;
}
