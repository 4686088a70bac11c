/* pipeline.c: the schemes of the pipeline (model-parallel) workload: none,
 * stage-replication and rebalance. They read their scheme.* keys into a
 * struct scheme_pipeline and hand it to the workload, which runs the
 * stages (workloads/pipeline.c); three rows over one implementation, as
 * the gradient codes are over gradient.c. They plan no jobs.
 *
 *   none               one worker per stage
 *   stage-replication  every stage on scheme.replicas workers; each stage
 *                      task runs on all of them, the first result wins and
 *                      the others are cancelled
 *   rebalance          every scheme.rebalance_every iterations the layers
 *                      are re-split across the stages from each worker's
 *                      measured speed (an EWMA of its time per unit cost,
 *                      schemes/common/predictor.h), and moving the weights
 *                      of the layers that change stage costs network time
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "schemes/scheme.h"

static const struct config_key replication_keys[] = {
    {"scheme.replicas", KEY_INT, "2", 1, 64, 0, NULL,
     "stage-replication: workers holding a copy of every stage"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

static const struct config_key rebalance_keys[] = {
    {"scheme.rebalance_every", KEY_INT, "10", 1, 1e9, 0, NULL,
     "rebalance: iterations between re-splits of the layers across the stages"},
    {"scheme.predictor_alpha", KEY_REAL, "0.3", 0, 1, KEY_MIN_OPEN, NULL,
     "rebalance: weight of the newest task time in each worker's speed (EWMA)"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

static const struct config_key no_keys[] = {
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

static int pipeline_scheme_create(const struct scheme_env *env, void **self, struct error *err)
{
    const struct params *p = env->params;
    struct scheme_pipeline *pl = calloc(1, sizeof *pl);
    if (!pl)
        return error_fail(err, "out of memory");
    const char *kind = params_string(p, "scheme.kind");
    bool replicated = strcmp(kind, "stage-replication") == 0;
    pl->replicas = replicated ? (int)params_int(p, "scheme.replicas") : 1;
    if (strcmp(kind, "rebalance") == 0) {
        pl->rebalance_every = params_int(p, "scheme.rebalance_every");
        pl->rebalance_alpha = params_real(p, "scheme.predictor_alpha");
    }
    *self = pl;
    return 0;
}

static int pipeline_scheme_prepare(void *self, struct scheme_pipeline *pl, struct error *err)
{
    (void)err;
    *pl = *(const struct scheme_pipeline *)self;
    return 0;
}

static void pipeline_scheme_free(void *self) { free(self); }

#define PIPELINE_SCHEME(ident, kind, text, table)                                                 \
    const struct scheme_ops ident = {                                                             \
        .name = kind,                                                                             \
        .summary = text,                                                                          \
        .workloads = SCHEME_PIPELINE,                                                             \
        .keys = table,                                                                            \
        .create = pipeline_scheme_create,                                                         \
        .free = pipeline_scheme_free,                                                             \
        .pipeline_prepare = pipeline_scheme_prepare,                                              \
    }

PIPELINE_SCHEME(scheme_pipeline_none, "none", "pipeline stages, one worker each", no_keys);
PIPELINE_SCHEME(scheme_stage_replication, "stage-replication",
                "pipeline stages on r workers each, the first result wins", replication_keys);
PIPELINE_SCHEME(scheme_rebalance, "rebalance",
                "pipeline layers re-split across stages by measured worker speed", rebalance_keys);
