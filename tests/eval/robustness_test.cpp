#include "genzoo/eval/robustness.h"

#include <gtest/gtest.h>

namespace genzoo {
namespace {

// Two classes of 4-pixel images, logits (w·x, −w·x) with w = (1, −1, 0, 0):
// class 0 when x₀ > x₁. Moving x₀ down and x₁ up by ε changes w·x by 2ε.
torch::Tensor linear_logits(const torch::Tensor& x) {
  auto w = torch::tensor({1.0f, -1.0f, 0.0f, 0.0f});
  auto s = (x.flatten(1) * w).sum(1, true);
  return torch::cat({s, -s}, 1);
}

TEST(Pgd, StaysInTheBallAndTheRangeAndFlipsExactlyWhenTheMarginAllows) {
  // Margins w·x = 0.1 for every image (x₀ = 0.55, x₁ = 0.45).
  auto x = torch::tensor({0.55f, 0.45f, 0.3f, 0.0f}).repeat({6, 1}).view({6, 1, 2, 2});
  auto y = torch::zeros({6}, torch::kLong);
  for (double eps : {0.02, 0.04, 0.06, 0.2}) {
    auto adv = pgd_attack(linear_logits, x, y, PgdOptions().epsilon(eps).steps(10));
    EXPECT_LE((adv - x).abs().max().item<double>(), eps + 1e-6) << eps;
    EXPECT_GE(adv.min().item<double>(), 0.0);
    EXPECT_LE(adv.max().item<double>(), 1.0);
    // The gradient sign says: x₀ down, x₁ up; the other pixels carry no gradient.
    EXPECT_TRUE(torch::allclose(adv.flatten(1).select(1, 2), x.flatten(1).select(1, 2)));
    const bool flipped = (linear_logits(adv).argmax(1) == 1).all().item<bool>();
    EXPECT_EQ(flipped, 2 * eps > 0.1) << eps;  // 2ε against the margin 0.1
  }
  // The range is respected at the edge: x₃ = 0 cannot go below 0.
  auto edge = torch::tensor({0.0f, 1.0f, 0.0f, 0.0f}).view({1, 1, 2, 2});
  auto adv = pgd_attack(linear_logits, edge, torch::ones({1}, torch::kLong), PgdOptions().epsilon(0.3).steps(5));
  EXPECT_GE(adv.min().item<double>(), 0.0);
  EXPECT_LE(adv.max().item<double>(), 1.0);
}

TEST(Pgd, RobustAccuracyFallsAsTheBallGrows) {
  // Margins spread from 0.02 to 0.4: accuracy = share with margin > 2ε.
  const int64_t n = 20;
  auto d = torch::linspace(0.015, 0.205, n);  // x₀ − 0.5 = 0.5 − x₁ = d, margin 2d (never exactly 2ε)
  auto x = torch::stack({0.5 + d, 0.5 - d, torch::zeros({n}), torch::zeros({n})}, 1).view({n, 1, 2, 2});
  auto y = torch::zeros({n}, torch::kLong);
  auto r = robust_accuracy(linear_logits, x, y, {0.0, 0.05, 0.1, 0.3}, 10, 7);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].accuracy, 1.0);
  EXPECT_NEAR(r[1].accuracy, (d > 0.05).sum().item<double>() / n, 1e-9);
  EXPECT_NEAR(r[2].accuracy, (d > 0.1).sum().item<double>() / n, 1e-9);
  EXPECT_EQ(r[3].accuracy, 0.0);
  EXPECT_GT(r[1].stderr_, 0.0);
}

}  // namespace
}  // namespace genzoo
