#include "genzoo/models/shapes.h"

namespace genzoo {

std::vector<int64_t> batch_shape(int64_t n, const std::vector<int64_t>& shape) {
  std::vector<int64_t> out{n};
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

int64_t shape_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

torch::Tensor flatten_pixels(const torch::Tensor& x, int64_t dims, const char* who) {
  TORCH_CHECK(x.dim() >= 2, who, ": expects images [N, C, H, W]");
  const int64_t n = x.size(0);
  // Explicit sizes (not -1), so that an empty batch reshapes too.
  TORCH_CHECK(x.numel() == n * dims, who, ": input has ", n > 0 ? x.numel() / n : 0, " pixels, the model ", dims);
  return x.reshape({n, dims});
}

torch::Tensor flatten_observed(const torch::Tensor& observed, int64_t rows, int64_t dims, const char* who) {
  TORCH_CHECK(observed.dim() >= 2 && (observed.size(0) == rows || observed.size(0) == 1), who,
              ": the observed mask needs one row per image or a single row");
  const int64_t n = observed.size(0);
  TORCH_CHECK(observed.numel() == n * dims, who, ": the observed mask has ", n > 0 ? observed.numel() / n : 0,
              " pixels, the model ", dims);
  return observed.reshape({n, dims}).to(torch::kBool).expand({rows, dims});
}

}  // namespace genzoo
