#pragma once
// Parzen-window log-likelihood, the protocol of Goodfellow et al. 2014:
// an isotropic Gaussian kernel on each generated sample,
//   log p(x) = logsumexp_i [ -|x - c_i|^2 / (2 s^2) ] - log N - (D/2) log(2 pi s^2),
// s chosen from a grid (logspace(-1, 0, 10)) by the mean log-likelihood of
// validation data, then the mean and standard error on test data.
// Theis et al. 2016: unreliable in high dimensions; report, never rely on alone.
#include <torch/torch.h>

#include <vector>

namespace genzoo {

/// log p(x) for x [M, D] under the kernel density of centres [N, D], [M],
/// computed in blocks with log-sum-exp (double precision). Rows are
/// flattened, so images [N, C, H, W] may be passed as they are.
torch::Tensor parzen_log_density(const torch::Tensor& centres, const torch::Tensor& x,
                                 double sigma, int64_t block = 256);

struct ParzenResult {
  double mean = 0, stderr_mean = 0;  // on the test data, nats per example
  double sigma = 0;                  // chosen on the validation data
  std::vector<double> sigmas, validation_means;  // the whole search
  int64_t centres = 0, validation_count = 0, test_count = 0;
};

/// logspace(-1, 0, 10): 0.1 ... 1.
std::vector<double> default_parzen_sigmas();

/// Rows of a split of n to choose sigma on when there is no validation
/// split: `held` = min(1000, n / 2) seeded random rows (random_subset with
/// `seed`), `rest` the others; both sorted. Random, not the last rows: a
/// split stored by class (mnist-10k) would otherwise choose sigma on one or
/// two classes. When the split itself is scored, score `rest` only.
struct RowSplit {
  torch::Tensor held, rest;  // int64 [k], [n - k]
};
RowSplit parzen_sigma_rows(int64_t n, uint64_t seed);

ParzenResult parzen_evaluate(const torch::Tensor& centres, const torch::Tensor& validation,
                             const torch::Tensor& test,
                             const std::vector<double>& sigmas = default_parzen_sigmas());

}  // namespace genzoo
