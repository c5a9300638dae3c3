#include "genzoo/report/scatter.h"

#include <gtest/gtest.h>

namespace genzoo {
namespace {

TEST(Scatter, PutsEachPointWhereItsCoordinatesSayAndMarksModes) {
  // [-1, 1]^2 on 101 pixels: 50 pixels per unit; x to the right, y up.
  auto points = torch::tensor({{0.0, 0.0}, {1.0, 1.0}, {-1.0, -1.0}, {5.0, 0.0}});
  auto img = scatter_image(points, {}, -1, 1, 101);
  ASSERT_EQ(img.sizes().vec(), (std::vector<int64_t>{3, 101, 101}));
  auto blue = [&](int64_t r, int64_t c) { return img[2][r][c].item<float>() > 0.5f && img[0][r][c].item<float>() < 0.5f; };
  EXPECT_TRUE(blue(50, 50));    // the origin at the centre
  EXPECT_TRUE(blue(0, 100));    // (1, 1): top right
  EXPECT_TRUE(blue(100, 0));    // (-1, -1): bottom left
  EXPECT_FALSE(blue(25, 25));   // nothing there
  // Dots are 2 x 2 pixels of colour (0.10, 0.25, 0.65), 2.0 darker than
  // white: 4 at the origin, 2 at each corner (the rest falls off the
  // image); (5, 0) is outside and left out; the rest stays white.
  EXPECT_NEAR(img.sum().item<double>(), 3.0 * 101 * 101 - 2.0 * 8, 1e-3);
  auto marked = scatter_image(points.slice(0, 0, 1), torch::tensor({{0.5, 0.0}}), -1, 1, 101, 0.1);
  // A red ring of radius 0.1 (5 pixels) around (0.5, 0): pixel (50, 80).
  EXPECT_GT(marked[0][50][80].item<float>(), 0.5f);
  EXPECT_LT(marked[1][50][80].item<float>(), 0.5f);
  auto [lo, hi] = scatter_extent(points, torch::tensor({{-2.0, 0.0}, {2.0, 0.0}}));
  EXPECT_LT(lo, -2.0);
  EXPECT_GT(hi, 2.0);
  EXPECT_THROW(scatter_image(torch::zeros({3, 3}), {}, -1, 1), c10::Error);
}

}  // namespace
}  // namespace genzoo
