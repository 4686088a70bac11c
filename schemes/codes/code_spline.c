/* code_spline.c: evaluation matrix of a natural cubic smoothing spline
 * (Reinsch / Green-Silverman form, banded Cholesky through LAPACK dpbsv).
 * See code_spline.h for the objective and its lambda normalisation. */
#include "schemes/codes/code_spline.h"

#include "schemes/codes/code_berrut.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK (shipped inside libopenblas): banded SPD solve. The trailing size_t
 * is gfortran's hidden length of the character argument. */
void dpbsv_(const char *uplo, const int *n, const int *kd, const int *nrhs, double *ab,
            const int *ldab, double *b, const int *ldb, int *info, size_t uplo_len);

struct knot {
    double t;
    int index; /* position in the caller's order */
};

static int knot_cmp(const void *a, const void *b)
{
    double x = ((const struct knot *)a)->t, y = ((const struct knot *)b)->t;
    return (x > y) - (x < y);
}

/* Row of the operator at x given the fitted-value operator G (n x n) and the
 * second-derivative operator Gam (n x n, rows 0 and n-1 zero), both in
 * sorted-knot order; writes n weights into out (sorted order). */
static void spline_row(const double *ts, const double *h, int n, const double *G,
                       const double *Gam, double x, double *out)
{
    if (x <= ts[0] || x >= ts[n - 1]) {
        /* linear extension: g(end) + g'(end) (x - end) */
        bool left = x <= ts[0];
        int i = left ? 0 : n - 2; /* the end interval */
        double hi = h[i], dx = left ? x - ts[0] : x - ts[n - 1];
        for (int c = 0; c < n; c++) {
            double g0 = G[(size_t)i * n + c], g1 = G[(size_t)(i + 1) * n + c];
            double c0 = Gam[(size_t)i * n + c], c1 = Gam[(size_t)(i + 1) * n + c];
            double slope = left ? (g1 - g0) / hi - hi / 6.0 * (c1 + 2.0 * c0)
                                : (g1 - g0) / hi + hi / 6.0 * (2.0 * c1 + c0);
            out[c] = (left ? g0 : g1) + slope * dx;
        }
        return;
    }
    int lo = 0, hi_i = n - 1; /* ts[lo] <= x < ts[hi_i] */
    while (hi_i - lo > 1) {
        int mid = (lo + hi_i) / 2;
        if (ts[mid] <= x)
            lo = mid;
        else
            hi_i = mid;
    }
    int i = lo;
    double hh = h[i], a = x - ts[i], b = ts[i + 1] - x;
    for (int c = 0; c < n; c++) {
        double g0 = G[(size_t)i * n + c], g1 = G[(size_t)(i + 1) * n + c];
        double c0 = Gam[(size_t)i * n + c], c1 = Gam[(size_t)(i + 1) * n + c];
        out[c] = (a * g1 + b * g0) / hh - a * b / 6.0 * ((1.0 + a / hh) * c1 + (1.0 + b / hh) * c0);
    }
}

int spline_matrix(const double *t, int n, double lambda, const double *x, int m, double *A,
                  struct error *err)
{
    if (n < 1 || !(lambda >= 0.0))
        return error_fail(err, "spline: need n >= 1 knots and lambda >= 0 (n %d, lambda %g)", n,
                          lambda);
    if (n == 1) {
        for (int r = 0; r < m; r++)
            A[r] = 1.0;
        return STRAG_OK;
    }
    size_t nn = (size_t)n * n;
    int ni = n - 2; /* interior knots: unknown second derivatives */
    struct knot *ks = malloc((size_t)n * sizeof *ks);
    /* ts, h | G, Gam | band (3 x ni) | row scratch */
    double *buf = malloc((2 * (size_t)n + 2 * nn + 3 * (size_t)(ni > 0 ? ni : 1) + n) * sizeof *buf);
    if (!ks || !buf) {
        free(ks);
        free(buf);
        return error_fail(err, "spline: out of memory");
    }
    double *ts = buf, *h = ts + n, *G = h + n, *Gam = G + nn, *ab = Gam + nn;
    double *row = ab + 3 * (size_t)(ni > 0 ? ni : 1);
    int status = STRAG_OK;

    for (int i = 0; i < n; i++)
        ks[i] = (struct knot){t[i], i};
    qsort(ks, (size_t)n, sizeof *ks, knot_cmp);
    for (int i = 0; i < n; i++)
        ts[i] = ks[i].t;
    for (int i = 0; i + 1 < n; i++) {
        h[i] = ts[i + 1] - ts[i];
        if (!(h[i] > 0.0)) {
            status = error_fail(err, "spline: knots must be distinct (%.17g repeats)", ts[i]);
            goto out;
        }
    }

    /* G = I, Gam = 0 (sorted order); a line (n = 2) has no interior. */
    memset(G, 0, 2 * nn * sizeof *G);
    for (int i = 0; i < n; i++)
        G[(size_t)i * n + i] = 1.0;
    if (ni > 0) {
        double lam = lambda * n; /* sum-normalised penalty */
        /* Q column c (interior knot c+1) has qa, qb, qd at rows c, c+1, c+2. */
        #define QA(c) (1.0 / h[(c)])
        #define QB(c) (-1.0 / h[(c)] - 1.0 / h[(c) + 1])
        #define QD(c) (1.0 / h[(c) + 1])
        /* Upper band, column-major: ab[(2 + i - j) + 3 j] = M[i][j], j-2 <= i <= j. */
        for (int j = 0; j < ni; j++) {
            ab[2 + 3 * j] = (h[j] + h[j + 1]) / 3.0
                          + lam * (QA(j) * QA(j) + QB(j) * QB(j) + QD(j) * QD(j));
            ab[1 + 3 * j] = j >= 1 ? h[j] / 6.0 + lam * (QB(j - 1) * QA(j) + QD(j - 1) * QB(j)) : 0;
            ab[0 + 3 * j] = j >= 2 ? lam * QD(j - 2) * QA(j) : 0.0;
        }
        /* Right-hand side Q^T I (ni x n, column-major with ld ni), solved in place:
         * column c of the solution is gamma for the unit data vector e_c. */
        double *sol = malloc((size_t)ni * n * sizeof *sol);
        if (!sol) {
            status = error_fail(err, "spline: out of memory");
            goto out;
        }
        memset(sol, 0, (size_t)ni * n * sizeof *sol);
        for (int c = 0; c < ni; c++) {
            sol[(size_t)c * ni + c] = QA(c); /* data column c -> row c of Q^T */
            sol[(size_t)(c + 1) * ni + c] = QB(c);
            sol[(size_t)(c + 2) * ni + c] = QD(c);
        }
        int kd = 2, ldab = 3, info = 0;
        dpbsv_("U", &ni, &kd, &n, ab, &ldab, sol, &ni, &info, 1);
        if (info != 0) {
            free(sol);
            status = error_fail(err, "spline: banded solve failed (dpbsv info %d)", info);
            goto out;
        }
        /* Gam rows 1..n-2 = sol (transposed into row-major); G -= lam Q Gam_interior. */
        for (int c = 0; c < ni; c++)
            for (int col = 0; col < n; col++)
                Gam[(size_t)(c + 1) * n + col] = sol[(size_t)col * ni + c];
        free(sol);
        for (int c = 0; c < ni; c++) {
            const double *gr = Gam + (size_t)(c + 1) * n;
            for (int col = 0; col < n; col++) {
                G[(size_t)c * n + col] -= lam * QA(c) * gr[col];
                G[(size_t)(c + 1) * n + col] -= lam * QB(c) * gr[col];
                G[(size_t)(c + 2) * n + col] -= lam * QD(c) * gr[col];
            }
        }
        #undef QA
        #undef QB
        #undef QD
    }

    for (int r = 0; r < m; r++) {
        spline_row(ts, h, n, G, Gam, x[r], row);
        for (int s = 0; s < n; s++)
            A[(size_t)r * n + ks[s].index] = row[s];
    }
out:
    free(ks);
    free(buf);
    return status;
}

void spline_worker_nodes(const char *family, int n, double *beta)
{
    if (strcmp(family, "uniform") == 0)
        for (int i = 0; i < n; i++)
            beta[i] = n > 1 ? 1.0 - 2.0 * i / (n - 1) : 0.0;
    else
        berrut_worker_nodes(n, strcmp(family, "n-1") == 0 ? BERRUT_NODES_N_MINUS1 : BERRUT_NODES_N,
                            beta);
}

void spline_data_nodes(const char *family, int k, double *alpha)
{
    if (strcmp(family, "uniform") == 0)
        for (int j = 0; j < k; j++)
            alpha[j] = 1.0 - (2.0 * j + 1.0) / k;
    else
        berrut_data_nodes(k, alpha);
}
