/* code_letcc.h: the smoothing parameter of LeTCC (Moradi, Tahmasebi &
 * Maddah-Ali, "Coded Computing for Resilient Distributed Computing: A
 * Learning-Theoretic Framework", NeurIPS 2024, arXiv 2406.00300) as a
 * function of N workers and S stragglers. The encoder and decoder
 * themselves are natural cubic smoothing splines (code_spline.h); the
 * scheme is schemes/letcc.c.
 *
 * The paper proves that the decoded mean squared error decays as
 * O(S^3 N^-3) when the workers compute f exactly (noiseless; S^4 N^-3 in
 * its first arXiv version) and as O(S^(8/5) N^(-3/5)) when their results are
 * noisy. Our reading (doc/coded-inference.md, "LeTCC": the paper's body
 * could not be read here, only its abstract): the decoder's smoothing
 * lambda_d is of the order of that rate, the largest lambda_d whose bias
 * term (lambda_d times the roughness of f o u_enc) keeps the rate,
 *     noiseless  lambda_d = c (S / N)^3
 *     noisy      lambda_d = c S^(8/5) N^(-3/5)
 * with the unknown constant c a key (scheme.lambda_scale). S = 0 gives
 * lambda_d = 0: spline interpolation. lambda is mean-normalised as in
 * code_spline.h. */
#ifndef STRAG_CODE_LETCC_H
#define STRAG_CODE_LETCC_H

#include <math.h>

enum letcc_setting { LETCC_NOISELESS, LETCC_NOISY };

static inline double letcc_lambda(enum letcc_setting setting, double scale, int n, int s)
{
    if (s <= 0 || n <= 0)
        return 0.0;
    if (setting == LETCC_NOISELESS)
        return scale * pow((double)s / n, 3.0);
    return scale * pow((double)s, 1.6) * pow((double)n, -0.6);
}

#endif
