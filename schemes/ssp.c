/* ssp.c: the `ssp` training scheme: reads the stale-synchronous parameter
 * server's keys into a struct ssp_config (ssp.h) and hands it to the
 * training workload, which runs the server (workloads/ssp.c). It plans
 * no jobs: the server's workers are not a job loop. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schemes/scheme.h"
#include "schemes/ssp.h"

static const struct config_key ssp_keys[] = {
    {"scheme.staleness", KEY_INT, "0", -1, 1e9, 0, NULL,
     "SSP bound s: a worker may be s clocks ahead of the slowest (0: BSP, -1: asynchronous)"},
    {"scheme.staleness_lr", KEY_BOOL, "false", 0, 0, 0, NULL,
     "divide the step size by the staleness of each update"},
    {"scheme.predictor", KEY_ENUM, "ewma", 0, 0, 0, "ewma|ar1|mlp|lstm",
     "per-worker latency predictor (mlp, lstm: a small network trained online)"},
    {"scheme.predictor_alpha", KEY_REAL, "0.3", 0, 1, KEY_MIN_OPEN, NULL,
     "weight of the newest task time in the predictor"},
    {"scheme.predictor_hidden", KEY_INT, "16", 1, 256, 0, NULL,
     "mlp, lstm: hidden units of the predictor network"},
    {"scheme.predictor_window", KEY_INT, "8", 1, PREDICTOR_WINDOW_MAX, 0, NULL,
     "mlp, lstm: the last task times the network reads"},
    {"scheme.predictor_lr", KEY_REAL, "0.01", 0, 1, KEY_MIN_OPEN, NULL,
     "mlp, lstm: Adam learning rate of the online training step"},
    {"scheme.action", KEY_ENUM, "none", 0, 0, 0, "none|batch|skip",
     "what the prediction drives: nothing, batch sizes by speed, or skipping stragglers"},
    {"scheme.skip_factor", KEY_REAL, "2", 1, INFINITY, 0, NULL,
     "skip: a worker predicted slower than this times the median sits a clock out"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

static int ssp_create(const struct scheme_env *env, void **self, struct error *err)
{
    const struct params *p = env->params;
    struct ssp_config *c = calloc(1, sizeof *c);
    if (!c)
        return error_fail(err, "out of memory");
    c->staleness = params_int(p, "scheme.staleness");
    c->staleness_lr = params_bool(p, "scheme.staleness_lr");
    predictor_kind_parse(params_string(p, "scheme.predictor"), &c->predictor); /* enum-checked */
    c->predictor_alpha = params_real(p, "scheme.predictor_alpha");
    c->predictor_net = (struct predictor_net_options){
        .hidden = (int)params_int(p, "scheme.predictor_hidden"),
        .window = (int)params_int(p, "scheme.predictor_window"),
        .lr = params_real(p, "scheme.predictor_lr"),
    };
    const char *action = params_string(p, "scheme.action");
    c->action = strcmp(action, "batch") == 0  ? SSP_ACTION_BATCH
                : strcmp(action, "skip") == 0 ? SSP_ACTION_SKIP
                                              : SSP_ACTION_NONE;
    c->skip_factor = params_real(p, "scheme.skip_factor");
    *self = c;
    return 0;
}

static int ssp_train_prepare(void *self, struct scheme_train *tr, struct error *err)
{
    (void)err;
    tr->ssp = self;
    return 0;
}

static void ssp_free(void *self)
{
    free(self);
}

/* Training only: the job-loop entries stay NULL (no latency workload). */
const struct scheme_ops scheme_ssp = {
    .name = "ssp",
    .summary = "stale-synchronous parameter server with a latency predictor",
    .workloads = SCHEME_TRAINING,
    .keys = ssp_keys,
    .create = ssp_create,
    .free = ssp_free,
    .train_prepare = ssp_train_prepare,
};
