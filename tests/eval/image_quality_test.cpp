// Sharpness (mean gradient energy) on cases worked by hand.
#include <gtest/gtest.h>

#include "genzoo/eval/image_quality.h"

namespace genzoo {
namespace {

TEST(GradientEnergy, HandCases) {
  // A flat image has none.
  EXPECT_DOUBLE_EQ(gradient_energy(torch::full({1, 1, 4, 4}, 0.3)).item<double>(), 0.0);
  // Vertical stripes 0,1,0,1 on a 2 x 4 image: 3 horizontal differences of
  // 1 per row, none vertical: 6 / 8 pixels.
  auto stripes = torch::tensor({0.0, 1.0, 0.0, 1.0}).repeat({2, 1}).view({1, 1, 2, 4});
  EXPECT_DOUBLE_EQ(gradient_energy(stripes).item<double>(), 6.0 / 8.0);
  // The same stripes turned 90 degrees give the same energy.
  EXPECT_DOUBLE_EQ(gradient_energy(stripes.transpose(2, 3)).item<double>(), 6.0 / 8.0);
  // A single step of height h between two halves of a 4 x 4 image: 4
  // differences of h^2 over 16 pixels.
  auto step = torch::zeros({1, 1, 4, 4});
  step.slice(3, 2) = 0.5;
  EXPECT_DOUBLE_EQ(gradient_energy(step).item<double>(), 4 * 0.25 / 16);
  // Per image, and two channels average.
  auto two = torch::cat({stripes, torch::zeros_like(stripes)}, 1);  // [1, 2, 2, 4]
  EXPECT_DOUBLE_EQ(gradient_energy(two).item<double>(), 6.0 / 16.0);
}

TEST(GradientEnergy, OneFigurePerImage) {
  auto stripes = torch::tensor({0.0, 1.0, 0.0, 1.0}).repeat({2, 1}).view({1, 1, 2, 4});
  auto batch = torch::cat({torch::zeros_like(stripes), stripes, 0.5 * stripes});  // [3, 1, 2, 4]
  auto g = gradient_energy(batch);
  ASSERT_EQ(g.size(0), 3);
  EXPECT_DOUBLE_EQ(g[0].item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(g[1].item<double>(), 0.75);
  EXPECT_DOUBLE_EQ(g[2].item<double>(), 0.75 * 0.25);  // energy scales with the square of contrast
}

TEST(GradientEnergy, BlurLowersIt) {
  torch::manual_seed(0);
  auto x = torch::rand({8, 1, 28, 28});
  auto blurred = torch::avg_pool2d(x, 3, 1, 1, /*ceil_mode=*/false, /*count_include_pad=*/false);
  auto sharp = gradient_energy(x), soft = gradient_energy(blurred);
  ASSERT_EQ(sharp.size(0), 8);
  EXPECT_TRUE((soft < 0.5 * sharp).all().item<bool>());
}

TEST(GradientEnergy, RejectsImagesWithoutNeighbours) {
  EXPECT_THROW(gradient_energy(torch::zeros({2, 1, 1, 5})), c10::Error);
  EXPECT_THROW(gradient_energy(torch::zeros({2, 1, 5, 1})), c10::Error);
  EXPECT_THROW(gradient_energy(torch::zeros({4, 4})), c10::Error);
}

}  // namespace
}  // namespace genzoo
