#include "genzoo/eval/frechet.h"

#include "checked_features.h"

#include <algorithm>
#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {

namespace {

// Stream tag for derived_generator: "kid_subs".
constexpr uint64_t kKidStream = 0x6b69645f73756273ULL;

void check_stats(const GaussianStats& s, const char* name) {
  if (!s.mean.defined() || !s.cov.defined() || s.mean.dim() != 1 || s.cov.dim() != 2 ||
      s.cov.size(0) != s.mean.size(0) || s.cov.size(1) != s.mean.size(0))
    throw Error(c10::str("frechet_distance: stats '", name,
                         "' must hold mean [F] and cov [F, F]"));
}

// Symmetric square root of a covariance by its eigendecomposition
// S = V diag(l) V^T  ->  S^1/2 = V diag(sqrt(max(l, 0))) V^T; the clamp removes
// the small negative eigenvalues that round-off gives a singular S.  [F, F]
torch::Tensor psd_sqrt(const torch::Tensor& s) {
  auto [values, vectors] = torch::linalg_eigh(s);  // [F], [F, F]
  return torch::matmul(vectors * values.clamp_min(0).sqrt().unsqueeze(0), vectors.t());
}

// Unbiased MMD^2 between equal-size samples x, y [m, F] with the cubic
// polynomial kernel k(a, b) = (a.b / F + 1)^3 (Binkowski et al. 2018, the KID
// definition; the estimator is Gretton et al. 2012's MMD^2_u): the within-set
// sums leave out the diagonal k(x_i, x_i), which is what removes the bias.
double mmd2_unbiased(const torch::Tensor& x, const torch::Tensor& y) {
  const double m = static_cast<double>(x.size(0));
  const double f = static_cast<double>(x.size(1));
  auto kernel = [f](const torch::Tensor& a, const torch::Tensor& b) {
    return (torch::matmul(a, b.t()) / f + 1).pow(3);  // [m, m]
  };
  auto kxx = kernel(x, x), kyy = kernel(y, y), kxy = kernel(x, y);
  const double xx = (kxx.sum() - kxx.diagonal().sum()).item<double>() / (m * (m - 1));
  const double yy = (kyy.sum() - kyy.diagonal().sum()).item<double>() / (m * (m - 1));
  const double xy = kxy.sum().item<double>() / (m * m);
  return xx + yy - 2 * xy;
}

}  // namespace

GaussianStats gaussian_stats(const torch::Tensor& features) {
  torch::NoGradGuard no_grad;
  auto x = detail::checked_features(features, "gaussian_stats", 2);  // [N, F]
  GaussianStats s;
  s.count = x.size(0);
  s.mean = x.mean(0);                                       // [F]
  auto centred = x - s.mean;                                // [N, F]
  s.cov = torch::matmul(centred.t(), centred) / static_cast<double>(s.count - 1);  // [F, F]
  return s;
}

double frechet_distance(const GaussianStats& a, const GaussianStats& b) {
  check_stats(a, "a");
  check_stats(b, "b");
  if (a.mean.size(0) != b.mean.size(0))
    throw Error(c10::str("frechet_distance: the stats have ", a.mean.size(0), " and ",
                         b.mean.size(0), " features; they must match"));
  torch::NoGradGuard no_grad;
  auto mu1 = a.mean.to(torch::kFloat64), mu2 = b.mean.to(torch::kFloat64);  // [F]
  auto s1 = a.cov.to(torch::kFloat64), s2 = b.cov.to(torch::kFloat64);      // [F, F]
  if (!torch::isfinite(mu1).all().item<bool>() || !torch::isfinite(mu2).all().item<bool>() ||
      !torch::isfinite(s1).all().item<bool>() || !torch::isfinite(s2).all().item<bool>())
    throw Error("frechet_distance: means and covariances must be finite");

  // tr (S1 S2)^1/2 = tr (S1^1/2 S2 S1^1/2)^1/2: the inner matrix is symmetric
  // positive semi-definite, so its eigenvalues are real and >= 0 up to
  // round-off, unlike those of the non-symmetric S1 S2 that scipy's sqrtm route
  // takes. Symmetrising first makes eigvalsh see exactly a symmetric matrix.
  auto r1 = psd_sqrt(s1);                                  // [F, F]
  auto inner = torch::matmul(torch::matmul(r1, s2), r1);   // [F, F]
  inner = (inner + inner.t()) / 2;
  const double tr_sqrt = torch::linalg_eigvalsh(inner).clamp_min(0).sqrt().sum().item<double>();

  const double mean_term = (mu1 - mu2).pow(2).sum().item<double>();
  const double fid =
      mean_term + s1.trace().item<double>() + s2.trace().item<double>() - 2 * tr_sqrt;
  // The distance is >= 0; a tiny negative value is round-off of identical stats.
  return std::max(fid, 0.0);
}

KidResult kernel_inception_distance(const torch::Tensor& real, const torch::Tensor& fake,
                                    int64_t subsets, int64_t subset_size, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto r = detail::checked_features(real, "kernel_inception_distance: real", 2);  // [N, F]
  auto f = detail::checked_features(fake, "kernel_inception_distance: fake", 2);  // [M, F]
  if (r.size(1) != f.size(1))
    throw Error(c10::str("kernel_inception_distance: real has ", r.size(1), " features and fake ",
                         f.size(1), "; they must match"));
  if (subsets < 1)
    throw Error(c10::str("kernel_inception_distance: subsets must be >= 1, got ", subsets));
  if (subset_size < 2)
    throw Error(c10::str("kernel_inception_distance: subset_size must be >= 2, got ", subset_size));

  const int64_t m = std::min({r.size(0), f.size(0), subset_size});
  auto estimates = torch::empty({subsets}, torch::kFloat64);  // [subsets]
  auto* est = estimates.data_ptr<double>();
  for (int64_t s = 0; s < subsets; ++s) {
    // One generator per subset, so subset s is the same whatever the count.
    auto gen = derived_generator(seed, kKidStream, static_cast<uint64_t>(s));
    auto ri = torch::randperm(r.size(0), gen, torch::kLong).slice(0, 0, m);  // [m]
    auto fi = torch::randperm(f.size(0), gen, torch::kLong).slice(0, 0, m);  // [m]
    est[s] = mmd2_unbiased(r.index_select(0, ri), f.index_select(0, fi));
  }
  KidResult out;
  out.subsets = subsets;
  out.subset_size = m;
  out.mean = estimates.mean().item<double>();
  // Spread of the subset estimates with divisor S (numpy's default, as the
  // reference KID code reports it); subsets overlap, so this is not a
  // standard error of the mean.
  out.std = estimates.std(/*unbiased=*/false).item<double>();
  return out;
}

}  // namespace genzoo
