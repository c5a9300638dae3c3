#include "genzoo/eval/texture.h"

#include <gtest/gtest.h>

#include <cmath>

#include "genzoo/core/rng.h"
#include "test_support.h"

namespace genzoo {
namespace {

torch::Tensor stripes(int64_t size, double cycles_per_pixel, double amplitude = 0.25) {
  auto x = torch::arange(size, torch::kFloat64).view({1, 1, size}).expand({1, size, size});
  return 0.5 + amplitude * torch::sin(2 * testing::kPi * cycles_per_pixel * x);
}

TEST(TextureSpectrum, PeaksAtTheStripesFrequency) {
  auto s = radial_log_spectrum(stripes(64, 0.25), 32);  // radius 0.25 is bin ceil(0.25 * 64) - 1 = 15
  EXPECT_EQ(s.argmax().item<int64_t>(), 15);
  EXPECT_GT(s[15].item<double>() - s[5].item<double>(), 6.0);  // everything else is rounding
}

TEST(TextureSpectrum, ContrastScalesThePowerByItsSquare) {
  auto field = torch::randn({1, 32, 32}, derived_generator(1, 1), torch::TensorOptions(torch::kFloat64));
  EXPECT_NEAR(spectrum_distance(field, field), 0.0, 1e-12);
  // Twice the contrast: every bin's power x 4, log10 4 decades apart.
  EXPECT_NEAR(spectrum_distance(0.5 + 0.1 * field, 0.5 + 0.2 * field), std::log10(4.0), 1e-9);
}

TEST(TextureSpectrum, ComparesImagesOfDifferentSizes) {
  // White noise has the same flat spectrum at every size; stripes do not.
  auto small = 0.5 + 0.1 * torch::randn({1, 32, 32}, derived_generator(5, 1), torch::TensorOptions(torch::kFloat64));
  auto large = 0.5 + 0.1 * torch::randn({1, 128, 128}, derived_generator(5, 2), torch::TensorOptions(torch::kFloat64));
  EXPECT_LT(spectrum_distance(small, large), 0.3);
  EXPECT_GT(spectrum_distance(small, stripes(128, 0.25)), 1.0);
}

TEST(TextureHistogram, IsTheWassersteinDistanceOfTheGreyLevels) {
  EXPECT_NEAR(histogram_distance(torch::full({1, 8, 8}, 0.2), torch::full({1, 8, 8}, 0.7)), 0.5, 1e-6);
  auto x = torch::rand({1, 16, 16}, derived_generator(2, 1), torch::TensorOptions(torch::kFloat64)) * 0.8;
  EXPECT_NEAR(histogram_distance(x, x + 0.1), 0.1, 1e-9);
  EXPECT_NEAR(histogram_distance(x, x.flip({1, 2})), 0.0, 1e-12);  // the same values, elsewhere
}

TEST(TextureSimilarity, CropsOfTheSourceSitBetweenTheFloorAndNoise) {
  // A smooth random field (blurred noise) as the source.
  auto noise = torch::randn({1, 1, 132, 132}, derived_generator(3, 1), torch::TensorOptions(torch::kFloat64));
  auto blur = torch::ones({1, 1, 5, 5}, torch::kFloat64) / 25.0;
  auto source = (0.5 + 0.5 * torch::conv2d(noise, blur)[0]).clamp(0, 1);  // [1, 128, 128]
  auto samples = torch::stack({source.slice(1, 0, 32).slice(2, 64, 96), source.slice(1, 64, 96).slice(2, 0, 32)});
  auto t = texture_similarity(samples, source, 4);
  EXPECT_EQ(t.syntheses, 2);
  EXPECT_LT(t.spectrum, t.spectrum_noise);
  EXPECT_LT(t.spectrum_floor, t.spectrum_noise);
  // This source's grey levels are Gaussian, like the noise's: the histogram
  // cannot tell them apart, and the crops' is small too.
  EXPECT_LT(t.histogram, 0.05);
  EXPECT_LT(t.histogram_noise, 0.05);
  EXPECT_GT(t.spectrum_noise, 0.3);  // white against a blurred spectrum: far apart
  EXPECT_EQ(t.compared_height, 32);
  EXPECT_EQ(t.compared_width, 32);
  // No two disjoint 32 x 32 crops in 40 x 40: syntheses and floor are
  // compared on 20 x 32 top-left crops.
  auto tiny_source = source.slice(1, 0, 40).slice(2, 0, 40);
  auto tiny = texture_similarity(samples, tiny_source, 4);
  EXPECT_EQ(tiny.compared_height, 20);
  EXPECT_EQ(tiny.compared_width, 32);
  EXPECT_TRUE(std::isfinite(tiny.spectrum_floor));
  EXPECT_NEAR(tiny.spectrum, 0.5 * (spectrum_distance(samples[0].slice(1, 0, 20), tiny_source) +
                                    spectrum_distance(samples[1].slice(1, 0, 20), tiny_source)),
              1e-12);
}

}  // namespace
}  // namespace genzoo
