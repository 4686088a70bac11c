/* conv_direct_kernel.h: the direct convolution of one group of images, as a
 * template that layers_conv_direct.c includes once per instruction set.
 *
 * The includer defines the vector of CD_V floats (one lane per image of the
 * group) and its operations:
 *   cd_vec, CD_V, CD_ZERO(), CD_LOADU(p), CD_STOREU(p, v), CD_BCAST(f),
 *   CD_FMA(a, b, c) = a*b + c rounded once, CD_ADD(a, b),
 *   CD_MAX(a, b) = a > b ? a : b (lane-wise), CD_IN_REGISTER(v) (keeps a
 *   loaded input in a register: folded into each FMA as a memory operand,
 *   it would be loaded once per output channel), CD_NO, CD_NP (register tile:
 *   output channels x output pixels of a row), CD_NAME(x) (suffixes x),
 *   CD_TARGET (the functions' target attribute, or nothing).
 * Each output is computed in the same order whatever CD_V is:
 *   acc = 0; for c, ky, kx (ascending): acc = fma(w, x, acc); out = acc + bias
 * then the optional max pool (-FLT_MAX, then each window value in row-major
 * order, v > best ? v : best) and ReLU (v > 0 ? v : 0), as maxpool_forward
 * and relu_forward do; lanes never mix, so every instruction set gives the
 * same bits. Does not pack the input (conv_direct_pack does). Undefines
 * its parameters at the end, so the next instruction set can define them.
 */

/* One pooled row band of one block of CD_NO output channels: the conv rows
 * py*SP .. py*SP+KP-1 into band (CD_NO, KP, OWX, CD_V), bias added. Output
 * channels past OC repeat the last one and pixels past OW read the zero
 * margin: both are computed and never stored. */
CD_TARGET static void CD_NAME(conv_direct_band)(float *band, const float *pk, const float *weight,
                                      const float *bias, int o0, int py,
                                      const struct conv_direct_plan *p)
{
    const struct conv2d_dims *d = p->d;
    const int K = d->K, S = d->stride, KK = d->K * d->K;
    const float *wo[CD_NO];
    float bo[CD_NO];
    for (int i = 0; i < CD_NO; i++) {
        int o = o0 + i < d->OC ? o0 + i : d->OC - 1;
        wo[i] = weight + (size_t)o * d->C * KK;
        bo[i] = bias ? bias[o] : 0.0f;
    }
    for (int r = 0; r < p->KP; r++) {
        const int oy = py * p->SP + r;
        for (int ox0 = 0; ox0 < p->OWX; ox0 += CD_NP) {
            // most of the running time is spent here
            cd_vec acc[CD_NO][CD_NP];
            _Pragma("GCC unroll 16") for (int i = 0; i < CD_NO; i++)
                _Pragma("GCC unroll 16") for (int q = 0; q < CD_NP; q++)
                    acc[i][q] = CD_ZERO();
            for (int c = 0; c < d->C; c++) {
                for (int ky = 0; ky < K; ky++) {
                    const float *row =
                        pk + ((size_t)(c * p->HP + oy * S + ky) * p->WPX + (size_t)ox0 * S) * CD_V;
                    const int tap = c * KK + ky * K;
                    for (int kx = 0; kx < K; kx++) {
                        // the tile loops unrolled at any -O level, so acc stays in registers
                        cd_vec wv[CD_NO];
                        _Pragma("GCC unroll 16") for (int i = 0; i < CD_NO; i++)
                            wv[i] = CD_BCAST(wo[i][tap + kx]);
                        _Pragma("GCC unroll 16") for (int q = 0; q < CD_NP; q++) {
                            cd_vec x = CD_LOADU(row + (size_t)(q * S + kx) * CD_V);
                            CD_IN_REGISTER(x);
                            _Pragma("GCC unroll 16") for (int i = 0; i < CD_NO; i++)
                                acc[i][q] = CD_FMA(wv[i], x, acc[i][q]);
                        }
                    }
                }
            }
            _Pragma("GCC unroll 16") for (int i = 0; i < CD_NO; i++) {
                cd_vec b = CD_BCAST(bo[i]);
                float *dst = band + ((size_t)(i * p->KP + r) * p->OWX + ox0) * CD_V;
                _Pragma("GCC unroll 16") for (int q = 0; q < CD_NP; q++)
                    CD_STOREU(dst + (size_t)q * CD_V, CD_ADD(acc[i][q], b));
            }
        }
    }
}

/* The group's outputs (images b0 .. b0+nb-1) from the packed input pk:
 * out (B, OC, PH, PW) = relu?(pool(conv + bias)). */
CD_TARGET static void CD_NAME(conv_direct_group)(float *out, const float *pk, float *band,
                                       const float *weight, const float *bias,
                                       const struct conv_direct_plan *p, int b0, int nb)
{
    const struct conv2d_dims *d = p->d;
    const size_t out_plane = (size_t)p->PH * p->PW;
    float lanes[CD_V];
    for (int py = 0; py < p->PH; py++) {
        for (int o0 = 0; o0 < d->OC; o0 += CD_NO) {
            CD_NAME(conv_direct_band)(band, pk, weight, bias, o0, py, p);
            for (int i = 0; i < CD_NO && o0 + i < d->OC; i++) {
                const float *rows = band + (size_t)i * p->KP * p->OWX * CD_V;
                float *dst = out + ((size_t)b0 * d->OC + o0 + i) * out_plane + (size_t)py * p->PW;
                for (int px = 0; px < p->PW; px++) {
                    cd_vec best = CD_BCAST(-FLT_MAX);
                    for (int r = 0; r < p->KP; r++)
                        for (int j = 0; j < p->KP; j++)
                            best = CD_MAX(CD_LOADU(rows + ((size_t)r * p->OWX + px * p->SP + j) * CD_V),
                                          best);
                    if (p->relu)
                        best = CD_MAX(best, CD_ZERO());
                    CD_STOREU(lanes, best);
                    for (int l = 0; l < nb; l++)
                        dst[(size_t)l * d->OC * out_plane + px] = lanes[l];
                }
            }
        }
    }
}

CD_TARGET static void CD_NAME(conv_direct_run)(float *out, float *scratch, const float *inp,
                                     const float *weight, const float *bias,
                                     const struct conv_direct_plan *p, int B)
{
    float *pk = scratch, *band = scratch + conv_direct_pack_floats(p, CD_V);
    memset(pk, 0, sizeof(float) * conv_direct_pack_floats(p, CD_V)); // the zero margins
    for (int b0 = 0; b0 < B; b0 += CD_V) {
        int nb = B - b0 < CD_V ? B - b0 : CD_V;
        conv_direct_pack(pk, inp, p, CD_V, b0, nb);
        CD_NAME(conv_direct_group)(out, pk, band, weight, bias, p, b0, nb);
    }
}

#undef CD_NAME
#undef CD_TARGET
#undef CD_V
#undef CD_NO
#undef CD_NP
#undef cd_vec
#undef CD_ZERO
#undef CD_LOADU
#undef CD_STOREU
#undef CD_BCAST
#undef CD_FMA
#undef CD_ADD
#undef CD_MAX
#undef CD_IN_REGISTER
