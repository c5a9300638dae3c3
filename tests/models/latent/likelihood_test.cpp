#include "genzoo/models/latent/likelihood.h"

#include <gtest/gtest.h>

#include <cmath>

namespace genzoo {
namespace {

TEST(DiscretizedLogistic, SumsToOneOverTheLevelsForAnyMeanAndScale) {
  auto levels = torch::arange(256, torch::kFloat64);  // [256]
  for (double mean : {-20.0, 0.0, 3.3, 127.5, 200.0, 255.0, 300.0})
    for (double log_scale : {-6.0, -1.0, 0.0, 2.0, 5.0}) {
      auto lp = discretized_logistic_log_prob(levels, torch::tensor(mean, torch::kFloat64),
                                              torch::tensor(log_scale, torch::kFloat64));
      ASSERT_TRUE(torch::isfinite(lp).all().item<bool>()) << mean << " " << log_scale;
      EXPECT_NEAR(torch::logsumexp(lp, 0).exp().item<double>(), 1.0, 1e-6) << "mean " << mean << ", log s " << log_scale;
    }
}

TEST(DiscretizedLogistic, InFloat32ItSumsToOneAndItsGradientsStayFinite) {
  auto levels = torch::arange(256, torch::kFloat32);
  for (double log_scale : {-7.0, -2.0, 0.0, 3.0, 12.0}) {
    auto mean = torch::tensor(100.0f, torch::requires_grad(true));
    auto ls = torch::tensor(static_cast<float>(log_scale), torch::requires_grad(true));
    auto lp = discretized_logistic_log_prob(levels, mean, ls);
    EXPECT_NEAR(torch::logsumexp(lp.to(torch::kFloat64), 0).exp().item<double>(), 1.0, 1e-4) << log_scale;
    // The edges and an interior level far in a tail: finite gradients.
    auto picked = lp.index_select(0, torch::tensor({0, 3, 100, 254, 255}, torch::kInt64)).sum();
    picked.backward();
    EXPECT_TRUE(std::isfinite(mean.grad().item<double>())) << log_scale;
    EXPECT_TRUE(std::isfinite(ls.grad().item<double>())) << log_scale;
  }
}

TEST(DiscretizedLogistic, InteriorBinsAreCdfDifferencesAndEdgesTakeTheTails) {
  const double mean = 100.2, s = 3.0;
  auto F = [&](double v) { return 1 / (1 + std::exp(-(v - mean) / s)); };
  auto lp = [&](double x) {
    return discretized_logistic_log_prob(torch::tensor(x, torch::kFloat64), torch::tensor(mean, torch::kFloat64),
                                         torch::tensor(std::log(s), torch::kFloat64))
        .item<double>();
  };
  EXPECT_NEAR(lp(101), std::log(F(101.5) - F(100.5)), 1e-10);
  EXPECT_NEAR(lp(90), std::log(F(90.5) - F(89.5)), 1e-10);
  // The tails in closed form: log F(v) = -log(1 + e^{-(v - m)/s}) and
  // log(1 - F(v)) = -log(1 + e^{(v - m)/s}) (1 - F(254.5) underflows in double).
  EXPECT_NEAR(lp(0), -std::log1p(std::exp(-(0.5 - mean) / s)), 1e-9);
  EXPECT_NEAR(lp(255), -std::log1p(std::exp((254.5 - mean) / s)), 1e-9);
}

TEST(PixelDistribution, MeansAndSamplesStayInTheDataRange) {
  torch::manual_seed(1);
  auto out = torch::randn({50, 2 * 6}) * 4;
  PixelDistribution logistic{PixelLikelihood::Logistic, PixelFormat::Levels256, out, {}};
  auto s = logistic.sample();
  EXPECT_EQ(s.sizes(), (std::vector<int64_t>{50, 6}));
  EXPECT_TRUE((s == s.round()).all().item<bool>());
  EXPECT_GE(s.min().item<double>(), 0);
  EXPECT_LE(s.max().item<double>(), 255);
  PixelDistribution gaussian{PixelLikelihood::Gaussian, PixelFormat::Symmetric, out.slice(1, 0, 6),
                             torch::full({}, std::log(0.5))};
  EXPECT_GE(gaussian.sample().min().item<double>(), -1);
  EXPECT_LE(gaussian.mean().max().item<double>(), 1);
  // The Gaussian log-density is the closed form.
  auto x = torch::zeros({50, 6});
  auto mu = torch::tanh(out.slice(1, 0, 6));
  auto want = (-0.5 * (mu / 0.5).pow(2) - std::log(0.5) - 0.5 * std::log(2 * M_PI)).sum(1);
  EXPECT_TRUE(torch::allclose(gaussian.log_prob(x), want, 1e-5, 1e-5));
  // One learned sigma per pixel ([D]), floored at 1/256.
  auto per_pixel = torch::tensor({std::log(0.2), std::log(0.5), std::log(1e-4), 0.0, 0.0, std::log(0.3)}).to(torch::kFloat);
  PixelDistribution learned{PixelLikelihood::Gaussian, PixelFormat::Unit, out.slice(1, 0, 6), per_pixel};
  auto sig = per_pixel.exp().clamp_min(1.0 / 256);
  auto mu_u = torch::sigmoid(out.slice(1, 0, 6));
  auto want_u = (-0.5 * ((x - mu_u) / sig).pow(2) - sig.log() - 0.5 * std::log(2 * M_PI)).sum(1);
  EXPECT_TRUE(torch::allclose(learned.log_prob(x), want_u, 1e-4, 1e-3));
}

TEST(PixelLikelihood, EachFormatHasItsLikelihoodAndMismatchesSayWhy) {
  EXPECT_EQ(default_likelihood(PixelFormat::Binary), PixelLikelihood::Bernoulli);
  EXPECT_EQ(default_likelihood(PixelFormat::Levels256), PixelLikelihood::Logistic);
  EXPECT_EQ(default_likelihood(PixelFormat::Unit), PixelLikelihood::Gaussian);
  for (auto f : {PixelFormat::Binary, PixelFormat::Levels256, PixelFormat::Unit, PixelFormat::Symmetric})
    EXPECT_EQ(likelihood_mismatch(default_likelihood(f), f), "");
  EXPECT_NE(likelihood_mismatch(PixelLikelihood::Logistic, PixelFormat::Binary).find("data.levels=256"),
            std::string::npos);
  EXPECT_NE(likelihood_mismatch(PixelLikelihood::Bernoulli, PixelFormat::Unit), "");
}

}  // namespace
}  // namespace genzoo
