/* code_lagrange.c: barycentric Lagrange encoder and decoder matrices (see
 * code_lagrange.h). */
#include "schemes/codes/code_lagrange.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NODE(x, idx, i) ((x)[(idx) ? (idx)[i] : (i)])

void lagrange_chebyshev_nodes(int n, double *x)
{
    for (int i = 0; i < n; i++)
        x[i] = cos((2.0 * i + 1.0) * M_PI / (2.0 * n));
}

void lagrange_barycentric_weights(const double *x, const int *idx, int n, double *w)
{
    /* Products of n-1 differences under/overflow for large n: work in logs
     * and drop a common factor (it cancels in the second barycentric form). */
    double maxlog = -INFINITY;
    for (int j = 0; j < n; j++) {
        double s = 0.0;
        for (int k = 0; k < n; k++)
            if (k != j)
                s -= log(fabs(NODE(x, idx, j) - NODE(x, idx, k)));
        w[j] = s;
        if (s > maxlog)
            maxlog = s;
    }
    for (int j = 0; j < n; j++) {
        int negative = 0;
        for (int k = 0; k < n; k++)
            negative ^= k != j && NODE(x, idx, j) < NODE(x, idx, k);
        w[j] = (negative ? -1.0 : 1.0) * exp(w[j] - maxlog);
    }
}

void lagrange_basis(const double *x, const int *idx, const double *w, int n, double t,
                    double *out)
{
    for (int j = 0; j < n; j++) {
        if (fabs(t - NODE(x, idx, j)) < LAGRANGE_COLLISION) {
            memset(out, 0, (size_t)n * sizeof *out);
            out[j] = 1.0;
            return;
        }
    }
    double sum = 0.0;
    for (int j = 0; j < n; j++) {
        out[j] = w[j] / (t - NODE(x, idx, j));
        sum += out[j];
    }
    for (int j = 0; j < n; j++)
        out[j] /= sum;
}

/* M (m x n): the basis of nodes x[idx[.]] at the points t[0..m-1]. */
static int lagrange_matrix(const double *x, const int *idx, int n, const double *t, int m,
                           double *M, struct error *err)
{
    double *w = malloc((size_t)(n > 0 ? n : 1) * sizeof *w);
    if (!w)
        return error_fail(err, "lagrange: out of memory");
    lagrange_barycentric_weights(x, idx, n, w);
    for (int r = 0; r < m; r++)
        lagrange_basis(x, idx, w, n, t[r], M + (size_t)r * n);
    free(w);
    return STRAG_OK;
}

int lagrange_encoder(const double *alpha, int k, const double *z, int n, double *E,
                     struct error *err)
{
    return lagrange_matrix(alpha, NULL, k, z, n, E, err);
}

int lagrange_decoder(const double *alpha, int k, const double *z, const int *used, int count,
                     double *D, struct error *err)
{
    return lagrange_matrix(z, used, count, alpha, k, D, err);
}
