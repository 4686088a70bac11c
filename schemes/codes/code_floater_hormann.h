/* code_floater_hormann.h: Floater-Hormann barycentric rational interpolation
 * (Floater & Hormann, Numer. Math. 107 (2007) 315-331) as a linear code:
 * the encoder E and the decoder D_F of the `barycentric` scheme (BRI codes,
 * Qiu, Zhu, Niyato et al., arXiv 2509.09435). Node sets are Berrut's
 * (code_berrut.h); matrices follow its conventions (row-major, E is N x K,
 * D_F is K x |F|).
 *
 * Through m monotone nodes x_0..x_{m-1} with blending degree d (0 <= d <=
 * m-1) the interpolant is r(t) = sum_k b_k(t) f_k with
 *   b_k(t) = (w_k / (t - x_k)) / sum_l (w_l / (t - x_l)),
 *   w_k = sum_{i in J_k} (-1)^i prod_{j=i..i+d, j != k} 1 / (x_k - x_j),
 *   J_k = {i : max(0, k-d) <= i <= min(k, m-1-d)},
 * the barycentric form of the paper's r(t) = sum_i phi_i(t) l_i(t) /
 * sum_i phi_i(t) (l_i the polynomial through x_i..x_{i+d}, phi_i(t) =
 * prod_{j<i} (t - x_j) prod_{j>i+d} (x_j - t)). No real poles, and error
 * O(h^{d+1}) for smooth f. d = 0 gives w_k = (-1)^k: Berrut's interpolant,
 * bit for bit what code_berrut.c computes. Decreasing nodes (Berrut's) are
 * fine: reversing the order multiplies every w_k by the same sign.
 * A point within BERRUT_COLLISION of a node gets the unit row.
 */
#ifndef STRAG_CODE_FLOATER_HORMANN_H
#define STRAG_CODE_FLOATER_HORMANN_H

#include "base/error.h"

/* w[0..m-1]: the weights of the nodes x[idx[0..m-1]] (idx NULL: x[0..m-1]),
 * strictly monotone, 0 <= d <= m-1. */
void fh_weights(const double *x, const int *idx, int m, int d, double *w);

/* row[0..m-1] = b_0(t) .. b_{m-1}(t) for the nodes x[idx[..]] and weights w
 * (they sum to 1). */
void fh_row(const double *x, const int *idx, int m, const double *w, double t, double *row);

/* E (n x k): row r is the interpolant through alpha[0..k-1] (degree d <=
 * k-1) evaluated at z[r]. STRAG_EFAIL when out of memory. */
int fh_encoder(const double *alpha, int k, const double *z, int n, int d, double *E,
               struct error *err);

/* D (k x nf): the interpolant through z[returned[0..nf-1]] (returned strictly
 * increasing, nf >= 1) evaluated at alpha[0..k-1], with blending degree
 * min(d, nf-1): fewer returned results than d+1 lower the degree, so any
 * nf >= 1 decodes. STRAG_EFAIL when out of memory. */
int fh_decoder(const double *alpha, int k, const double *z, const int *returned, int nf, int d,
               double *D, struct error *err);

#endif
