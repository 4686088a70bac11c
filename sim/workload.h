/* workload.h: running one sweep point of a workload; returns its metrics and
 * (on request) its per-job rows. No SQLite here: the run loop stores them.
 *
 * `latency`: jobs arrive (poisson / closed / replay), the scheme plans tasks
 * on the cluster, durations come from the latency source; the result is the
 * job latency distribution (metrics jobs, latency_mean, latency_p50,
 * latency_p99, latency_p999, latency_se, worker_seconds, events, plus the
 * scheme's extras). The first workload.warmup jobs are simulated but not
 * counted. Same (params, seed, point_key): same numbers.
 */
#ifndef STRAG_WORKLOAD_H
#define STRAG_WORKLOAD_H

#include <stdint.h>

#include "sim/error.h"
#include "sim/metrics.h"
#include "sim/params.h"

struct workload_output {
    struct metric_list metrics;
    struct job_row *jobs; /* filled when workload.job_rows is true */
    size_t njobs;
    struct iteration_row *iterations; /* training workloads */
    size_t niterations;
};

void workload_output_free(struct workload_output *out);

int workload_latency_run(const struct params *p, const char *config_dir, uint64_t seed,
                         uint64_t point_key, struct workload_output *out, struct error *err);

#endif
