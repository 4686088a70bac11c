/* layers_dense.c: the fully connected layer on cblas_sgemm.
 *
 * One GEMM per pass over the whole batch; nothing else here.
 */
#include <cblas.h>
#include <string.h>

#include "models/layers.h"

void dense_forward(float *out, const float *inp, const float *weight, const float *bias,
                   int B, int C, int OC)
{
    // inp is (B,C), weight is (OC,C), bias is (OC) or NULL, out is (B,OC)
    // out = inp weight^T (+ bias, preloaded so the GEMM adds onto it)
    float beta = 0.0f;
    if (bias) {
        for (int b = 0; b < B; b++)
            memcpy(out + (size_t)b * OC, bias, sizeof(float) * (size_t)OC);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, OC, C, 1.0f, inp, C, weight, C,
                beta, out, OC);
}

void dense_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                    const float *inp, const float *weight, int B, int C, int OC)
{
    // dout is (B,OC), inp is (B,C), weight is (OC,C)
    // dinp (B,C) = dout weight; dweight (OC,C) += dout^T inp; dbias (OC) += column sums
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, C, OC, 1.0f, dout, OC,
                    weight, C, 0.0f, dinp, C);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, B, 1.0f, dout, OC, inp, C,
                1.0f, dweight, C);
    if (dbias) {
        for (int b = 0; b < B; b++) {
            const float *row = dout + (size_t)b * OC;
            for (int o = 0; o < OC; o++)
                dbias[o] += row[o];
        }
    }
}
