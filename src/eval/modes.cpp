#include "genzoo/eval/modes.h"

#include <cmath>
#include <limits>

#include "genzoo/core/error.h"
#include "genzoo/eval/neighbours.h"

namespace genzoo {

// The protocol of Srivastava et al. 2017 (VEEGAN, the 2-D mixture experiments):
// high quality = within 3 standard deviations of the nearest mode.
ModeCoverage mode_coverage(const torch::Tensor& samples, const torch::Tensor& modes, double sigma) {
  if (!samples.defined() || samples.dim() != 2 || samples.size(0) == 0)
    throw Error("mode_coverage: samples must be [N, D] with N >= 1, got " +
                (samples.defined() ? c10::str(samples.sizes()) : std::string("undefined")));
  if (!modes.defined() || modes.dim() != 2 || modes.size(0) == 0 || modes.size(1) != samples.size(1))
    throw Error(c10::str("mode_coverage: modes must be [M, ", samples.size(1), "] with M >= 1, got ",
                         modes.defined() ? c10::str(modes.sizes()) : std::string("undefined")));
  if (!(sigma > 0) || !std::isfinite(sigma))
    throw Error(c10::str("mode_coverage: sigma must be finite and > 0, got ", sigma));
  torch::NoGradGuard no_grad;

  const int64_t m = modes.size(0);
  auto nearest = nearest_neighbours(samples, modes, /*k=*/1);  // [N, 1] each; checks finiteness
  auto mode = nearest.indices.select(1, 0);                    // [N]
  auto good = nearest.distances.select(1, 0) <= 3 * sigma;     // [N] bool
  auto counts = torch::bincount(mode.masked_select(good), /*weights=*/{}, /*minlength=*/m);  // [M]

  ModeCoverage r;
  r.samples = samples.size(0);
  r.modes_total = m;
  r.counts.assign(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + m);
  r.modes_captured = (counts > 0).sum().item<int64_t>();
  const int64_t good_total = counts.sum().item<int64_t>();
  r.high_quality_share = static_cast<double>(good_total) / static_cast<double>(r.samples);
  if (good_total == 0) {
    r.reverse_kl = std::numeric_limits<double>::infinity();  // no histogram to compare
  } else {
    // KL(q || u) = sum_m q_m log(q_m M); xlogy makes the empty modes' 0 log 0 = 0.
    auto q = counts.to(torch::kFloat64) / static_cast<double>(good_total);  // [M]
    r.reverse_kl = torch::xlogy(q, q * static_cast<double>(m)).sum().item<double>();
  }
  return r;
}

}  // namespace genzoo
