"""PyTorch reference for bench/train_throughput.cpp: the same models, the same
batches of 100 binary 28x28 images, forward + backward + Adam(1e-3) per step.

    python3 bench/peers/autoregressive.py MODEL [--threads N] [--seconds S]
    MODEL: fvsbn | nade | nade-naive | made

Prints one JSON line like the C++ bench. Needs python3-torch (Debian).
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

D, H, BATCH = 784, 500, 100


def log_prob(logits, x):
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)


class Fvsbn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(D, D))
        self.bias = torch.nn.Parameter(torch.zeros(D))

    def forward(self, x):
        return log_prob(torch.addmm(self.bias, x, self.weight.tril(-1).t()), x)


class Nade(torch.nn.Module):
    """naive=False: the O(HD) recurrence a_{i+1} = a_i + W[:, i] x_i as a
    Python loop over pixels (autograd records every step). naive=True: every
    a_i at once, an [N, H, D] tensor."""

    def __init__(self, naive):
        super().__init__()
        sw, sv = 1 / D ** 0.5, 1 / H ** 0.5
        self.w = torch.nn.Parameter(torch.empty(H, D).uniform_(-sw, sw))
        self.c = torch.nn.Parameter(torch.zeros(H))
        self.v = torch.nn.Parameter(torch.empty(D, H).uniform_(-sv, sv))
        self.b = torch.nn.Parameter(torch.zeros(D))
        self.naive = naive

    def forward(self, x):
        if self.naive:
            contrib = x.unsqueeze(1) * self.w.unsqueeze(0)  # [N, H, D]
            a = self.c.view(1, -1, 1) + contrib.cumsum(2) - contrib
            logits = self.b + torch.einsum("nhd,dh->nd", torch.sigmoid(a), self.v)
        else:
            a = self.c.expand(x.shape[0], H)
            cols = []
            for i in range(D):
                cols.append(torch.sigmoid(a) @ self.v[i] + self.b[i])
                a = a + torch.outer(x[:, i], self.w[:, i])
            logits = torch.stack(cols, 1)
        return log_prob(logits, x)


class Made(torch.nn.Module):
    """One hidden layer of 500 ReLU units, one mask, natural order, direct
    input-to-output connections (the genzoo recipe); the masks are rebuilt
    from the degrees every step, as genzoo does."""

    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(D, H)
        self.output = torch.nn.Linear(H, D)
        self.direct = torch.nn.Parameter(torch.zeros(D, D))
        self.order = torch.arange(1, D + 1)
        self.degree = torch.randint(1, D, (H,))

    def forward(self, x):
        m1 = (self.degree.unsqueeze(1) >= self.order.unsqueeze(0)).float()
        m2 = (self.order.unsqueeze(1) > self.degree.unsqueeze(0)).float()
        m3 = (self.order.unsqueeze(1) > self.order.unsqueeze(0)).float()
        h = torch.relu(F.linear(x, self.hidden.weight * m1, self.hidden.bias))
        logits = F.linear(h, self.output.weight * m2, self.output.bias) + F.linear(x, self.direct * m3)
        return log_prob(logits, x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=["fvsbn", "nade", "nade-naive", "made"])
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--density", type=float, default=0.31, help="probability of a 1 pixel")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = {"fvsbn": Fvsbn, "made": Made}.get(a.model)
    model = model() if model else Nade(naive=a.model == "nade-naive")
    data = torch.bernoulli(torch.full((10 * BATCH, D), a.density))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(i):
        x = data[(i % 10) * BATCH:(i % 10 + 1) * BATCH]
        opt.zero_grad()
        loss = -model(x).mean()
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
