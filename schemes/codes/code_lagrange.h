/* code_lagrange.h: the mathematics of Lagrange coded computing (Yu et al.,
 * AISTATS 2019) over the reals: Chebyshev node sets, the encoder matrix E
 * and the interpolating decoder D_F, all through the second (true)
 * barycentric formula. Small double matrices only; no model, no caching, no
 * config (schemes/lagrange.c).
 *
 * Encoding: u(z) = sum_j x_j l_j(z), l_j the Lagrange basis of the K data
 * nodes; worker n gets u(z_n), so E[n,j] = l_j(z_n) (N x K, row-major).
 * Decoding: interpolate the chosen returned results by the polynomial of
 * degree (count - 1) through their worker nodes and evaluate it at the data
 * nodes: D[j,l] = L_l(alpha_j) (K x count). For a polynomial f of degree
 * deg f, f(u(z)) has degree (K-1) deg f, so any R = (K-1) deg f + 1 results
 * recover f(x_j) exactly (up to rounding); for other f this is the
 * approximate (Runge-prone) baseline of Lagrange coded computing (Yu et
 * al., AISTATS 2019, arXiv 1806.00939).
 * A point within LAGRANGE_COLLISION of a node gets the unit row.
 */
#ifndef STRAG_CODE_LAGRANGE_H
#define STRAG_CODE_LAGRANGE_H

#include "base/error.h"

#define LAGRANGE_COLLISION 1e-14

/* x[0..n-1] = cos((2i+1) pi / (2n)): Chebyshev points of the first kind. */
void lagrange_chebyshev_nodes(int n, double *x);

/* w[0..n-1]: the barycentric weights 1 / prod_{k != j} (x_j - x_k) of the
 * distinct nodes x[idx[0..n-1]] (idx NULL: x[0..n-1]), rescaled by a common factor (which cancels in
 * the second form) so that the largest is 1 in magnitude. */
void lagrange_barycentric_weights(const double *x, const int *idx, int n, double *w);

/* out[0..n-1]: the Lagrange basis of nodes x[idx[.]] (weights w from above) at t. */
void lagrange_basis(const double *x, const int *idx, const double *w, int n, double t,
                    double *out);

/* E (n x k): row r is the basis of the data nodes alpha[0..k-1] at z[r].
 * Returns STRAG_OK, or STRAG_EFAIL when out of memory. */
int lagrange_encoder(const double *alpha, int k, const double *z, int n, double *E,
                     struct error *err);

/* D (k x count): interpolate through z[used[0]] .. z[used[count-1]]
 * (distinct nodes, any order) and evaluate at alpha[0..k-1].
 * Returns STRAG_OK, or STRAG_EFAIL when out of memory. */
int lagrange_decoder(const double *alpha, int k, const double *z, const int *used, int count,
                     double *D, struct error *err);

#endif
