"""oracle_io.py: the text format the C tests and the oracles exchange, and a
numpy reader of stragsim weights files.

A case file is one record per line: `name rows cols v1 v2 ...` (numbers,
row-major) or `name str text` (a string). The oracles answer in the same
format on stdout, so tests/oracle_run.h reads them back with one parser.

The weights reader follows models/weights.h (version 1) and knows the
dense-only specs the oracles need: `dense`N, `relu`, `tanh`, `square`
(PyTorch layout: weight (OC, C), bias (OC)). It is written from the format
description, not from models/weights.c, so it checks the C reader too.
"""
import struct
import sys
import zlib

import numpy as np

BUILTIN = {
    "logreg": "784: dense10",
    "mlp": "784: dense200 relu dense100 relu dense10",
}


def read_case(path):
    out = {}
    with open(path) as f:
        for line in f:
            tok = line.split()
            if not tok:
                continue
            if tok[1] == "str":
                out[tok[0]] = line.split(None, 2)[2].rstrip("\n")
                continue
            r, c = int(tok[1]), int(tok[2])
            vals = np.array([float(v) for v in tok[3:]], dtype=np.float64)
            assert vals.size == r * c, "%s: %d values for %dx%d" % (tok[0], vals.size, r, c)
            out[tok[0]] = vals.reshape(r, c)
    return out


def emit(name, mat, stream=sys.stdout):
    mat = np.atleast_2d(np.asarray(mat, dtype=np.float64))
    vals = " ".join("%.17g" % v for v in mat.ravel())
    stream.write("%s %d %d %s\n" % (name, mat.shape[0], mat.shape[1], vals))


class Net:
    """A dense network read from a weights file; forward in float64."""

    def __init__(self, path):
        b = open(path, "rb").read()
        assert b[:6] == b"STRGW\0", path
        version, length = struct.unpack_from("<HQ", b, 6)
        assert version == 1 and length == len(b), path
        assert zlib.crc32(b[:-4]) == struct.unpack_from("<I", b, len(b) - 4)[0], path
        (alen,) = struct.unpack_from("<H", b, 16)
        arch = b[18:18 + alen].decode()
        pos = 18 + alen
        (ntens,) = struct.unpack_from("<I", b, pos)
        pos += 4
        shapes = []
        for _ in range(ntens):
            nlen = b[pos]
            pos += 1 + nlen
            rank = b[pos]
            pos += 1
            shapes.append(struct.unpack_from("<%dI" % rank, b, pos))
            pos += 4 * rank
        tensors = []
        for dims in shapes:
            n = int(np.prod(dims))
            tensors.append(np.frombuffer(b, "<f4", n, pos).astype(np.float64).reshape(dims))
            pos += 4 * n
        assert pos == len(b) - 4, path
        self.arch = BUILTIN.get(arch, arch)
        self.layers = []
        it = iter(tensors)
        for tok in self.arch.split(":", 1)[1].split():
            if tok.startswith("dense"):
                w, bias = next(it), next(it)
                assert w.shape[0] == int(tok[5:]), (path, tok)
                self.layers.append(("dense", w, bias))
            else:
                assert tok in ("relu", "tanh", "square", "flatten"), (path, tok)
                self.layers.append((tok,))

    def forward(self, x):
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        for layer in self.layers:
            if layer[0] == "dense":
                x = x @ layer[1].T + layer[2]
            elif layer[0] == "relu":
                x = np.maximum(x, 0.0)
            elif layer[0] == "tanh":
                x = np.tanh(x)
            elif layer[0] == "square":
                x = x * x
        return x
