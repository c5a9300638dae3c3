#include "genzoo/models/explicit/autoregressive.h"

namespace genzoo {

torch::Tensor bernoulli_log_prob(const torch::Tensor& logits, const torch::Tensor& x) {
  // -BCE-with-logits is x log s(l) + (1-x) log s(-l), evaluated stably.
  return -torch::binary_cross_entropy_with_logits(logits, x, {}, {}, at::Reduction::None).sum(-1);
}

torch::Tensor marginal_logits(const torch::Tensor& data, int64_t dims) {
  TORCH_CHECK(data.dim() >= 2 && data.size(0) > 0, "marginals need [N, ...] data");
  torch::NoGradGuard no_grad;
  auto x = data.reshape({data.size(0), -1}).to(torch::kFloat64);  // [N, D]
  TORCH_CHECK(x.size(1) == dims, "data have ", x.size(1), " pixels, the model ", dims);
  auto p = (x.sum(0) + 1.0) / (static_cast<double>(x.size(0)) + 2.0);  // [D]
  return torch::logit(p).to(torch::kFloat32);
}

int64_t shape_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

torch::Tensor flatten_pixels(const torch::Tensor& x, int64_t dims, const char* who) {
  TORCH_CHECK(x.dim() >= 2, who, ": expects images [N, C, H, W]");
  auto flat = x.reshape({x.size(0), -1});
  TORCH_CHECK(flat.size(1) == dims, who, ": input has ", flat.size(1), " pixels, the model ", dims);
  return flat;
}

torch::Tensor flatten_observed(const torch::Tensor& observed, int64_t rows, int64_t dims, const char* who) {
  TORCH_CHECK(observed.dim() >= 2 && (observed.size(0) == rows || observed.size(0) == 1), who,
              ": the observed mask needs one row per image or a single row");
  auto flat = observed.reshape({observed.size(0), -1}).to(torch::kBool);
  TORCH_CHECK(flat.size(1) == dims, who, ": the observed mask has ", flat.size(1), " pixels, the model ", dims);
  return flat.expand({rows, dims});
}

bool observed_first(const torch::Tensor& observed, const torch::Tensor& order) {
  auto in_order = observed.index_select(1, order).to(torch::kInt32);  // [N, D]
  // Observed-first means the row is non-increasing along the order.
  if (in_order.size(1) < 2) return true;
  auto rises = in_order.slice(1, 1) > in_order.slice(1, 0, -1);
  return !rises.any().item<bool>();
}

}  // namespace genzoo
