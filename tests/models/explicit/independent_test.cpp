#include "genzoo/models/explicit/independent.h"

#include <gtest/gtest.h>

#include <cmath>

namespace genzoo {
namespace {

TEST(Independent, LogProbEqualsHandComputation) {
  Independent m(IndependentOptions().shape({1, 1, 3}));
  {
    torch::NoGradGuard g;
    m->logits.copy_(torch::tensor({0.5f, -1.0f, 2.0f}));
  }
  auto x = torch::tensor({1.f, 0.f, 1.f, 0.f, 0.f, 0.f}).reshape({2, 1, 1, 3});
  auto lp = m->log_prob(x);
  auto s = [](double l) { return 1.0 / (1.0 + std::exp(-l)); };
  double want0 = std::log(s(0.5)) + std::log(1 - s(-1.0)) + std::log(s(2.0));
  double want1 = std::log(1 - s(0.5)) + std::log(1 - s(-1.0)) + std::log(1 - s(2.0));
  EXPECT_NEAR(lp[0].item<double>(), want0, 1e-5);
  EXPECT_NEAR(lp[1].item<double>(), want1, 1e-5);
}

TEST(Independent, ProbabilitiesOfAllBinaryImagesSumToOne) {
  torch::manual_seed(3);
  Independent m(IndependentOptions().shape({1, 4, 4}));
  {
    torch::NoGradGuard g;
    m->logits.normal_(0, 2);
  }
  const int64_t d = 16, n = int64_t{1} << d;
  auto codes = torch::arange(n, torch::kInt64).unsqueeze(1);  // [2^16, 1]
  auto bits = torch::arange(d, torch::kInt64).unsqueeze(0);   // [1, 16]
  auto x = codes.bitwise_right_shift(bits).bitwise_and(1).to(torch::kFloat).reshape({n, 1, 4, 4});
  torch::NoGradGuard g;
  double total = torch::logsumexp(m->log_prob(x).to(torch::kFloat64), 0).exp().item<double>();
  EXPECT_NEAR(total, 1.0, 1e-4);
}

TEST(Independent, MarginalInitIsAddOneSmoothed) {
  Independent m(IndependentOptions().shape({1, 1, 2}).init(IndependentInit::Marginals));
  auto data = torch::tensor({1.f, 0.f, 1.f, 0.f, 0.f, 0.f}).reshape({3, 1, 1, 2});
  m->init_from_marginals(data);
  auto p = torch::sigmoid(m->logits);
  EXPECT_NEAR(p[0].item<double>(), 3.0 / 5.0, 1e-6);  // (2 + 1) / (3 + 2)
  EXPECT_NEAR(p[1].item<double>(), 1.0 / 5.0, 1e-6);  // (0 + 1) / (3 + 2)
}

TEST(Independent, SamplesAreBinaryWithTheModelsMarginals) {
  torch::manual_seed(0);
  Independent m(IndependentOptions().shape({1, 1, 2}));
  {
    torch::NoGradGuard g;
    m->logits.copy_(torch::tensor({std::log(0.2f / 0.8f), 0.0f}));
  }
  auto s = m->sample(20000);
  ASSERT_EQ(s.sizes(), (std::vector<int64_t>{20000, 1, 1, 2}));
  EXPECT_TRUE(((s == 0) | (s == 1)).all().item<bool>());
  auto mean = s.reshape({20000, 2}).mean(0);
  EXPECT_NEAR(mean[0].item<double>(), 0.2, 0.015);
  EXPECT_NEAR(mean[1].item<double>(), 0.5, 0.015);
}

TEST(Independent, RejectsMismatchedInput) {
  Independent m(IndependentOptions().shape({1, 2, 2}));
  EXPECT_THROW(m->log_prob(torch::zeros({3, 1, 3, 3})), c10::Error);
}

}  // namespace
}  // namespace genzoo
