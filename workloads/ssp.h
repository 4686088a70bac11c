/* ssp.h: the parameter-server loop of the `training` workload (ssp.c), run
 * instead of the coded job loop when the scheme sets tr.ssp (scheme.kind =
 * ssp). */
#ifndef STRAG_WORKLOADS_SSP_H
#define STRAG_WORKLOADS_SSP_H

#include <stdint.h>

#include "base/error.h"
#include "base/params.h"
#include "workloads/workload.h"

struct training;

/* Runs the parameter server on t (set up by training_setup, t->tr.ssp set);
 * fills out like workload_training_run. */
int training_ssp_run(struct training *t, const struct params *p, uint64_t seed,
                     uint64_t point_key, struct workload_output *out, struct error *err);

#endif
