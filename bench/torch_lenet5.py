#!/usr/bin/python3
"""torch_lenet5.py: the PyTorch side of bench/bench_models.sh.

Times the same LeNet5 as stragsim's models/model.h (1x28x28: conv6k5p2 relu
maxpool2 conv16k5 relu maxpool2 dense120 relu dense84 relu dense10) on the
same Fashion-MNIST files: inference over the 10,000 test images and
training epochs over the 60,000 training images (SGD, momentum 0.9), both at
the given batch size, the best of --repeats runs (--train-epochs epochs).
Prints key=value lines for the shell script to read:
  torch_version=, threads=, infer_images_per_s=, infer_images_per_cpu_s=,
  train_images_per_s=
Benchmark only; needs Debian's python3-torch (1.13) and numpy.

usage: torch_lenet5.py [--threads N] [--batch B] [--repeats R] [--train-epochs E]
                       [--data-dir DIR]
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
from torch import nn


def read_idx(path, magic, ndims):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if int.from_bytes(raw[0:4], "big") != magic:
        raise SystemExit(f"{path}: bad magic (expected {magic})")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)


def load(data_dir, part):
    images = read_idx(os.path.join(data_dir, f"{part}-images-idx3-ubyte.gz"), 2051, 3)
    labels = read_idx(os.path.join(data_dir, f"{part}-labels-idx1-ubyte.gz"), 2049, 1)
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)  # (N,1,28,28)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def infer_rate(model, x, batch, repeats):
    """Best of `repeats` passes over x: images per wall second and per CPU
    second of the process (all threads, user + system)."""
    model.eval()
    best = best_cpu = 0.0
    with torch.no_grad():
        model(x[:batch])  # warm-up: oneDNN primitive creation
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            for s in range(0, len(x), batch):
                model(x[s:s + batch])
            best = max(best, len(x) / (time.perf_counter() - t0))
            best_cpu = max(best_cpu, len(x) / (time.process_time() - c0))
    return best, best_cpu


def train_rate(model, x, y, batch, repeats):
    """Best of `repeats` epochs over (x, y): images per second."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(1)
    best = 0.0
    for _ in range(repeats):
        perm = torch.randperm(len(x), generator=gen)
        xs, ys = x[perm], y[perm]  # shuffled outside the timer
        t0 = time.perf_counter()
        for s in range(0, len(x), batch):
            opt.zero_grad()
            loss = loss_fn(model(xs[s:s + batch]), ys[s:s + batch])
            loss.backward()
            opt.step()
        best = max(best, len(x) / (time.perf_counter() - t0))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--train-epochs", type=int, default=None, help="default: --repeats")
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    xtest, _ = load(a.data_dir, "t10k")
    xtrain, ytrain = load(a.data_dir, "train")
    model = lenet5()
    print(f"torch_version={torch.__version__}")
    print(f"threads={torch.get_num_threads()}")
    per_s, per_cpu_s = infer_rate(model, xtest, a.batch, a.repeats)
    print(f"infer_images_per_s={per_s:.0f}")
    print(f"infer_images_per_cpu_s={per_cpu_s:.0f}")
    epochs = a.repeats if a.train_epochs is None else a.train_epochs
    print(f"train_images_per_s={train_rate(model, xtrain, ytrain, a.batch, epochs):.0f}")


if __name__ == "__main__":
    main()
