#pragma once
// Mode coverage on mixtures of Gaussians (ring8, grid25): a sample is of high
// quality when it lies within 3 sigma of its nearest mode; a mode is captured
// when it is the nearest mode of at least one high-quality sample; the
// reverse KL compares the histogram of high-quality samples over modes, q,
// with the uniform u: KL(q || u) = sum_m q_m log(q_m M)   (0 log 0 = 0).
#include <torch/torch.h>

#include <vector>

namespace genzoo {

struct ModeCoverage {
  int64_t modes_captured = 0, modes_total = 0;
  double high_quality_share = 0;  // of all samples
  double reverse_kl = 0;          // of the high-quality mode histogram vs uniform; +inf if none
  std::vector<int64_t> counts;    // high-quality samples per mode
  int64_t samples = 0;
};

/// samples [N, 2] (any D), modes [M, D], sigma of each component.
ModeCoverage mode_coverage(const torch::Tensor& samples, const torch::Tensor& modes, double sigma);

}  // namespace genzoo
