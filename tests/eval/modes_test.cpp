#include "genzoo/eval/modes.h"

#include <gtest/gtest.h>

#include "test_support.h"

#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {
namespace {

constexpr double kSigma = 0.02;

// Eight modes on a circle of radius 2 (the ring8 layout), double [8, 2].
torch::Tensor ring() {
  auto angle = torch::arange(8, torch::kFloat64) * (2 * testing::kPi / 8);  // [8]
  return torch::stack({angle.cos(), angle.sin()}, 1) * 2;          // [8, 2]
}

// n samples around mode `which` of the ring, within about 1 sigma, [n, 2].
torch::Tensor around(int64_t which, int64_t n, uint64_t index) {
  auto noise = torch::randn({n, 2}, derived_generator(9, 0x4d4f444553, index), torch::kFloat64);
  return ring()[which].unsqueeze(0) + noise.clamp(-1, 1) * (kSigma / 2);  // |noise| <= 0.71 sigma
}

TEST(Modes, AllSamplesOnOneMode) {
  auto r = mode_coverage(around(3, 100, 1), ring(), kSigma);
  EXPECT_EQ(r.modes_captured, 1);
  EXPECT_EQ(r.modes_total, 8);
  EXPECT_EQ(r.samples, 100);
  EXPECT_DOUBLE_EQ(r.high_quality_share, 1.0);
  EXPECT_NEAR(r.reverse_kl, std::log(8.0), 1e-12);  // q = one-hot: KL = log M
  ASSERT_EQ(r.counts.size(), 8u);
  EXPECT_EQ(r.counts[3], 100);
}

TEST(Modes, UniformOverAllModes) {
  std::vector<torch::Tensor> parts;
  for (int64_t m = 0; m < 8; ++m) parts.push_back(around(m, 10, 10 + m));
  auto r = mode_coverage(torch::cat(parts), ring().to(torch::kFloat32), kSigma);
  EXPECT_EQ(r.modes_captured, 8);
  EXPECT_DOUBLE_EQ(r.high_quality_share, 1.0);
  EXPECT_NEAR(r.reverse_kl, 0.0, 1e-12);
  for (auto c : r.counts) EXPECT_EQ(c, 10);
}

TEST(Modes, FarSamplesAreNotHighQuality) {
  // The centre of the ring is 2 = 100 sigma from every mode.
  auto none = mode_coverage(torch::zeros({20, 2}), ring(), kSigma);
  EXPECT_EQ(none.modes_captured, 0);
  EXPECT_EQ(none.high_quality_share, 0.0);
  EXPECT_TRUE(std::isinf(none.reverse_kl));

  auto half = mode_coverage(torch::cat({torch::zeros({20, 2}, torch::kFloat64), around(5, 20, 2)}),
                            ring(), kSigma);
  EXPECT_EQ(half.modes_captured, 1);
  EXPECT_DOUBLE_EQ(half.high_quality_share, 0.5);
  EXPECT_EQ(half.counts[5], 20);
}

TEST(Modes, ThreeSigmaBoundaryAndHandKl) {
  // Modes 0, 1, 2, 3 on a line, sigma 0.1: 2.9 sigma away counts, 3.1 does not.
  auto modes = torch::tensor({0.0, 1.0, 2.0, 3.0}, torch::kFloat64).unsqueeze(1);  // [4, 1]
  auto x = torch::tensor({0.0, 0.29, 1.0, 2.0, 3.31}, torch::kFloat64).unsqueeze(1);
  auto r = mode_coverage(x, modes, 0.1);
  EXPECT_EQ(r.counts, (std::vector<int64_t>{2, 1, 1, 0}));
  EXPECT_EQ(r.modes_captured, 3);
  EXPECT_DOUBLE_EQ(r.high_quality_share, 0.8);
  // q = (1/2, 1/4, 1/4, 0): KL = 1/2 log 2 + 1/4 log 1 + 1/4 log 1 + 0.
  EXPECT_NEAR(r.reverse_kl, 0.5 * std::log(2.0), 1e-12);
}

TEST(Modes, RejectsBadInput) {
  EXPECT_THROW(mode_coverage(torch::zeros({3, 2}), ring(), 0.0), Error);
  EXPECT_THROW(mode_coverage(torch::zeros({3, 3}), ring(), kSigma), Error);
  EXPECT_THROW(mode_coverage(torch::zeros({0, 2}), ring(), kSigma), Error);
  EXPECT_THROW(mode_coverage(torch::full({1, 2}, NAN), ring(), kSigma), Error);
}

}  // namespace
}  // namespace genzoo
