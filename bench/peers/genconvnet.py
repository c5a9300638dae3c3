#!/usr/bin/python3
"""PyTorch reference for bench/sampler_bench.cpp's langevin-step: seconds per
Langevin step of the Generative ConvNet texture net (Xie et al. 2016; the
authors' release 1.3: 100 filters 15x15 stride 3, 64 filters 5x5, 30 filters
3x3, padding 2 each, ReLU, f = sum of the last responses; sigma = 1,
delta = 0.3) on one S x S chain: the input gradient of
E(I) = |I|^2 / 2 sigma^2 - f(I) and the update
I <- I - (delta^2 / 2) dE/dI + delta N(0, 1), nothing else.

  /usr/bin/python3 bench/peers/genconvnet.py [--size S] [--steps K] [--threads N]
"""
import argparse
import time

import torch
import torch.nn as nn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    f = nn.Sequential(nn.Conv2d(1, 100, 15, 3, 2), nn.ReLU(), nn.Conv2d(100, 64, 5, 1, 2), nn.ReLU(),
                      nn.Conv2d(64, 30, 3, 1, 2), nn.ReLU())
    for m in f:
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
    for p in f.parameters():
        p.requires_grad_(False)  # input gradients only, as genzoo's sampler
    sigma, delta = 1.0, 0.3

    def run(steps):
        image = torch.zeros(1, 1, a.size, a.size)
        for _ in range(steps):
            x = image.detach().requires_grad_(True)
            e = (x * x).flatten(1).sum(1) / (2 * sigma * sigma) - f(x).flatten(1).sum(1)
            g, = torch.autograd.grad(e.sum(), x)
            image = x.detach() - 0.5 * delta * delta * g + delta * torch.randn_like(x)
        return image

    run(3)  # warm-up
    t0 = time.perf_counter()
    run(a.steps)
    per_step = (time.perf_counter() - t0) / a.steps
    print(f"pytorch langevin step, texture net, 1 chain {a.size} x {a.size}: {per_step:.4f} s")


if __name__ == "__main__":
    main()
