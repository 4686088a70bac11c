/* code_floater_hormann.c: Floater-Hormann weights, basis rows, encoder and
 * decoder (see code_floater_hormann.h). */
#include "schemes/codes/code_floater_hormann.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schemes/codes/code_berrut.h"

#define NODE(l) x[idx ? idx[(l)] : (l)]

void fh_weights(const double *x, const int *idx, int m, int d, double *w)
{
    for (int k = 0; k < m; k++) {
        int lo = k - d > 0 ? k - d : 0, hi = k < m - 1 - d ? k : m - 1 - d;
        double sum = 0.0;
        for (int i = lo; i <= hi; i++) {
            double term = (i & 1) ? -1.0 : 1.0;
            for (int j = i; j <= i + d; j++)
                if (j != k)
                    term /= NODE(k) - NODE(j);
            sum += term;
        }
        w[k] = sum;
    }
}

/* Same operations, in the same order, as code_berrut.c's weights: with
 * w_k = +-1 the d = 0 rows are Berrut's bit for bit. */
void fh_row(const double *x, const int *idx, int m, const double *w, double t, double *row)
{
    for (int l = 0; l < m; l++) {
        if (fabs(t - NODE(l)) < BERRUT_COLLISION) { /* the limit at a node */
            memset(row, 0, (size_t)m * sizeof *row);
            row[l] = 1.0;
            return;
        }
    }
    double sum = 0.0;
    for (int l = 0; l < m; l++) {
        row[l] = w[l] / (t - NODE(l));
        sum += row[l];
    }
    for (int l = 0; l < m; l++)
        row[l] /= sum;
}

int fh_encoder(const double *alpha, int k, const double *z, int n, int d, double *E,
               struct error *err)
{
    double *w = malloc((size_t)k * sizeof *w);
    if (!w)
        return error_fail(err, "out of memory");
    fh_weights(alpha, NULL, k, d, w);
    for (int r = 0; r < n; r++)
        fh_row(alpha, NULL, k, w, z[r], E + (size_t)r * k);
    free(w);
    return STRAG_OK;
}

int fh_decoder(const double *alpha, int k, const double *z, const int *returned, int nf, int d,
               double *D, struct error *err)
{
    double *w = malloc((size_t)nf * sizeof *w);
    if (!w)
        return error_fail(err, "out of memory");
    fh_weights(z, returned, nf, d < nf - 1 ? d : nf - 1, w);
    for (int j = 0; j < k; j++)
        fh_row(z, returned, nf, w, alpha[j], D + (size_t)j * nf);
    free(w);
    return STRAG_OK;
}
