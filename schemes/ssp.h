/* ssp.h: the settings of the stale-synchronous parameter server (Ho et al.,
 * NIPS'13), read from scheme.* keys by the `ssp` scheme (ssp.c) and run by
 * the training workload (workloads/ssp.c).
 *
 * Each worker loops: read the parameters, compute a gradient on its own
 * data partition, push it; the server applies every push at once, and the
 * push's staleness is the number of updates applied since that worker read.
 * Worker p may start its clock c (c = clocks it has finished) only when
 * every worker has finished at least c - s clocks: s = 0 is lock-step
 * (BSP), s < 0 is unbounded (asynchronous). A per-worker latency predictor
 * (predictor.h: EWMA, AR(1), or an MLP or LSTM trained online) drives one
 * action: none, batch (mini-batch sizes in proportion to predicted speed) or skip (a worker predicted slower than
 * skip_factor times the median sits one clock out).
 */
#ifndef STRAG_SSP_H
#define STRAG_SSP_H

#include <stdbool.h>

#include "schemes/common/predictor.h"

enum ssp_action { SSP_ACTION_NONE, SSP_ACTION_BATCH, SSP_ACTION_SKIP };

struct ssp_config {
    long staleness;          /* s; < 0: unbounded */
    bool staleness_lr;       /* step size eta / max(1, staleness) (Zhang et al., IJCAI'16) */
    enum predictor_kind predictor;
    double predictor_alpha;
    struct predictor_net_options predictor_net; /* mlp, lstm */
    enum ssp_action action;
    double skip_factor;      /* kappa */
};

#endif
