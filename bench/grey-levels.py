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
import subprocess
import sys


def grey_values(path, border):
    data = subprocess.run(["convert", path, "ppm:-"], check=True, capture_output=True).stdout
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval; '#' comments skipped
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    width, height = int(fields[1]), int(fields[2])
    ch = 3 if fields[0] == b"P6" else 1
    px = data[pos:pos + width * height * ch]
    return [sum(px[(y * width + x) * ch:(y * width + x + 1) * ch]) / ch
            for y in range(border, height - border) for x in range(border, width - border)]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        path, _, border = arg.partition(":")
        g = grey_values(path, int(border or 0))
        n = len(g)
        mean = sum(g) / n
        sd = math.sqrt(sum((v - mean) ** 2 for v in g) / n)
        skew = sum(((v - mean) / sd) ** 3 for v in g) / n if sd > 0 else 0.0
        s = sorted(g)
        q = " ".join(f"q{int(p * 100):02d} {s[int(p * (n - 1))]:.0f}" for p in (0.01, 0.05, 0.1, 0.5, 0.9, 0.99))
        print(f"{path}: mean {mean:.1f} sd {sd:.1f} skew {skew:.2f} {q}")


if __name__ == "__main__":
    main()
