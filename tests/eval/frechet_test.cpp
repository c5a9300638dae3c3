#include "genzoo/eval/frechet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {
namespace {

torch::Tensor vec(std::vector<double> v) { return torch::tensor(v, torch::kFloat64); }

GaussianStats stats(torch::Tensor mean, torch::Tensor cov) {
  GaussianStats s;
  s.mean = mean.to(torch::kFloat64);
  s.cov = cov.to(torch::kFloat64);
  s.count = 1000;
  return s;
}

torch::Tensor fid_normal(int64_t n, int64_t d, uint64_t index) {
  return torch::randn({n, d}, derived_generator(7, 0x46494454, index), torch::kFloat64);  // [n, d]
}

TEST(Frechet, GaussianStatsAreMeanAndUnbiasedCovariance) {
  auto x = torch::tensor({0.f, 0.f, 2.f, 0.f, 0.f, 2.f, 2.f, 2.f}).reshape({4, 2});
  auto s = gaussian_stats(x);
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(s.mean.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::allclose(s.mean, vec({1.0, 1.0})));
  // Each coordinate is +-1 around its mean: variance 4 / (4 - 1); the coordinates are uncorrelated.
  auto expected = torch::eye(2, torch::kFloat64) * (4.0 / 3.0);
  EXPECT_TRUE(torch::allclose(s.cov, expected, 0, 1e-12));
}

TEST(Frechet, DiagonalCovariancesHaveTheClosedForm) {
  // FID = |dmu|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2 for diagonal covariances.
  auto a = stats(vec({0.0, 0.0, 0.0}), torch::diag(vec({1.0, 4.0, 9.0})));
  auto b = stats(vec({1.0, 2.0, 0.0}), torch::diag(vec({4.0, 1.0, 9.0})));
  EXPECT_NEAR(frechet_distance(a, b), 1 + 4 + 1 + 1 + 0, 1e-10);
}

TEST(Frechet, NonDiagonalCaseMatchesHandComputation) {
  // S1 = [[2,1],[1,2]], S2 = diag(1, 4): S1 S2 = [[2,4],[1,8]] has trace 10 and
  // determinant 12, and for a 2x2 matrix with positive eigenvalues
  // tr A^1/2 = sqrt(tr A + 2 sqrt(det A)). So
  // FID = |(1,0)|^2 + tr S1 + tr S2 - 2 sqrt(10 + 2 sqrt 12) = 1 + 4 + 5 - 2 sqrt(10 + 4 sqrt 3).
  auto a = stats(vec({0.0, 0.0}), vec({2.0, 1.0, 1.0, 2.0}).reshape({2, 2}));
  auto b = stats(vec({1.0, 0.0}), torch::diag(vec({1.0, 4.0})));
  const double expected = 10 - 2 * std::sqrt(10 + 4 * std::sqrt(3.0));  // 1.77122...
  EXPECT_NEAR(frechet_distance(a, b), expected, 1e-10);
  EXPECT_NEAR(frechet_distance(b, a), expected, 1e-10);  // symmetric
}

TEST(Frechet, CommutingCovariancesInARotatedBasis) {
  // S1 = Q diag(l1) Q^T, S2 = Q diag(l2) Q^T commute: FID = sum (sqrt l1 - sqrt l2)^2,
  // whatever the rotation Q; the eigen route must not depend on the basis.
  auto q = std::get<0>(torch::linalg_qr(fid_normal(5, 5, 1)));  // [5, 5] orthogonal
  auto l1 = vec({1.0, 2.0, 3.0, 4.0, 5.0});
  auto l2 = vec({5.0, 4.0, 3.0, 2.0, 1.0});
  auto a = stats(torch::zeros({5}), torch::matmul(q * l1, q.t()));
  auto b = stats(torch::zeros({5}), torch::matmul(q * l2, q.t()));
  const double expected = (l1.sqrt() - l2.sqrt()).pow(2).sum().item<double>();
  EXPECT_NEAR(frechet_distance(a, b), expected, 1e-9);
}

TEST(Frechet, SetWithItselfIsZero) {
  auto x = fid_normal(500, 16, 2) * 3 + 5;  // [500, 16]
  auto s = gaussian_stats(x);
  const double scale = s.cov.trace().item<double>();
  EXPECT_LE(frechet_distance(s, s), 1e-6 * scale);
  // Fewer samples than features: a singular covariance, still distance 0.
  auto few = gaussian_stats(fid_normal(10, 32, 3));
  EXPECT_LE(frechet_distance(few, few), 1e-6 * few.cov.trace().item<double>());
}

TEST(Frechet, SampledGaussiansApproachTheClosedForm) {
  // N(0, diag(1, 4)) vs N((1, 0), diag(4, 1)): FID = 1 + 1 + 1 = 3. Estimated
  // from 100000 samples each, the distance spreads by about 0.02 over seeds
  // (the sampling error of the traces, sd ~ sqrt(2 * 17 / N) each); 0.15 is 7 of those.
  auto scale_a = vec({1.0, 2.0}), scale_b = vec({2.0, 1.0});
  auto a = gaussian_stats(fid_normal(100000, 2, 4) * scale_a);
  auto b = gaussian_stats(fid_normal(100000, 2, 5) * scale_b + vec({1.0, 0.0}));
  EXPECT_NEAR(frechet_distance(a, b), 3.0, 0.15);
}

TEST(Frechet, RejectsBadInput) {
  EXPECT_THROW(gaussian_stats(torch::zeros({1, 3})), Error);  // N < 2
  EXPECT_THROW(gaussian_stats(torch::zeros({5})), Error);
  auto nan = torch::zeros({4, 2});
  nan[1][1] = NAN;
  EXPECT_THROW(gaussian_stats(nan), Error);
  auto a = gaussian_stats(fid_normal(10, 2, 6));
  auto b = gaussian_stats(fid_normal(10, 3, 7));
  EXPECT_THROW(frechet_distance(a, b), Error);
  EXPECT_THROW(frechet_distance(a, GaussianStats{}), Error);
}

// sum over pairs of k(x, y) = (x.y / F + 1)^3 by loops: the unbiased MMD^2.
double brute_mmd2(const torch::Tensor& x, const torch::Tensor& y) {
  const int64_t m = x.size(0);
  const double f = static_cast<double>(x.size(1));
  auto k = [f](const torch::Tensor& a, const torch::Tensor& b) {
    return std::pow(a.dot(b).item<double>() / f + 1, 3);
  };
  double xx = 0, yy = 0, xy = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j) {
      if (i != j) {
        xx += k(x[i], x[j]);
        yy += k(y[i], y[j]);
      }
      xy += k(x[i], y[j]);
    }
  return xx / (m * (m - 1.0)) + yy / (m * (m - 1.0)) - 2 * xy / (m * m);
}

TEST(Kid, WholeSetSubsetIsTheUnbiasedMmd) {
  // subset_size >= n: every subset is a permutation of the whole set, and the
  // estimate is invariant to permutations.
  auto x = fid_normal(6, 3, 8), y = fid_normal(6, 3, 9) + 0.5;
  auto r = kernel_inception_distance(x, y, 3, 100, 1);
  EXPECT_EQ(r.subset_size, 6);
  EXPECT_EQ(r.subsets, 3);
  EXPECT_NEAR(r.mean, brute_mmd2(x, y), 1e-10);
  EXPECT_NEAR(r.std, 0.0, 1e-10);
}

TEST(Kid, NearZeroForOneDistributionAndPositiveForTwo) {
  auto real = fid_normal(600, 8, 10), same = fid_normal(600, 8, 11);
  auto same_kid = kernel_inception_distance(real, same, 20, 200, 3);
  EXPECT_EQ(same_kid.subset_size, 200);
  EXPECT_GT(same_kid.std, 0.0);
  // Unbiased: the mean is 0 up to sampling noise, a few subset spreads at most.
  EXPECT_LT(std::abs(same_kid.mean), 3 * same_kid.std);

  auto shifted = kernel_inception_distance(real, same + 1.0, 20, 200, 3);
  EXPECT_GT(shifted.mean, 5 * shifted.std);  // 10 to 19 subset spreads over 12 seeds
  EXPECT_GT(shifted.mean, 20 * std::abs(same_kid.mean));
}

TEST(Kid, SeededSubsets) {
  auto x = fid_normal(300, 4, 12), y = fid_normal(300, 4, 13);
  auto a = kernel_inception_distance(x, y, 5, 50, 42);
  auto b = kernel_inception_distance(x, y, 5, 50, 42);
  auto c = kernel_inception_distance(x, y, 5, 50, 43);
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_EQ(a.std, b.std);
  EXPECT_NE(a.mean, c.mean);
}

TEST(Kid, RejectsBadInput) {
  auto x = fid_normal(10, 4, 14);
  EXPECT_THROW(kernel_inception_distance(x, fid_normal(10, 3, 15)), Error);
  EXPECT_THROW(kernel_inception_distance(x, x.slice(0, 0, 1)), Error);
  EXPECT_THROW(kernel_inception_distance(x, x, 0), Error);
  EXPECT_THROW(kernel_inception_distance(x, x, 10, 1), Error);
}

}  // namespace
}  // namespace genzoo
