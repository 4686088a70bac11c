/* barycentric.c: the `barycentric` scheme, BRI codes (Qiu, Zhu, Niyato,
 * Luong, Yi & Dai, "Barycentric Coded Distributed Computing with Flexible
 * Recovery Threshold for Collaborative Mobile Edge Computing", arXiv
 * 2509.09435). The K queries of a job are encoded by the Floater-Hormann
 * interpolant of blending degree d (scheme.d) through K data nodes,
 * evaluated at N worker nodes (Berrut's node sets, code_berrut.h); the
 * decoder is the Floater-Hormann interpolant through whatever worker nodes
 * returned, evaluated at the data nodes (code_floater_hormann.h), so any
 * number of results >= 1 decodes. d = 0 is Berrut's interpolant: with the
 * default rule this scheme is then `berrut` exactly.
 *
 * When the master decodes (scheme.decode_when), a rule the paper leaves to
 * the system (doc/coded-inference.md):
 *   results   at the (N - S)-th result, S = scheme.stragglers (berrut's rule);
 *   deadline  scheme.deadline after the job opened, from the results in by
 *             then; with none yet, at the first result; with all N in
 *             earlier, at the N-th;
 *   first     whichever of the two comes first.
 * Metrics: decode_results_mean (results a counted job was decoded from) and
 * deadline_decodes (the fraction of counted jobs the deadline decided).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schemes/codes/code_berrut.h"
#include "schemes/codes/code_floater_hormann.h"
#include "schemes/codes/linear_code.h"

enum decode_when { DECODE_RESULTS, DECODE_DEADLINE, DECODE_FIRST };

struct barycentric {
    struct linear_code code; /* first member (fanout) */
    int decode_d;            /* blending degree of the decoder (lowered to |F| - 1) */
    enum decode_when when;
    double deadline;         /* NAN with decode_when = results */
    double *alpha, *z;       /* data nodes (k), worker nodes (n) */
    uint64_t warmup, jobs_counted, results_counted, deadline_counted;
};

/* Per-job state: cluster_job_state, sizeof(struct barycentric_job) bytes. */
struct barycentric_job {
    int results; /* results in so far */
    bool overdue; /* the deadline passed with no result: decode at the first */
};

static const struct config_key barycentric_keys[] = {
    {"scheme.d", KEY_INT, "1", 0, 1e6, 0, NULL,
     "barycentric: Floater-Hormann blending degree of the encoder (d <= K - 1; 0 is berrut)"},
    {"scheme.decode_d", KEY_INT, NULL, 0, 1e6, 0, NULL,
     "barycentric: blending degree of the decoder (default scheme.d; lowered to results - 1)"},
    {"scheme.decode_when", KEY_ENUM, "results", 0, 0, 0, "results|deadline|first",
     "barycentric: decode at N - S results, at scheme.deadline, or whichever comes first"},
    {"scheme.deadline", KEY_REAL, NULL, 0, INFINITY, KEY_MIN_OPEN, NULL,
     "barycentric: time after a job opens at which the master decodes what it has"},
    {"scheme.stragglers", KEY_INT, "1", 0, 1e6, 0, NULL,
     "coded schemes: results not waited for (the job is done at workers - stragglers)"},
    {"scheme.nodes", KEY_ENUM, "n", 0, 0, 0, "n|n-1",
     "worker nodes cos(n pi/N) (ApproxIFER accuracy scripts) or cos(n pi/(N-1)) (BACC)"},
    LINEAR_CODE_SIZE_KEY,
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
/* advise's grid (scheme.h) */
static const struct scheme_search_axis barycentric_search[] = {
    {"scheme.d", "1..2"},
    {"scheme.stragglers", "1..n/4"},
    {NULL, NULL},
};

static int barycentric_build(void *ctx, const int *returned, int nf, double *D,
                             struct error *err)
{
    const struct barycentric *s = ctx;
    return fh_decoder(s->alpha, s->code.k, s->z, returned, nf, s->decode_d, D, err);
}

static void barycentric_free(void *self)
{
    struct barycentric *s = self;
    if (!s)
        return;
    linear_code_release(&s->code);
    free(s->alpha);
    free(s->z);
    free(s);
}

/* Berrut's sizing: N = K + S. */
static int barycentric_n_of_k(const void *arg, int k) { return k + *(const int *)arg; }
static int barycentric_k_of_n(const void *arg, int n) { return n - *(const int *)arg; }

static int barycentric_create(const struct scheme_env *env, void **self, struct error *err)
{
    const struct params *p = env->params;
    int S = (int)params_int(p, "scheme.stragglers"), k = 0, n = 0;
    int d = (int)params_int(p, "scheme.d");
    const char *when = params_string(p, "scheme.decode_when");
    enum decode_when rule = strcmp(when, "deadline") == 0 ? DECODE_DEADLINE
                            : strcmp(when, "first") == 0  ? DECODE_FIRST
                                                          : DECODE_RESULTS;
    if (rule != DECODE_RESULTS && !params_has(p, "scheme.deadline"))
        return error_at_key(err, p, "scheme.decode_when", "decode_when = %s needs scheme.deadline",
                            when);
    int status = linear_code_size(env, barycentric_k_of_n, barycentric_n_of_k, &S, &n, &k, err);
    if (status)
        return status;
    if (d > k - 1)
        return error_at_key(err, p, "scheme.d",
                            "blending degree d = %d needs K >= d + 1 queries per job (K = %d)", d,
                            k);
    struct barycentric *s = calloc(1, sizeof *s);
    if (!s)
        return error_fail(err, "out of memory");
    status = linear_code_init(&s->code, env, n, k, n - S, barycentric_build, s, err);
    if (status) {
        free(s);
        return status;
    }
    s->decode_d = params_has(p, "scheme.decode_d") ? (int)params_int(p, "scheme.decode_d") : d;
    s->when = rule;
    s->deadline = rule == DECODE_RESULTS ? NAN : params_real(p, "scheme.deadline");
    s->warmup = (uint64_t)params_int(p, "workload.warmup");
    s->alpha = malloc((size_t)k * sizeof *s->alpha);
    s->z = malloc((size_t)n * sizeof *s->z);
    double *E = malloc((size_t)n * k * sizeof *E);
    if (!s->alpha || !s->z || !E) {
        free(E);
        barycentric_free(s);
        return error_fail(err, "out of memory");
    }
    bool lobatto = strcmp(params_string(p, "scheme.nodes"), "n-1") == 0;
    berrut_data_nodes(k, s->alpha);
    berrut_worker_nodes(n, lobatto ? BERRUT_NODES_N_MINUS1 : BERRUT_NODES_N, s->z);
    status = fh_encoder(s->alpha, k, s->z, n, d, E, err);
    if (status == STRAG_OK)
        linear_code_set_encoder(&s->code, E);
    free(E);
    if (status) {
        barycentric_free(s);
        return status;
    }
    *self = s;
    return STRAG_OK;
}

static size_t barycentric_job_state_size(const void *self)
{
    (void)self;
    return sizeof(struct barycentric_job);
}

static void barycentric_job_start(void *self, struct cluster *cl, uint32_t job)
{
    const struct barycentric *s = self;
    fanout_job_start(self, cl, job);
    if (s->when != DECODE_RESULTS)
        cluster_timer(cl, job, s->deadline, 0);
}

/* The job is decoded now, from `results` results, by the deadline or not. */
static bool barycentric_decode_now(struct barycentric *s, struct cluster *cl, uint32_t job,
                                   int results, bool by_deadline)
{
    if (cluster_job_index(cl, job) >= s->warmup) {
        s->jobs_counted++;
        s->results_counted += (uint64_t)results;
        s->deadline_counted += by_deadline;
    }
    return true;
}

static bool barycentric_on_result(void *self, struct cluster *cl, const struct cluster_result *r)
{
    struct barycentric *s = self;
    struct barycentric_job *j = cluster_job_state(cl, r->job);
    j->results++;
    if (j->overdue)
        return barycentric_decode_now(s, cl, r->job, j->results, true);
    bool enough = s->when == DECODE_DEADLINE ? j->results >= s->code.n
                                             : j->results >= s->code.fan.need;
    return enough && barycentric_decode_now(s, cl, r->job, j->results, false);
}

static bool barycentric_on_timer(void *self, struct cluster *cl, uint32_t job, int tag)
{
    (void)tag;
    struct barycentric *s = self;
    struct barycentric_job *j = cluster_job_state(cl, job);
    if (j->results == 0) { /* nothing to decode from yet */
        j->overdue = true;
        return false;
    }
    return barycentric_decode_now(s, cl, job, j->results, true);
}

static int barycentric_prepare(void *self, struct scheme_infer *inf, struct error *err)
{
    (void)err;
    struct barycentric *s = self;
    inf->queries = s->code.k;
    inf->coded = s->code.n;
    return STRAG_OK;
}

static void barycentric_encode(const void *self, const float *X, int d, float *Xc)
{
    linear_code_encode(self, X, d, Xc);
}

static int barycentric_decode(void *self, const int *returned, int nf, const float *Yc, int m,
                              float *Y, struct error *err)
{
    struct barycentric *s = self;
    return linear_code_decode(&s->code, returned, nf, Yc, m, Y, err);
}

static void barycentric_add_metrics(const void *self, struct metric_list *out)
{
    const struct barycentric *s = self;
    linear_code_add_metrics(&s->code, out);
    double jobs = (double)s->jobs_counted;
    metric_list_set(out, "decode_results_mean",
                    jobs > 0 ? (double)s->results_counted / jobs : metric_undefined());
    metric_list_set(out, "deadline_decodes",
                    jobs > 0 ? (double)s->deadline_counted / jobs : metric_undefined());
}

const struct scheme_ops scheme_barycentric = {
    .name = "barycentric",
    .summary = "Floater-Hormann (pole-free barycentric) coded inference, decode at N - S "
               "results, a deadline, or the first of the two",
    .workloads = SCHEME_LATENCY | SCHEME_INFERENCE,
    .keys = barycentric_keys,
    .search = barycentric_search,
    .create = barycentric_create,
    .job_state_size = barycentric_job_state_size,
    .job_start = barycentric_job_start,
    .on_result = barycentric_on_result,
    .on_timer = barycentric_on_timer,
    .add_metrics = barycentric_add_metrics,
    .free = barycentric_free,
    .infer_prepare = barycentric_prepare,
    .infer_encode = barycentric_encode,
    .infer_decode = barycentric_decode,
};
