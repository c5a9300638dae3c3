#include "genzoo/models/explicit/autoregressive.h"

namespace genzoo {

ModelInfo binary_density_info(const std::string& name, const std::string& description) {
  ModelInfo info;
  info.name = name;
  info.family = "explicit";
  info.description = description;
  info.objective = "likelihood";
  info.needs_binary = true;
  return info;
}

std::vector<int64_t> batch_shape(int64_t n, const std::vector<int64_t>& shape) {
  std::vector<int64_t> out{n};
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

torch::Tensor nothing_observed(int64_t dims) { return torch::zeros({1, dims}, torch::kBool); }

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

bool observed_first(const torch::Tensor& observed, const torch::Tensor& order) {
  auto in_order = observed.index_select(1, order).to(torch::kInt32);  // [N, D]
  // Observed-first means the row is non-increasing along the order.
  if (in_order.size(1) < 2) return true;
  auto rises = in_order.slice(1, 1) > in_order.slice(1, 0, -1);
  return !rises.any().item<bool>();
}

}  // namespace genzoo
