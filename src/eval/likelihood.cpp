#include "genzoo/eval/likelihood.h"

#include <cmath>

#include "genzoo/core/error.h"

namespace genzoo {

double bits_per_dim(double nll_nats, int64_t dims, bool dequantized) {
  TORCH_CHECK(dims > 0, "bits_per_dim: dims must be positive");
  double per_dim = nll_nats / static_cast<double>(dims);
  if (dequantized) per_dim += std::log(256.0);
  return per_dim / std::log(2.0);
}

torch::Tensor per_example_nll(Density& model, const torch::Tensor& data, int64_t batch_size) {
  TORCH_CHECK(data.dim() >= 2 && data.size(0) > 0, "evaluate_likelihood: empty data");
  TORCH_CHECK(batch_size > 0, "evaluate_likelihood: batch_size must be positive");
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < data.size(0); i += batch_size)
    parts.push_back(model.log_prob(data.slice(0, i, std::min(i + batch_size, data.size(0))))
                        .to(torch::kFloat64));
  return -torch::cat(parts);  // [N]
}

PairedDifference paired_difference(const torch::Tensor& a, const torch::Tensor& b) {
  TORCH_CHECK(a.dim() == 1 && a.sizes() == b.sizes() && a.size(0) >= 2,
              "paired_difference: needs two [N] tensors with N >= 2 over the same examples, got ", a.sizes(), " and ",
              b.sizes());
  auto d = a.to(torch::kFloat64) - b.to(torch::kFloat64);  // [N]
  PairedDifference r;
  r.examples = d.size(0);
  r.mean = d.mean().item<double>();
  r.stderr_mean = d.std().item<double>() / std::sqrt(static_cast<double>(r.examples));
  return r;
}

LikelihoodResult evaluate_likelihood(Density& model, const torch::Tensor& data,
                                     int64_t batch_size, bool dequantized) {
  auto nll = per_example_nll(model, data, batch_size);  // [N]
  LikelihoodResult r;
  r.examples = nll.size(0);
  r.nll_nats = nll.mean().item<double>();
  r.nll_stderr = r.examples > 1 ? nll.std().item<double>() / std::sqrt(static_cast<double>(r.examples)) : 0.0;
  r.bits_per_dim = bits_per_dim(r.nll_nats, data[0].numel(), dequantized);
  r.bound = model.bound() == Bound::LowerBound;
  return r;
}

}  // namespace genzoo
