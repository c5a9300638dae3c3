"""PyTorch reference for bench/train_throughput.cpp: the same models, the same
batches of 100 binary 28x28 images, forward + backward + Adam(1e-3) per step.

    python3 bench/peers/autoregressive.py MODEL [--threads N] [--seconds S]
    MODEL: fvsbn | nade | nade-naive | made | pixelcnn | gated-pixelcnn | pixelrnn

The pixel networks have the sizes of genzoo's recipes (PIXEL below) and the
same layers in the same order; images enter as 2x - 1.

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


# channels h, depth (blocks / layers), first kernel, kernel, output channels:
# the recipes configs/{pixelcnn,gated-pixelcnn,pixelrnn}-fashion-mnist.toml.
PIXEL = {"pixelcnn": (16, 4, 7, 3, 32), "gated-pixelcnn": (16, 4, 7, 3, 32), "pixelrnn": (16, 2, 7, 3, 32)}


def raster_mask(kh, kw, type_b):
    m = torch.zeros(kh, kw)
    m[: kh // 2] = 1
    m[kh // 2, : kw // 2] = 1
    if type_b:
        m[kh // 2, kw // 2] = 1
    return m


class MaskedConv(torch.nn.Conv2d):
    def __init__(self, cin, cout, kh, kw, type_b):
        super().__init__(cin, cout, (kh, kw), padding=(kh // 2, kw // 2))
        self.register_buffer("mask", raster_mask(kh, kw, type_b).view(1, 1, kh, kw))

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


def pixel_log_prob(logits, x):
    return log_prob(logits.reshape(x.shape[0], -1), x.reshape(x.shape[0], -1))


class PixelCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        h, blocks, k0, k, out = PIXEL["pixelcnn"]
        self.first = MaskedConv(1, 2 * h, k0, k0, False)
        self.blocks = torch.nn.ModuleList(
            torch.nn.ModuleList([torch.nn.Conv2d(2 * h, h, 1), MaskedConv(h, h, k, k, True), torch.nn.Conv2d(h, 2 * h, 1)])
            for _ in range(blocks))
        self.out1, self.out2 = torch.nn.Conv2d(2 * h, out, 1), torch.nn.Conv2d(out, 1, 1)

    def forward(self, x):
        img = x.view(-1, 1, 28, 28)
        s = self.first(2 * img - 1)
        for down, mid, up in self.blocks:
            s = s + up(torch.relu(mid(torch.relu(down(torch.relu(s))))))
        return pixel_log_prob(self.out2(torch.relu(self.out1(torch.relu(s)))), x)


def gate(a):
    h = a.shape[1] // 2
    return torch.tanh(a[:, :h]) * torch.sigmoid(a[:, h:])


class GatedPixelCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        h, layers, k0, k, out = PIXEL["gated-pixelcnn"]
        self.kernels = [k0] + [k] * (layers - 1)
        self.vertical, self.horizontal, self.link, self.residual = (torch.nn.ModuleList() for _ in range(4))
        for i, kk in enumerate(self.kernels):
            cin = 1 if i == 0 else h
            self.vertical.append(torch.nn.Conv2d(cin, 2 * h, (kk // 2 + 1, kk)))
            self.horizontal.append(torch.nn.Conv2d(cin, 2 * h, (1, kk // 2 if i == 0 else kk // 2 + 1)))
            self.link.append(torch.nn.Conv2d(2 * h, 2 * h, 1))
            self.residual.append(torch.nn.Conv2d(h, h, 1))
        self.out1, self.out2 = torch.nn.Conv2d(h, out, 1), torch.nn.Conv2d(out, 1, 1)

    def forward(self, x):
        img = 2 * x.view(-1, 1, 28, 28) - 1
        v, stream = img, None
        for i, kk in enumerate(self.kernels):
            v_pre = self.vertical[i](F.pad(v, (kk // 2, kk // 2, kk // 2, 0)))
            if i == 0:
                h_pre = self.horizontal[i](F.pad(img, (kk // 2, 0, 0, 0)))[..., :28]
            else:
                h_pre = self.horizontal[i](F.pad(stream, (kk // 2, 0, 0, 0)))
            h_pre = h_pre + self.link[i](F.pad(v_pre, (0, 0, 1, 0))[:, :, :28])
            g = self.residual[i](gate(h_pre))
            stream = g if i == 0 else stream + g
            v = gate(v_pre)
        return pixel_log_prob(self.out2(torch.relu(self.out1(torch.relu(stream)))), x)


class PixelRnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        h, layers, k0, k, out = PIXEL["pixelrnn"]
        self.h = h
        self.first = MaskedConv(1, 2 * h, k0, k0, False)
        self.i2s = torch.nn.ModuleList(MaskedConv(2 * h, 4 * h, 1, k, True) for _ in range(layers))
        self.s2s = torch.nn.ModuleList(torch.nn.Conv1d(h, 4 * h, k, padding=k // 2, bias=False) for _ in range(layers))
        self.res = torch.nn.ModuleList(torch.nn.Conv2d(h, 2 * h, 1) for _ in range(layers))
        self.out1, self.out2 = torch.nn.Conv2d(2 * h, out, 1), torch.nn.Conv2d(out, 1, 1)

    def forward(self, x):
        s = self.first(2 * x.view(-1, 1, 28, 28) - 1)
        n = s.shape[0]
        for i2s, s2s, res in zip(self.i2s, self.s2s, self.res):
            gates_in = i2s(s)
            hidden = s.new_zeros(n, self.h, 28)
            cell = s.new_zeros(n, self.h, 28)
            rows = []
            for r in range(28):
                o, f, i, g = (gates_in[:, :, r] + s2s(hidden)).chunk(4, 1)
                cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
                hidden = torch.sigmoid(o) * torch.tanh(cell)
                rows.append(hidden)
            s = s + res(torch.stack(rows, 2))
        return pixel_log_prob(self.out2(torch.relu(self.out1(torch.relu(s)))), x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=["fvsbn", "nade", "nade-naive", "made", "pixelcnn", "gated-pixelcnn", "pixelrnn"])
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--density", type=float, default=0.31, help="probability of a 1 pixel")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = {"fvsbn": Fvsbn, "made": Made, "pixelcnn": PixelCnn, "gated-pixelcnn": GatedPixelCnn,
             "pixelrnn": PixelRnn}.get(a.model)
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
