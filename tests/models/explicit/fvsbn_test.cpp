#include "genzoo/models/explicit/fvsbn.h"

#include <gtest/gtest.h>

#include <cmath>

#include "autoregressive_checks.h"

namespace genzoo {
namespace {

Fvsbn random_fvsbn(uint64_t seed) {
  torch::manual_seed(seed);
  Fvsbn m(FvsbnOptions().shape({1, 4, 4}));
  torch::NoGradGuard g;
  m->weight.normal_(0, 1.5);
  m->bias.normal_(0, 1.0);
  return m;
}

TEST(Fvsbn, LogProbEqualsHandComputation) {
  Fvsbn m(FvsbnOptions().shape({1, 1, 3}));
  {
    torch::NoGradGuard g;
    m->bias.copy_(torch::tensor({0.5f, -1.0f, 0.25f}));
    m->weight.copy_(torch::tensor({9.f, 9.f, 9.f, 2.f, 9.f, 9.f, -1.f, 3.f, 9.f}).reshape({3, 3}));
  }
  auto x = torch::tensor({1.f, 0.f, 1.f}).reshape({1, 1, 1, 3});
  auto s = [](double l) { return 1.0 / (1.0 + std::exp(-l)); };
  // Entries on and above the diagonal (the 9s) must not count.
  double want = std::log(s(0.5)) + std::log(1 - s(-1.0 + 2.0)) + std::log(s(0.25 - 1.0 + 0.0));
  EXPECT_NEAR(m->log_prob(x).item<double>(), want, 1e-5);
}

TEST(Fvsbn, ProbabilitiesOfAllBinaryImagesSumToOne) {
  auto m = random_fvsbn(1);
  EXPECT_NEAR(testing::total_probability([&](const torch::Tensor& x) { return m->log_prob(x); }), 1.0, 1e-4);
}

TEST(Fvsbn, ConditionalOfPixelIDependsOnlyOnEarlierPixels) {
  auto m = random_fvsbn(2);
  testing::expect_autoregressive([&](const torch::Tensor& x) { return m->conditional_logits(x); },
                                 torch::arange(16));
}

TEST(Fvsbn, CompletionNeverChangesObservedPixels) {
  auto m = random_fvsbn(3);
  testing::expect_completion_keeps_observed(
      [&](const torch::Tensor& x, const torch::Tensor& o) { return m->complete(x, o); });
}

TEST(Fvsbn, CompletionIsExactWhenTheObservedPixelsComeFirst) {
  auto m = random_fvsbn(4);
  auto top = torch::zeros({1, 1, 4, 4}, torch::kBool);
  top.slice(2, 0, 2).fill_(true);
  EXPECT_TRUE(m->completion_is_exact(top));
  EXPECT_FALSE(m->completion_is_exact(~top));  // bottom half observed
}

TEST(Fvsbn, SampleFrequenciesMatchTheModel) {
  // Two pixels: p(x1=1) = s(b1), p(x2=1 | x1) = s(b2 + w x1).
  torch::manual_seed(5);
  Fvsbn m(FvsbnOptions().shape({1, 1, 2}));
  {
    torch::NoGradGuard g;
    m->bias.copy_(torch::tensor({0.4f, -1.0f}));
    m->weight.copy_(torch::tensor({0.f, 0.f, 2.5f, 0.f}).reshape({2, 2}));
  }
  const int64_t n = 40000;
  auto s = m->sample(n).reshape({n, 2});
  auto sig = [](double l) { return 1.0 / (1.0 + std::exp(-l)); };
  auto first = s.select(1, 0) == 1;
  EXPECT_NEAR(first.to(torch::kFloat).mean().item<double>(), sig(0.4), 0.01);
  auto second_given_first = s.select(1, 1).masked_select(first).mean().item<double>();
  EXPECT_NEAR(second_given_first, sig(1.5), 0.015);
}

}  // namespace
}  // namespace genzoo
