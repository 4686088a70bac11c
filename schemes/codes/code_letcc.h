/* code_letcc.h: the smoothing parameter of LeTCC (Moradi, Tahmasebi &
 * Maddah-Ali, "Coded Computing for Resilient Distributed Computing: A
 * Learning-Theoretic Framework", NeurIPS 2024, arXiv 2406.00300) as a
 * function of N workers and S stragglers. The encoder and
 * decoder themselves are natural cubic smoothing splines (code_spline.h);
 * the scheme is schemes/letcc.c.
 *
 * The paper proves that the decoded mean squared error decays as
 * O(S^3 N^-3) when the workers compute f exactly (noiseless; S^4 N^-3 in
 * its first arXiv version) and as O(S^(8/5) N^(-3/5)) when their results are
 * noisy. Our reading (doc/coded-inference.md, "LeTCC": the paper's body
 * could not be read here, only its abstract): the decoder's smoothing is of
 * the order of that rate r(N, S),
 *     noiseless  r = (S / N)^3
 *     noisy      r = S^(8/5) N^(-3/5)
 * with the unknown constant c a key (scheme.lambda_scale). S = 0 gives
 * lambda_d = 0: spline interpolation. lambda is mean-normalised as in
 * code_spline.h, so it carries the units of the node interval [-1, 1]
 * (length^4), while r is a pure number. Two ways to attach the units
 * (scheme.lambda_units):
 *     interval  lambda_d = c r: r in the interval's units. With S/N fixed
 *               this lambda does not fall with N, while the interpolation
 *               error does (as h^4, h the workers' spacing): from N ~ 48 on
 *               the bias lambda int (f o u_enc)''^2 swamps it and the RMSE
 *               is many times interpolation's (doc/approx-coded.md).
 *     workers   lambda_d = c r / (2 w_N^4), w_N = pi N / 2: the smoother
 *               shrinks a component oscillating at the workers' Nyquist
 *               frequency (period two worker spacings) by 1 / (1 + c r).
 *               Equivalently lambda_d = c r h^4 / (2 pi^4) with h = 2 / N,
 *               so the bias term stays c r / (2 pi^4) times the h^4 order
 *               of the interpolation error at every N.
 * The default is workers with c = 1 (schemes/letcc.c). */
#ifndef STRAG_CODE_LETCC_H
#define STRAG_CODE_LETCC_H

#include <math.h>

enum letcc_setting { LETCC_NOISELESS, LETCC_NOISY };
enum letcc_units { LETCC_INTERVAL, LETCC_WORKERS };

/* c r(N, S) in the interval's units (scheme.lambda_units = interval). */
static inline double letcc_lambda(enum letcc_setting setting, double scale, int n, int s)
{
    if (s <= 0 || n <= 0)
        return 0.0;
    if (setting == LETCC_NOISELESS)
        return scale * pow((double)s / n, 3.0);
    return scale * pow((double)s, 1.6) * pow((double)n, -0.6);
}

/* The factor that turns c r into lambda_d for `units` with N workers:
 * 1 (interval) or 1 / (2 (pi N / 2)^4) (workers). */
static inline double letcc_units_factor(enum letcc_units units, int n)
{
    if (units == LETCC_INTERVAL || n <= 0)
        return 1.0;
    double w = M_PI * n / 2.0;
    return 1.0 / (2.0 * w * w * w * w);
}

#endif
