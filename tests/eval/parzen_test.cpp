#include "genzoo/eval/parzen.h"

#include <gtest/gtest.h>

#include "test_support.h"

#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {
namespace {


torch::Tensor parzen_normal(int64_t n, int64_t d, uint64_t index) {
  return torch::randn({n, d}, derived_generator(5, 0x5041525a, index), torch::kFloat64);  // [n, d]
}

// log N(x; 0, I) per row of x [M, D], [M].
torch::Tensor standard_normal_log_density(const torch::Tensor& x) {
  return -0.5 * x.pow(2).sum(1) - 0.5 * static_cast<double>(x.size(1)) * std::log(2 * testing::kPi);
}

TEST(Parzen, OneAndTwoCentresByHand) {
  // One centre at 0 in 2-D: the density is N(0, s^2 I) itself.
  auto x = torch::tensor({0.0, 0.0, 0.3, -0.4, 1.0, 2.0}, torch::kFloat64).reshape({3, 2});
  const double s = 0.5;
  auto lp = parzen_log_density(torch::zeros({1, 2}), x, s);
  auto expected = -x.pow(2).sum(1) / (2 * s * s) - std::log(2 * testing::kPi * s * s);
  EXPECT_TRUE(torch::allclose(lp, expected, 0, 1e-12));

  // Centres -1 and 1 in 1-D, x = 0: both at squared distance 1, so
  // p = N(0; 1, s^2) = exp(-1 / (2 s^2)) / sqrt(2 pi s^2).
  auto centres = torch::tensor({-1.0, 1.0}, torch::kFloat64).unsqueeze(1);  // [2, 1]
  auto two = parzen_log_density(centres, torch::zeros({1, 1}), s);
  EXPECT_NEAR(two.item<double>(), -1 / (2 * s * s) - 0.5 * std::log(2 * testing::kPi * s * s), 1e-12);

  // Far from every centre the log-sum-exp must not underflow to -inf.
  auto far = parzen_log_density(torch::zeros({1, 1}), torch::full({1, 1}, 100.0), 0.1);
  EXPECT_NEAR(far.item<double>(), -1e4 / 0.02 - 0.5 * std::log(2 * testing::kPi * 0.01), 1e-6);
}

TEST(Parzen, BlocksDoNotChangeTheResult) {
  auto centres = parzen_normal(50, 3, 1), x = parzen_normal(37, 3, 2);
  auto whole = parzen_log_density(centres, x, 0.4, 1000);
  auto blocked = parzen_log_density(centres, x, 0.4, 5);
  EXPECT_TRUE(torch::allclose(whole, blocked, 0, 1e-12));
  // Images [N, C, H, W] are flattened to rows.
  auto images = parzen_log_density(centres.reshape({50, 3, 1, 1}), x.reshape({37, 1, 3, 1}), 0.4);
  EXPECT_TRUE(torch::allclose(whole, images, 0, 1e-12));
}

TEST(Parzen, DefaultGridIsLogspaceMinusOneToZero) {
  auto s = default_parzen_sigmas();
  ASSERT_EQ(s.size(), 10u);
  EXPECT_NEAR(s.front(), 0.1, 1e-15);
  EXPECT_NEAR(s.back(), 1.0, 1e-15);
  for (size_t i = 1; i < s.size(); ++i) EXPECT_NEAR(s[i] / s[i - 1], std::pow(10.0, 1.0 / 9.0), 1e-12);
}

// 4000 centres from N(0, 1) in 1-D; validation and test sets of 2000 each.
// Silverman's rule puts the best bandwidth near 1.06 N^(-1/5) = 0.20, so of
// the grid {0.02, 0.2, 2} the validation data must pick 0.2.
//
// Tolerance on the test mean, compared with the true log density at the same
// test points (a paired comparison, so the spread of log p itself cancels):
// the kernel smooths N(0, 1) into N(0, 1 + s^2), which lowers the mean by
// 1/2 log(1 + s^2) + 1/(2(1 + s^2)) - 1/2 = 0.0004 at s = 0.2; the estimate's
// variance costs about range / (4 sqrt(pi) N s) = 0.002 more (Jensen, over
// the ~7-wide range of the data). 0.02 leaves 5x margin for sampling noise.
TEST(Parzen, RecoversTheMeanLogDensityOfAGaussian) {
  auto centres = parzen_normal(4000, 1, 3), validation = parzen_normal(2000, 1, 4), test = parzen_normal(2000, 1, 5);
  auto r = parzen_evaluate(centres, validation, test, {0.02, 0.2, 2.0});
  EXPECT_DOUBLE_EQ(r.sigma, 0.2);
  ASSERT_EQ(r.validation_means.size(), 3u);
  EXPECT_GT(r.validation_means[1], r.validation_means[0]);
  EXPECT_GT(r.validation_means[1], r.validation_means[2]);
  EXPECT_EQ(r.centres, 4000);
  EXPECT_EQ(r.validation_count, 2000);
  EXPECT_EQ(r.test_count, 2000);

  const double truth = standard_normal_log_density(test).mean().item<double>();
  EXPECT_NEAR(r.mean, truth, 0.02);
  // And near the population value E log N(x) = -1/2 log(2 pi) - 1/2 = -1.4189,
  // within 3 standard errors of the test mean.
  EXPECT_NEAR(r.mean, -0.5 * std::log(2 * testing::kPi) - 0.5, 3 * r.stderr_mean + 0.02);

  // The reported numbers are those of parzen_log_density at the chosen sigma.
  auto ll = parzen_log_density(centres, test, r.sigma);
  EXPECT_NEAR(r.mean, ll.mean().item<double>(), 1e-12);
  EXPECT_NEAR(r.stderr_mean, ll.std().item<double>() / std::sqrt(2000.0), 1e-12);
  for (size_t i = 0; i < r.sigmas.size(); ++i)
    EXPECT_NEAR(r.validation_means[i],
                parzen_log_density(centres, validation, r.sigmas[i]).mean().item<double>(), 1e-12);
}

TEST(Parzen, SigmaRowsAreARandomSubsetDisjointFromTheRest) {
  // A training split stored by class, as mnist-10k's is: the last 1,000 of
  // 8,000 rows hold 2 classes; a random 1,000 holds all 10.
  auto labels = torch::arange(8000, torch::kInt64).div(800, "floor");  // [8000], 0..9 in blocks
  RowSplit rows = parzen_sigma_rows(8000, 0);
  ASSERT_EQ(rows.held.size(0), 1000);
  ASSERT_EQ(rows.rest.size(0), 7000);
  EXPECT_EQ(std::get<0>(at::_unique(labels.index_select(0, rows.held))).size(0), 10);
  // Disjoint, and together every row once.
  auto all = std::get<0>(torch::cat({rows.held, rows.rest}).sort());
  EXPECT_TRUE(torch::equal(all, torch::arange(8000, torch::kInt64)));
  // Small splits keep half their rows to score; the draw is seeded.
  EXPECT_EQ(parzen_sigma_rows(90, 0).held.size(0), 45);
  EXPECT_TRUE(torch::equal(parzen_sigma_rows(500, 3).held, parzen_sigma_rows(500, 3).held));
  EXPECT_FALSE(torch::equal(parzen_sigma_rows(500, 3).held, parzen_sigma_rows(500, 4).held));
}

TEST(Parzen, RejectsBadInput) {
  auto c = parzen_normal(10, 2, 6), v = parzen_normal(5, 2, 7);
  EXPECT_THROW(parzen_log_density(c, v, 0.0), Error);
  EXPECT_THROW(parzen_log_density(c, v, -1.0), Error);
  EXPECT_THROW(parzen_log_density(c, parzen_normal(5, 3, 8), 0.5), Error);
  EXPECT_THROW(parzen_log_density(c, v, 0.5, 0), Error);
  EXPECT_THROW(parzen_log_density(c.slice(0, 0, 0), v, 0.5), Error);
  EXPECT_THROW(parzen_evaluate(c, v, v.slice(0, 0, 1)), Error);  // one test point: no standard error
  EXPECT_THROW(parzen_evaluate(c, v, v, {}), Error);
  EXPECT_THROW(parzen_evaluate(c, v, v, {0.1, NAN}), Error);
}

}  // namespace
}  // namespace genzoo
