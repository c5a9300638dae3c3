#include "genzoo/eval/importance.h"

#include <cmath>
#include <limits>

#include "genzoo/core/error.h"

namespace genzoo {

torch::Tensor importance_log_likelihood(const ImportanceModel& model, const torch::Tensor& x,
                                        int64_t k, int64_t chunk) {
  if (k < 1) throw Error("importance sampling: K must be >= 1, got " + std::to_string(k));
  if (chunk < 1) throw Error("importance sampling: chunk must be >= 1, got " + std::to_string(chunk));
  if (!model.propose || !model.log_joint) throw Error("importance sampling: the model is incomplete");
  TORCH_CHECK(x.dim() >= 1 && x.size(0) > 0, "importance sampling: empty data");
  torch::NoGradGuard no_grad;
  const int64_t n = x.size(0);
  // Running log-sum-exp of the log weights over the chunks drawn so far.
  auto acc = torch::full({n}, -std::numeric_limits<double>::infinity(), torch::kFloat64);  // [N]
  for (int64_t done = 0; done < k; done += chunk) {
    const int64_t m = std::min(chunk, k - done);
    auto [z, log_q] = model.propose(x, m);                                     // [m, N, ...], [m, N]
    auto log_w = (model.log_joint(x, z).to(torch::kFloat64) - log_q.to(torch::kFloat64));  // [m, N]
    TORCH_CHECK(log_w.dim() == 2 && log_w.size(0) == m && log_w.size(1) == n,
                "importance sampling: log weights must be [k, N], got ", log_w.sizes());
    acc = torch::logaddexp(acc, torch::logsumexp(log_w, 0));
  }
  return acc - std::log(static_cast<double>(k));  // [N]
}

}  // namespace genzoo
