#!/usr/bin/env python3
"""How strongly a grid of images shows the lattice of a strided ConvNet.

Usage: bench/lattice-power.py GRID.png [PERIOD=4] [TILE=28] [BORDER=2]

GRID.png is a grid written by `genzoo sample` or `genzoo data preview`
(grey tiles of TILE x TILE pixels with BORDER pixels between and around
them). For each tile, the fine detail is kept (each pixel minus the mean
of its 3 x 3 neighbourhood, edges replicated) and split by the pixel's
position modulo PERIOD in both directions (PERIOD² phases). The statistic
is the share of the detail's energy that the phase means explain,
  sum over phases of n_phase * mean_phase²  /  sum of detail²:
the part of the fine detail that is one fixed PERIOD-pixel pattern
repeated over the tile. Detail that ignores the pixel grid gives about
PERIOD² / TILE² (0.020 for 4 and 28; a little less for smooth detail,
since neighbouring pixels are correlated); a stamped grid gives much
more. The input gradient of a net whose strides multiply to PERIOD can
stamp such a grid on Langevin samples (the checkerboard of transposed
convolutions, Odena et al. 2016). Prints the mean share over tiles and its
standard error.

Reads the PNG through `convert FILE ppm:-` and needs nothing beyond the
Python standard library.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ppm import read_grey  # noqa: E402


def lattice_share(block, tile, period):
    def at(y, x):
        return block[min(max(y, 0), tile - 1)][min(max(x, 0), tile - 1)]
    detail = [[block[y][x] - sum(at(y + dy, x + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)) / 9.0
               for x in range(tile)] for y in range(tile)]
    energy = sum(v * v for row in detail for v in row)
    if energy <= 0:
        return None
    sums, counts = {}, {}
    for y in range(tile):
        for x in range(tile):
            key = (y % period, x % period)
            sums[key] = sums.get(key, 0.0) + detail[y][x]
            counts[key] = counts.get(key, 0) + 1
    return sum(sums[k] ** 2 / counts[k] for k in sums) / energy


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    period = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    tile = int(sys.argv[3]) if len(sys.argv) > 3 else 28
    border = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    width, height, grey = read_grey(path)
    cols, rows = (width - border) // (tile + border), (height - border) // (tile + border)
    shares = []
    for r in range(rows):
        for c in range(cols):
            top, left = border + r * (tile + border), border + c * (tile + border)
            block = [[grey[(top + y) * width + left + x] / 255.0 for x in range(tile)] for y in range(tile)]
            share = lattice_share(block, tile, period)
            if share is not None:
                shares.append(share)
    n = len(shares)
    if n < 2:
        sys.exit("fewer than two tiles with any variation")
    mean = sum(shares) / n
    sd = math.sqrt(sum((s - mean) ** 2 for s in shares) / (n - 1))
    print(f"{path}: lattice share of fine detail (period {period}) {mean:.4f} ± {sd / math.sqrt(n):.4f} over {n} tiles")


if __name__ == "__main__":
    main()
