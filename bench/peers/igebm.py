#!/usr/bin/python3
"""PyTorch reference for `genzoo_sampler_bench igebm`: the same IGEBM work in
PyTorch. The paper's MNIST energy net (Du & Mordatch 2019; the authors'
MnistNet: 3x3 conv F, 4x4 stride-2 convs F -> F -> 2F -> 4F with "same"
padding, fc 4F*4*4 -> 2F, fc 2F -> 1, LeakyReLU 0.2) with spectral norm on
all layers but the last, W / (u^T W v) with u, v fixed during forward passes
and one power iteration per training iteration (as genzoo does; PyTorch's
torch.nn.utils.spectral_norm would iterate on every forward, i.e. on every
Langevin step). Prints
  1. seconds per Langevin step on B chains: noise N(0, 0.005^2) added, the
     input gradient of E (torch.autograd.grad, input only), clipped to
     +-0.01, a step of 10, clamped to [0, 1];
  2. seconds per training iteration: chains from a uint8 replay buffer of
     10,000 (5% from uniform noise), K Langevin steps, the samples pushed
     back, loss E(x+) - E(x-) + (E(x+)^2 + E(x-)^2), backward, Adam 3e-4
     betas (0, 0.999), a power iteration.

  /usr/bin/python3 bench/peers/igebm.py [--batch B] [--steps K] [--filters F] [--iterations T] [--threads N]
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SN(nn.Module):
    """A layer whose weight is divided by the power-iteration estimate of its largest singular value."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        w = layer.weight.detach().reshape(layer.weight.shape[0], -1)
        self.register_buffer("u", F.normalize(torch.randn(w.shape[0]), dim=0))
        self.register_buffer("v", F.normalize(torch.randn(w.shape[1]), dim=0))
        self.iterate(20)

    @torch.no_grad()
    def iterate(self, n=1):
        w = self.layer.weight.reshape(self.layer.weight.shape[0], -1)
        for _ in range(n):
            self.v.copy_(F.normalize(w.t() @ self.u, dim=0))
            self.u.copy_(F.normalize(w @ self.v, dim=0))

    def weight(self):
        w = self.layer.weight
        return w / torch.dot(self.u, w.reshape(w.shape[0], -1) @ self.v)


def same_pad(x, k, s):
    def total(n):
        out = (n + s - 1) // s
        return max((out - 1) * s + k - n, 0)
    th, tw = total(x.shape[2]), total(x.shape[3])
    return F.pad(x, (tw // 2, tw - tw // 2, th // 2, th - th // 2))


class MnistEnergy(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.specs = [(3, 1), (4, 2), (4, 2), (4, 2)]
        chans = [1, f, f, 2 * f, 4 * f]
        self.convs = nn.ModuleList(SN(nn.Conv2d(chans[i], chans[i + 1], k, s)) for i, (k, s) in enumerate(self.specs))
        self.dense = SN(nn.Linear(4 * f * 4 * 4, 2 * f))
        self.out = nn.Linear(2 * f, 1)

    def forward(self, x):
        h = x
        for conv, (k, s) in zip(self.convs, self.specs):
            h = F.leaky_relu(F.conv2d(same_pad(h, k, s), conv.weight(), conv.layer.bias, s), 0.2)
        h = F.leaky_relu(F.linear(h.flatten(1), self.dense.weight(), self.dense.layer.bias), 0.2)
        return self.out(h).squeeze(1)

    def power_iteration(self):
        for m in self.modules():
            if isinstance(m, SN):
                m.iterate(1)


def langevin(net, x, steps):
    for _ in range(steps):
        x = x + 0.005 * torch.randn_like(x)
        x = x.detach().requires_grad_(True)
        g, = torch.autograd.grad(net(x).sum(), x)
        x = (x.detach() - 10.0 * g.clamp(-0.01, 0.01)).clamp(0, 1)
    return x.detach()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--filters", type=int, default=32)
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = MnistEnergy(a.filters)
    chains = torch.rand(a.batch, 1, 28, 28)
    langevin(net, chains, 3)  # warm-up
    t0 = time.perf_counter()
    langevin(net, chains, a.steps)
    print(f"pytorch igebm langevin step, {a.batch} chains, {a.filters} filters: "
          f"{(time.perf_counter() - t0) / a.steps:.4f} s")

    opt = torch.optim.Adam(net.parameters(), lr=3e-4, betas=(0.0, 0.999))
    store = torch.zeros(10000, 1, 28, 28, dtype=torch.uint8)
    filled, nxt = 0, 0
    data = torch.rand(a.batch, 1, 28, 28)

    def iteration():
        nonlocal filled, nxt
        noise = torch.rand(a.batch, 1, 28, 28)
        fresh = torch.rand(a.batch) < 0.05
        if filled == 0:
            fresh[:] = True
        slots = (torch.rand(a.batch, dtype=torch.float64) * max(filled, 1)).floor().long()
        kept = store[slots].float() / 255.0
        start = torch.where(fresh.view(-1, 1, 1, 1), noise, kept)
        neg = langevin(net, start, a.steps)
        idx = (torch.arange(a.batch) + nxt) % store.shape[0]
        store[idx] = (neg.clamp(0, 1) * 255).round().to(torch.uint8)
        nxt = (nxt + a.batch) % store.shape[0]
        filled = min(filled + a.batch, store.shape[0])
        opt.zero_grad()
        e_pos, e_neg = net(data), net(neg)
        loss = e_pos.mean() - e_neg.mean() + (e_pos.pow(2).mean() + e_neg.pow(2).mean())
        loss.backward()
        opt.step()
        net.power_iteration()

    iteration()
    iteration()
    t0 = time.perf_counter()
    for _ in range(a.iterations):
        iteration()
    print(f"pytorch igebm training iteration, batch {a.batch}, {a.steps} Langevin steps, {a.filters} filters: "
          f"{(time.perf_counter() - t0) / a.iterations:.4f} s")


if __name__ == "__main__":
    main()
