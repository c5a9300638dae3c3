#include "genzoo/models/explicit/arn.h"

#include <gtest/gtest.h>

#include <cmath>

#include "autoregressive_checks.h"

namespace genzoo {
namespace {

TEST(Arn, TheCountedTableMatchesAHandCount) {
  // Four images of three pixels, order 1 (each pixel given the one before):
  //   [1 0 1], [1 1 1], [0 0 1], [1 1 0].
  auto data = torch::tensor({1., 0., 1., 1., 1., 1., 0., 0., 1., 1., 1., 0.}).reshape({4, 1, 1, 3});
  Arn m(ArnOptions().shape({1, 1, 3}).order(1));
  m->init_from_counts(data, 0.5);
  auto p = torch::sigmoid(m->table).to(torch::kFloat64);  // [3, 2]: pixel, context
  // Pixel 0 (context 0, the padding): on in 3 of 4 -> (3 + .5) / (4 + 1);
  // context 1 never occurs -> .5 / 1.
  EXPECT_NEAR(p[0][0].item<double>(), 3.5 / 5, 1e-6);
  EXPECT_NEAR(p[0][1].item<double>(), 0.5, 1e-6);
  // Pixel 1 after a 1 (images 1, 2, 4: 0, 1, 1) and after a 0 (image 3: 0).
  EXPECT_NEAR(p[1][1].item<double>(), 2.5 / 4, 1e-6);
  EXPECT_NEAR(p[1][0].item<double>(), 0.5 / 2, 1e-6);
  // Pixel 2 after a 0 (images 1, 3: 1, 1) and after a 1 (images 2, 4: 1, 0).
  EXPECT_NEAR(p[2][0].item<double>(), 2.5 / 3, 1e-6);
  EXPECT_NEAR(p[2][1].item<double>(), 1.5 / 3, 1e-6);
  // log p([1 0 1]) = log .7 + log(1 - .625) + log(2.5 / 3).
  auto lp = m->log_prob(data.slice(0, 0, 1)).item<double>();
  EXPECT_NEAR(lp, std::log(0.7) + std::log(1 - 0.625) + std::log(2.5 / 3), 1e-5);
}

TEST(Arn, TheContextHoldsTheNPixelsBeforeEachOneMostRecentLowest) {
  Arn m(ArnOptions().shape({1, 1, 5}).order(3));
  auto x = torch::tensor({1., 1., 0., 1., 0.}).reshape({1, 5});
  // Pixel 4 sees x3, x2, x1 = 1, 0, 1: 1 + 0 * 2 + 1 * 4 = 5; pixel 0 sees
  // only padding; pixel 1 sees x0 = 1.
  auto k = m->contexts(x);
  EXPECT_EQ(k[0][0].item<int64_t>(), 0);
  EXPECT_EQ(k[0][1].item<int64_t>(), 1);
  EXPECT_EQ(k[0][2].item<int64_t>(), 3);
  EXPECT_EQ(k[0][4].item<int64_t>(), 5);
  // Sampling builds the same contexts incrementally: with every table entry
  // pushed to certainty by its context's parity, a sample follows the rule.
  torch::NoGradGuard no_grad;
  auto parity = (torch::arange(8) % 2).to(torch::kFloat);  // context odd -> the pixel is on
  m->table.copy_((parity * 2 - 1).mul(50).expand({5, 8}));
  auto s = m->sample(4).reshape({4, 5});
  // Pixel 0's context is 0 (off), so every pixel repeats the one before: all 0.
  EXPECT_EQ(s.sum().item<double>(), 0.0);
  auto completed = m->complete(torch::tensor({1., 0., 0., 0., 0.}).reshape({1, 1, 1, 5}),
                               torch::tensor({true, false, false, false, false}).reshape({1, 1, 1, 5}));
  EXPECT_TRUE(torch::equal(completed.reshape({5}), torch::ones({5})));  // the first 1 propagates
}

TEST(Arn, SamplingReadsEachPixelsContextAsTheDensityDoes) {
  // A random table of near-certain logits: every sampled pixel must be the
  // one its context (as contexts() computes it) makes certain.
  torch::manual_seed(8);
  Arn m(ArnOptions().shape({1, 4, 5}).order(5));
  torch::NoGradGuard no_grad;
  m->table.copy_((torch::rand(m->table.sizes()) < 0.5).to(torch::kFloat) * 100 - 50);
  auto s = m->sample(16).reshape({16, 20});
  auto k = m->contexts(s);  // [16, 20]
  auto want = (m->table.gather(1, k.t()).t() > 0).to(s.dtype());
  EXPECT_TRUE(torch::equal(s, want));
  EXPECT_GT(s.sum().item<double>(), 0.0);
  EXPECT_LT(s.sum().item<double>(), 16 * 20.0);
}

TEST(Arn, TheDifferentiableConditionalsEqualTheTableOnBinaryImages) {
  torch::manual_seed(9);
  Arn m(ArnOptions().shape({1, 3, 3}).order(3));
  {
    torch::NoGradGuard no_grad;
    m->table.normal_();
  }
  auto x = torch::bernoulli(torch::full({5, 1, 3, 3}, 0.5));
  EXPECT_TRUE(torch::allclose(m->conditionals(x, 0), m->conditional_logits(x), 1e-5, 1e-5));
}

TEST(Arn, OrderZeroIsTheIndependentModel) {
  auto data = torch::bernoulli(torch::full({50, 1, 2, 2}, 0.3));
  Arn m(ArnOptions().shape({1, 2, 2}).order(0));
  m->init_from_counts(data, 1.0);
  auto marginals = (data.sum(0).flatten() + 1) / (50 + 2);
  EXPECT_TRUE(torch::allclose(torch::sigmoid(m->table.squeeze(1)), marginals, 1e-5, 1e-6));
  EXPECT_NEAR(testing::total_probability([&](const torch::Tensor& x) { return m->log_prob(x); }, 2, 2), 1.0, 1e-5);
}

}  // namespace
}  // namespace genzoo
