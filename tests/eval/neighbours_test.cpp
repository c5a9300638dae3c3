#include "genzoo/eval/neighbours.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {
namespace {

torch::Tensor nn_normal(torch::IntArrayRef shape, uint64_t index) {
  return torch::randn(shape, derived_generator(13, 0x4e4e, index), torch::kFloat32);
}

TEST(Neighbours, MatchesBruteForce) {
  auto queries = nn_normal({37, 3, 2, 2}, 1);  // images, flattened to 12 values
  auto reference = nn_normal({50, 12}, 2);
  const int64_t k = 4;
  auto nn = nearest_neighbours(queries, reference, k, /*block=*/8);  // 8 does not divide 37
  ASSERT_EQ(nn.indices.sizes(), (std::vector<int64_t>{37, k}));
  EXPECT_EQ(nn.distances.scalar_type(), torch::kFloat64);

  auto q = queries.flatten(1).to(torch::kFloat64), r = reference.to(torch::kFloat64);
  for (int64_t i = 0; i < 37; ++i) {
    std::vector<double> d(50);
    for (int64_t j = 0; j < 50; ++j) d[j] = (q[i] - r[j]).norm().item<double>();
    std::vector<int64_t> order(50);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&d](int64_t a, int64_t b) { return d[a] < d[b]; });
    for (int64_t c = 0; c < k; ++c) {
      EXPECT_EQ(nn.indices[i][c].item<int64_t>(), order[c]) << "query " << i << " rank " << c;
      EXPECT_NEAR(nn.distances[i][c].item<double>(), d[order[c]], 1e-9);
    }
  }
}

TEST(Neighbours, EachPointIsItsOwnNearest) {
  auto x = nn_normal({40, 5}, 3);
  auto nn = nearest_neighbours(x, x, 1);
  EXPECT_TRUE(torch::equal(nn.indices.squeeze(1), torch::arange(40)));
  EXPECT_LT(nn.distances.max().item<double>(), 1e-6);
}

TEST(Neighbours, SquaredDistancesSurviveALargeCommonOffset) {
  // An offset of 1e6 makes |a|^2 ~ 1e12, where the plain expanded form keeps
  // only ~1e-4 of absolute precision; centring first keeps it near 1e-12.
  auto a = nn_normal({20, 4}, 4).to(torch::kFloat64), b = nn_normal({30, 4}, 5).to(torch::kFloat64);
  auto exact = (a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(2);  // [20, 30]
  auto shifted = squared_distances(a + 1e6, b + 1e6);
  EXPECT_TRUE(torch::allclose(shifted, exact, 0, 1e-8));
  EXPECT_GE(squared_distances(a, a).min().item<double>(), 0.0);  // clamped
}

TEST(Neighbours, RejectsBadInput) {
  auto x = nn_normal({5, 3}, 6);
  EXPECT_THROW(nearest_neighbours(x, x, 6), Error);  // k > M
  EXPECT_THROW(nearest_neighbours(x, x, 0), Error);
  EXPECT_THROW(nearest_neighbours(x, x, 1, 0), Error);
  EXPECT_THROW(nearest_neighbours(x, nn_normal({5, 4}, 7)), Error);
  EXPECT_THROW(nearest_neighbours(x.flatten(), x), Error);
  EXPECT_THROW(squared_distances(x, nn_normal({2, 2}, 8)), Error);
}

}  // namespace
}  // namespace genzoo
