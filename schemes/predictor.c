/* predictor.c: EWMA, AR(1) and small-MLP latency predictors (see
 * predictor.h). The MLP is a models-layer network trained here online. */
#include "schemes/predictor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "models/optim.h"

#define MLP_SPEC "8: dense16 tanh dense1" /* PREDICTOR_WINDOW inputs */
#define MLP_LR 0.01f

int predictor_kind_parse(const char *name, enum predictor_kind *kind)
{
    if (name && strcmp(name, "ewma") == 0)
        *kind = PREDICTOR_EWMA;
    else if (name && strcmp(name, "ar1") == 0)
        *kind = PREDICTOR_AR1;
    else if (name && strcmp(name, "mlp") == 0)
        *kind = PREDICTOR_MLP;
    else
        return -1;
    return 0;
}

int predictor_init(struct predictor *p, enum predictor_kind kind, double alpha, int workers,
                   struct error *err)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->alpha = alpha;
    p->workers = workers;
    p->w = calloc((size_t)workers, sizeof *p->w);
    if (!p->w)
        return error_fail(err, "out of memory");
    if (kind != PREDICTOR_MLP)
        return 0;
    struct optim_config oc = optim_config_default(OPTIM_ADAM);
    oc.lr = MLP_LR;
    int status = model_new(&p->net, MLP_SPEC, err);
    if (!status)
        status = optim_new(&p->opt, &oc, p->net->nparams, err);
    if (!status)
        status = model_reserve(p->net, 1, err);
    if (status) {
        predictor_free(p);
        return status;
    }
    struct rng r; /* a fixed initialisation: the predictor is part of the scheme */
    rng_seed(&r, 0, 0, RNG_INIT, 0);
    model_init(p->net, &r);
    return 0;
}

void predictor_free(struct predictor *p)
{
    free(p->w);
    model_free(p->net);
    optim_free(p->opt);
    memset(p, 0, sizeof *p);
}

/* The mlp's input for worker w: its window over the running mean time. */
static void mlp_input(const struct predictor *p, const struct predictor_worker *pw, float *in)
{
    double scale = p->scale_sum / (double)p->scale_count;
    for (int k = 0; k < PREDICTOR_WINDOW; k++)
        in[k] = (float)(pw->window[k] / scale);
}

static double mlp_predict(const struct predictor *p, const struct predictor_worker *pw)
{
    float in[PREDICTOR_WINDOW];
    mlp_input(p, pw, in);
    const float *out;
    struct error err;
    if (model_forward(p->net, in, 1, &out, &err))
        return pw->level;
    return out[0] * p->scale_sum / (double)p->scale_count;
}

/* One Adam step on (window -> x), squared error in units of the mean. */
static int mlp_learn(struct predictor *p, const struct predictor_worker *pw, double x,
                     struct error *err)
{
    float in[PREDICTOR_WINDOW];
    mlp_input(p, pw, in);
    const float *out;
    int status = model_forward(p->net, in, 1, &out, err);
    if (status)
        return status;
    float d = 2.0f * (out[0] - (float)(x * (double)p->scale_count / p->scale_sum));
    model_zero_grad(p->net);
    if ((status = model_backward(p->net, &d, 1, NULL, err)))
        return status;
    optim_step(p->opt, p->net->params, p->net->grads);
    return 0;
}

double predictor_predict(const struct predictor *p, int w)
{
    const struct predictor_worker *pw = &p->w[w];
    if (!pw->seen)
        return p->first_count ? p->first_sum / (double)p->first_count : NAN;
    if (p->kind == PREDICTOR_MLP)
        return pw->seen >= PREDICTOR_WINDOW ? mlp_predict(p, pw) : pw->level;
    if (p->kind == PREDICTOR_EWMA || pw->seen < 3)
        return p->kind == PREDICTOR_EWMA ? pw->level : pw->mean;
    double phi = pw->var > 0 ? pw->cov / pw->var : 0.0;
    phi = phi > 1 ? 1 : phi < -1 ? -1 : phi;
    return pw->mean + phi * (pw->last - pw->mean);
}

int predictor_observe(struct predictor *p, int w, double x, struct error *err)
{
    double guess = predictor_predict(p, w);
    if (!isnan(guess)) {
        p->abs_err += fabs(guess - x);
        p->rel_err += x > 0 ? fabs(guess - x) / x : 0.0;
        p->scored++;
    }
    struct predictor_worker *pw = &p->w[w];
    double a = p->alpha;
    int status = 0;
    if (p->kind == PREDICTOR_MLP) {
        p->scale_sum += x;
        p->scale_count++;
        if (pw->seen >= PREDICTOR_WINDOW)
            status = mlp_learn(p, pw, x, err);
        memmove(pw->window, pw->window + 1, (PREDICTOR_WINDOW - 1) * sizeof *pw->window);
        pw->window[PREDICTOR_WINDOW - 1] = (float)x;
    }
    if (!pw->seen) {
        p->first_sum += x;
        p->first_count++;
        pw->level = pw->mean = x;
    } else {
        pw->level = a * x + (1 - a) * pw->level;
        double prev_mean = pw->mean;
        pw->mean = a * x + (1 - a) * pw->mean;
        /* exponentially weighted variance and lag-1 covariance about the mean */
        pw->var = (1 - a) * (pw->var + a * (x - prev_mean) * (x - prev_mean));
        pw->cov = (1 - a) * pw->cov + a * (x - pw->mean) * (pw->last - pw->mean);
    }
    pw->last = x;
    pw->seen++;
    return status;
}

double predictor_mae(const struct predictor *p)
{
    return p->scored ? p->abs_err / (double)p->scored : NAN;
}

double predictor_rel_mae(const struct predictor *p)
{
    return p->scored ? p->rel_err / (double)p->scored : NAN;
}
