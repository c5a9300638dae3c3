"""PyTorch reference for bench/train_throughput.cpp's latent models: the same
VAEs, the same batches of 100 binary 28x28 images, the negative one-sample
ELBO, backward and Adam(1e-3) per step.

    python3 bench/peers/latent.py MODEL [--threads N] [--seconds S] [--density P]
    MODEL: vae | vae-conv

vae:      Burda et al.'s MLPs, 784-200-200-(mu, log var of 50), tanh; decoder
          50-200-200-784 logits (the genzoo defaults)
vae-conv: the conv recipe's pair: 4x4 stride-2 convolutions to 32 and 64
          channels, ReLU, a linear layer to (mu, log var of 20); the decoder a
          linear layer and two transposed convolutions

Prints one JSON line like the C++ bench. Needs python3-torch (Debian).
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F
from torch import nn

D, BATCH = 784, 100


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class Vae(nn.Module):
    def __init__(self, conv):
        super().__init__()
        self.conv = conv
        if conv:
            self.latent = 20
            self.encoder = nn.Sequential(
                nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(), nn.Flatten(),
                nn.Linear(64 * 7 * 7, 2 * self.latent))
            self.decoder = nn.Sequential(
                nn.Linear(self.latent, 64 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
                nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 1, 4, 2, 1))
        else:
            self.latent = 50
            self.encoder = mlp([D, 200, 200, 2 * self.latent])
            self.decoder = mlp([self.latent, 200, 200, D])

    def neg_elbo(self, x):  # x [N, 1, 28, 28] in {0, 1}
        mu, logvar = self.encoder(x if self.conv else x.flatten(1)).chunk(2, 1)
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
        logits = self.decoder(z).flatten(1)
        rec = -F.binary_cross_entropy_with_logits(logits, x.flatten(1), reduction="none").sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        return -(rec - kl).mean()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=["vae", "vae-conv"])
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--density", type=float, default=0.31, help="probability of a 1 pixel")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Vae(conv=a.model == "vae-conv")
    data = torch.bernoulli(torch.full((10 * BATCH, 1, 28, 28), a.density))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(i):
        x = data[(i % 10) * BATCH:(i % 10 + 1) * BATCH]
        opt.zero_grad()
        loss = model.neg_elbo(x)
        loss.backward()
        opt.step()

    for i in range(2):
        step(i)
    steps, start = 0, time.perf_counter()
    while steps < 3 or time.perf_counter() - start < a.seconds:
        step(steps)
        steps += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"impl": "pytorch", "model": a.model, "threads": torch.get_num_threads(), "density": a.density,
                      "steps": steps, "seconds": round(elapsed, 3),
                      "images_per_s": round(steps * BATCH / elapsed, 1)}))


if __name__ == "__main__":
    main()
