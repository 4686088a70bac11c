/* code_berrut.h: the mathematics of Berrut approximated coded computing
 * (BACC, Jahani-Nezhad & Maddah-Ali; ApproxIFER, Soleymani et al.):
 * node sets, the encoder matrix E, the decoder matrix D_F of a returned set
 * F, and the Byzantine error locator of ApproxIFER. Pure double-precision
 * linear algebra on small matrices: no model, no engine, no caching (that is
 * decode_cache.h) and no config parsing (that is schemes/berrut.c).
 *
 * Conventions (Jahani-Nezhad & Maddah-Ali, arXiv 2009.08327; Soleymani,
 * Ali, Mahdavifar & Avestimehr, AAAI 2022, arXiv 2109.09868):
 *   data nodes   alpha_j = cos((2j+1) pi / (2K)), j = 0..K-1 (first kind,
 *                decreasing);
 *   worker nodes z_n = cos(n pi / N) or cos(n pi / (N-1)), n = 0..N-1
 *                (decreasing in n);
 *   all matrices are row-major; E is N x K (coded input n = sum_j E[n,j] x_j),
 *   D_F is K x |F| (estimate j = sum_l D_F[j,l] y_{F[l]}).
 * Berrut's interpolant through nodes x_0..x_{m-1} evaluated at t has weights
 *   w_l(t) = ((-1)^l / (t - x_l)) / sum_i ((-1)^i / (t - x_i)),
 * with the sign alternating by position in the list: the list must be
 * monotone (sorted) for the interpolant to be pole-free, so a decoder's
 * signs alternate by rank inside the returned set, not by worker number.
 * A point within BERRUT_COLLISION of a node gets the unit row (the limit),
 * never 1/0.
 */
#ifndef STRAG_CODE_BERRUT_H
#define STRAG_CODE_BERRUT_H

#include "base/error.h"

#define BERRUT_COLLISION 1e-14

/* Worker-node families. */
enum berrut_nodes {
    BERRUT_NODES_N,       /* z_n = cos(n pi / N): ApproxIFER's accuracy scripts */
    BERRUT_NODES_N_MINUS1 /* z_n = cos(n pi / (N-1)): full Lobatto grid, BACC, AWS scripts */
};

/* alpha[0..k-1] = cos((2j+1) pi / (2k)). */
void berrut_data_nodes(int k, double *alpha);

/* z[0..n-1] from `family`; BERRUT_NODES_N_MINUS1 with n = 1 gives z = {1}. */
void berrut_worker_nodes(int n, enum berrut_nodes family, double *z);

/* w[0..m-1]: Berrut weights of the interpolant through monotone nodes
 * x[0..m-1] at the point t (they sum to 1). */
void berrut_weights(const double *x, int m, double t, double *w);

/* E (n x k): row r holds the weights of the interpolant through the data
 * nodes alpha[0..k-1] at z[r]. */
void berrut_encoder(const double *alpha, int k, const double *z, int n, double *E);

/* D (k x nf): the interpolant through the returned worker nodes
 * z[returned[0]] .. z[returned[nf-1]] (returned strictly increasing, so the
 * z's are monotone) evaluated at alpha[0..k-1]. */
void berrut_decoder(const double *alpha, int k, const double *z, const int *returned, int nf,
                    double *D);

/* ApproxIFER's Byzantine error locator. Y holds the nf returned results
 * (row l is the m-vector of worker returned[l]). For each coordinate i it
 * fits P(z) = y Q(z) by minimum-norm least squares over the returned points
 * (deg P = deg Q = k + e - 1, Q's constant term fixed to 1, the pseudo-
 * inverse solution of the reference code), evaluates |Q| at the returned
 * nodes and flags the e smallest; a vote over the m coordinates then names
 * the e most-flagged workers (ties: the lower worker number), written to
 * bad[0..e-1] in increasing order. Unlike the reference code, |Q| is only
 * evaluated at returned nodes: a straggler cannot be an adversary.
 * Needs nf >= e + 1; with nf = 2(k + e) - 1 (N = 2K + 2A + S - 1 and e = A)
 * the system is square. Returns STRAG_OK or STRAG_EFAIL (LAPACK failure,
 * out of memory). */
int berrut_locate_errors(const double *z, const int *returned, int nf, int k, int e,
                         const double *Y, int m, int *bad, struct error *err);

/* Removes the worker numbers in bad[0..nbad-1] from returned[0..nf-1]
 * (kept in order); returns the new count. */
int berrut_remove_workers(int *returned, int nf, const int *bad, int nbad);

#endif
