#!/usr/bin/env python3
"""Grey-level statistics of images: mean, sd, skewness and quantiles.

Usage: bench/grey-levels.py IMAGE[:BORDER] ...

Each IMAGE is read through `convert FILE ppm:-`; grey = the mean of the
channels, 0-255. BORDER pixels are dropped on every side first (2 for a
single synthesis written by `genzoo sample`, whose grid has a 2-pixel
frame). Prints one line per image: mean, sd, skewness, and the 1, 5, 10,
50, 90 and 99 % quantiles, to see where a synthesis's grey-level histogram
departs from its source's (the `texture` metric's grey-level distance
gives one number; this says which part of the histogram is off).
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ppm import read_grey  # noqa: E402


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        path, _, border = arg.partition(":")
        b = int(border or 0)
        width, height, grey = read_grey(path)
        g = [grey[y * width + x] for y in range(b, height - b) for x in range(b, width - b)]
        n = len(g)
        mean = sum(g) / n
        sd = math.sqrt(sum((v - mean) ** 2 for v in g) / n)
        skew = sum(((v - mean) / sd) ** 3 for v in g) / n if sd > 0 else 0.0
        s = sorted(g)
        q = " ".join(f"q{int(p * 100):02d} {s[int(p * (n - 1))]:.0f}" for p in (0.01, 0.05, 0.1, 0.5, 0.9, 0.99))
        print(f"{path}: mean {mean:.1f} sd {sd:.1f} skew {skew:.2f} {q}")


if __name__ == "__main__":
    main()
