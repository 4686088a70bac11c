/* layers_act.c: element-wise activations (ReLU, tanh, square).
 *
 * Flat loops over N floats that the compiler vectorises; shape does not
 * matter. ReLU and tanh backward read the forward output (so forward may run
 * in place), square reads the forward input.
 */
#include <math.h>

#include "models/layers.h"

void relu_forward(float *out, const float *inp, size_t N)
{
    // inp and out are (N); out may be inp
    for (size_t i = 0; i < N; i++)
        out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void relu_backward(float *dinp, const float *dout, const float *out, size_t N)
{
    // dout, out and dinp are (N); dinp may be dout
    for (size_t i = 0; i < N; i++)
        dinp[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

void tanh_forward(float *out, const float *inp, size_t N)
{
    // inp and out are (N); out may be inp
    for (size_t i = 0; i < N; i++)
        out[i] = tanhf(inp[i]);
}

void tanh_backward(float *dinp, const float *dout, const float *out, size_t N)
{
    // dout, out and dinp are (N): d tanh(x) = 1 - tanh(x)^2
    for (size_t i = 0; i < N; i++)
        dinp[i] = dout[i] * (1.0f - out[i] * out[i]);
}

void square_forward(float *out, const float *inp, size_t N)
{
    // inp and out are (N); out may be inp only if backward is not needed
    for (size_t i = 0; i < N; i++)
        out[i] = inp[i] * inp[i];
}

void square_backward(float *dinp, const float *dout, const float *inp, size_t N)
{
    // dout, inp and dinp are (N): d x^2 = 2x
    for (size_t i = 0; i < N; i++)
        dinp[i] = 2.0f * inp[i] * dout[i];
}
