#include "genzoo/eval/robustness.h"

#include <cmath>

namespace genzoo {

torch::Tensor pgd_attack(const LogitsFunction& logits, const torch::Tensor& x, const torch::Tensor& y,
                         const PgdOptions& o) {
  TORCH_CHECK(o.epsilon() >= 0 && o.steps() >= 0 && o.step_size() >= 0, "pgd: epsilon, steps, step_size must be >= 0");
  TORCH_CHECK(y.dim() == 1 && y.size(0) == x.size(0), "pgd: one label per image");
  if (o.epsilon() == 0 || o.steps() == 0) return x.detach();
  const double alpha = o.step_size() > 0 ? o.step_size() : 2.5 * o.epsilon() / static_cast<double>(o.steps());
  auto low = (x - o.epsilon()).clamp(0, 1).detach(), high = (x + o.epsilon()).clamp(0, 1).detach();
  auto labels = y.to(torch::kLong);
  torch::Tensor adv = x.detach();
  torch::AutoGradMode enable(true);
  for (int64_t t = 0; t < o.steps(); ++t) {
    auto input = adv.detach().requires_grad_(true);
    auto loss = torch::nn::functional::cross_entropy(
        logits(input), labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    auto g = torch::autograd::grad({loss}, {input})[0];  // the input's gradient only
    adv = torch::min(torch::max(input.detach() + alpha * g.sign(), low), high);
  }
  return adv.detach();
}

std::vector<RobustAccuracy> robust_accuracy(const LogitsFunction& logits, const torch::Tensor& x,
                                            const torch::Tensor& y, const std::vector<double>& epsilons,
                                            int64_t steps, int64_t batch) {
  TORCH_CHECK(x.size(0) == y.size(0) && x.size(0) > 0, "robust_accuracy: needs labelled images");
  std::vector<RobustAccuracy> out;
  const int64_t n = x.size(0);
  for (double eps : epsilons) {
    auto correct = torch::zeros({n}, torch::kFloat64);
    for (int64_t i = 0; i < n; i += batch) {
      const int64_t end = std::min(i + batch, n);
      auto xi = x.slice(0, i, end), yi = y.slice(0, i, end).to(torch::kLong);
      auto adv = pgd_attack(logits, xi, yi, PgdOptions().epsilon(eps).steps(steps));
      torch::NoGradGuard no_grad;
      correct.slice(0, i, end).copy_((logits(adv).argmax(1) == yi).to(torch::kFloat64));
    }
    RobustAccuracy r;
    r.epsilon = eps;
    r.accuracy = correct.mean().item<double>();
    r.stderr_ = n > 1 ? correct.std().item<double>() / std::sqrt(static_cast<double>(n)) : 0.0;
    out.push_back(r);
  }
  return out;
}

}  // namespace genzoo
