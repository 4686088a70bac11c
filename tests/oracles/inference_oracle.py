#!/usr/bin/python3
"""inference_oracle.py: independent reference outputs of the coded-inference
schemes for tests/test_oracles.c, written from the papers' formulas (notes:
doc/coded-inference.md, doc/learned-codes.md), never from schemes/*.c.

Usage: inference_oracle.py CASE  (CASE in the format of oracle_io.py).
The case names the scheme and holds the job's K queries X (K x d), the
coded outputs Yc the C side computed (coded x m), the workers whose results
arrived (`returned`, increasing), and the scheme's settings. It prints:
  Xc  the coded queries the encoder must produce;
  Yc  (learned codes) what each worker's own network gives on the C side's
      coded queries;
  Y   the decoded outputs, from the C side's Yc (so float32 rounding in the
      workers' forward passes does not enter the comparison).

  berrut            Berrut's rational interpolant (ApproxIFER, BACC):
                    encoder at the worker nodes, decoder through the
                    returned nodes, signs by position in the returned list.
  nercc             natural cubic smoothing splines, mean-normalised lambda
                    (SciPy's make_smoothing_spline with lam = n lambda, end
                    extension linear), as in codes_oracle.py.
  letcc             the same splines at equispaced nodes (K in (-1, 1), N in
                    [-1, 1]), lambda_dec from N and S by the noiseless or
                    noisy rate (code_letcc.h), in the interval's units or
                    per 2 (pi N / 2)^4 (units = workers, the default), and
                    lambda_enc = lambda_dec.
  lagrange          Lagrange polynomials (product form) at Chebyshev nodes.
  bspline           BSCC: Berrut, Lagrange or spline encoder; decoder the
                    interpolating B-spline of SciPy's make_interp_spline
                    through the returned nodes, as in bspline_oracle.py.
  learned-lagrange  the Lagrange code above around the worker network g and
                    the decoder network h: Y = h(D_F g(E X)).
  split             patch i of the image (halves, quadrants or strips),
                    node network i on it, decoder on the masked
                    concatenation; or the mean of the baseline classifiers.
  parm              add encoder P = sum X_i, base model on the queries,
                    parity model on P; a missing output is F_P(P) minus the
                    available outputs.
"""
import sys

import numpy as np

from bspline_oracle import interp_rows
from codes_oracle import berrut_rows, spline_rows
from oracle_io import Net, emit, read_case
from oracle_tables import cheb1, workers


def lagrange_rows(nodes, points):
    """Row r: the Lagrange basis of `nodes` at points[r] (product form)."""
    out = np.zeros((len(points), len(nodes)))
    for r, t in enumerate(points):
        for j, xj in enumerate(nodes):
            others = np.delete(nodes, j)
            out[r, j] = np.prod((t - others) / (xj - others))
    return out


def linear_code(c, E_of, D_of):
    X, Yc = c["X"], c["Yc"]
    F = c["returned"].astype(int).ravel()
    emit("Xc", E_of() @ X)
    emit("Y", D_of(F) @ Yc[F])


def patches(image, n):
    img = image.reshape(28, 28)
    if n == 2:
        return [img[:14, :], img[14:, :]]
    if n == 4:
        return [img[:14, :14], img[:14, 14:], img[14:, :14], img[14:, 14:]]
    return [img[4 * i:4 * i + 4, :] for i in range(7)]


def main():
    c = read_case(sys.argv[1])
    kind = c["scheme"]
    K, N = int(c["K"][0, 0]), int(c["N"][0, 0])
    if kind == "berrut":
        z = workers(N, c["nodes"])
        linear_code(c, lambda: berrut_rows(cheb1(K), z),
                    lambda F: berrut_rows(z[F], cheb1(K)))
    elif kind == "nercc":
        z = workers(N, c["nodes"])
        le, ld = c["lambda_enc"][0, 0], c["lambda_dec"][0, 0]
        linear_code(c, lambda: spline_rows(cheb1(K), le, z),
                    lambda F: spline_rows(z[F], ld, cheb1(K)))
    elif kind == "letcc":
        S, scale = c["stragglers"][0, 0], c["scale"][0, 0]
        lam = scale * ((S / N) ** 3 if c["setting"] == "noiseless" else S ** 1.6 * N ** -0.6)
        if c["units"] == "workers":
            lam /= 2 * (np.pi * N / 2) ** 4
        alpha = 1 - (2 * np.arange(K) + 1) / K
        z = 1 - 2 * np.arange(N) / (N - 1)
        linear_code(c, lambda: spline_rows(alpha, lam, z),
                    lambda F: spline_rows(z[F], lam, alpha))
    elif kind == "lagrange":
        z = cheb1(N)
        linear_code(c, lambda: lagrange_rows(cheb1(K), z),
                    lambda F: lagrange_rows(z[F], cheb1(K)))
    elif kind == "bspline":
        z, alpha = workers(N, c["nodes"]), cheb1(K)
        deg = int(c["degree"][0, 0])
        bc = None if c["boundary"] == "not-a-knot" else "natural"
        encoders = {"berrut": lambda: berrut_rows(alpha, z),
                    "lagrange": lambda: lagrange_rows(alpha, z),
                    "spline": lambda: interp_rows(alpha, deg, bc, z)}
        ext = c.get("extrapolate", "polynomial")
        linear_code(c, encoders[c["encoder"]],
                    lambda F: interp_rows(z[F], deg, bc, alpha, ext))
    elif kind == "learned-lagrange":
        z, alpha = cheb1(N), cheb1(K)
        worker, decoder = Net(c["stem"] + ".worker.bin"), Net(c["stem"] + ".decoder.bin")
        F = c["returned"].astype(int).ravel()
        emit("Xc", lagrange_rows(alpha, z) @ c["X"])
        emit("Yc", worker.forward(c["Xc"]))
        emit("Y", decoder.forward(lagrange_rows(z[F], alpha) @ c["Yc"][F]))
    elif kind == "split":
        avg = c["combine"] == "average"
        F = c["returned"].astype(int).ravel()
        P = patches(c["X"][0], N)
        Xc = np.zeros((N, 784))
        for i, p in enumerate(P):
            Xc[i, :p.size] = p.ravel()
        emit("Xc", Xc)
        nets = [Net("%s.%s%d.bin" % (c["stem"], "avg" if avg else "node", i)) for i in range(N)]
        emit("Yc", np.vstack([nets[i].forward(c["Xc"][i, :P[i].size]) for i in range(N)]))
        Yc = c["Yc"]
        if avg:
            emit("Y", Yc[F].mean(axis=0, keepdims=True))
        else:
            mask = np.zeros(N)
            mask[F] = 1.0
            inp = np.concatenate([mask[i] * Yc[i] for i in range(N)])
            if c.get("mask_input") == "true":
                inp = np.concatenate([inp, mask])
            emit("Y", Net(c["stem"] + ".decoder.bin").forward(inp))
    elif kind == "parm":
        base, parity = Net(c["base"]), Net(c["stem"] + ".parity.bin")
        X, Yc = c["X"], c["Yc"]
        F = set(c["returned"].astype(int).ravel())
        emit("Xc", np.vstack([X, X.sum(axis=0, keepdims=True)]))
        emit("Yc", np.vstack([base.forward(c["Xc"][:K]), parity.forward(c["Xc"][K:K + 1])]))
        Y = Yc[:K].copy()
        for j in range(K):
            if j not in F:
                Y[j] = Yc[K] - sum(Yc[i] for i in range(K) if i != j)
        emit("Y", Y)
    else:
        sys.exit("inference_oracle.py: unknown scheme " + kind)


if __name__ == "__main__":
    main()
