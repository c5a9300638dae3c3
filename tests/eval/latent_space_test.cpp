#include "genzoo/eval/latent_space.h"

#include <gtest/gtest.h>

#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {
namespace {

TEST(LatentSpace, PathsStartAndEndAtTheirCodesAndSlerpKeepsTheNormBetweenEqualNorms) {
  auto a = torch::tensor({3.0, 0.0, 0.0}), b = torch::tensor({0.0, 3.0, 0.0});
  auto lin = interpolate_linear(a, b, 5), sph = interpolate_spherical(a, b, 5);
  for (const auto& p : {lin, sph}) {
    EXPECT_EQ(p.sizes(), (std::vector<int64_t>{5, 3}));
    EXPECT_TRUE(torch::allclose(p[0], a, 1e-6, 1e-6));
    EXPECT_TRUE(torch::allclose(p[4], b, 1e-6, 1e-6));
  }
  // Between two codes of norm 3 the spherical path stays at norm 3; the
  // linear one dips to 3 / sqrt(2) halfway.
  EXPECT_TRUE(torch::allclose(sph.norm(2, 1), torch::full({5}, 3.0), 1e-5, 1e-5));
  EXPECT_NEAR(lin[2].norm().item<double>(), 3 / std::sqrt(2.0), 1e-5);
  EXPECT_TRUE(torch::allclose(sph[2], torch::tensor({3 / std::sqrt(2.0), 3 / std::sqrt(2.0), 0.0}).to(torch::kFloat), 1e-5, 1e-5));
  // Parallel codes: the spherical path is the linear one.
  EXPECT_TRUE(torch::allclose(interpolate_spherical(a, 2 * a, 3), interpolate_linear(a, 2 * a, 3)));
}

TEST(LatentSpace, ThePriorGridSitsAtTheNormalQuantilesOfCellCentres) {
  auto g = prior_grid_2d(4);
  EXPECT_EQ(g.sizes(), (std::vector<int64_t>{16, 2}));
  // Phi^-1(1/8) = -1.1503, Phi^-1(3/8) = -0.3186, symmetric.
  EXPECT_NEAR(g[0][0].item<double>(), -1.15035, 1e-4);
  EXPECT_NEAR(g[1][1].item<double>(), -0.31864, 1e-4);
  EXPECT_NEAR(g[15][1].item<double>(), 1.15035, 1e-4);
  EXPECT_NEAR(g.sum().item<double>(), 0.0, 1e-5);
}

TEST(LatentSpace, ClassMeansAverageEachClass) {
  auto codes = torch::tensor({{1.0, 0.0}, {3.0, 2.0}, {10.0, 10.0}});
  auto labels = torch::tensor({0, 0, 1}, torch::kInt64);
  auto m = class_means(codes, labels, 2);
  EXPECT_TRUE(torch::allclose(m, torch::tensor({{2.0, 1.0}, {10.0, 10.0}}).to(torch::kFloat)));
  EXPECT_THROW(class_means(codes, labels, 3), Error);
}

TEST(LatentSpace, TheLinearProbeSeparatesWhatIsLinearlySeparableAndNotNoise) {
  // Three Gaussian blobs in 5-D, with the class in the first two features:
  // near-perfect; labels unrelated to the features: chance (1/3).
  auto gen = derived_generator(1, 2);
  auto y = torch::randint(0, 3, {600}, gen, torch::kInt64);
  auto centres = torch::tensor({{4.0, 0.0}, {-4.0, 0.0}, {0.0, 4.0}});
  auto x = torch::randn({600, 5}, gen);
  x.slice(1, 0, 2) += centres.index_select(0, y).to(torch::kFloat);
  auto r = linear_probe(x.slice(0, 0, 400), y.slice(0, 0, 400), x.slice(0, 400), y.slice(0, 400), 3);
  EXPECT_GT(r.test_accuracy, 0.97);
  EXPECT_EQ(r.features, 5);
  EXPECT_EQ(r.test_count, 200);
  auto noise = torch::randint(0, 3, {600}, gen, torch::kInt64);
  auto n = linear_probe(x.slice(0, 0, 400), noise.slice(0, 0, 400), x.slice(0, 400), noise.slice(0, 400), 3);
  EXPECT_LT(n.test_accuracy, 0.45);
}

}  // namespace
}  // namespace genzoo
