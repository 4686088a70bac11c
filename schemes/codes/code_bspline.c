/* code_bspline.c: evaluation matrix of an interpolating spline in the
 * B-spline basis (Cox-de Boor recurrence with derivatives, dense collocation
 * solve by LAPACK dgesv). See code_bspline.h for the knots and boundary
 * conditions. */
#include "schemes/codes/code_bspline.h"

#include <stdlib.h>
#include <string.h>

/* LAPACK (shipped inside libopenblas): dense LU solve. */
void dgesv_(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv, double *b,
            const int *ldb, int *info);

enum { BSPLINE_MAX_DEGREE = 7 };

struct site {
    double t;
    int index; /* position in the caller's order */
};

static int site_cmp(const void *a, const void *b)
{
    double x = ((const struct site *)a)->t, y = ((const struct site *)b)->t;
    return (x > y) - (x < y);
}

int bspline_min_sites(int k, enum bspline_boundary bc)
{
    return bc == BSPLINE_NATURAL ? 2 : k + 1;
}

int bspline_span(const double *knots, int nb, int k, double x)
{
    if (x >= knots[nb])
        return nb - 1;
    int lo = k, hi = nb; /* knots[lo] <= x < knots[hi], or x left of the range */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (knots[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The triangular table of Piegl & Tiller, "The NURBS Book" (2nd ed.),
 * algorithm A2.3: ndu[j][r] (r < j) knot differences, ndu[r][j] (r <= j)
 * the basis functions of degree j; then the derivatives of order `ders`
 * from the differences of the degree k - ders functions. */
void bspline_basis(const double *knots, int span, int k, double x, int ders, double *out)
{
    double ndu[BSPLINE_MAX_DEGREE + 1][BSPLINE_MAX_DEGREE + 1];
    double left[BSPLINE_MAX_DEGREE + 1], right[BSPLINE_MAX_DEGREE + 1];
    ndu[0][0] = 1.0;
    for (int j = 1; j <= k; j++) {
        left[j] = x - knots[span + 1 - j];
        right[j] = knots[span + j] - x;
        double saved = 0.0;
        for (int r = 0; r < j; r++) {
            ndu[j][r] = right[r + 1] + left[j - r];
            double temp = ndu[r][j - 1] / ndu[j][r];
            ndu[r][j] = saved + right[r + 1] * temp;
            saved = left[j - r] * temp;
        }
        ndu[j][j] = saved;
    }
    if (ders == 0) {
        for (int j = 0; j <= k; j++)
            out[j] = ndu[j][k];
        return;
    }
    double a[2][BSPLINE_MAX_DEGREE + 1];
    for (int r = 0; r <= k; r++) {
        int s1 = 0, s2 = 1;
        a[0][0] = 1.0;
        double d = 0.0;
        for (int q = 1; q <= ders; q++) {
            d = 0.0;
            int rk = r - q, pk = k - q;
            if (r >= q) {
                a[s2][0] = a[s1][0] / ndu[pk + 1][rk];
                d = a[s2][0] * ndu[rk][pk];
            }
            int j1 = rk >= -1 ? 1 : -rk, j2 = r - 1 <= pk ? q - 1 : k - r;
            for (int j = j1; j <= j2; j++) {
                a[s2][j] = (a[s1][j] - a[s1][j - 1]) / ndu[pk + 1][rk + j];
                d += a[s2][j] * ndu[rk + j][pk];
            }
            if (r <= pk) {
                a[s2][q] = -a[s1][q - 1] / ndu[pk + 1][r];
                d += a[s2][q] * ndu[r][pk];
            }
            int t = s1;
            s1 = s2;
            s2 = t;
        }
        out[r] = d;
    }
    double factor = 1.0; /* k! / (k - ders)! */
    for (int q = 0; q < ders; q++)
        factor *= k - q;
    for (int j = 0; j <= k; j++)
        out[j] *= factor;
}

/* One row of the collocation system: derivative `ders` of the nb
 * B-splines at x, into row[0..nb-1]. */
static void basis_row(const double *knots, int nb, int k, double x, int ders, double *row)
{
    double local[BSPLINE_MAX_DEGREE + 1];
    int span = bspline_span(knots, nb, k, x);
    memset(row, 0, (size_t)nb * sizeof *row);
    bspline_basis(knots, span, k, x, ders, local);
    for (int j = 0; j <= k; j++)
        row[span - k + j] = local[j];
}

/* The B-spline row that gives s(x): basis values, or beyond the end sites
 * with the linear extension, value plus (x - end) times slope at the end.
 * scratch holds nb doubles. */
static void value_row(const double *knots, int nb, int k, const double *ts, int n,
                      enum bspline_extension ext, double x, double *row, double *scratch)
{
    double end = x < ts[0] ? ts[0] : x > ts[n - 1] ? ts[n - 1] : x;
    if (ext != BSPLINE_EXTEND_LINEAR || end == x) {
        basis_row(knots, nb, k, x, 0, row);
        return;
    }
    basis_row(knots, nb, k, end, 0, row);
    basis_row(knots, nb, k, end, 1, scratch);
    for (int j = 0; j < nb; j++)
        row[j] += (x - end) * scratch[j];
}

int bspline_interp_matrix(const double *t, int n, int k, enum bspline_boundary bc,
                          enum bspline_extension ext, const double *x, int m, double *A,
                          struct error *err)
{
    if (k < 1 || k > BSPLINE_MAX_DEGREE || k % 2 == 0)
        return error_fail(err, "bspline: degree must be odd, 1 to %d (got %d)",
                          BSPLINE_MAX_DEGREE, k);
    if (bc == BSPLINE_NATURAL && k != 3)
        return error_fail(err, "bspline: the natural boundary needs degree 3 (got %d)", k);
    if (n < bspline_min_sites(k, bc))
        return error_fail(err, "bspline: %d sites are too few for degree %d (needs %d)", n, k,
                          bspline_min_sites(k, bc));
    int nleft = bc == BSPLINE_NATURAL ? 1 : 0;
    int nb = n + 2 * nleft; /* B-splines = unknowns = conditions */
    int nknots = nb + k + 1;
    struct site *ss = malloc((size_t)n * sizeof *ss);
    double *buf = malloc(((size_t)n + nknots + (size_t)nb * nb + (size_t)nb * m + nb) *
                         sizeof *buf);
    int *ipiv = malloc((size_t)nb * sizeof *ipiv);
    int status = STRAG_OK;
    if (!ss || !buf || !ipiv) {
        status = error_fail(err, "bspline: out of memory");
        goto out;
    }
    double *ts = buf, *knots = ts + n, *M = knots + nknots, *Z = M + (size_t)nb * nb;
    double *scratch = Z + (size_t)nb * m;
    for (int i = 0; i < n; i++)
        ss[i] = (struct site){t[i], i};
    qsort(ss, (size_t)n, sizeof *ss, site_cmp);
    for (int i = 0; i < n; i++) {
        ts[i] = ss[i].t;
        if (i > 0 && !(ts[i] > ts[i - 1])) {
            status = error_fail(err, "bspline: sites must be distinct (%.17g repeats)", ts[i]);
            goto out;
        }
    }

    /* The knot vector (code_bspline.h). */
    int q = 0;
    if (bc == BSPLINE_NATURAL) {
        for (int j = 0; j < k; j++)
            knots[q++] = ts[0];
        for (int i = 0; i < n; i++)
            knots[q++] = ts[i];
        for (int j = 0; j < k; j++)
            knots[q++] = ts[n - 1];
    } else {
        int half = (k - 1) / 2;
        for (int j = 0; j <= k; j++)
            knots[q++] = ts[0];
        for (int i = half + 1; i < n - half - 1; i++)
            knots[q++] = ts[i];
        for (int j = 0; j <= k; j++)
            knots[q++] = ts[n - 1];
    }

    /* M (row-major): row c is condition c; read column-major by dgesv it is
     * M^T, so the solve gives Z = M^-T b(x): s(x) = b(x)^T M^-1 rhs = Z^T rhs,
     * rhs = (0, y, 0) for natural. */
    if (nleft)
        basis_row(knots, nb, k, ts[0], 2, M);
    for (int i = 0; i < n; i++)
        basis_row(knots, nb, k, ts[i], 0, M + (size_t)(nleft + i) * nb);
    if (nleft)
        basis_row(knots, nb, k, ts[n - 1], 2, M + (size_t)(nb - 1) * nb);
    for (int r = 0; r < m; r++)
        value_row(knots, nb, k, ts, n, ext, x[r], Z + (size_t)r * nb, scratch);
    int info = 0;
    dgesv_(&nb, &m, M, &nb, ipiv, Z, &nb, &info);
    if (info != 0) {
        status = error_fail(err, "bspline: collocation solve failed (dgesv info %d)", info);
        goto out;
    }
    for (int r = 0; r < m; r++)
        for (int i = 0; i < n; i++)
            A[(size_t)r * n + ss[i].index] = Z[(size_t)r * nb + nleft + i];
out:
    free(ss);
    free(buf);
    free(ipiv);
    return status;
}
