#pragma once
// Scatter plots of 2-D points (samples of the toy distributions), with the
// true mixture centres marked, the way the mode-collapse papers show them.
#include <torch/torch.h>

#include <string>

namespace genzoo {

/// A float RGB image [3, size, size] in [0, 1]: white, the points [N, 2] as
/// dark blue dots, `marks` [M, 2] (may be undefined) as red rings of radius
/// `mark_radius` (in data units; 0 = a fixed few pixels) drawn over them.
/// The square shown is [lo, hi]^2 (x to the right, y up); points outside are
/// left out.
torch::Tensor scatter_image(const torch::Tensor& points, const torch::Tensor& marks, double lo, double hi,
                            int64_t size = 400, double mark_radius = 0);

/// The square [lo, hi] that shows `marks` (or, without them, the central
/// 99% of `points`) with a margin.
std::pair<double, double> scatter_extent(const torch::Tensor& points, const torch::Tensor& marks);

}  // namespace genzoo
