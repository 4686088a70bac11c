/* scheme.h: the interface every straggler-mitigation scheme implements.
 *
 * A scheme is one `const struct scheme_ops` in its own file under schemes/,
 * listed once in schemes/registry.c; the driver finds it by the scheme.kind
 * string and never names a concrete scheme (FFmpeg-codec style).
 *
 * Latency-side contract (this is all the latency workload uses): when a job
 * arrives the driver opens a cluster job and calls job_start, which submits
 * tasks (cluster_submit) and may set timers (cluster_timer). Each result that
 * reaches the master goes to on_result, each timer to on_timer; when either
 * returns true the job is done: the driver records its latency and calls
 * cluster_job_finish (which cancels the rest when cluster.cancel is true).
 * A scheme's per-job state lives in cluster_job_state(cl, job), of
 * job_state_size bytes, zeroed at job open.
 *
 * Task costs follow doc/theory.md §1 (a job has cost 1; each scheme's
 * default task costs are listed there); scheme.task_cost (if set)
 * overrides the default cost of every task. Schemes know nothing about
 * SQLite: extra per-point numbers go out through add_metrics.
 */
#ifndef STRAG_SCHEME_H
#define STRAG_SCHEME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/cluster.h"
#include "base/error.h"
#include "base/metrics.h"
#include "base/params.h"

enum scheme_workload {
    SCHEME_LATENCY = 1,
    SCHEME_INFERENCE = 2,
    SCHEME_TRAINING = 4,
    SCHEME_PIPELINE = 8,
};

/* What a scheme is created with. */
struct scheme_env {
    const struct params *params; /* validated, defaults filled */
    int workers;                 /* cluster.workers */
    uint64_t seed, point_key;    /* for rng_seed(..., RNG_SCHEME / RNG_PLACEMENT, ...) */
};

/* What the inference workload tells a scheme before the first job. */
struct model;
struct scheme_infer {
    int queries;       /* K per job */
    int input_size;    /* d */
    int outputs;       /* m (logits) */
    struct model *model; /* the base model (forward only), for tuning and checks */
    /* Validation queries (never test images), loaded on the first call:
     * *x is n x d. For schemes that tune on data (nercc). */
    void *ctx;
    int (*validation)(void *ctx, const float **x, int *n, struct error *err);
    /* Set by infer_prepare: coded inputs per job (rows of Xc, <= workers). */
    int coded;
};

/* What a training scheme (SCHEME_TRAINING) shows the training workload.
 * The workload sets partition_bytes before train_prepare; the scheme fills
 * the rest. The pointers stay valid for the scheme's life and column_data
 * is updated in place when the scheme reshuffles (at a job's start). */
struct gradcode;
struct ssp_config;
struct scheme_train {
    double partition_bytes;  /* size of one data partition (shuffle cost) */
    struct gradcode *code;   /* B, supports, decoding vectors (schemes/codes/gradcode.h) */
    const int *column_data;  /* (n) data partition behind code column j */
    /* Set instead of code by the parameter-server scheme (ssp): workers
     * push gradients asynchronously (schemes/ssp.h), no job loop. */
    const struct ssp_config *ssp;
};

/* What a pipeline scheme (SCHEME_PIPELINE: none, stage-replication,
 * rebalance) tells the pipeline workload, which runs the stages itself
 * (workloads/pipeline.c): how many workers hold a copy of each stage, and
 * how often the layers are re-split across the stages. */
struct scheme_pipeline {
    int replicas;           /* r copies of every stage task; the first result wins */
    long rebalance_every;   /* W iterations between re-splits; 0: never */
    double rebalance_alpha; /* weight of the newest time in the per-worker EWMA speed */
};

/* One axis of the parameter grid `stragsim advise` searches for a scheme
 * (app/advise_spec.c), declared beside the scheme's key table: `key` is one
 * of the scheme's keys and `values` its candidate values, a comma-separated
 * list whose items are a number, n (cluster.workers), n-I or n/I (integer
 * division, at least 1), or an integer range A..B of those. Candidates the
 * scheme refuses at a cluster size (k > n, r not dividing n) are dropped
 * there. A NULL-key-terminated table; a scheme without one is searched at
 * its defaults only. */
struct scheme_search_axis {
    const char *key;
    const char *values;
};

struct learned_train_env;
struct scheme_ops {
    const char *name;    /* the scheme.kind value */
    const char *summary; /* one line for `config --list` */
    unsigned workloads;  /* bitmask of enum scheme_workload it serves */
    const struct config_key *keys; /* scheme.* keys it reads; NULL-name-terminated */
    const struct scheme_search_axis *search; /* advise's grid over keys; NULL: defaults only */

    int (*create)(const struct scheme_env *env, void **self, struct error *err);
    size_t (*job_state_size)(const void *self);
    void (*job_start)(void *self, struct cluster *cl, uint32_t job);
    /* true: the job is done */
    bool (*on_result)(void *self, struct cluster *cl, const struct cluster_result *r);
    bool (*on_timer)(void *self, struct cluster *cl, uint32_t job, int tag); /* may be NULL */
    /* Optional per-point extras (e.g. hedged: backups_per_job). */
    void (*add_metrics)(const void *self, struct metric_list *out);
    void (*free)(void *self);

    /* Inference side (SCHEME_INFERENCE), all optional; see struct
     * scheme_infer above. A scheme without infer_encode computes exact
     * outputs (uncoded, replication): the workload uses the model's outputs
     * on the queries themselves. A coded scheme encodes the K queries of a
     * job into `coded` inputs, worker w computing coded row w, and decodes
     * from the workers whose results arrived before the job was done. */
    int (*infer_prepare)(void *self, struct scheme_infer *inf, struct error *err);
    /* Xc (coded x d) = encoding of X (K x d), row-major floats. */
    void (*infer_encode)(const void *self, const float *X, int d, float *Xc);
    /* Y (K x m) from the coded outputs Yc (coded x m) of the workers
     * returned[0..nf-1] (increasing); rows of stragglers are not to be read. */
    int (*infer_decode)(void *self, const int *returned, int nf, const float *Yc, int m, float *Y,
                        struct error *err);
    /* Optional (learned codes, whose workers run their own networks: a
     * parity model, per-patch nodes, a trained worker): Yc (jobs*coded x m)
     * from Xc (jobs*coded x d), row w of each job's block computed by the
     * network of coded row w. Without it every row goes through the base
     * model. A coded scheme tags each task with its coded row
     * (cluster_submit's tag; fanout: the worker), which is what `returned`
     * lists. */
    int (*infer_forward)(void *self, const float *Xc, int jobs, float *Yc, struct error *err);
    /* Optional: after each infer_decode, query j of that job was classified
     * right or not (for metrics that split accuracy by how a query was
     * answered: parm's available vs degraded accuracy). */
    void (*infer_scored)(void *self, int j, bool correct);

    /* Training side (SCHEME_TRAINING), optional: worker w's task of a job
     * stands for f_w = sum_j B_wj g_{column_data[j]}; the workload decodes
     * from the workers whose results arrived before the job was done. */
    int (*train_prepare)(void *self, struct scheme_train *tr, struct error *err);

    /* Pipeline side (SCHEME_PIPELINE): the scheme's settings for the
     * pipeline workload; the scheme plans no jobs. */
    int (*pipeline_prepare)(void *self, struct scheme_pipeline *pl, struct error *err);

    /* Optional (learned codes): trains the code's networks, what `stragsim
     * train` does with train.target = name (schemes/common/learned.h). A
     * scheme with this hook is a train.target choice. */
    int (*train)(const struct learned_train_env *env, struct error *err);
};


/* The registry, NULL-terminated, and lookup by name. */
extern const struct scheme_ops *const scheme_registry[];
const struct scheme_ops *scheme_find(const char *name);

/* The scheme p's scheme.kind names, into *out, checked to serve `workload`
 * (a bit of enum scheme_workload, named `workload_name` in the message; a
 * training scheme also has train_prepare; 0: any workload). Errors at
 * scheme.kind: "unknown scheme 'x'", "scheme 'x' does not run the W
 * workload". */
int scheme_for_workload(const struct params *p, unsigned workload, const char *workload_name,
                        const struct scheme_ops **out, struct error *err);

/* The names of the schemes with a .train hook (the learned codes), in
 * registry order, joined by sep into out ("parm, split, ..."); false when
 * they do not fit. */
bool scheme_trainable_names(const char *sep, char *out, size_t outlen);
/* The scheme.kind choices (every registered name, joined by '|') and the
 * train.target choices ("base|" and the trainable names joined by '|').
 * Written once, before main (so that key tables can point at them);
 * read-only after. */
extern char scheme_kind_choices[];
extern char scheme_train_targets[];

/* Keys every scheme shares: scheme.kind, scheme.task_cost, scheme.placement. */
extern const struct config_key scheme_common_keys[];

/* scheme.task_cost if set, else `default_cost`. */
double scheme_task_cost(const struct params *p, double default_cost);

#endif
