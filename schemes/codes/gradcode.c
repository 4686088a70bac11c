/* gradcode.c: building the gradient-code matrices B and the decoding vectors
 * a_F (see gradcode.h). GSL's LU (crc's s x s solves) and SVD (least-squares
 * decoding) do the linear algebra; no cblas here (it clashes with GSL). */
#include "schemes/codes/gradcode.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

#include "schemes/codes/decode_cache.h"

/* Singular values below this fraction of the largest are treated as zero:
 * repeated rows (frc's groups) give exact zeros up to rounding. */
#define SVD_RTOL 1e-10
/* Tries at drawing a permutation disjoint from the earlier ones (approx). */
#define PERM_TRIES 1000

static const char *const kind_names[] = {"naive", "ignore", "frc", "crc", "approx-gc"};
static const char *const decoder_names[] = {"optimal", "rescaled", "equal"};

static int name_index(const char *name, const char *const *names, int count)
{
    for (int i = 0; name && i < count; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

int gradcode_kind_parse(const char *name, enum gradcode_kind *kind)
{
    int i = name_index(name, kind_names, (int)(sizeof kind_names / sizeof *kind_names));
    if (i < 0)
        return -1;
    *kind = (enum gradcode_kind)i;
    return 0;
}

int gradcode_decoder_parse(const char *name, enum gradcode_decoder *dec)
{
    int i = name_index(name, decoder_names, (int)(sizeof decoder_names / sizeof *decoder_names));
    if (i < 0)
        return -1;
    *dec = (enum gradcode_decoder)i;
    return 0;
}

/* ---- constructions: each fills g->support (n x load) and g->B ---- */

static void build_identity(struct gradcode *g)
{
    for (int i = 0; i < g->n; i++) {
        g->support[i] = i;
        g->B[(size_t)i * g->n + i] = 1.0;
    }
}

static void build_frc(struct gradcode *g)
{
    int n = g->n, m = g->load; /* m = s + 1 workers per group, partitions per block */
    for (int i = 0; i < n; i++) {
        int first = (i / m) * m;
        for (int k = 0; k < m; k++) {
            g->support[i * m + k] = first + k;
            g->B[(size_t)i * n + first + k] = 1.0;
        }
    }
}

/* The random-H construction of Tandon et al. (their getB). */
static int build_crc(struct gradcode *g, struct rng *r, struct error *err)
{
    int n = g->n, s = g->s, m = g->load;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < m; k++)
            g->support[i * m + k] = (i + k) % n;
        g->B[(size_t)i * n + i] = 1.0;
    }
    if (s == 0)
        return 0;
    gsl_matrix *H = gsl_matrix_alloc((size_t)s, (size_t)n);
    gsl_matrix *A = gsl_matrix_alloc((size_t)s, (size_t)s);
    gsl_vector *rhs = gsl_vector_alloc((size_t)s), *x = gsl_vector_alloc((size_t)s);
    gsl_permutation *perm = gsl_permutation_alloc((size_t)s);
    int status = 0;
    if (!H || !A || !rhs || !x || !perm) {
        status = error_fail(err, "out of memory");
        goto done;
    }
    for (int row = 0; row < s; row++) { /* H 1 = 0 through the last column */
        double sum = 0.0;
        for (int j = 0; j < n - 1; j++) {
            double v = rng_normal(r);
            gsl_matrix_set(H, (size_t)row, (size_t)j, v);
            sum += v;
        }
        gsl_matrix_set(H, (size_t)row, (size_t)(n - 1), -sum);
    }
    for (int i = 0; i < n && !status; i++) {
        /* H[:, S_i \ i] x = -H[:, i] for the other s entries of row i */
        for (int row = 0; row < s; row++) {
            for (int k = 1; k < m; k++)
                gsl_matrix_set(A, (size_t)row, (size_t)(k - 1),
                               gsl_matrix_get(H, (size_t)row, (size_t)g->support[i * m + k]));
            gsl_vector_set(rhs, (size_t)row, -gsl_matrix_get(H, (size_t)row, (size_t)i));
        }
        int sign;
        if (gsl_linalg_LU_decomp(A, perm, &sign) || fabs(gsl_linalg_LU_det(A, sign)) < 1e-300 ||
            gsl_linalg_LU_solve(A, perm, rhs, x)) {
            status = error_fail(err, "crc: singular system for worker %d (redraw with another "
                                "seed)", i);
            break;
        }
        for (int k = 1; k < m; k++)
            g->B[(size_t)i * n + g->support[i * m + k]] = gsl_vector_get(x, (size_t)(k - 1));
    }
done:
    gsl_matrix_free(H);
    gsl_matrix_free(A);
    gsl_vector_free(rhs);
    gsl_vector_free(x);
    gsl_permutation_free(perm);
    return status;
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* True when perm gives no worker a partition it already holds in its first
 * `have` support entries. */
static bool perm_disjoint(const struct gradcode *g, const int *perm, int have)
{
    for (int i = 0; i < g->n; i++)
        for (int k = 0; k < have; k++)
            if (g->support[i * g->load + k] == perm[i])
                return false;
    return true;
}

/* A random d-regular bipartite graph as d disjoint random permutations;
 * when a permutation keeps colliding (dense graphs) the rest are shifts of
 * the first, which are disjoint by construction. */
static int build_approx(struct gradcode *g, struct rng *r, struct error *err)
{
    int n = g->n, d = g->load;
    int *perm = malloc((size_t)n * sizeof *perm), *first = malloc((size_t)n * sizeof *first);
    if (!perm || !first) {
        free(perm);
        free(first);
        return error_fail(err, "out of memory");
    }
    bool shifted = false;
    for (int k = 0; k < d; k++) {
        bool ok = false;
        for (int t = 0; t < PERM_TRIES && !shifted && !ok; t++) {
            for (int i = 0; i < n; i++)
                perm[i] = i;
            rng_shuffle_int(r, perm, (size_t)n);
            ok = perm_disjoint(g, perm, k);
        }
        if (k == 0)
            memcpy(first, perm, (size_t)n * sizeof *first);
        if (!ok) {
            shifted = true;
            for (int i = 0; i < n; i++)
                perm[i] = first[(i + k) % n];
        }
        for (int i = 0; i < n; i++)
            g->support[i * d + k] = perm[i];
    }
    for (int i = 0; i < n; i++) {
        qsort(g->support + i * d, (size_t)d, sizeof *g->support, int_cmp);
        for (int k = 0; k < d; k++)
            g->B[(size_t)i * n + g->support[i * d + k]] = 1.0 / d;
    }
    free(perm);
    free(first);
    return 0;
}

/* ---- decoding ---- */

/* Least squares B_F^T a = 1 (n equations, nf unknowns) through the SVD,
 * minimum-norm on rank-deficient patterns. */
static int decode_least_squares(const struct gradcode *g, const int *reported, int nf, double *a,
                                struct error *err)
{
    int n = g->n;
    gsl_matrix *U = gsl_matrix_calloc((size_t)n, (size_t)nf);
    gsl_matrix *V = gsl_matrix_alloc((size_t)nf, (size_t)nf);
    gsl_vector *S = gsl_vector_alloc((size_t)nf), *work = gsl_vector_alloc((size_t)nf);
    gsl_vector *ones = gsl_vector_alloc((size_t)n), *x = gsl_vector_alloc((size_t)nf);
    int status = 0;
    if (!U || !V || !S || !work || !ones || !x) {
        status = error_fail(err, "out of memory");
    } else {
        for (int l = 0; l < nf; l++)
            for (int k = 0; k < g->load; k++) {
                int j = g->support[reported[l] * g->load + k];
                gsl_matrix_set(U, (size_t)j, (size_t)l, g->B[(size_t)reported[l] * n + j]);
            }
        gsl_vector_set_all(ones, 1.0);
        if (gsl_linalg_SV_decomp(U, V, S, work)) {
            status = error_fail(err, "gradient code: SVD failed for a pattern of %d workers", nf);
        } else {
            double cut = SVD_RTOL * gsl_vector_get(S, 0);
            for (int l = 0; l < nf; l++)
                if (gsl_vector_get(S, (size_t)l) <= cut)
                    gsl_vector_set(S, (size_t)l, 0.0); /* SV_solve skips zeros */
            gsl_linalg_SV_solve(U, V, S, ones, x);
            for (int l = 0; l < nf; l++)
                a[l] = gsl_vector_get(x, (size_t)l);
        }
    }
    gsl_matrix_free(U);
    gsl_matrix_free(V);
    gsl_vector_free(S);
    gsl_vector_free(work);
    gsl_vector_free(ones);
    gsl_vector_free(x);
    return status;
}

static double row_sum(const struct gradcode *g, int i)
{
    double sum = 0.0;
    for (int k = 0; k < g->load; k++)
        sum += g->B[(size_t)i * g->n + g->support[i * g->load + k]];
    return sum;
}

/* decode_cache builder: D is the 1 x nf decoding vector. */
static int decode_build(void *ctx, const int *reported, int nf, double *a, struct error *err)
{
    const struct gradcode *g = ctx;
    if (g->decoder == GRADCODE_EQUAL) {
        for (int l = 0; l < nf; l++)
            a[l] = (double)g->n * g->n / (nf * g->total);
        return 0;
    }
    int status = decode_least_squares(g, reported, nf, a, err);
    if (status || g->decoder != GRADCODE_RESCALED)
        return status;
    double weight = 0.0; /* a^T B 1 */
    for (int l = 0; l < nf; l++)
        weight += a[l] * row_sum(g, reported[l]);
    if (weight > DBL_EPSILON * g->n)
        for (int l = 0; l < nf; l++)
            a[l] *= g->n / weight;
    return 0;
}

/* ---- the public face ---- */

static int check_shape(enum gradcode_kind kind, int n, int s, int degree, struct error *err)
{
    if (n < 1)
        return error_at(err, NULL, 0, "a gradient code needs n >= 1 workers (n = %d)", n);
    if (s < 0 || s >= n)
        return error_at(err, NULL, 0, "stragglers must be in 0..n-1 (n = %d, s = %d)", n, s);
    if (kind == GRADCODE_FRC && n % (s + 1) != 0)
        return error_at(err, NULL, 0, "frc needs s+1 to divide n (n = %d, s = %d)", n, s);
    if (kind == GRADCODE_APPROX && (degree < 1 || degree > n))
        return error_at(err, NULL, 0, "approx-gc needs a degree in 1..n (n = %d, degree = %d)",
                        n, degree);
    return 0;
}

int gradcode_new(struct gradcode **out, enum gradcode_kind kind, enum gradcode_decoder dec,
                 int n, int s, int degree, struct rng *r, struct error *err)
{
    *out = NULL;
    int status = check_shape(kind, n, s, degree, err);
    if (status)
        return status;
    if ((kind == GRADCODE_CRC || kind == GRADCODE_APPROX) && !r)
        return error_fail(err, "%s needs a random stream", kind_names[kind]);
    struct gradcode *g = calloc(1, sizeof *g);
    if (!g)
        return error_fail(err, "out of memory");
    g->kind = kind;
    g->decoder = dec;
    g->n = n;
    g->s = s;
    g->load = kind == GRADCODE_FRC || kind == GRADCODE_CRC ? s + 1
              : kind == GRADCODE_APPROX                    ? degree
                                                           : 1;
    g->B = calloc((size_t)n * n, sizeof *g->B);
    g->support = malloc((size_t)n * g->load * sizeof *g->support);
    g->cache = decode_cache_new(n, 1, 0, decode_build, g);
    if (!g->B || !g->support || !g->cache) {
        gradcode_free(g);
        return error_fail(err, "out of memory");
    }
    gsl_error_handler_t *old = gsl_set_error_handler_off(); /* statuses, not abort() */
    switch (kind) {
    case GRADCODE_NAIVE:
    case GRADCODE_IGNORE: build_identity(g); break;
    case GRADCODE_FRC: build_frc(g); break;
    case GRADCODE_CRC: status = build_crc(g, r, err); break;
    case GRADCODE_APPROX: status = build_approx(g, r, err); break;
    }
    gsl_set_error_handler(old);
    if (status) {
        gradcode_free(g);
        return status;
    }
    for (int i = 0; i < n; i++)
        g->total += row_sum(g, i);
    *out = g;
    return 0;
}

void gradcode_free(struct gradcode *g)
{
    if (!g)
        return;
    decode_cache_free(g->cache);
    free(g->B);
    free(g->support);
    free(g);
}

int gradcode_wait(const struct gradcode *g)
{
    return g->kind == GRADCODE_NAIVE ? g->n : g->n - g->s;
}

int gradcode_groups(const struct gradcode *g)
{
    return g->kind == GRADCODE_FRC ? g->n / g->load : g->n;
}

int gradcode_group(const struct gradcode *g, int worker)
{
    return g->kind == GRADCODE_FRC ? worker / g->load : worker;
}

bool gradcode_ready(const struct gradcode *g, int nf, int groups_covered)
{
    if (g->kind == GRADCODE_FRC && groups_covered == gradcode_groups(g))
        return true;
    return nf >= gradcode_wait(g);
}

int gradcode_decode(struct gradcode *g, const int *reported, int nf, const double **a,
                    struct error *err)
{
    static const double none = 0.0;
    if (nf == 0) {
        *a = &none;
        return 0;
    }
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int status = decode_cache_get(g->cache, reported, nf, a, err);
    gsl_set_error_handler(old);
    return status;
}

double gradcode_residual(const struct gradcode *g, const int *reported, int nf, const double *a)
{
    int n = g->n;
    double *c = calloc((size_t)n, sizeof *c); /* c = a^T B_F */
    if (!c)
        return NAN;
    for (int l = 0; l < nf; l++)
        for (int k = 0; k < g->load; k++) {
            int j = g->support[reported[l] * g->load + k];
            c[j] += a[l] * g->B[(size_t)reported[l] * n + j];
        }
    double sum = 0.0;
    for (int j = 0; j < n; j++)
        sum += (c[j] - 1.0) * (c[j] - 1.0);
    free(c);
    return sqrt(sum);
}

unsigned long gradcode_cache_hits(const struct gradcode *g)
{
    return (unsigned long)decode_cache_hits(g->cache);
}

unsigned long gradcode_cache_misses(const struct gradcode *g)
{
    return (unsigned long)decode_cache_misses(g->cache);
}
