/* optim.c: SGD with momentum and Adam (L2 or decoupled weight decay).
 *
 * Update rules over one flat vector, written to match torch.optim step for
 * step (see optim.h). State is one or two vectors of n floats.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/optim.h"

struct optim {
    struct optim_config cfg;
    size_t n;
    long steps;
    float *m; /* SGD momentum buffer, or Adam first moment */
    float *v; /* Adam second moment */
};

struct optim_config optim_config_default(enum optim_kind kind)
{
    return (struct optim_config){ .kind = kind, .lr = kind == OPTIM_ADAM ? 0.001f : 0.01f,
                                  .momentum = 0.0f, .beta1 = 0.9f, .beta2 = 0.999f,
                                  .eps = 1e-8f, .weight_decay = 0.0f, .decoupled = false };
}

int optim_kind_parse(const char *name, enum optim_kind *kind)
{
    if (strcmp(name, "sgd") == 0)
        *kind = OPTIM_SGD;
    else if (strcmp(name, "adam") == 0)
        *kind = OPTIM_ADAM;
    else
        return -1;
    return 0;
}

int optim_new(struct optim **out, const struct optim_config *cfg, size_t n, struct error *err)
{
    *out = NULL;
    if (!(cfg->lr > 0.0f) || cfg->momentum < 0.0f || cfg->weight_decay < 0.0f ||
        (cfg->kind == OPTIM_ADAM && (cfg->beta1 < 0.0f || cfg->beta1 >= 1.0f || cfg->beta2 < 0.0f ||
                                     cfg->beta2 >= 1.0f || !(cfg->eps > 0.0f))))
        return error_at(err, NULL, 0, "optimiser: lr must be > 0, momentum and weight decay >= 0, "
                                      "betas in [0, 1) and eps > 0");
    struct optim *o = calloc(1, sizeof *o);
    if (!o)
        return error_fail(err, "out of memory for the optimiser");
    o->cfg = *cfg;
    o->n = n;
    o->m = calloc(n ? n : 1, sizeof(float));
    if (cfg->kind == OPTIM_ADAM)
        o->v = calloc(n ? n : 1, sizeof(float));
    if (!o->m || (cfg->kind == OPTIM_ADAM && !o->v)) {
        optim_free(o);
        return error_fail(err, "out of memory for the optimiser");
    }
    *out = o;
    return 0;
}

void optim_free(struct optim *o)
{
    if (!o)
        return;
    free(o->m);
    free(o->v);
    free(o);
}

void optim_reset(struct optim *o)
{
    o->steps = 0;
    memset(o->m, 0, sizeof(float) * o->n);
    if (o->v)
        memset(o->v, 0, sizeof(float) * o->n);
}

void optim_set_lr(struct optim *o, float lr)
{
    o->cfg.lr = lr;
}

void optim_set_weight_decay(struct optim *o, float weight_decay)
{
    o->cfg.weight_decay = weight_decay;
}

long optim_steps(const struct optim *o)
{
    return o->steps;
}

static void optim_sgd(struct optim *o, float *p, const float *grad)
{
    const float lr = o->cfg.lr, mu = o->cfg.momentum, wd = o->cfg.weight_decay;
    float *buf = o->m;
    if (mu == 0.0f) {
        for (size_t i = 0; i < o->n; i++)
            p[i] -= lr * (grad[i] + wd * p[i]);
        return;
    }
    // torch.optim.SGD: the buffer starts as the first gradient, not as zero
    const float keep = o->steps == 0 ? 0.0f : mu;
    for (size_t i = 0; i < o->n; i++) {
        float g = grad[i] + wd * p[i];
        buf[i] = keep * buf[i] + g;
        p[i] -= lr * buf[i];
    }
}

static void optim_adam(struct optim *o, float *p, const float *grad)
{
    const struct optim_config *c = &o->cfg;
    const long t = o->steps + 1;
    const float b1 = c->beta1, b2 = c->beta2;
    const float bc1 = 1.0f - (float)pow(b1, (double)t), bc2 = 1.0f - (float)pow(b2, (double)t);
    const float step = c->lr / bc1, inv_sqrt_bc2 = 1.0f / sqrtf(bc2);
    const float l2 = c->decoupled ? 0.0f : c->weight_decay;
    const float shrink = c->decoupled ? 1.0f - c->lr * c->weight_decay : 1.0f;
    float *m = o->m, *v = o->v;
    for (size_t i = 0; i < o->n; i++) {
        float g = grad[i] + l2 * p[i];
        m[i] = b1 * m[i] + (1.0f - b1) * g;
        v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        p[i] = p[i] * shrink - step * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + c->eps);
    }
}

void optim_step(struct optim *o, float *params, const float *grads)
{
    if (o->cfg.kind == OPTIM_ADAM)
        optim_adam(o, params, grads);
    else
        optim_sgd(o, params, grads);
    o->steps++;
}
