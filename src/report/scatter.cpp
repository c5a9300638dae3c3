#include "genzoo/report/scatter.h"

#include <algorithm>
#include <cmath>

namespace genzoo {

torch::Tensor scatter_image(const torch::Tensor& points, const torch::Tensor& marks, double lo, double hi, int64_t size,
                            double mark_radius) {
  TORCH_CHECK(points.dim() == 2 && points.size(1) == 2, "scatter_image: points must be [N, 2], got ", points.sizes());
  TORCH_CHECK(hi > lo && size >= 8, "scatter_image: needs hi > lo and size >= 8");
  auto img = torch::ones({3, size, size}, torch::kFloat32);
  auto a = img.accessor<float, 3>();
  const double scale = (size - 1) / (hi - lo);
  auto to_pixel = [&](double x, double y) {
    return std::pair<int64_t, int64_t>{static_cast<int64_t>(std::lround((hi - y) * scale)),
                                       static_cast<int64_t>(std::lround((x - lo) * scale))};
  };
  auto paint = [&](int64_t r, int64_t c, float red, float green, float blue) {
    if (r < 0 || c < 0 || r >= size || c >= size) return;
    a[0][r][c] = red;
    a[1][r][c] = green;
    a[2][r][c] = blue;
  };
  auto p = points.to(torch::kFloat64).contiguous();
  auto pa = p.accessor<double, 2>();
  for (int64_t i = 0; i < p.size(0); ++i) {
    if (!std::isfinite(pa[i][0]) || !std::isfinite(pa[i][1])) continue;
    auto [r, c] = to_pixel(pa[i][0], pa[i][1]);
    for (int64_t dr = 0; dr < 2; ++dr)
      for (int64_t dc = 0; dc < 2; ++dc) paint(r + dr, c + dc, 0.10f, 0.25f, 0.65f);
  }
  if (marks.defined() && marks.numel() > 0) {
    auto m = marks.to(torch::kFloat64).contiguous();
    auto ma = m.accessor<double, 2>();
    const double radius = mark_radius > 0 ? std::max(2.0, mark_radius * scale) : 4.0;  // pixels
    for (int64_t i = 0; i < m.size(0); ++i) {
      auto [r, c] = to_pixel(ma[i][0], ma[i][1]);
      const int64_t steps = static_cast<int64_t>(std::ceil(2 * M_PI * radius * 2));
      for (int64_t s = 0; s < steps; ++s) {
        const double t = 2 * M_PI * s / steps;
        paint(r + std::lround(radius * std::sin(t)), c + std::lround(radius * std::cos(t)), 0.85f, 0.1f, 0.1f);
      }
    }
  }
  return img;
}

std::pair<double, double> scatter_extent(const torch::Tensor& points, const torch::Tensor& marks) {
  double lo, hi;
  if (marks.defined() && marks.numel() > 0) {
    lo = marks.min().item<double>();
    hi = marks.max().item<double>();
  } else {
    auto flat = points.to(torch::kFloat64).flatten();
    flat = flat.masked_select(torch::isfinite(flat));
    if (flat.numel() == 0) return {-1, 1};
    lo = torch::quantile(flat, 0.005).item<double>();
    hi = torch::quantile(flat, 0.995).item<double>();
  }
  const double margin = std::max(0.25 * (hi - lo), 0.5);
  return {lo - margin, hi + margin};
}

}  // namespace genzoo
