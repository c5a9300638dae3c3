#include "genzoo/models/explicit/rnade.h"

#include <gtest/gtest.h>

#include <cmath>

namespace genzoo {
namespace {

void shake(torch::nn::Module& m, uint64_t seed) {
  torch::NoGradGuard g;
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& p : m.parameters()) p.add_(torch::randn(p.sizes(), gen, torch::kFloat64).to(p.dtype()) * 0.3);
}

TEST(Rnade, TheDensityIntegratesToOneInOneAndTwoDimensions) {
  torch::manual_seed(1);
  Rnade one(RnadeOptions().shape({1, 1, 1}).hidden(4).components(3));
  one->to(torch::kFloat64);
  shake(*one, 1);
  // Trapezoid rule over [-3, 4] (the means start in [0, 1] with scales near
  // 0.1; the tails beyond are negligible), 20,001 points.
  auto grid = torch::linspace(-3, 4, 20001, torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto p = one->log_prob(grid.view({-1, 1, 1, 1})).exp();
  const double step = 7.0 / 20000;
  EXPECT_NEAR(torch::trapezoid(p, step).item<double>(), 1.0, 1e-6);
  // Two pixels: the second conditional depends on the first through a_2.
  Rnade two(RnadeOptions().shape({1, 1, 2}).hidden(4).components(2));
  two->to(torch::kFloat64);
  shake(*two, 2);
  auto g = torch::linspace(-4, 5, 1801, torch::kFloat64);
  auto pairs = torch::stack({g.repeat_interleave(1801), g.repeat({1801})}, 1).view({-1, 1, 1, 2});
  auto q = two->log_prob(pairs).exp().view({1801, 1801});
  const double h = 9.0 / 1800;
  EXPECT_NEAR(torch::trapezoid(torch::trapezoid(q, h, 1), h).item<double>(), 1.0, 1e-4);
  // And the second conditional does depend on the first pixel.
  auto m = two->mixtures(torch::tensor({0.1, 0.5, 0.9, 0.5}, torch::kFloat64).view({2, 1, 1, 2}));
  EXPECT_FALSE(torch::allclose(m.means[0][1], m.means[1][1]));
}

TEST(Rnade, MixtureLogDensityMatchesTheFormula) {
  // Weights (0.25, 0.75), means (0, 1), scales (1, 0.5), at x = 0.5.
  auto lw = torch::tensor({std::log(0.25), std::log(0.75)}, torch::kFloat64);
  auto mu = torch::tensor({0.0, 1.0}, torch::kFloat64), ls = torch::tensor({0.0, std::log(0.5)}, torch::kFloat64);
  auto normal = [](double x, double m, double s) { return std::exp(-0.5 * (x - m) * (x - m) / (s * s)) / (s * std::sqrt(2 * M_PI)); };
  const double want = std::log(0.25 * normal(0.5, 0, 1) + 0.75 * normal(0.5, 1, 0.5));
  EXPECT_NEAR(gaussian_mixture_log_density(lw, mu, ls, torch::tensor(0.5, torch::kFloat64)).item<double>(), want, 1e-12);
}

TEST(Rnade, OnePixelSamplesFollowTheDensityClampedToTheDataRange) {
  torch::manual_seed(4);
  Rnade one(RnadeOptions().shape({1, 1, 1}).hidden(4).components(3));
  one->to(torch::kFloat64);
  shake(*one, 4);
  torch::NoGradGuard no_grad;
  // E[clamp(X, 0, 1)] and P(X < 0.3) by quadrature, against 40,000 draws.
  auto grid = torch::linspace(-3, 4, 20001, torch::kFloat64);
  auto p = one->log_prob(grid.view({-1, 1, 1, 1})).exp();
  const double step = 7.0 / 20000;
  const double mean = torch::trapezoid(p * grid.clamp(0, 1), step).item<double>();
  const double below = torch::trapezoid(p * (grid < 0.3).to(torch::kFloat64), step).item<double>();
  auto s = one->sample(40000).flatten();
  const double se = s.std().item<double>() / std::sqrt(40000.0);
  EXPECT_NEAR(s.mean().item<double>(), mean, 4 * se + 1e-4);
  EXPECT_NEAR((s < 0.3).to(torch::kFloat64).mean().item<double>(), below, 4 * std::sqrt(below * (1 - below) / 40000) + 1e-3);
}

TEST(Rnade, SamplesAndCompletionsStayInTheDataRangeAndKeepObservedPixels) {
  torch::manual_seed(3);
  Rnade m(RnadeOptions().shape({1, 3, 3}).hidden(5).components(2));
  auto s = m->sample(50);
  ASSERT_EQ(s.sizes(), (std::vector<int64_t>{50, 1, 3, 3}));
  EXPECT_GE(s.min().item<double>(), 0.0);
  EXPECT_LE(s.max().item<double>(), 1.0);
  EXPECT_GT(s.std().item<double>(), 0.0);
  auto x = torch::rand({4, 1, 3, 3});
  auto observed = torch::rand({4, 1, 3, 3}) < 0.5;
  auto y = m->complete(x, observed);
  EXPECT_TRUE(torch::equal(y.masked_select(observed), x.masked_select(observed)));
}

}  // namespace
}  // namespace genzoo
