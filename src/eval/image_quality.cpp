#include "genzoo/eval/image_quality.h"

#include <cmath>

namespace genzoo {

torch::Tensor psnr(const torch::Tensor& x, const torch::Tensor& y, double peak) {
  TORCH_CHECK(x.sizes() == y.sizes() && x.dim() >= 1 && x.size(0) > 0, "psnr: needs two [N, ...] of one shape, got ",
              x.sizes(), " and ", y.sizes());
  TORCH_CHECK(peak > 0, "psnr: peak must be > 0");
  auto mse = (x.to(torch::kFloat64) - y.to(torch::kFloat64)).pow(2).flatten(1).mean(1);  // [N]
  // Identical images would give +inf (JSON has no infinity): MSE is floored
  // at 1e-10 peak^2, so they score 100 dB.
  return 10 * torch::log10(peak * peak / mse.clamp_min(1e-10 * peak * peak));
}

torch::Tensor gradient_energy(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(0) > 0 && images.size(2) >= 2 && images.size(3) >= 2,
              "gradient_energy: needs images [N, C, H, W] with H, W >= 2, got ", images.sizes());
  auto x = images.to(torch::kFloat64);
  auto dx = (x.slice(3, 1) - x.slice(3, 0, -1)).pow(2).sum({1, 2, 3});  // [N]
  auto dy = (x.slice(2, 1) - x.slice(2, 0, -1)).pow(2).sum({1, 2, 3});  // [N]
  const double pixels = static_cast<double>(x.size(1) * x.size(2) * x.size(3));
  return (dx + dy) / pixels;
}

}  // namespace genzoo
