#include "genzoo/models/bernoulli.h"

namespace genzoo {

torch::Tensor bernoulli_log_prob(const torch::Tensor& logits, const torch::Tensor& x) {
  // -BCE-with-logits is x log s(l) + (1-x) log s(-l), evaluated stably.
  return -torch::binary_cross_entropy_with_logits(logits, x, {}, {}, at::Reduction::None).sum(-1);
}

torch::Tensor marginal_logits(const torch::Tensor& data, int64_t dims) {
  TORCH_CHECK(data.dim() >= 2 && data.size(0) > 0, "marginals need [N, ...] data");
  torch::NoGradGuard no_grad;
  const int64_t n = data.size(0);
  TORCH_CHECK(data.numel() == n * dims, "data have ", data.numel() / n, " pixels, the model ", dims);
  // Summed in double without a double copy of the whole training set.
  auto sums = data.reshape({n, dims}).sum(0, /*keepdim=*/false, torch::kFloat64);  // [D]
  auto p = (sums + 1.0) / (static_cast<double>(n) + 2.0);
  return torch::logit(p).to(torch::kFloat32);
}

}  // namespace genzoo
