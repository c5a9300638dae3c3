#include "genzoo/report/png_grid.h"

#include <cmath>

#include "genzoo/data/image.h"

namespace genzoo {

torch::Tensor make_grid(const torch::Tensor& images, int64_t columns, int64_t padding,
                        double pad_value) {
  TORCH_CHECK(images.defined() && images.dim() == 4 && images.size(0) > 0,
              "make_grid: expected images [N, C, H, W] with N > 0, got ",
              images.defined() ? images.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(images.is_floating_point(), "make_grid: expected floating pixels in [0, 1], got ",
              images.scalar_type());
  TORCH_CHECK(columns >= 0, "make_grid: columns must be >= 0, got ", columns);
  TORCH_CHECK(padding >= 0, "make_grid: padding must be >= 0, got ", padding);
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  const int64_t cols = columns > 0 ? std::min(columns, n)
                                   : static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int64_t rows = (n + cols - 1) / cols;
  auto x = images.detach().to(torch::kCPU, torch::kFloat32);  // [N, C, H, W]

  // Each tile is a cell of (H + p) x (W + p) with the image at its bottom right;
  // one more strip of p on the bottom and right closes the frame.
  auto cells = torch::full({rows * cols, c, h + padding, w + padding}, pad_value, torch::kFloat32);
  cells.slice(0, 0, n).slice(2, padding).slice(3, padding).copy_(x);
  auto grid = cells.view({rows, cols, c, h + padding, w + padding})
                  .permute({2, 0, 3, 1, 4})
                  .reshape({c, rows * (h + padding), cols * (w + padding)});  // [C, H', W'] minus frame
  auto out = torch::full({c, rows * (h + padding) + padding, cols * (w + padding) + padding},
                         pad_value, torch::kFloat32);  // [C, H', W']
  out.slice(1, 0, grid.size(1)).slice(2, 0, grid.size(2)).copy_(grid);
  return out;
}

void save_grid(const std::string& path, const torch::Tensor& images, int64_t columns) {
  write_png(path, make_grid(images, columns));
}

}  // namespace genzoo
