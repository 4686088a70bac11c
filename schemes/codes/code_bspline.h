/* code_bspline.h: spline interpolation in the B-spline basis as a linear
 * operator, the decoder (and optionally the encoder) of BSCC, Basis-Spline
 * Assisted Coded Computing (Borah, Harshan & Lalitha, arXiv 2601.10616).
 * Builds small double matrices; no model, no caching, no config parsing
 * (schemes/bspline.c).
 *
 * For sites t_1..t_n (distinct, any order) and values y the interpolant is
 * s(x) = sum_i c_i B_{i,k}(x), B_{i,k} the B-splines of odd degree k on the
 * knot vector below, with s(t_i) = y_i and
 *   not-a-knot (any odd k): knots t_(1) repeated k+1 times, the interior
 *     sites t_(m+2) .. t_(n-m-1) (m = (k-1)/2, sorted order), t_(n) repeated
 *     k+1 times: n B-splines, n conditions (de Boor, "A Practical Guide to
 *     Splines", XIII(12); SciPy's make_interp_spline(x, y, k) default);
 *     for k = 3: the cubic not-a-knot spline; k = 1: the broken line;
 *   natural (k = 3 only): knots t_(1) x3, every site, t_(n) x3: n + 2
 *     B-splines, the n conditions and s'' = 0 at both end sites
 *     (make_interp_spline(..., bc_type="natural")).
 * The collocation system is solved densely by LAPACK dgesv (n is a few
 * tens of workers). Outside [min t, max t] s continues its end polynomial
 * pieces (SciPy's BSpline(extrapolate=True)), or, with BSPLINE_EXTEND_LINEAR,
 * the line through its end value with its end slope.
 * Error (Hall & Meyer 1976 for the complete cubic; the not-a-knot and
 * natural cubics share the h^4 order away from the ends for smooth f):
 * ||f - s||_inf = O(h^(k+1)), h the largest gap between sorted sites.
 */
#ifndef STRAG_CODE_BSPLINE_H
#define STRAG_CODE_BSPLINE_H

#include "base/error.h"

enum bspline_boundary {
    BSPLINE_NOT_A_KNOT,
    BSPLINE_NATURAL, /* cubic only */
};

/* What s is beyond the end sites. */
enum bspline_extension {
    BSPLINE_EXTEND_POLYNOMIAL, /* the end polynomial pieces, continued */
    BSPLINE_EXTEND_LINEAR,     /* s(end) + s'(end) (x - end) */
};

/* Sites an interpolating spline of degree k with boundary bc needs: k + 1
 * for not-a-knot, 2 for natural. */
int bspline_min_sites(int k, enum bspline_boundary bc);

/* Values (ders = 0) or derivatives of order ders (<= k) at x of the k + 1
 * B-splines of degree k that can be nonzero on the knot span `span`
 * (knots[span] <= x < knots[span + 1] inside the range; any x: the span's
 * polynomial pieces), into out[0..k]: B_{span-k} .. B_{span}. */
void bspline_basis(const double *knots, int span, int k, double x, int ders, double *out);

/* The knot span of x for the nb B-splines of degree k on knots[0..nb+k]:
 * the largest i in [k, nb-1] with knots[i] <= x, clamped to that range. */
int bspline_span(const double *knots, int nb, int k, double x);

/* A (m x n, row-major): row r holds the weights with which the interpolant
 * through sites t[0..n-1], extended by ext, takes its value at x[r], so
 * s(x) = A y. Rows sum
 * to 1. Returns STRAG_EFAIL (with a message) for an even or out-of-range
 * degree (1..7), natural with k != 3, n below bspline_min_sites, repeated
 * sites, a singular system or out of memory. */
int bspline_interp_matrix(const double *t, int n, int k, enum bspline_boundary bc,
                          enum bspline_extension ext, const double *x, int m, double *A,
                          struct error *err);

#endif
