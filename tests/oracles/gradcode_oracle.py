#!/usr/bin/python3
"""gradcode_oracle.py: the least-squares decoder of gradient coding, for
tests/test_oracles_training.c (approx-gc's `optimal` decoder).

Usage: gradcode_oracle.py CASE (oracle_io.py format) with
  B         (n x n) the code: worker w sends f_w = sum_j B[w, j] g_{col[j]}
  col       (1 x n) the data partition behind code column j
  G         (n x d) partition gradients, row p = partition p
  returned  (1 x nf) the workers whose results were used
Prints
  a        (1 x nf) the minimum-norm least-squares solution of
           min ||a^T B_F - 1^T||_2 (numpy's lstsq: an SVD, written
           independently of schemes/codes/gradcode.c's GSL code)
  decoded  (1 x d) sum_l a_l f_{F_l}
  full     (1 x d) the true full gradient sum_p g_p
"""
import sys

import numpy as np

from oracle_io import emit, read_case


def main():
    c = read_case(sys.argv[1])
    B, G = c["B"], c["G"]
    col = c["col"].astype(int).ravel()
    F = c["returned"].astype(int).ravel()
    f = B @ G[col]
    a = np.linalg.lstsq(B[F].T, np.ones(B.shape[1]), rcond=None)[0]
    emit("a", a)
    emit("decoded", a @ f[F])
    emit("full", G.sum(axis=0))


if __name__ == "__main__":
    main()
