/* parm.c: the `parm` scheme (ParM, Kosaian, Rashmi, Venkataraman, SOSP
 * 2019) serving side: a job is one coding group of k queries. The cluster
 * is a pool of `workers` instances: the last workers/(k+1) run the parity
 * model, the others the base model (ParM's 12 base + 12/k parity). Each
 * query goes to the least-loaded base instance, the group's parity query
 * to the least-loaded parity instance (ties: round robin), each a task of
 * cost 1/k (scheme.task_cost overrides).
 * scheme.parity_delay (default 0) sends the parity task that long after the
 * group (the frontend waits for the group's last query and encodes it).
 * Serving rules (clipper-parm's frontend): when all k data outputs are in,
 * the parity task is cancelled and the job is done; when the parity output
 * and k-1 data outputs are in, the missing output is decoded by
 * subtraction, its task is cancelled and the job is done.
 * scheme.parity = false is the paper's "equal resources" baseline: the same
 * pool, every instance a base-model replica, no parity.
 *
 * Metrics beyond the workload's (whose `accuracy` is the overall one):
 * available_accuracy and degraded_accuracy (queries answered by the base
 * model, by decoding), reconstruction_accuracy (decoded argmax equals the
 * base model's argmax on the lost query: the only place a straggler's
 * output row is read), reconstructed_fraction (f_u), parity_useful (groups
 * whose parity was decoded from), and per-query latency
 * query_latency_mean/p50/p99/p999 (a query is done at its own output or at
 * its decode; the job latency is the group's last query).
 * The parity model's weights: <scheme.learned_weights>.parity.bin
 * (`stragsim train` with train.target = parm writes them).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/weights.h"
#include "schemes/parm_model.h"
#include "schemes/scheme.h"
#include "sim/engine.h"
#include "base/stats.h"

struct parm {
    const struct params *params;
    int k, workers, parity_workers; /* parity instances: the last parity_workers */
    bool coded;                     /* false: the equal-resources baseline */
    enum parm_encoder encoder;
    double cost;
    double parity_delay;
    uint64_t warmup;
    int next_data, next_parity;     /* round-robin tie breaks */
    char weights[4096];
    struct model *base;             /* borrowed from the workload */
    struct model *parity;
    float *pin, *pout;              /* infer_forward scratch: parity rows in and out */
    int pcap;
    struct stats *query_latency;
    uint64_t groups, parity_useful, reconstructed, queries;
    int last_missing;               /* query decoded in the last infer_decode, or -1 */
    uint64_t avail_n, avail_hits, degr_n, degr_hits, recon_n, recon_hits;
};

struct parm_job {
    uint32_t task[PARM_MAX_K + 1];
    unsigned arrived;               /* bit i: coded row i (k = the parity) */
    double opened;
    bool counted;
};

static const struct config_key parm_keys[] = {
    {"scheme.k", KEY_INT, "2", 2, PARM_MAX_K, 0, NULL,
     "parm: queries per coding group (workload.queries must equal it)"},
    {"scheme.encoder", KEY_ENUM, "add", 0, 0, 0, "add|concat",
     "parm: parity encoder: sum, or bilinear down-sampling and tiling (k = 2, 4)"},
    {"scheme.parity", KEY_BOOL, "true", 0, 0, 0, NULL,
     "parm: false = the equal-resources baseline (parity instances serve as base replicas)"},
    {"scheme.parity_delay", KEY_REAL, "0", 0, INFINITY, 0, NULL,
     "parm: the parity task is sent this long after the group's queries (the frontend's "
     "wait for the group and its encoding)"},
    {"scheme.learned_weights", KEY_PATH, NULL, 0, 0, 0, NULL,
     "stem of a learned code's weights files: <stem>.<part>.bin per network"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
/* advise's grid (scheme.h) */
static const struct scheme_search_axis parm_search[] = {
    {"scheme.k", "2..4"},
    {NULL, NULL},
};

static void parm_free(void *self)
{
    struct parm *s = self;
    if (!s)
        return;
    model_free(s->parity);
    stats_free(s->query_latency);
    free(s->pin);
    free(s->pout);
    free(s);
}

static int parm_create(const struct scheme_env *env, void **self, struct error *err)
{
    const struct params *p = env->params;
    struct parm *s = calloc(1, sizeof *s);
    if (!s)
        return error_fail(err, "out of memory");
    *s = (struct parm){
        .params = p,
        .k = (int)params_int(p, "scheme.k"),
        .workers = env->workers,
        .coded = params_bool(p, "scheme.parity"),
        .warmup = (uint64_t)params_int(p, "workload.warmup"),
        .last_missing = -1,
        .query_latency = stats_new(1024),
    };
    *self = s;
    if (!s->query_latency)
        return error_fail(err, "out of memory");
    if (parm_encoder_parse(params_string(p, "scheme.encoder"), &s->encoder) != 0)
        return error_at_key(err, p, "scheme.encoder", "must be add or concat");
    struct error e;
    if (parm_check(s->encoder, s->k, &e))
        return error_at_key(err, p, "scheme.k", "%s", e.msg);
    s->parity_workers = s->coded ? s->workers / (s->k + 1) : 0;
    if (s->coded && s->parity_workers < 1)
        return error_at_key(err, p, "cluster.workers",
                            "parm with k = %d needs at least %d workers (k base + 1 parity), "
                            "got %d",
                            s->k, s->k + 1, s->workers);
    s->cost = scheme_task_cost(p, 1.0 / s->k);
    s->parity_delay = params_real(p, "scheme.parity_delay");
    return STRAG_OK;
}

static size_t parm_job_state_size(const void *self)
{
    (void)self;
    return sizeof(struct parm_job);
}

/* The least-loaded worker of [first, first+count), ties broken round robin
 * from *next. */
static int pick(const struct cluster *cl, int first, int count, int *next)
{
    int best = -1, best_load = 0;
    for (int i = 0; i < count; i++) {
        int w = first + (*next + i) % count, load = cluster_worker_load(cl, w);
        if (best < 0 || load < best_load) {
            best = w;
            best_load = load;
        }
    }
    *next = (best - first + 1) % count;
    return best;
}

static void submit_parity(struct parm *s, struct cluster *cl, uint32_t job, struct parm_job *j)
{
    int base_pool = s->workers - s->parity_workers;
    j->task[s->k] = cluster_submit(
        cl, job, pick(cl, base_pool, s->parity_workers, &s->next_parity), s->cost, s->k);
}

static void parm_job_start(void *self, struct cluster *cl, uint32_t job)
{
    struct parm *s = self;
    struct parm_job *j = cluster_job_state(cl, job);
    j->opened = engine_now(cluster_engine(cl));
    j->counted = cluster_job_index(cl, job) >= s->warmup;
    int base_pool = s->workers - s->parity_workers;
    for (int i = 0; i < s->k; i++)
        j->task[i] = cluster_submit(cl, job, pick(cl, 0, base_pool, &s->next_data), s->cost, i);
    j->task[s->k] = UINT32_MAX; /* no parity task (yet) */
    if (s->coded && s->parity_delay > 0)
        cluster_timer(cl, job, s->parity_delay, 0);
    else if (s->coded)
        submit_parity(s, cl, job, j);
}

static bool parm_on_timer(void *self, struct cluster *cl, uint32_t job, int tag)
{
    (void)tag;
    struct parm *s = self;
    submit_parity(s, cl, job, cluster_job_state(cl, job));
    return false;
}

static void query_done(struct parm *s, const struct parm_job *j, double now)
{
    if (j->counted)
        stats_add(s->query_latency, now - j->opened);
}

static bool parm_on_result(void *self, struct cluster *cl, const struct cluster_result *r)
{
    struct parm *s = self;
    struct parm_job *j = cluster_job_state(cl, r->job);
    double now = engine_now(cluster_engine(cl));
    j->arrived |= 1u << r->tag;
    if (r->tag < s->k)
        query_done(s, j, now);
    int have = 0;
    for (int i = 0; i < s->k; i++)
        have += (int)(j->arrived >> i & 1u);
    if (have == s->k) { /* every data output first: the parity is useless */
        if (j->task[s->k] != UINT32_MAX && !(j->arrived >> s->k & 1u))
            cluster_task_cancel(cl, j->task[s->k]);
        s->groups += j->counted;
        return true;
    }
    if (s->coded && (j->arrived >> s->k & 1u) && have == s->k - 1) {
        int missing = 0;
        while (j->arrived >> missing & 1u)
            missing++;
        query_done(s, j, now); /* decoded now */
        cluster_task_cancel(cl, j->task[missing]);
        s->groups += j->counted;
        s->parity_useful += j->counted;
        return true;
    }
    return false;
}

static int parm_infer_prepare(void *self, struct scheme_infer *inf, struct error *err)
{
    struct parm *s = self;
    if (inf->queries != s->k)
        return error_at_key(err, s->params, "workload.queries",
                            "parm needs workload.queries = scheme.k (%d), got %d", s->k,
                            inf->queries);
    if (inf->input_size != FMNIST_PIXELS)
        return error_at_key(err, s->params, "workload.model",
                            "parm encodes 28x28 images; the model takes %d inputs",
                            inf->input_size);
    s->base = inf->model;
    inf->coded = s->coded ? s->k + 1 : s->k;
    if (!s->coded)
        return STRAG_OK;
    if (!params_has(s->params, "scheme.learned_weights"))
        return error_at_key(err, s->params, "scheme.learned_weights",
                            "missing: the parity model's weights stem (train.target = parm)");
    char stem[4096];
    if (!params_path(s->params, "scheme.learned_weights", stem, sizeof stem) ||
        !learned_weights_path(s->weights, sizeof s->weights, stem, "parity"))
        return error_at_key(err, s->params, "scheme.learned_weights", "path too long");
    int rc = model_new(&s->parity, s->base->arch, err);
    if (!rc)
        rc = weights_load(s->parity, s->weights, err);
    return rc;
}

static void parm_infer_encode(const void *self, const float *X, int d, float *Xc)
{
    const struct parm *s = self;
    memcpy(Xc, X, (size_t)s->k * d * sizeof *Xc);
    if (s->coded)
        parm_encode(s->encoder, s->k, X, Xc + (size_t)s->k * d);
}

/* Base model on every row, then the parity model on the parity rows. */
static int parm_infer_forward(void *self, const float *Xc, int jobs, float *Yc,
                              struct error *err)
{
    struct parm *s = self;
    int coded = s->coded ? s->k + 1 : s->k, d = s->base->input_size, m = s->base->outputs;
    const float *out;
    int rc = model_forward(s->base, Xc, jobs * coded, &out, err);
    if (rc)
        return rc;
    memcpy(Yc, out, (size_t)jobs * coded * m * sizeof *Yc);
    if (!s->coded)
        return STRAG_OK;
    if (jobs > s->pcap) {
        free(s->pin);
        free(s->pout);
        s->pin = malloc((size_t)jobs * d * sizeof *s->pin);
        s->pout = malloc((size_t)jobs * m * sizeof *s->pout);
        s->pcap = s->pin && s->pout ? jobs : 0;
        if (!s->pcap)
            return error_fail(err, "out of memory");
    }
    for (int b = 0; b < jobs; b++)
        memcpy(s->pin + (size_t)b * d, Xc + ((size_t)b * coded + s->k) * d,
               (size_t)d * sizeof *s->pin);
    if ((rc = model_forward(s->parity, s->pin, jobs, &out, err)))
        return rc;
    for (int b = 0; b < jobs; b++)
        memcpy(Yc + ((size_t)b * coded + s->k) * m, out + (size_t)b * m,
               (size_t)m * sizeof *Yc);
    return STRAG_OK;
}

static int parm_infer_decode(void *self, const int *returned, int nf, const float *Yc, int m,
                             float *Y, struct error *err)
{
    struct parm *s = self;
    unsigned arrived = 0;
    for (int i = 0; i < nf; i++)
        arrived |= 1u << returned[i];
    s->last_missing = -1;
    for (int j = 0; j < s->k; j++) {
        if (arrived >> j & 1u) {
            memcpy(Y + (size_t)j * m, Yc + (size_t)j * m, (size_t)m * sizeof *Y);
            continue;
        }
        if (!s->coded || !(arrived >> s->k & 1u) || s->last_missing >= 0)
            return error_fail(err, "parm: job done without a decodable set (%d results)", nf);
        parm_decode(Yc + (size_t)s->k * m, Yc, s->k, j, m, Y + (size_t)j * m);
        s->last_missing = j;
        /* reconstruction accuracy: the lost query's base output, computed
         * but not delivered, is read for this metric only */
        s->recon_n++;
        s->recon_hits += model_argmax(Y + (size_t)j * m, m) == model_argmax(Yc + (size_t)j * m, m);
    }
    return STRAG_OK;
}

static void parm_infer_scored(void *self, int j, bool correct)
{
    struct parm *s = self;
    s->queries++;
    if (j == s->last_missing) {
        s->degr_n++;
        s->degr_hits += correct;
        s->reconstructed++;
    } else {
        s->avail_n++;
        s->avail_hits += correct;
    }
}

static double ratio(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : metric_undefined(); }

static void parm_add_metrics(const void *self, struct metric_list *out)
{
    const struct parm *s = self;
    struct stats *q = s->query_latency;
    metric_list_set(out, "parity_useful", ratio(s->parity_useful, s->groups));
    metric_list_set(out, "query_latency_mean", stats_mean(q));
    metric_list_set(out, "query_latency_p50", stats_quantile(q, 0.5));
    metric_list_set(out, "query_latency_p99", stats_quantile(q, 0.99));
    metric_list_set(out, "query_latency_p999", stats_quantile(q, 0.999));
    if (s->queries) {
        metric_list_set(out, "available_accuracy", ratio(s->avail_hits, s->avail_n));
        metric_list_set(out, "degraded_accuracy", ratio(s->degr_hits, s->degr_n));
        metric_list_set(out, "reconstruction_accuracy", ratio(s->recon_hits, s->recon_n));
        metric_list_set(out, "reconstructed_fraction", ratio(s->reconstructed, s->queries));
    }
}

const struct scheme_ops scheme_parm = {
    .name = "parm",
    .summary = "ParM parity models: k queries + 1 learned parity query, decode by subtraction",
    .workloads = SCHEME_LATENCY | SCHEME_INFERENCE,
    .keys = parm_keys,
    .search = parm_search,
    .create = parm_create,
    .job_state_size = parm_job_state_size,
    .job_start = parm_job_start,
    .on_result = parm_on_result,
    .on_timer = parm_on_timer,
    .add_metrics = parm_add_metrics,
    .free = parm_free,
    .infer_prepare = parm_infer_prepare,
    .infer_encode = parm_infer_encode,
    .infer_forward = parm_infer_forward,
    .infer_decode = parm_infer_decode,
    .infer_scored = parm_infer_scored,
    .train = parm_train_command,
};
