"""PyTorch reference for bench/train_throughput.cpp's dcgan: the 28 x 28
DCGAN of PyTorch's C++ example (the network of configs/dcgan-*.toml), one
Algorithm 1 step with k = 1 per iteration on 64 images in [-1, 1] and 64
N(0, I) noise draws: D's update (data and detached fakes, binary
cross-entropy on logits), then G's (the non-saturating loss), Adam 2e-4 with
betas (0.5, 0.999). As in pytorch/examples, D's weight gradients are also
computed during G's update (genzoo freezes them; --freeze-d does the same
here).

    python3 bench/peers/gan.py dcgan [--threads N] [--seconds S | --steps N] [--freeze-d]

--steps N runs exactly N steps after the warm-up instead of a time budget
(bench/run-dcgan-epoch: 938 steps, one epoch of 60,000 images at batch 64).

Prints one JSON line like the C++ bench. Needs python3-torch (Debian).
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F
from torch import nn

BATCH, Z = 64, 100


def generator():
    def block(i, o, k, s, p):
        return [nn.ConvTranspose2d(i, o, k, s, p, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
    return nn.Sequential(nn.Unflatten(1, (Z, 1, 1)), *block(Z, 256, 4, 1, 0), *block(256, 128, 3, 2, 1),
                         *block(128, 64, 4, 2, 1), nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())


def discriminator():
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Conv2d(128, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2),
        nn.Conv2d(256, 1, 3), nn.Flatten())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["dcgan"])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--freeze-d", action="store_true")
    ap.add_argument("--density", type=float, default=0)  # accepted for the shared runner; unused
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    g, d = generator(), discriminator()
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    data = torch.rand(10 * BATCH, 1, 28, 28) * 2 - 1

    def step(i):
        x = data[(i % 10) * BATCH:(i % 10 + 1) * BATCH]
        with torch.no_grad():
            fake = g(torch.randn(BATCH, Z))
        opt_d.zero_grad()
        real_logits, fake_logits = d(x).squeeze(1), d(fake).squeeze(1)
        loss_d = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        if a.freeze_d:
            for p in d.parameters():
                p.requires_grad_(False)
        loss_g = F.softplus(-d(g(torch.randn(BATCH, Z))).squeeze(1)).mean()
        loss_g.backward()
        if a.freeze_d:
            for p in d.parameters():
                p.requires_grad_(True)
        opt_g.step()

    g.train()
    d.train()
    for i in range(2):
        step(i)
    steps, start = 0, time.perf_counter()
    while (steps < a.steps) if a.steps > 0 else (steps < 3 or time.perf_counter() - start < a.seconds):
        step(steps)
        steps += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"impl": "pytorch" + ("-freeze-d" if a.freeze_d else ""), "model": a.model,
                      "threads": torch.get_num_threads(), "steps": steps, "seconds": round(elapsed, 3),
                      "images_per_s": round(steps * BATCH / elapsed, 1)}))


if __name__ == "__main__":
    main()
