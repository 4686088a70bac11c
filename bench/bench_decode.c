/* bench_decode.c: where a coded-inference point's time goes at large N, per
 * scheme: encoding (E X, one GEMM), the workers' forward passes (LeNet5 on
 * the N coded images, what the inference workload batches), and decoding
 * (D_F built for the job's straggler pattern, then D_F Yc). The question
 * (doc/approx-coded.md, "Speed"): does the scheme keep the point
 * forward-bound, decode time under 10% of the point's time at N = 100?
 * A program, not a test.
 *
 * Every job draws a fresh pattern of S stragglers uniformly at random: at
 * N = 100 almost every pattern is new, so each decode builds its D_F (the
 * decode cache misses; the worst case). The model's weights are random
 * (the time of a forward pass does not depend on them), the inputs uniform.
 * nercc runs at fixed lambdas: its grid search on validation queries is a
 * one-off per point (forward passes of its own), not timed here.
 *
 * Usage: bench_decode [N (100)] [K (24)] [S (25)] [jobs (200)]
 * Prints per scheme the mean per job of encode, forward and decode in
 * milliseconds, decode's share of the job and (encode + decode) / forward.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/model.h"
#include "schemes/scheme.h"
#include "base/rng.h"

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct bench_scheme {
    const char *label;
    const char *kv[6]; /* "key=value", NULL-terminated; scheme.kind first */
};

static const struct bench_scheme schemes[] = {
    {"berrut", {"scheme.kind=berrut", NULL}},
    {"nercc (lambdas fixed)", {"scheme.kind=nercc", "scheme.lambda_enc=1e-6", "scheme.lambda_dec=1e-6", NULL}},
    {"letcc", {"scheme.kind=letcc", NULL}},
    {"bspline", {"scheme.kind=bspline", NULL}},
    {"barycentric d = 1", {"scheme.kind=barycentric", "scheme.d=1", NULL}},
    {"barycentric d = 3", {"scheme.kind=barycentric", "scheme.d=3", NULL}},
};

/* params for one scheme: its kv, N, K, S, then every default of its table. */
static struct params *scheme_params(const struct bench_scheme *b, const struct scheme_ops *ops,
                                    int k, int s)
{
    struct params *p = params_new();
    char v[32];
    for (int i = 0; b->kv[i]; i++) {
        char key[128];
        const char *eq = strchr(b->kv[i], '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - b->kv[i]), b->kv[i]);
        params_set(p, key, eq + 1, "bench", i + 1);
    }
    snprintf(v, sizeof v, "%d", k);
    params_set(p, "workload.queries", v, "bench", 0);
    snprintf(v, sizeof v, "%d", s);
    params_set(p, "scheme.stragglers", v, "bench", 0);
    for (const struct config_key *key = ops->keys; key->name; key++)
        if (key->default_value && !params_has(p, key->name))
            params_set(p, key->name, key->default_value, "bench", 0);
    return p;
}

/* returned[0..n-s): the workers left after s distinct random stragglers. */
static int random_returned(struct rng *g, int n, int s, int *returned)
{
    int mark[1024] = {0};
    for (int left = s; left > 0;) {
        int w = (int)(rng_uniform(g) * n);
        if (w < n && !mark[w]) {
            mark[w] = 1;
            left--;
        }
    }
    int nf = 0;
    for (int w = 0; w < n; w++)
        if (!mark[w])
            returned[nf++] = w;
    return nf;
}

static int bench_one(const struct bench_scheme *b, struct model *model, int n, int k, int s,
                     int jobs)
{
    const struct scheme_ops *ops = scheme_find(strchr(b->kv[0], '=') + 1);
    struct error err = {0};
    struct params *p = scheme_params(b, ops, k, s);
    struct scheme_env env = {.params = p, .workers = n, .seed = 1, .point_key = 1};
    void *self = NULL;
    int d = model->input_size, m = model->outputs;
    struct scheme_infer inf = {.input_size = d, .outputs = m, .model = model};
    double t0 = cpu_seconds();
    if (ops->create(&env, &self, &err) || ops->infer_prepare(self, &inf, &err)) {
        fprintf(stderr, "bench_decode: %s: %s\n", b->label, err.msg);
        params_free(p);
        return 1;
    }
    double setup = cpu_seconds() - t0;
    float *X = malloc(sizeof(float) * (size_t)k * d), *Xc = malloc(sizeof(float) * (size_t)n * d);
    float *Yc = malloc(sizeof(float) * (size_t)n * m), *Y = malloc(sizeof(float) * (size_t)k * m);
    int *returned = malloc(sizeof(int) * (size_t)n);
    struct rng g;
    rng_seed(&g, 1, 0, RNG_DATA, 0);
    double enc = 0, fwd = 0, dec = 0;
    int rc = 0;
    for (int j = 0; j < jobs && !rc; j++) {
        for (size_t i = 0; i < (size_t)k * d; i++)
            X[i] = (float)rng_uniform(&g);
        int nf = random_returned(&g, n, s, returned);
        double a = cpu_seconds();
        ops->infer_encode(self, X, d, Xc);
        double bt = cpu_seconds();
        const float *out;
        rc = model_forward(model, Xc, n, &out, &err);
        if (!rc)
            memcpy(Yc, out, sizeof(float) * (size_t)n * m);
        double c = cpu_seconds();
        if (!rc)
            rc = ops->infer_decode(self, returned, nf, Yc, m, Y, &err);
        double e = cpu_seconds();
        enc += bt - a;
        fwd += c - bt;
        dec += e - c;
    }
    if (rc)
        fprintf(stderr, "bench_decode: %s: %s\n", b->label, err.msg);
    else
        printf("| %-22s | %9.3f | %10.3f | %9.3f | %11.1f%% | %13.3f | %8.1f |\n", b->label,
               1e3 * enc / jobs, 1e3 * fwd / jobs, 1e3 * dec / jobs,
               100.0 * dec / (enc + fwd + dec), (enc + dec) / fwd, 1e3 * setup);
    free(X);
    free(Xc);
    free(Yc);
    free(Y);
    free(returned);
    ops->free(self);
    params_free(p);
    return rc;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100, k = argc > 2 ? atoi(argv[2]) : 24;
    int s = argc > 3 ? atoi(argv[3]) : 25, jobs = argc > 4 ? atoi(argv[4]) : 200;
    if (n < 2 || n > 1024 || k < 1 || s < 0 || k + s > n || jobs < 1) {
        fprintf(stderr, "usage: bench_decode [N (2..1024)] [K] [S] [jobs] with K + S <= N\n");
        return 2;
    }
    struct model *model;
    struct error err = {0};
    if (model_new(&model, "lenet5", &err)) {
        fprintf(stderr, "bench_decode: %s\n", err.msg);
        return 1;
    }
    struct rng g;
    rng_seed(&g, 3, 0, RNG_INIT, 0);
    model_init(model, &g);
    printf("N = %d workers, K = %d queries, S = %d stragglers, LeNet5, %d jobs, CPU time, "
           "a fresh straggler pattern every job\n\n", n, k, s, jobs);
    printf("| scheme                 | encode ms | forward ms | decode ms | decode share | "
           "(enc+dec)/fwd | setup ms |\n");
    printf("| ---------------------- | --------: | ---------: | --------: | -----------: | "
           "------------: | -------: |\n");
    int rc = 0;
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
        rc |= bench_one(&schemes[i], model, n, k, s, jobs);
    model_free(model);
    return rc;
}
