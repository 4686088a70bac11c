/* code_spline.h: the natural cubic smoothing spline as a linear operator,
 * the encoder and decoder of NeRCC (Moradi & Maddah-Ali). Builds small
 * double matrices; no model, no caching, no config parsing (schemes/nercc.c).
 *
 * For knots t_1..t_n (distinct, any order) and values y (one column per
 * coordinate) the spline g minimises the MEAN-normalised objective
 *     (1/n) sum_i (y_i - g(t_i))^2 + lambda * integral g''(t)^2 dt,
 * i.e. the sum-normalised penalty of Green & Silverman and of SciPy's
 * make_smoothing_spline(x, y, lam=...) is lam = n * lambda. The mean form
 * is our reading of NeRCC's objectives (Moradi & Maddah-Ali, arXiv
 * 2402.04377), and it keeps a given lambda meaning the same smoothing when
 * stragglers shrink the returned set.
 * lambda = 0 is natural cubic spline interpolation.
 *
 * Computed in Reinsch form (Green & Silverman, "Nonparametric Regression
 * and Generalized Linear Models", Chapman & Hall 1994, ch. 2): (R + n lambda Q^T Q) gamma = Q^T y,
 * a pentadiagonal SPD system solved by LAPACK dpbsv (in libopenblas), fitted
 * values g = y - n lambda Q gamma, second derivatives gamma (zero at the
 * ends). Outside [min t, max t] the spline is extended LINEARLY with its end
 * slopes (its natural extension, g'' = 0), not by the end cubic.
 */
#ifndef STRAG_CODE_SPLINE_H
#define STRAG_CODE_SPLINE_H

#include "base/error.h"

/* A (m x n, row-major): row r holds the weights with which the spline
 * through knots t[0..n-1] takes its value at x[r], so g(x) = A y. Rows sum
 * to 1 (constants are reproduced). n = 1 gives the constant, n = 2 the line.
 * Returns STRAG_EFAIL (with a message) for repeated knots, n < 1, lambda < 0,
 * a failed solve or out of memory. */
int spline_matrix(const double *t, int n, double lambda, const double *x, int m, double *A,
                  struct error *err);

/* The node sets of the spline codes (nercc, letcc), by their config names:
 * worker nodes "n" cos(i pi/N), "n-1" cos(i pi/(N-1)) (code_berrut.h) or
 * "uniform" N equispaced in [-1, 1] (1 - 2i/(N-1), decreasing; N = 1 gives
 * 0); data nodes "chebyshev" cos((2j+1) pi/(2K)) or "uniform" K equispaced
 * in the open interval (-1, 1) (1 - (2j+1)/K, the midpoints of K equal
 * cells). An unknown name is the caller's bug (the config checks choices). */
void spline_worker_nodes(const char *family, int n, double *beta);
void spline_data_nodes(const char *family, int k, double *alpha);

#endif
