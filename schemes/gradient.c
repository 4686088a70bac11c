/* gradient.c: the training schemes of gradient coding: naive, ignore, frc,
 * crc and approx-gc. They differ only in their code (schemes/codes/gradcode.h),
 * so they are five rows over one implementation, as uncoded and kofn are
 * over fanout.c.
 *
 * A job is one iteration. Every worker gets one task of cost load/n
 * (doc/theory.md §1, §9: (s+1)/n for frc and crc, 1/n for naive and
 * ignore, d/n for approx-gc; scheme.task_cost overrides). The job is done
 * when the code can decode (gradcode_ready: every frc group reported once,
 * or n - s results, n for naive), at scheme.wait results if that is set
 * (approximate decoding when fewer than the code needs), or at
 * scheme.deadline after the job started, whatever has arrived by then.
 *
 * With scheme.shuffle, the data partitions are reassigned among the
 * workers before iterations T, 2T, ... (schemes/common/shuffle.h); a worker that
 * must receive m new partitions starts its task m * partition_bytes /
 * scheme.shuffle_bandwidth later (free when the bandwidth is unset).
 *
 * The scheme decides only when; what the workers compute and how the
 * master decodes is the training workload's, through train_prepare.
 * Also serves the latency workload (timing only, no data).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schemes/codes/gradcode.h"
#include "schemes/scheme.h"
#include "schemes/common/shuffle.h"

enum { TAG_DEADLINE = -1 }; /* timer tags >= 0 are delayed task starts (worker) */

struct gradient {
    struct gradcode *code;
    struct shuffle shuffle;
    int n;
    int wait;               /* scheme.wait, or 0: the code's rule */
    double deadline;        /* scheme.deadline, or 0: none */
    double cost;            /* every task's cost */
    double partition_bytes; /* from the training workload; 0 in the latency workload */
    double bandwidth;       /* scheme.shuffle_bandwidth, or 0: shuffles are free */
    int *received;          /* (n) scratch for shuffle_apply */
    long jobs, deadline_jobs; /* jobs done, of them by the deadline */
    double waited;          /* results used, summed over jobs */
};

/* Per-job state: the header, then n flags (worker reported), then one flag
 * per group (frc's groups; n of one for the other codes). */
struct gradient_job {
    int reported, covered;
    bool done;
};

static unsigned char *job_flags(void *state)
{
    return (unsigned char *)state + sizeof(struct gradient_job);
}

/* ---- keys ---- */

#define KEY_END {NULL, 0, NULL, 0, 0, 0, NULL, NULL}
#define KEY_STRAGGLERS(meaning)                                                                  \
    {"scheme.stragglers", KEY_INT, "1", 0, 1e6, 0, NULL, meaning}
#define KEY_DECODER(def)                                                                         \
    {"scheme.decoder", KEY_ENUM, def, 0, 0, 0, "optimal|rescaled|equal",                         \
     "decoding vector: least squares, least squares rescaled to n partitions, or equal weights"}
/* the keys every gradient scheme reads */
#define KEYS_TRAINING                                                                            \
    {"scheme.wait", KEY_INT, NULL, 1, 1e6, 0, NULL,                                              \
     "results that finish an iteration (default: the code's recovery rule)"},                    \
    {"scheme.deadline", KEY_REAL, NULL, 0, INFINITY, KEY_MIN_OPEN, NULL,                         \
     "an iteration is done this long after it starts, with the results that arrived"},           \
    {"scheme.shuffle", KEY_ENUM, "none", 0, 0, 0, "none|uniform|slow_aware",                     \
     "reassign data partitions among workers every shuffle_every iterations"},                   \
    {"scheme.shuffle_every", KEY_INT, "1", 1, 1e9, 0, NULL, "iterations between shuffles (T)"},  \
    {"scheme.shuffle_bandwidth", KEY_REAL, NULL, 0, INFINITY, KEY_MIN_OPEN, NULL,                \
     "bytes per unit of simulated time a worker receives at a shuffle (unset: free)"},           \
    {"scheme.slow_alpha", KEY_REAL, "0.2", 0, 1, KEY_MIN_OPEN, NULL,                             \
     "EWMA weight of the newest iteration in the slow-worker and partition-use estimates"}

static const struct config_key naive_keys[] = {KEY_DECODER("optimal"), KEYS_TRAINING, KEY_END};
static const struct config_key ignore_keys[] = {
    KEY_STRAGGLERS("s: wait for the first n - s workers"), KEY_DECODER("rescaled"),
    KEYS_TRAINING, KEY_END};
static const struct config_key frc_keys[] = {
    KEY_STRAGGLERS("s: stragglers tolerated; s+1 must divide cluster.workers"),
    KEY_DECODER("optimal"), KEYS_TRAINING, KEY_END};
static const struct config_key crc_keys[] = {
    KEY_STRAGGLERS("s: stragglers tolerated; each worker holds s+1 partitions"),
    KEY_DECODER("optimal"), KEYS_TRAINING, KEY_END};
static const struct config_key approx_keys[] = {
    KEY_STRAGGLERS("s: wait for the first n - s workers"),
    {"scheme.degree", KEY_INT, "2", 1, 1e6, 0, NULL, "partitions per worker (graph degree d)"},
    KEY_DECODER("optimal"), KEYS_TRAINING, KEY_END};

/* advise's grid (scheme.h) for the schemes that tolerate s stragglers */
static const struct scheme_search_axis stragglers_search[] = {
    {"scheme.stragglers", "1..n/4"},
    {NULL, NULL},
};

/* ---- create / free ---- */

static void gradient_free(void *self)
{
    struct gradient *gs = self;
    if (!gs)
        return;
    gradcode_free(gs->code);
    shuffle_free(&gs->shuffle);
    free(gs->received);
    free(gs);
}

/* The code's own error, at the key that caused it. */
static int code_error(const struct params *p, enum gradcode_kind kind, const struct error *why,
                      struct error *err)
{
    const char *key = kind == GRADCODE_APPROX && strstr(why->msg, "degree") ? "scheme.degree"
                                                                            : "scheme.stragglers";
    if (!params_has(p, key))
        key = "cluster.workers";
    return error_at_key(err, p, key, "%s", why->msg);
}

static int gradient_create(const struct scheme_env *env, enum gradcode_kind kind, void **self,
                           struct error *err)
{
    const struct params *p = env->params;
    int n = env->workers;
    int s = kind == GRADCODE_NAIVE ? 0 : (int)params_int(p, "scheme.stragglers");
    int degree = kind == GRADCODE_APPROX ? (int)params_int(p, "scheme.degree") : 0;
    enum gradcode_decoder dec = GRADCODE_OPTIMAL;
    enum shuffle_policy policy = SHUFFLE_NONE;
    gradcode_decoder_parse(params_string(p, "scheme.decoder"), &dec); /* validated: enum */
    shuffle_policy_parse(params_string(p, "scheme.shuffle"), &policy);
    if (params_has(p, "scheme.wait") && params_int(p, "scheme.wait") > n)
        return error_at_key(err, p, "scheme.wait", "%ld is more than cluster.workers (%d)",
                            params_int(p, "scheme.wait"), n);

    struct gradient *gs = calloc(1, sizeof *gs);
    if (!gs)
        return error_fail(err, "out of memory");
    struct rng r;
    rng_seed(&r, env->seed, env->point_key, RNG_SCHEME, 0);
    struct error why = {{0}};
    int status = gradcode_new(&gs->code, kind, dec, n, s, degree, &r, &why);
    if (status) {
        gradient_free(gs);
        return status == STRAG_EINPUT ? code_error(p, kind, &why, err)
                                      : error_fail(err, "%s", why.msg);
    }
    status = shuffle_init(&gs->shuffle, policy, n, params_int(p, "scheme.shuffle_every"),
                          params_real(p, "scheme.slow_alpha"), env->seed, env->point_key, err);
    gs->received = calloc((size_t)n, sizeof *gs->received);
    if (!status && !gs->received)
        status = error_fail(err, "out of memory");
    if (status) {
        gradient_free(gs);
        return status;
    }
    gs->n = n;
    gs->wait = params_has(p, "scheme.wait") ? (int)params_int(p, "scheme.wait") : 0;
    gs->deadline = params_has(p, "scheme.deadline") ? params_real(p, "scheme.deadline") : 0.0;
    gs->bandwidth = params_has(p, "scheme.shuffle_bandwidth")
                        ? params_real(p, "scheme.shuffle_bandwidth")
                        : 0.0;
    gs->cost = scheme_task_cost(p, (double)gs->code->load / n);
    *self = gs;
    return 0;
}

static int naive_create(const struct scheme_env *env, void **self, struct error *err)
{
    return gradient_create(env, GRADCODE_NAIVE, self, err);
}
static int ignore_create(const struct scheme_env *env, void **self, struct error *err)
{
    return gradient_create(env, GRADCODE_IGNORE, self, err);
}
static int frc_create(const struct scheme_env *env, void **self, struct error *err)
{
    return gradient_create(env, GRADCODE_FRC, self, err);
}
static int crc_create(const struct scheme_env *env, void **self, struct error *err)
{
    return gradient_create(env, GRADCODE_CRC, self, err);
}
static int approx_create(const struct scheme_env *env, void **self, struct error *err)
{
    return gradient_create(env, GRADCODE_APPROX, self, err);
}

/* ---- the job ---- */

static size_t gradient_job_state_size(const void *self)
{
    const struct gradient *gs = self;
    return sizeof(struct gradient_job) + (size_t)gs->n + (size_t)gradcode_groups(gs->code);
}

static void gradient_job_start(void *self, struct cluster *cl, uint32_t job)
{
    struct gradient *gs = self;
    bool moved = shuffle_due(&gs->shuffle, cluster_job_index(cl, job));
    if (moved)
        shuffle_apply(&gs->shuffle, gs->code, gs->received);
    for (int w = 0; w < gs->n; w++) {
        double delay = moved && gs->bandwidth > 0
                           ? gs->received[w] * gs->partition_bytes / gs->bandwidth
                           : 0.0;
        if (delay > 0)
            cluster_timer(cl, job, delay, w); /* the worker waits for its new data */
        else
            cluster_submit(cl, job, w, gs->cost, w);
    }
    if (gs->deadline > 0)
        cluster_timer(cl, job, gs->deadline, TAG_DEADLINE);
}

/* The job is done: fold it into the estimates and counters. */
static bool job_end(struct gradient *gs, struct gradient_job *js, bool by_deadline)
{
    js->done = true;
    shuffle_observe(&gs->shuffle, gs->code, job_flags(js));
    gs->jobs++;
    gs->deadline_jobs += by_deadline;
    gs->waited += js->reported;
    return true;
}

static bool gradient_on_result(void *self, struct cluster *cl, const struct cluster_result *r)
{
    struct gradient *gs = self;
    struct gradient_job *js = cluster_job_state(cl, r->job);
    unsigned char *reported = job_flags(js), *groups = reported + gs->n;
    if (js->done || reported[r->worker])
        return false;
    reported[r->worker] = 1;
    js->reported++;
    int t = gradcode_group(gs->code, r->worker);
    js->covered += !groups[t];
    groups[t] = 1;
    bool ready = gs->wait ? js->reported >= gs->wait
                          : gradcode_ready(gs->code, js->reported, js->covered);
    return ready && job_end(gs, js, false);
}

static bool gradient_on_timer(void *self, struct cluster *cl, uint32_t job, int tag)
{
    struct gradient *gs = self;
    struct gradient_job *js = cluster_job_state(cl, job);
    if (js->done)
        return false;
    if (tag == TAG_DEADLINE)
        return job_end(gs, js, true);
    cluster_submit(cl, job, tag, gs->cost, tag);
    return false;
}

static void gradient_add_metrics(const void *self, struct metric_list *out)
{
    const struct gradient *gs = self;
    double jobs = gs->jobs ? (double)gs->jobs : metric_undefined();
    metric_list_set(out, "waited_mean", gs->waited / jobs);
    metric_list_set(out, "shuffles", (double)gs->shuffle.shuffles);
    metric_list_set(out, "partitions_moved", (double)gs->shuffle.moved);
    if (gs->deadline > 0)
        metric_list_set(out, "deadline_fraction", gs->deadline_jobs / jobs);
}

static int gradient_train_prepare(void *self, struct scheme_train *tr, struct error *err)
{
    (void)err;
    struct gradient *gs = self;
    gs->partition_bytes = tr->partition_bytes;
    tr->code = gs->code;
    tr->column_data = gs->shuffle.column_data;
    return 0;
}

#define GRADIENT_OPS(var, kind_name, what, key_table, grid, create_fn)                              \
    const struct scheme_ops var = {                                                              \
        .name = kind_name,                                                                       \
        .summary = what,                                                                         \
        .workloads = SCHEME_TRAINING | SCHEME_LATENCY,                                           \
        .keys = key_table,                                                                       \
        .search = grid,                                                                          \
        .create = create_fn,                                                                     \
        .job_state_size = gradient_job_state_size,                                               \
        .job_start = gradient_job_start,                                                         \
        .on_result = gradient_on_result,                                                         \
        .on_timer = gradient_on_timer,                                                           \
        .add_metrics = gradient_add_metrics,                                                     \
        .free = gradient_free,                                                                   \
        .train_prepare = gradient_train_prepare,                                                 \
    }

GRADIENT_OPS(scheme_naive, "naive", "gradient descent waiting for all n partition gradients",
             naive_keys, NULL, naive_create);
GRADIENT_OPS(scheme_ignore, "ignore", "ignore stragglers: first n-s gradients, rescaled",
             ignore_keys, stragglers_search, ignore_create);
GRADIENT_OPS(scheme_frc, "frc", "fractional-repetition gradient code (Tandon et al.)", frc_keys,
             stragglers_search, frc_create);
GRADIENT_OPS(scheme_crc, "crc", "cyclic-repetition gradient code, random-H construction",
             crc_keys, stragglers_search, crc_create);
GRADIENT_OPS(scheme_approx_gc, "approx-gc", "approximate gradient code on a d-regular graph",
             approx_keys, stragglers_search, approx_create);
