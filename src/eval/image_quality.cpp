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

}  // namespace genzoo
