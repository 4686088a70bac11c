/* predictor.c: EWMA, AR(1), small-MLP and small-LSTM latency predictors
 * (see predictor.h). The MLP and the LSTM are models-layer networks, built
 * from a spec and trained here online by one code path; this file does not
 * own their layers (models/). */
#include "schemes/common/predictor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "models/optim.h"
#include "base/metrics.h"

/* The kinds; a network kind's spec is printed with (window, hidden). */
static const struct {
    const char *name;
    enum predictor_kind kind;
    const char *spec; /* NULL: no network */
} predictor_kinds[] = {
    {"ewma", PREDICTOR_EWMA, NULL},
    {"ar1", PREDICTOR_AR1, NULL},
    {"mlp", PREDICTOR_MLP, "%d: dense%d tanh dense1"},
    {"lstm", PREDICTOR_LSTM, "1x1x%d: lstm%d dense1"},
};
enum { PREDICTOR_KINDS = sizeof predictor_kinds / sizeof predictor_kinds[0] };

int predictor_kind_parse(const char *name, enum predictor_kind *kind)
{
    for (int k = 0; name && k < PREDICTOR_KINDS; k++)
        if (strcmp(name, predictor_kinds[k].name) == 0) {
            *kind = predictor_kinds[k].kind;
            return 0;
        }
    return -1;
}

struct predictor_net_options predictor_net_defaults(void)
{
    return (struct predictor_net_options){.hidden = 16, .window = PREDICTOR_WINDOW, .lr = 0.01};
}

int predictor_init(struct predictor *p, enum predictor_kind kind, double alpha, int workers,
                   struct error *err)
{
    return predictor_init_net(p, kind, alpha, workers, NULL, err);
}

static const char *predictor_spec(enum predictor_kind kind)
{
    for (int k = 0; k < PREDICTOR_KINDS; k++)
        if (predictor_kinds[k].kind == kind)
            return predictor_kinds[k].spec;
    return NULL;
}

int predictor_init_net(struct predictor *p, enum predictor_kind kind, double alpha, int workers,
                       const struct predictor_net_options *net, struct error *err)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->alpha = alpha;
    p->workers = workers;
    p->net_options = net ? *net : predictor_net_defaults();
    const struct predictor_net_options *o = &p->net_options;
    if (o->window < 1 || o->window > PREDICTOR_WINDOW_MAX)
        return error_fail(err, "predictor window %d is outside 1..%d", o->window, PREDICTOR_WINDOW_MAX);
    if (o->hidden < 1 || !(o->lr > 0))
        return error_fail(err, "predictor network needs hidden >= 1 and lr > 0 (got %d, %g)", o->hidden,
                          o->lr);
    p->w = calloc((size_t)workers, sizeof *p->w);
    if (!p->w)
        return error_fail(err, "out of memory");
    const char *spec_format = predictor_spec(kind);
    if (!spec_format)
        return 0;
    char spec[64];
    snprintf(spec, sizeof spec, spec_format, o->window, o->hidden);
    struct optim_config oc = optim_config_default(OPTIM_ADAM);
    oc.lr = (float)o->lr;
    int status = model_new(&p->net, spec, err);
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

/* The network's input for worker w: its window over the running mean time
 * (the mlp's W features and the lstm's W steps are the same floats). */
static void net_input(const struct predictor *p, const struct predictor_worker *pw, float *in)
{
    double scale = p->scale_sum / (double)p->scale_count;
    for (int k = 0; k < p->net_options.window; k++)
        in[k] = (float)(pw->window[k] / scale);
}

static double net_predict(const struct predictor *p, const struct predictor_worker *pw)
{
    float in[PREDICTOR_WINDOW_MAX];
    net_input(p, pw, in);
    const float *out;
    struct error err;
    if (model_forward(p->net, in, 1, &out, &err))
        return pw->level;
    return out[0] * p->scale_sum / (double)p->scale_count;
}

/* One Adam step on (window -> x), squared error in units of the mean. */
static int net_learn(struct predictor *p, const struct predictor_worker *pw, double x,
                     struct error *err)
{
    float in[PREDICTOR_WINDOW_MAX];
    net_input(p, pw, in);
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
    if (p->net)
        return pw->seen >= p->net_options.window ? net_predict(p, pw) : pw->level;
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
        p->baseline_abs_err += fabs(p->all_sum / (double)p->all_count - x);
        p->scored++;
    }
    p->all_sum += x;
    p->all_count++;
    struct predictor_worker *pw = &p->w[w];
    double a = p->alpha;
    int status = 0;
    if (p->net) {
        int W = p->net_options.window;
        p->scale_sum += x;
        p->scale_count++;
        if (pw->seen >= W)
            status = net_learn(p, pw, x, err);
        memmove(pw->window, pw->window + 1, (size_t)(W - 1) * sizeof *pw->window);
        pw->window[W - 1] = (float)x;
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
    return p->scored ? p->abs_err / (double)p->scored : metric_undefined();
}

double predictor_rel_mae(const struct predictor *p)
{
    return p->scored ? p->rel_err / (double)p->scored : metric_undefined();
}

double predictor_baseline_mae(const struct predictor *p)
{
    return p->scored ? p->baseline_abs_err / (double)p->scored : NAN;
}
