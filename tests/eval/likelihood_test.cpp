#include "genzoo/eval/likelihood.h"

#include <gtest/gtest.h>

#include <cmath>

#include "genzoo/models/explicit/independent.h"

namespace genzoo {
namespace {

TEST(Likelihood, BitsPerDimFormulas) {
  EXPECT_NEAR(bits_per_dim(784 * std::log(2.0), 784, false), 1.0, 1e-12);
  // Dequantised: a uniform density on [0,1)^D has NLL 0 and costs 8 bits/dim.
  EXPECT_NEAR(bits_per_dim(0.0, 784, true), 8.0, 1e-12);
}

TEST(Likelihood, EvaluatesMeanAndStandardErrorInBatches) {
  // Two independent pixels with p(x1 = 1) = 1/2 and p(x2 = 1) = 3/4. The
  // rows (1,1) and (0,1) cost a = ln 2 + ln(4/3) nats, (1,0) and (0,0) cost
  // b = ln 2 + ln 4. Mean: ln 2 + ln(16/3) / 2. Deviations: +-(b - a)/2 =
  // +-ln(3)/2, so sd (divisor N - 1 = 3) = ln(3) / sqrt(3) and the standard
  // error sd / sqrt(4) = ln(3) / (2 sqrt(3)).
  Independent m(IndependentOptions().shape({1, 1, 2}));
  {
    torch::NoGradGuard g;
    m->logits.copy_(torch::tensor({0.0f, static_cast<float>(std::log(3.0))}));
  }
  auto x = torch::tensor({1.f, 1.f, 0.f, 1.f, 1.f, 0.f, 0.f, 0.f}).reshape({4, 1, 1, 2});
  for (int64_t batch : {1, 3, 4}) {  // uneven last batch included
    auto r = evaluate_likelihood(*m, x, batch);
    EXPECT_EQ(r.examples, 4);
    EXPECT_NEAR(r.nll_nats, std::log(2.0) + std::log(16.0 / 3.0) / 2, 1e-6) << batch;
    EXPECT_NEAR(r.nll_stderr, std::log(3.0) / (2 * std::sqrt(3.0)), 1e-6) << batch;
    EXPECT_NEAR(r.bits_per_dim, r.nll_nats / (2 * std::log(2.0)), 1e-9);
    EXPECT_FALSE(r.bound);
  }
  auto per = per_example_nll(*m, x, 3);
  const double a = std::log(2.0) + std::log(4.0 / 3.0), b = std::log(2.0) + std::log(4.0);
  EXPECT_TRUE(torch::allclose(per, torch::tensor({a, a, b, b}, torch::kFloat64), 0, 1e-6));
}

TEST(Likelihood, PairedDifferenceHasThePairedStandardError) {
  // d = a - b = (0.5, -0.5, 1, 1): mean 0.5, deviations (0, -1, 0.5, 0.5),
  // sum of squares 1.5, sd = sqrt(1.5 / 3), standard error sd / 2.
  auto a = torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kFloat64);
  auto b = torch::tensor({0.5, 2.5, 2.0, 3.0}, torch::kFloat64);
  auto d = paired_difference(a, b);
  EXPECT_EQ(d.examples, 4);
  EXPECT_NEAR(d.mean, 0.5, 1e-12);
  EXPECT_NEAR(d.stderr_mean, std::sqrt(0.5) / 2, 1e-12);
  EXPECT_THROW(paired_difference(a, b.slice(0, 0, 3)), c10::Error);
}

}  // namespace
}  // namespace genzoo
