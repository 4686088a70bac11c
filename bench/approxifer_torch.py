#!/usr/bin/python3
"""approxifer_torch.py: the ApproxIFER accuracy protocol in numpy + PyTorch,
for benchmarking `stragsim run configs/approxifer-fmnist.ini` against.
Benchmark only: nothing in the build or the tests uses it.

The protocol (that of the authors' repository, Mahdi-Soleymani/Approxifer), per trial: draw
K distinct Fashion-MNIST test images, Berrut-encode them at N = K + S worker
nodes cos(n pi/N), run the N coded images through the model in one batch,
drop S workers chosen uniformly at random, Berrut-decode the rest at the K
data nodes, and count argmax hits against the labels; the uncoded model runs
on the same K images for the base accuracy. Same grid as the config:
lenet5 and mlp, K in {8, 10, 12}, S in {1, 2, 3}, 1000 trials each. The
weights are stragsim's own files (models/weights/*.bin), so both
implementations evaluate the same f.

Usage (Debian: python3-torch, python3-numpy):
    /usr/bin/python3 bench/approxifer_torch.py [--trials 1000] [--threads T]
prints one line per point (accuracy, base accuracy, trials/s) and the total.
"""
import argparse
import gzip
import os
import struct
import time
import zlib

import numpy as np
import torch
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the repository


def read_idx(path):
    b = gzip.open(path, "rb").read()
    ndim = b[3]
    dims = struct.unpack(">" + "I" * ndim, b[4:4 + 4 * ndim])
    return np.frombuffer(b, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def read_weights(path):
    b = open(path, "rb").read()
    assert b[:6] == b"STRGW\0" and zlib.crc32(b[:-4]) == struct.unpack("<I", b[-4:])[0]
    _, _, alen = struct.unpack_from("<HQH", b, 6)
    pos = 18 + alen
    (ntensors,) = struct.unpack_from("<I", b, pos)
    pos += 4
    shapes = []
    for _ in range(ntensors):
        n = b[pos]
        name = b[pos + 1:pos + 1 + n].decode()
        pos += 1 + n
        r = b[pos]
        dims = struct.unpack_from("<%dI" % r, b, pos + 1)
        pos += 1 + 4 * r
        shapes.append((name, dims))
    out = {}
    for name, dims in shapes:
        count = int(np.prod(dims))
        out[name] = torch.from_numpy(np.frombuffer(b, "<f4", count, pos).reshape(dims).copy())
        pos += 4 * count
    return out


def build(name, w):
    if name == "lenet5":
        net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                            nn.Linear(84, 10))
        names = ["conv1", None, None, "conv2", None, None, None, "dense1", None, "dense2",
                 None, "dense3"]
    else:
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 100),
                            nn.ReLU(), nn.Linear(100, 10))
        names = [None, "dense1", None, "dense2", None, "dense3"]
    with torch.no_grad():
        for layer, n in zip(net, names):
            if n:
                layer.weight.copy_(w[n + ".weight"])
                layer.bias.copy_(w[n + ".bias"])
    return net.eval()


def berrut(nodes, points):
    """Row r: Berrut weights of the (monotone) nodes at points[r]."""
    diff = points[:, None] - nodes[None, :]
    hit = np.abs(diff) < 1e-14
    signs = (-1.0) ** np.arange(len(nodes))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = signs / diff
        rows = terms / terms.sum(axis=1, keepdims=True)
    for r in np.where(hit.any(axis=1))[0]:
        rows[r] = hit[r].astype(float)
    return rows


def run_point(net, images, labels, K, S, trials, rng):
    N = K + S
    alpha = np.cos((2 * np.arange(K) + 1) * np.pi / (2 * K))
    z = np.cos(np.arange(N) * np.pi / N)
    E = berrut(alpha, z)
    correct = base_correct = 0
    with torch.no_grad():
        for _ in range(trials):
            idx = np.sort(rng.choice(len(images), K, replace=False))
            X = images[idx].reshape(K, -1)
            coded = (E @ X).astype(np.float32).reshape((N,) + images.shape[1:])
            Yc = net(torch.from_numpy(coded)).numpy().astype(np.float64)
            base = net(torch.from_numpy(images[idx])).numpy()
            returned = np.sort(rng.permutation(N)[:N - S])
            D = berrut(z[returned], alpha)
            Y = D @ Yc[returned]
            correct += int((Y.argmax(1) == labels[idx]).sum())
            base_correct += int((base.argmax(1) == labels[idx]).sum())
    return correct / (trials * K), base_correct / (trials * K)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    ap.add_argument("--models", default="lenet5,mlp")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    imgs = read_idx(DATA + "/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    labels = read_idx(DATA + "/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    rng = np.random.default_rng(1)
    total_trials, t_all = 0, time.perf_counter()
    for name in a.models.split(","):
        net = build(name, read_weights(os.path.join(ROOT, "models/weights/%s.bin" % name)))
        images = imgs.reshape(-1, 1, 28, 28) if name == "lenet5" else imgs.reshape(-1, 784)
        for K in (8, 10, 12):
            for S in (1, 2, 3):
                t0 = time.perf_counter()
                acc, base = run_point(net, images, labels, K, S, a.trials, rng)
                dt = time.perf_counter() - t0
                total_trials += a.trials
                print("%-6s K=%2d S=%d N=%2d accuracy %.4f base %.4f  %.0f trials/s"
                      % (name, K, S, K + S, acc, base, a.trials / dt), flush=True)
    dt = time.perf_counter() - t_all
    print("total: %d trials in %.2f s (%.0f trials/s, torch threads %d)"
          % (total_trials, dt, total_trials / dt, torch.get_num_threads()))


if __name__ == "__main__":
    main()
