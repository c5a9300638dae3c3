#include "genzoo/data/toy2d.h"

#include <gtest/gtest.h>

#include "test_support.h"

#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {
namespace {


// Midpoint rule over the square [-half, half]^2 with cells of side h.
double integrate_density(const std::string& name, double half, double h) {
  const int64_t k = static_cast<int64_t>(std::llround(2 * half / h));
  auto c = torch::arange(k, torch::kFloat64) * h - half + h / 2;  // [k] cell centres
  auto grid = torch::meshgrid({c, c}, "ij");
  auto x = torch::stack({grid[0].reshape(-1), grid[1].reshape(-1)}, 1);  // [k*k, 2]
  return toy2d_log_density(name, x).exp().sum().item<double>() * h * h;
}

TEST(Toy2d, NamesAndCapabilities) {
  EXPECT_EQ(toy2d_names(), (std::vector<std::string>{"ring8", "grid25", "moons", "swissroll", "checkerboard"}));
  EXPECT_TRUE(is_toy2d("moons"));
  EXPECT_FALSE(is_toy2d("mnist"));
  EXPECT_TRUE(toy2d_has_density("ring8"));
  EXPECT_TRUE(toy2d_has_density("checkerboard"));
  EXPECT_FALSE(toy2d_has_density("swissroll"));
  try {
    toy2d_sample("spiral", 5, derived_generator(0, 0));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("choose from ring8, grid25, moons, swissroll, checkerboard"),
              std::string::npos);
  }
  EXPECT_THROW(toy2d_log_density("moons", torch::zeros({1, 2})), Error);
  EXPECT_THROW(toy2d_modes("checkerboard"), Error);
  EXPECT_THROW(toy2d_sigma("swissroll"), Error);
  EXPECT_THROW(toy2d_log_density("ring8", torch::zeros({3, 3})), c10::Error);
}

TEST(Toy2d, DensitiesIntegrateToOne) {
  // Gaussian Riemann sums converge fast once h is below sigma.
  EXPECT_NEAR(integrate_density("ring8", 2.5, 0.01), 1.0, 1e-3);
  EXPECT_NEAR(integrate_density("grid25", 4.5, 0.025), 1.0, 1e-3);
  // Cell edges fall on grid lines, so the midpoint rule is exact here.
  EXPECT_NEAR(integrate_density("checkerboard", 5.0, 0.05), 1.0, 1e-9);
}

TEST(Toy2d, MixtureDensityMatchesClosedFormAtAMode) {
  // At a ring8 centre the nearest other mode is 1.53 away (76 sigma), so
  // p = 1 / (8 * 2 pi sigma^2) to double precision.
  auto modes = toy2d_modes("ring8");
  ASSERT_EQ(modes.sizes(), (std::vector<int64_t>{8, 2}));
  const double s = toy2d_sigma("ring8");
  EXPECT_NEAR(toy2d_log_density("ring8", modes.slice(0, 0, 1).to(torch::kFloat64)).item<double>(),
              -std::log(8 * 2 * testing::kPi * s * s), 1e-9);
  EXPECT_NEAR(modes.norm(2, 1).min().item<float>(), 2.0, 1e-6);
  auto grid = toy2d_modes("grid25");
  EXPECT_EQ(grid.size(0), 25);
  EXPECT_EQ(grid.min().item<float>(), -4.0f);
  EXPECT_EQ(grid.max().item<float>(), 4.0f);
  EXPECT_EQ(toy2d_sigma("grid25"), 0.05);
}

TEST(Toy2d, CheckerboardDarkSquares) {
  auto x = torch::tensor({-3.0, -3.0,    // cell (0,0): dark
                          -1.0, -3.0,    // cell (1,0): light
                          1.0, 1.0,      // cell (2,2): dark
                          3.5, -0.5,     // cell (3,1): dark
                          4.5, 0.0,      // outside
                          -4.0, -4.0})   // the corner belongs to cell (0,0)
                .reshape({6, 2});
  auto lp = toy2d_log_density("checkerboard", x);
  const double dark = -std::log(32.0);
  EXPECT_NEAR(lp[0].item<double>(), dark, 1e-6);
  EXPECT_TRUE(std::isinf(lp[1].item<double>()) && lp[1].item<double>() < 0);
  EXPECT_NEAR(lp[2].item<double>(), dark, 1e-6);
  EXPECT_NEAR(lp[3].item<double>(), dark, 1e-6);
  EXPECT_TRUE(std::isinf(lp[4].item<double>()));
  EXPECT_NEAR(lp[5].item<double>(), dark, 1e-6);
}

// Fraction of samples nearest to each mode; all samples within 6 sigma of one.
void expect_balanced_modes(const std::string& name, int64_t n) {
  auto x = toy2d_sample(name, n, derived_generator(11, 0));
  auto modes = toy2d_modes(name);
  auto dist = torch::cdist(x, modes);                         // [n, M]
  auto [nearest, which] = dist.min(1);                         // [n]
  EXPECT_LT(nearest.max().item<float>(), 6 * toy2d_sigma(name)) << name;
  auto counts = torch::bincount(which, {}, modes.size(0)).to(torch::kFloat64) / n;
  const double expected = 1.0 / modes.size(0);
  EXPECT_LT((counts - expected).abs().max().item<double>(), 5 * std::sqrt(expected / n)) << name;
  EXPECT_LT(x.mean(0).abs().max().item<float>(), 0.1) << name;
  EXPECT_TRUE(torch::isfinite(toy2d_log_density(name, x)).all().item<bool>());
}

TEST(Toy2d, MixtureSamplesCoverEveryModeEvenly) {
  expect_balanced_modes("ring8", 20000);
  expect_balanced_modes("grid25", 50000);
}

TEST(Toy2d, CheckerboardSamplesFillTheDarkSquares) {
  const int64_t n = 40000;
  auto x = toy2d_sample("checkerboard", n, derived_generator(12, 0));
  EXPECT_TRUE(torch::isfinite(toy2d_log_density("checkerboard", x)).all().item<bool>());
  auto cell = torch::floor((x + 4) / 2).to(torch::kLong);    // [n, 2]
  auto counts = torch::bincount(cell.select(1, 0) * 4 + cell.select(1, 1), {}, 16)
                    .to(torch::kFloat64) / n;                // [16]
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 4; ++j)
      EXPECT_NEAR(counts[i * 4 + j].item<double>(), (i + j) % 2 == 0 ? 0.125 : 0.0, 0.01);
  EXPECT_LT(x.mean(0).abs().max().item<float>(), 0.05);
}

TEST(Toy2d, MoonsAndSwissRollHaveTheirShape) {
  auto moons = toy2d_sample("moons", 40000, derived_generator(13, 0));
  // Means of make_moons: x = 1/2, y = (2/pi - (2/pi - 1/2)) / 2 = 1/4.
  EXPECT_NEAR(moons.select(1, 0).mean().item<float>(), 0.5, 0.02);
  EXPECT_NEAR(moons.select(1, 1).mean().item<float>(), 0.25, 0.02);
  EXPECT_LT(moons.abs().max().item<float>(), 2.7);

  auto roll = toy2d_sample("swissroll", 40000, derived_generator(14, 0));
  auto r = roll.norm(2, 1);
  EXPECT_LT(r.max().item<float>(), 4 + 6 * 0.25);
  EXPECT_GT(r.max().item<float>(), 3.5);
  // Radius is proportional to t ~ U[1.5 pi, 4.5 pi]: mean 4 * (3 pi) / (4.5 pi) = 8/3.
  EXPECT_NEAR(r.mean().item<float>(), 8.0 / 3.0, 0.05);
}

TEST(Toy2d, SamplingIsDeterministicGivenTheGenerator) {
  for (const auto& name : toy2d_names()) {
    auto a = toy2d_sample(name, 100, derived_generator(5, 1));
    EXPECT_EQ(a.sizes(), (std::vector<int64_t>{100, 2})) << name;
    EXPECT_EQ(a.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(a, toy2d_sample(name, 100, derived_generator(5, 1)))) << name;
    EXPECT_FALSE(torch::equal(a, toy2d_sample(name, 100, derived_generator(6, 1)))) << name;
  }
  EXPECT_EQ(toy2d_sample("ring8", 0, derived_generator(0, 0)).size(0), 0);
}

}  // namespace
}  // namespace genzoo
