#include "genzoo/eval/precision_recall.h"

#include <gtest/gtest.h>

#include <vector>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {
namespace {

torch::Tensor pr_normal(int64_t n, int64_t d, uint64_t index) {
  return torch::randn({n, d}, derived_generator(11, 0x505224, index), torch::kFloat32);  // [n, d]
}

torch::Tensor column(std::vector<double> v) {
  return torch::tensor(v, torch::kFloat64).unsqueeze(1);  // [n, 1]
}

TEST(PrecisionRecall, KthRadiusExcludesThePointItself) {
  // Points 0, 0, 1, 3 on a line; the duplicate is a neighbour at distance 0.
  auto x = column({0, 0, 1, 3});
  EXPECT_TRUE(torch::allclose(kth_neighbour_radius(x, 1), column({0, 0, 1, 2}).squeeze(1), 0, 1e-9));
  EXPECT_TRUE(torch::allclose(kth_neighbour_radius(x, 2), column({1, 1, 1, 3}).squeeze(1), 0, 1e-9));
  EXPECT_TRUE(torch::allclose(kth_neighbour_radius(x, 3, /*block=*/3), column({3, 3, 2, 3}).squeeze(1),
                              0, 1e-9));
}

TEST(PrecisionRecall, IdenticalSetsGiveOne) {
  auto x = pr_normal(200, 5, 1);
  auto pr = precision_recall(x, x, 3, /*block=*/64);
  EXPECT_DOUBLE_EQ(pr.precision, 1.0);
  EXPECT_DOUBLE_EQ(pr.recall, 1.0);
  EXPECT_EQ(pr.k, 3);
  EXPECT_EQ(pr.real_count, 200);
  EXPECT_EQ(pr.fake_count, 200);
}

TEST(PrecisionRecall, FarAwaySetsGiveZero) {
  auto real = pr_normal(100, 2, 2), fake = pr_normal(80, 2, 3) + 100;
  auto pr = precision_recall(real, fake);
  EXPECT_EQ(pr.precision, 0.0);
  EXPECT_EQ(pr.recall, 0.0);
}

TEST(PrecisionRecall, HandBuiltCase) {
  // k = 1. Real 0, 1, 2, 3: every radius is 1. Fake 0.5, 1.2, 20, 21: radii
  // 0.7, 0.7, 1, 1. Precision: 0.5 and 1.2 lie within 1 of a real point, 20
  // and 21 do not -> 1/2. Recall: real 0 (0.5 from fake 0.5 <= 0.7) and real 1
  // (0.2 from fake 1.2) are covered; real 2 is 0.8 > 0.7 from fake 1.2 and real 3
  // is further -> 1/2.
  auto real = column({0, 1, 2, 3}), fake = column({0.5, 1.2, 20, 21});
  for (int64_t block : {1, 3, 1024}) {
    auto pr = precision_recall(real, fake, 1, block);
    EXPECT_DOUBLE_EQ(pr.precision, 0.5) << "block " << block;
    EXPECT_DOUBLE_EQ(pr.recall, 0.5) << "block " << block;
  }
}

TEST(PrecisionRecall, TheNeighbourhoodRadiusDecidesRecall) {
  // The sets of HandBuiltCase with k = 2. Real radii: 2, 1, 1, 2; fake
  // radii (2nd neighbour among 0.5, 1.2, 20, 21): 19.5, 18.8, 18.8, 19.8.
  // Precision: 0.5 is within 2 of real 0 and 1.2 within 1 of real 1; 20
  // and 21 are 17+ from every real point -> 1/2. Recall: every real point
  // lies within 19.5 of fake 0.5 -> 1, where k = 1 gave 1/2.
  auto real = column({0, 1, 2, 3}), fake = column({0.5, 1.2, 20, 21});
  EXPECT_TRUE(torch::allclose(kth_neighbour_radius(fake, 2), column({19.5, 18.8, 18.8, 19.8}).squeeze(1), 0, 1e-9));
  auto pr = precision_recall(real, fake, 2);
  EXPECT_DOUBLE_EQ(pr.precision, 0.5);
  EXPECT_DOUBLE_EQ(pr.recall, 1.0);
  // 4.5 is 1.5 from real 3, whose radius is 1 at k = 1 (outside) and 2 at
  // k = 2 (inside); it is 2.5 from real 2, whose radius is 1 at both.
  auto shifted = column({0, 1, 2, 4.5});
  EXPECT_DOUBLE_EQ(precision_recall(real, shifted, 1).precision, 0.75);
  EXPECT_DOUBLE_EQ(precision_recall(real, shifted, 2).precision, 1.0);
}

TEST(PrecisionRecall, RejectsBadInput) {
  auto x = pr_normal(4, 2, 4);
  EXPECT_THROW(precision_recall(x, x, 4), Error);  // k must be < N
  EXPECT_THROW(precision_recall(x, x, 0), Error);
  EXPECT_THROW(precision_recall(x, pr_normal(4, 3, 5)), Error);
  EXPECT_THROW(precision_recall(x, x, 1, 0), Error);
  EXPECT_THROW(precision_recall(x.flatten(), x), Error);
  EXPECT_THROW(kth_neighbour_radius(x, 4), Error);
  auto nan = x.clone();
  nan[0][0] = NAN;
  EXPECT_THROW(precision_recall(nan, x, 1), Error);
}

}  // namespace
}  // namespace genzoo
