#include "genzoo/eval/parzen.h"

#include <algorithm>
#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"
#include "genzoo/eval/neighbours.h"

namespace genzoo {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Rows flattened to double [N, D]; at least `min_rows` of them, all finite.
torch::Tensor rows(const torch::Tensor& x, const char* where, const char* name, int64_t min_rows) {
  if (!x.defined() || x.dim() < 2 || x.size(0) < min_rows)
    throw Error(c10::str(where, ": ", name, " must be rows [N, ...] with N >= ", min_rows, ", got ",
                         x.defined() ? c10::str(x.sizes()) : std::string("undefined")));
  auto xd = x.flatten(1).to(torch::kFloat64);  // [N, D]
  if (!torch::isfinite(xd).all().item<bool>())
    throw Error(c10::str(where, ": ", name, " must be finite"));
  return xd;
}

void check_sigmas(const std::vector<double>& sigmas, const char* where) {
  if (sigmas.empty()) throw Error(c10::str(where, ": the sigma grid is empty"));
  for (double s : sigmas)
    if (!(s > 0) || !std::isfinite(s))
      throw Error(c10::str(where, ": sigma must be finite and > 0, got ", s));
}

// log p_s(x) for every sigma s of the grid and every row of x [M, D] under
// centres [N, D], double [S, M]. The squared distances of a block are
// computed once and reused for all sigmas, which is where the time goes.
torch::Tensor log_density_grid(const torch::Tensor& centres, const torch::Tensor& x,
                               const std::vector<double>& sigmas, int64_t block) {
  const int64_t m = x.size(0);
  const double n = static_cast<double>(centres.size(0));
  const double d = static_cast<double>(centres.size(1));
  auto out = torch::empty({static_cast<int64_t>(sigmas.size()), m}, torch::kFloat64);  // [S, M]
  for (int64_t i = 0; i < m; i += block) {
    const int64_t end = std::min(i + block, m);
    auto sq = squared_distances(x.slice(0, i, end), centres);  // [b, N]
    for (size_t s = 0; s < sigmas.size(); ++s) {
      const double var = sigmas[s] * sigmas[s];
      // Goodfellow et al. 2014, sec. 5: a mixture of N isotropic Gaussians of
      // variance var on the centres, normalised in D dimensions.
      auto lp = torch::logsumexp(sq / (-2 * var), 1) - std::log(n) -
                0.5 * d * std::log(2 * kPi * var);  // [b]
      out[static_cast<int64_t>(s)].slice(0, i, end).copy_(lp);
    }
  }
  return out;
}

}  // namespace

torch::Tensor parzen_log_density(const torch::Tensor& centres, const torch::Tensor& x, double sigma,
                                 int64_t block) {
  torch::NoGradGuard no_grad;
  auto c = rows(centres, "parzen_log_density", "centres", 1);  // [N, D]
  auto xd = rows(x, "parzen_log_density", "x", 0);             // [M, D]
  if (c.size(1) != xd.size(1))
    throw Error(c10::str("parzen_log_density: centres have ", c.size(1), " values per row and x ",
                         xd.size(1), "; they must match"));
  check_sigmas({sigma}, "parzen_log_density");
  if (block < 1) throw Error(c10::str("parzen_log_density: block must be >= 1, got ", block));
  return log_density_grid(c, xd, {sigma}, block)[0];  // [M]
}

std::vector<double> default_parzen_sigmas() {
  std::vector<double> s;
  for (int i = 0; i < 10; ++i) s.push_back(std::pow(10.0, -1.0 + i / 9.0));
  return s;
}

RowSplit parzen_sigma_rows(int64_t n, uint64_t seed) {
  constexpr uint64_t kSigmaStream = 0x7061727a656e5f73ULL;  // "parzen_s"
  TORCH_CHECK(n >= 2, "parzen_sigma_rows: need at least 2 rows, got ", n);
  const int64_t k = std::min<int64_t>(1000, n / 2);
  auto perm = torch::randperm(n, derived_generator(seed, kSigmaStream), torch::kInt64);  // [n]
  return {std::get<0>(perm.slice(0, 0, k).sort()), std::get<0>(perm.slice(0, k).sort())};
}

ParzenResult parzen_evaluate(const torch::Tensor& centres, const torch::Tensor& validation,
                             const torch::Tensor& test, const std::vector<double>& sigmas) {
  torch::NoGradGuard no_grad;
  auto c = rows(centres, "parzen_evaluate", "centres", 1);       // [N, D]
  auto v = rows(validation, "parzen_evaluate", "validation", 1);  // [V, D]
  auto t = rows(test, "parzen_evaluate", "test", 2);              // [T, D], 2 for a standard error
  if (v.size(1) != c.size(1) || t.size(1) != c.size(1))
    throw Error(c10::str("parzen_evaluate: centres, validation and test have ", c.size(1), ", ",
                         v.size(1), " and ", t.size(1), " values per row; they must match"));
  check_sigmas(sigmas, "parzen_evaluate");
  constexpr int64_t kBlock = 256;  // [256, N] doubles per block

  ParzenResult r;
  r.sigmas = sigmas;
  r.centres = c.size(0);
  r.validation_count = v.size(0);
  r.test_count = t.size(0);
  auto val_means = log_density_grid(c, v, sigmas, kBlock).mean(1).contiguous();  // [S]
  r.validation_means.assign(val_means.data_ptr<double>(), val_means.data_ptr<double>() + sigmas.size());
  // The first sigma with the highest validation mean (ties: the earlier one).
  const auto best = std::max_element(r.validation_means.begin(), r.validation_means.end());
  r.sigma = sigmas[static_cast<size_t>(best - r.validation_means.begin())];

  auto ll = log_density_grid(c, t, {r.sigma}, kBlock)[0];  // [T]
  r.mean = ll.mean().item<double>();
  // Standard error of the test mean; std with divisor T - 1.
  r.stderr_mean = ll.std().item<double>() / std::sqrt(static_cast<double>(r.test_count));
  return r;
}

}  // namespace genzoo
