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
  Independent m(IndependentOptions().shape({1, 1, 1}));  // p(1) = p(0) = 1/2
  auto x = torch::tensor({1.f, 0.f, 1.f, 1.f, 0.f}).reshape({5, 1, 1, 1});
  auto r = evaluate_likelihood(*m, x, 2);
  EXPECT_EQ(r.examples, 5);
  EXPECT_NEAR(r.nll_nats, std::log(2.0), 1e-6);
  EXPECT_NEAR(r.nll_stderr, 0.0, 1e-6);
  EXPECT_NEAR(r.bits_per_dim, 1.0, 1e-6);
  EXPECT_FALSE(r.bound);
}

}  // namespace
}  // namespace genzoo
