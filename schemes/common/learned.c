/* learned.c: the helpers every learned-code trainer shares (learned.h):
 * data split and shuffles, the rate schedule, sub-network construction,
 * weights-file names, cross-entropy with its gradient, the location of a
 * trainer's errors. No training loop. */
#include "schemes/common/learned.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/layers.h"
#include "base/rng.h"
#include "schemes/scheme.h"

const struct config_key learned_config_keys[] = {
    {"train.target", KEY_ENUM, NULL, 0, 0, 0, scheme_train_targets,
     "what `stragsim train` trains: the base model (default) or a learned code"},
    {"scheme.train_stragglers", KEY_INT, NULL, 0, 6, 0, NULL,
     "split training: every mask with up to this many erasures (default 1)"},
    {"scheme.erasure_prob", KEY_REAL, NULL, 0, 1, KEY_MAX_OPEN, NULL,
     "split training: each node erased independently with this probability instead"},
    {"scheme.baseline", KEY_BOOL, NULL, 0, 0, 0, NULL,
     "split training: also train the per-patch classifiers of the averaging baseline "
     "(default true)"},
    {"scheme.worker_init", KEY_PATH, NULL, 0, 0, 0, NULL,
     "learned-lagrange training: start the worker network from this weights file "
     "(default: from scratch)"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

int learned_split(const struct learned_options *o, const struct fmnist *data, int **train,
                  size_t *ntrain, int **val, size_t *nval, struct error *err)
{
    *train = *val = NULL;
    *ntrain = *nval = 0;
    if (o->validation >= data->n)
        return error_at(err, NULL, 0, "validation (%zu) must be below the %zu images",
                         o->validation, data->n);
    int *perm = malloc(data->n * sizeof *perm);
    if (!perm)
        return error_fail(err, "out of memory");
    fmnist_split(data->n, o->seed, perm);
    size_t nt = data->n - o->validation;
    if (o->validation > 0) {
        *val = malloc(o->validation * sizeof **val);
        if (!*val) {
            free(perm);
            return error_fail(err, "out of memory");
        }
        memcpy(*val, perm + nt, o->validation * sizeof **val);
        *nval = o->validation;
    }
    if (o->limit > 0 && o->limit < nt)
        nt = o->limit;
    *train = perm;
    *ntrain = nt;
    return STRAG_OK;
}

void learned_shuffle(uint64_t seed, long pass, int *idx, size_t n)
{
    struct rng r;
    rng_seed(&r, seed, 0, RNG_DATA, (uint64_t)(1 + pass));
    rng_shuffle_int(&r, idx, n);
}

float learned_lr(const struct learned_options *o, long t, long T)
{
    if (o->schedule == TRAIN_CONSTANT || T <= 0)
        return o->optim.lr;
    return o->optim.lr * (float)(0.5 * (1.0 + cos(M_PI * (double)t / (double)T)));
}

int learned_net_new(struct model **out, const char *spec, struct act_shape input,
                    uint64_t seed, uint64_t index, struct error *err)
{
    *out = NULL;
    char full[1024];
    const char *text = spec;
    if (!strchr(spec, ':') && !model_builtin_spec(spec)) {
        int n = input.h == 1 && input.w == 1
                    ? snprintf(full, sizeof full, "%d: %s", input.c, spec)
                    : snprintf(full, sizeof full, "%dx%dx%d: %s", input.c, input.h, input.w,
                               spec);
        if (n < 0 || (size_t)n >= sizeof full)
            return error_at(err, NULL, 0, "model spec '%s': too long", spec);
        text = full;
    }
    int rc = model_new(out, text, err);
    if (rc)
        return rc;
    if ((*out)->input_size != input.c * input.h * input.w) {
        error_at(err, NULL, 0, "model spec '%s': takes %d inputs, needs %d", spec,
                  (*out)->input_size, input.c * input.h * input.w);
        model_free(*out);
        *out = NULL;
        return STRAG_EINPUT;
    }
    struct rng r;
    rng_seed(&r, seed, 0, RNG_INIT, index);
    model_init(*out, &r);
    return STRAG_OK;
}

bool learned_weights_path(char *out, size_t outlen, const char *stem, const char *part)
{
    int n = snprintf(out, outlen, "%s.%s.bin", stem, part);
    return n >= 0 && (size_t)n < outlen;
}

double learned_xent(const float *logits, const int *labels, int B, int V, float scale,
                    float *probs, float *dlogits, int *correct)
{
    double loss = crossentropy_forward(NULL, probs, logits, labels, B, V);
    if (dlogits)
        crossentropy_backward(dlogits, probs, labels, B, V, scale);
    if (correct) {
        int hits = 0;
        for (int b = 0; b < B; b++)
            hits += model_argmax(logits + (size_t)b * V, V) == labels[b];
        *correct = hits;
    }
    return loss;
}

int learned_forward_all(struct model *m, const float *x, size_t n, float *out,
                        struct error *err)
{
    enum { CHUNK = 500 };
    for (size_t i = 0; i < n; i += CHUNK) {
        int B = (int)(n - i < CHUNK ? n - i : CHUNK);
        const float *logits;
        int rc = model_forward(m, x + i * (size_t)m->input_size, B, &logits, err);
        if (rc)
            return rc;
        memcpy(out + i * (size_t)m->outputs, logits, (size_t)B * m->outputs * sizeof *out);
    }
    return STRAG_OK;
}

void learned_set_threads(int threads) { openblas_set_num_threads(threads > 0 ? threads : 1); }

int learned_located(const struct learned_train_env *env, int rc, struct error *err)
{
    if (rc == STRAG_EINPUT && !strchr(err->msg, ':')) {
        struct error e = *err;
        error_at(err, env->origin, 0, "%s", e.msg);
    }
    return rc;
}

int learned_path(const struct params *p, const char *key, const char *why, char *out,
                 size_t outlen, struct error *err)
{
    if (!params_has(p, key))
        return error_at_key(err, p, key, "missing: %s", why);
    if (!params_path(p, key, out, outlen))
        return error_at_key(err, p, key, "path too long");
    return STRAG_OK;
}

const char *learned_string_or(const struct params *p, const char *key, const char *fallback)
{
    const char *v = params_get(p, key);
    return v ? v : fallback;
}

long learned_int_or(const struct params *p, const char *key, long fallback)
{
    return params_has(p, key) ? params_int(p, key) : fallback;
}
