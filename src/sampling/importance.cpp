#include "genzoo/sampling/importance.h"

#include <cmath>
#include <limits>
#include <vector>

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
    auto [z, log_q] = model.propose(x, m);  // [m, N, ...], [m, N]
    auto log_joint = model.log_joint(x, z);  // [m, N]
    // Each is checked before they are combined: a [N] or [m, 1] term would
    // broadcast silently against the other.
    const std::vector<int64_t> want{m, n};
    TORCH_CHECK(log_q.sizes() == want, "importance sampling: log q(z|x) must be [k, N] = [", m, ", ", n, "], got ",
                log_q.sizes());
    TORCH_CHECK(log_joint.sizes() == want, "importance sampling: log p(x, z) must be [k, N] = [", m, ", ", n,
                "], got ", log_joint.sizes());
    auto log_w = log_joint.to(torch::kFloat64) - log_q.to(torch::kFloat64);  // [m, N]
    acc = torch::logaddexp(acc, torch::logsumexp(log_w, 0));
  }
  return acc - std::log(static_cast<double>(k));  // [N]
}

}  // namespace genzoo
