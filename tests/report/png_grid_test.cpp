#include "genzoo/report/png_grid.h"

#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include "genzoo/core/error.h"
#include "genzoo/data/image.h"
#include "test_support.h"

namespace genzoo {
namespace {

using testing::TempDir;

TEST(Png, GreyAndRgbUint8RoundTrip) {
  TempDir dir;
  torch::manual_seed(3);
  for (int64_t c : {1, 3}) {
    auto img = torch::randint(0, 256, {c, 7, 5}, torch::kUInt8);  // [C, H, W]
    write_png(dir / "a.png", img);
    auto back = read_image(dir / "a.png");
    EXPECT_EQ(back.sizes(), img.sizes());
    EXPECT_EQ(back.scalar_type(), torch::kUInt8);
    EXPECT_TRUE(torch::equal(back, img)) << c << " channels";
  }
}

TEST(Png, FloatPixelsAreClampedAndRounded) {
  TempDir dir;
  auto img = torch::rand({3, 4, 6});
  img[0][0][0] = -0.5;
  img[1][0][0] = 1.7;
  write_png(dir / "f.png", img);
  auto back = read_image(dir / "f.png");
  EXPECT_TRUE(torch::equal(back, img.clamp(0, 1).mul(255).round().to(torch::kUInt8)));
  EXPECT_EQ(back[0][0][0].item<int>(), 0);
  EXPECT_EQ(back[1][0][0].item<int>(), 255);
  write_png(dir / "d.png", torch::full({1, 2, 2}, 0.5, torch::kFloat64));
  EXPECT_EQ(read_image(dir / "d.png").max().item<int>(), 128);
}

TEST(Png, AlphaIsDropped) {
  TempDir dir;
  const uint8_t rgba[] = {10, 20, 30, 255, 40, 50, 60, 0};  // 2x1 RGBA
  ASSERT_TRUE(stbi_write_png((dir / "rgba.png").c_str(), 2, 1, 4, rgba, 8));
  auto rgb = read_image(dir / "rgba.png");
  EXPECT_TRUE(torch::equal(rgb, torch::tensor({10, 40, 20, 50, 30, 60}, torch::kUInt8).reshape({3, 1, 2})));
  const uint8_t ga[] = {7, 255, 9, 0};  // 2x1 grey + alpha
  ASSERT_TRUE(stbi_write_png((dir / "ga.png").c_str(), 2, 1, 2, ga, 4));
  EXPECT_TRUE(torch::equal(read_image(dir / "ga.png"), torch::tensor({7, 9}, torch::kUInt8).reshape({1, 1, 2})));
}

TEST(Png, BadInputs) {
  TempDir dir;
  EXPECT_THROW(write_png(dir / "x.png", torch::zeros({2, 4, 4}, torch::kUInt8)), c10::Error);
  EXPECT_THROW(write_png(dir / "x.png", torch::zeros({4, 4}, torch::kUInt8)), c10::Error);
  EXPECT_THROW(write_png(dir / "x.png", torch::zeros({1, 4, 4}, torch::kInt32)), c10::Error);
  try {
    read_image(dir / "missing.png");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir / "missing.png"), std::string::npos);
  }
  testing::write_bytes(dir / "junk.png", "definitely not a png");
  try {
    read_image(dir / "junk.png");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read image '" + (dir / "junk.png") + "'"),
              std::string::npos)
        << e.what();
  }
}

TEST(Grid, GeometryAndTilePlacement) {
  // 5 tiles of 1x3x2, near-square: 3 columns, 2 rows.
  auto images = torch::arange(5 * 6, torch::kFloat32).reshape({5, 1, 3, 2}) / 30;
  auto g = make_grid(images, 0, 2, 0.25);
  ASSERT_EQ(g.sizes(), (std::vector<int64_t>{1, 2 * (3 + 2) + 2, 3 * (2 + 2) + 2}));
  for (int64_t i = 0; i < 5; ++i) {
    const int64_t y = 2 + (i / 3) * 5, x = 2 + (i % 3) * 4;
    EXPECT_TRUE(torch::equal(g.slice(1, y, y + 3).slice(2, x, x + 2), images[i])) << i;
  }
  // Everything that is not a tile is padding: total = tiles + pad area.
  const double tiles = images.sum().item<double>();
  const double pad_area = g.numel() - 5 * 6;
  EXPECT_NEAR(g.sum().item<double>(), tiles + 0.25 * pad_area, 1e-3);
  EXPECT_EQ(g[0][0][0].item<float>(), 0.25f);
  EXPECT_EQ(g[0][g.size(1) - 1][g.size(2) - 1].item<float>(), 0.25f);  // empty 6th cell corner
}

TEST(Grid, ColumnsAndPadding) {
  auto images = torch::rand({7, 3, 4, 4});
  EXPECT_EQ(make_grid(images, 2).sizes(), (std::vector<int64_t>{3, 4 * 6 + 2, 2 * 6 + 2}));
  EXPECT_EQ(make_grid(images, 100).sizes(), (std::vector<int64_t>{3, 6 + 2, 7 * 6 + 2}));
  auto tight = make_grid(images, 7, 0);
  EXPECT_TRUE(torch::equal(tight, images.permute({1, 2, 0, 3}).reshape({3, 4, 28})));
  EXPECT_EQ(make_grid(images.slice(0, 0, 1)).sizes(), (std::vector<int64_t>{3, 8, 8}));
  EXPECT_THROW(make_grid(images[0]), c10::Error);
  EXPECT_THROW(make_grid(images, -1), c10::Error);
  EXPECT_THROW(make_grid(images.mul(255).to(torch::kUInt8)), c10::Error);
  EXPECT_THROW(make_grid(images, 0, -1), c10::Error);
}

TEST(Grid, SaveGridWritesOnePng) {
  TempDir dir;
  save_grid(dir / "g.png", torch::rand({10, 1, 8, 8}), 5);
  auto back = read_image(dir / "g.png");
  EXPECT_EQ(back.sizes(), (std::vector<int64_t>{1, 2 * 10 + 2, 5 * 10 + 2}));
  EXPECT_EQ(back[0][0][0].item<int>(), 255);  // white frame
}

}  // namespace
}  // namespace genzoo
