#include "genzoo/eval/ms_ssim.h"

#include <gtest/gtest.h>

#include <cmath>

namespace genzoo {
namespace {

TEST(MsSsim, IsOneForIdenticalImagesAndFallsWithNoise) {
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(1);
  auto x = torch::rand({4, 1, 28, 28}, gen);
  auto same = ms_ssim(x, x);
  EXPECT_TRUE(torch::allclose(same, torch::ones({4}, torch::kFloat64), 0, 1e-12)) << same;
  auto slight = ms_ssim(x, (x + 0.05 * torch::randn(x.sizes(), gen)).clamp(0, 1)).mean().item<double>();
  auto strong = ms_ssim(x, (x + 0.3 * torch::randn(x.sizes(), gen)).clamp(0, 1)).mean().item<double>();
  EXPECT_LT(slight, 1.0);
  EXPECT_LT(strong, slight);
  EXPECT_GT(strong, 0.0);
  // The negative of an image has its structure reversed: cs < 0, clamped to 0.
  EXPECT_TRUE(torch::allclose(ms_ssim(x, 1 - x), torch::zeros({4}, torch::kFloat64), 0, 1e-12));
  EXPECT_EQ(ms_ssim_scales(28), 3);  // 28, 14, 7
  EXPECT_EQ(ms_ssim_scales(7), 1);
  EXPECT_EQ(ms_ssim_scales(300), 5);
  EXPECT_THROW(ms_ssim(torch::rand({1, 1, 6, 6}), torch::rand({1, 1, 6, 6})), c10::Error);
}

TEST(MsSsim, MatchesHandComputedValues) {
  // One scale, a 7 x 7 image: a single window position. Constant images a
  // and b have no variance, so cs = C2 / C2 = 1 and the value is the
  // luminance term (2ab + C1) / (a^2 + b^2 + C1), C1 = 1e-4:
  // a = 0.2, b = 0.6: 0.2401 / 0.4001.
  auto a = torch::full({1, 1, 7, 7}, 0.2, torch::kFloat64), b = torch::full({1, 1, 7, 7}, 0.6, torch::kFloat64);
  EXPECT_NEAR(ms_ssim(a, b).item<double>(), 0.2401 / 0.4001, 1e-9);
  // Two scales on 14 x 14 constant images: the finer scale contributes
  // cs = 1, the coarser the luminance term, raised to its weight
  // 0.2856 / (0.0448 + 0.2856).
  auto a2 = torch::full({1, 1, 14, 14}, 0.2, torch::kFloat64), b2 = torch::full({1, 1, 14, 14}, 0.6, torch::kFloat64);
  EXPECT_NEAR(ms_ssim(a2, b2).item<double>(), std::pow(0.2401 / 0.4001, 0.2856 / 0.3304), 1e-9);
  // A shift y = x + c keeps variances and covariance (cs = 1), so only the
  // luminance term, below 1, is left: the value lies strictly between that
  // of the identical pair and 0.
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(2);
  auto x = torch::rand({1, 1, 7, 7}, gen).to(torch::kFloat64) * 0.5;
  const double shifted = ms_ssim(x, x + 0.3).item<double>();
  EXPECT_LT(shifted, 1.0);
  EXPECT_GT(shifted, 0.0);
  // The same shift on constant images gives the luminance term exactly.
  auto flat = torch::full({1, 1, 7, 7}, 0.25, torch::kFloat64);
  EXPECT_NEAR(ms_ssim(flat, flat + 0.3).item<double>(), (2 * 0.25 * 0.55 + 1e-4) / (0.25 * 0.25 + 0.55 * 0.55 + 1e-4),
              1e-12);
  MsSsimOptions one;
  one.scales = 1;
  auto big = torch::rand({1, 1, 28, 28}, gen) * 0.5;
  // With a window-sized region only, the shift leaves the mean cs map at 1,
  // and the value is the mean luminance term: < 1 and > 0.
  const double v = ms_ssim(big, big + 0.3, one).item<double>();
  EXPECT_GT(v, 0.0);
  EXPECT_LT(v, 1.0);
}

TEST(MsSsim, RandomPairsOfCopiesScoreOneAndOfNoiseScoreLow) {
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(3);
  auto one = torch::rand({1, 1, 28, 28}, gen);
  auto copies = one.expand({50, 1, 28, 28}).contiguous();
  auto r = random_pair_ms_ssim(copies, 300, 7);
  EXPECT_NEAR(r.mean, 1.0, 1e-12);
  EXPECT_EQ(r.pairs, 300);
  auto noise = torch::rand({50, 1, 28, 28}, gen);
  auto n = random_pair_ms_ssim(noise, 300, 7);
  EXPECT_LT(n.mean, 0.2);
  EXPECT_GT(n.stderr_mean, 0.0);
  EXPECT_THROW(random_pair_ms_ssim(noise.slice(0, 0, 1), 10, 7), c10::Error);
}

}  // namespace
}  // namespace genzoo
