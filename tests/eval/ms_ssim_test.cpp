#include "genzoo/eval/ms_ssim.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

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

TEST(MsSsim, MatchesHandComputedValuesWithStructure) {
  // A 2 x 2 window (its two Gaussian weights are equal whatever sigma: a box
  // mean) on 2 x 2 images: one position, one scale, population moments.
  //   x = [0 1; 0 1]: m_x = 0.5,  s_x^2 = 0.5 - 0.25 = 0.25
  //   y = [0 1; 1 1]: m_y = 0.75, s_y^2 = 0.75 - 0.5625 = 0.1875
  //   s_xy = mean(xy) - m_x m_y = 0.5 - 0.375 = 0.125
  //   l  = (2 * 0.375 + 1e-4) / (0.25 + 0.5625 + 1e-4) = 0.7501 / 0.8126
  //   cs = (2 * 0.125 + 9e-4) / (0.25 + 0.1875 + 9e-4) = 0.2509 / 0.4384
  MsSsimOptions o;
  o.window = 2;
  auto x = torch::tensor({0.0, 1.0, 0.0, 1.0}, torch::kFloat64).reshape({1, 1, 2, 2});
  auto y = torch::tensor({0.0, 1.0, 1.0, 1.0}, torch::kFloat64).reshape({1, 1, 2, 2});
  EXPECT_NEAR(ms_ssim(x, y, o).item<double>(), (0.7501 / 0.8126) * (0.2509 / 0.4384), 1e-12);
  // Two scales on 4 x 4 tilings of the pair, x4 = [x x; x x] and
  // y4 = [y y; y y], window 2. x4's rows are all [0 1 0 1]; y4's alternate
  // [0 1 0 1] and [1 1 1 1]. Scale 1 has 3 x 3 window positions, and each
  // 2 x 2 block holds columns (0, 1) or (1, 0) of one row of each kind:
  // x block {0, 1, 0, 1} (m_x = 0.5, s_x^2 = 0.25), y block {0, 1, 1, 1} in
  // some order (m_y = 0.75, s_y^2 = 0.1875), and mean(xy) = 2 / 4 = 0.5
  // wherever the block starts (s_xy = 0.125): cs = 0.2509 / 0.4384 at every
  // position. Scale 2: 2 x 2 average pooling gives constant images 0.5 and
  // 0.75, so cs = 1 there and its SSIM is l = 0.7501 / 0.8126.
  // MS-SSIM = cs^(0.0448 / 0.3304) * l^(0.2856 / 0.3304).
  auto x4 = x.repeat({1, 1, 2, 2}), y4 = y.repeat({1, 1, 2, 2});
  const double expected = std::pow(0.2509 / 0.4384, 0.0448 / 0.3304) * std::pow(0.7501 / 0.8126, 0.2856 / 0.3304);
  MsSsimOptions two = o;
  two.scales = 2;
  EXPECT_NEAR(ms_ssim(x4, y4, two).item<double>(), expected, 1e-12);
}

// MS-SSIM written out position by position, in plain loops: the reference
// for the convolutional version on images with structure.
double reference_ms_ssim(const torch::Tensor& image_x, const torch::Tensor& image_y, int64_t w, double sigma,
                         int64_t scales) {
  const double weights[5] = {0.0448, 0.2856, 0.3001, 0.2363, 0.1333};
  double total = 0;
  for (int64_t j = 0; j < scales; ++j) total += weights[j];
  std::vector<double> g(w);
  double gsum = 0;
  for (int64_t i = 0; i < w; ++i) gsum += g[i] = std::exp(-std::pow(i - (w - 1) / 2.0, 2) / (2 * sigma * sigma));
  auto x = image_x.to(torch::kFloat64).clone(), y = image_y.to(torch::kFloat64).clone();  // [H, W]
  const double c1 = 1e-4, c2 = 9e-4;
  double result = 1;
  for (int64_t j = 0; j < scales; ++j) {
    auto X = x.accessor<double, 2>(), Y = y.accessor<double, 2>();
    const int64_t h = x.size(0), wd = x.size(1);
    double cs_sum = 0, ssim_sum = 0;
    int64_t positions = 0;
    for (int64_t r = 0; r + w <= h; ++r)
      for (int64_t c = 0; c + w <= wd; ++c) {
        double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
        for (int64_t a = 0; a < w; ++a)
          for (int64_t b = 0; b < w; ++b) {
            const double k = g[a] * g[b] / (gsum * gsum), u = X[r + a][c + b], v = Y[r + a][c + b];
            mx += k * u;
            my += k * v;
            xx += k * u * u;
            yy += k * v * v;
            xy += k * u * v;
          }
        const double vx = xx - mx * mx, vy = yy - my * my, cov = xy - mx * my;
        const double cs = (2 * cov + c2) / (vx + vy + c2), l = (2 * mx * my + c1) / (mx * mx + my * my + c1);
        cs_sum += cs;
        ssim_sum += l * cs;
        ++positions;
      }
    const double term = (j + 1 < scales ? cs_sum : ssim_sum) / static_cast<double>(positions);
    result *= std::pow(std::max(term, 0.0), weights[j] / total);
    // 2 x 2 average pooling for the next scale.
    auto pooled = torch::zeros({h / 2, wd / 2}, torch::kFloat64);
    auto P = pooled.accessor<double, 2>();
    for (int64_t r = 0; r < h / 2; ++r)
      for (int64_t c = 0; c < wd / 2; ++c)
        P[r][c] = (X[2 * r][2 * c] + X[2 * r + 1][2 * c] + X[2 * r][2 * c + 1] + X[2 * r + 1][2 * c + 1]) / 4;
    auto pooled_y = torch::zeros({h / 2, wd / 2}, torch::kFloat64);
    auto Q = pooled_y.accessor<double, 2>();
    for (int64_t r = 0; r < h / 2; ++r)
      for (int64_t c = 0; c < wd / 2; ++c)
        Q[r][c] = (Y[2 * r][2 * c] + Y[2 * r + 1][2 * c] + Y[2 * r][2 * c + 1] + Y[2 * r + 1][2 * c + 1]) / 4;
    x = pooled;
    y = pooled_y;
  }
  return result;
}

TEST(MsSsim, MatchesAPlainLoopReferenceOnImagesWithStructure) {
  // 28 x 28 images at genzoo's defaults (7 x 7 window, sigma 1.5, 3 scales):
  // a smooth pattern and noisy versions of it, so that every term (the
  // Gaussian window, variances, covariance, the per-scale weights) matters.
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(11);
  auto r = torch::arange(28, torch::kFloat64);
  auto pattern = (0.5 + 0.4 * torch::sin(r / 3).unsqueeze(1) * torch::cos(r / 5).unsqueeze(0));  // [28, 28]
  for (double noise : {0.05, 0.2, 0.5}) {
    auto other = (pattern + noise * torch::randn({28, 28}, gen).to(torch::kFloat64)).clamp(0, 1);
    const double got = ms_ssim(pattern.view({1, 1, 28, 28}), other.view({1, 1, 28, 28})).item<double>();
    const double want = reference_ms_ssim(pattern, other, 7, 1.5, 3);
    EXPECT_NEAR(got, want, 1e-10) << "noise " << noise;
    EXPECT_GT(want, 0.0);
    EXPECT_LT(want, 1.0);
  }
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
