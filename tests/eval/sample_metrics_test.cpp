#include "genzoo/eval/sample_metrics.h"

#include "genzoo/eval/classifier_score.h"
#include "genzoo/eval/precision_recall.h"

#include <cmath>

#include <gtest/gtest.h>

#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/data/image.h"
#include "test_support.h"

namespace genzoo {
namespace {

double value(const NamedValues& v, const std::string& name) {
  for (const auto& kv : v)
    if (kv.first == name) return kv.second;
  ADD_FAILURE() << "no value named " << name;
  return 0;
}

TEST(FeatureMetrics, ASetAgainstItselfIsAtTheFloor) {
  torch::manual_seed(0);
  FeatureNet net;  // untrained, but a fixed function: identical inputs give identical features
  net->eval();
  auto images = torch::rand({300, 1, 28, 28}, derived_generator(1, 2));
  FeatureMetricsRequest req;
  req.kid_subsets = 10;
  req.kid_subset_size = 100;
  auto v = feature_metrics(net, images, images, req);
  EXPECT_NEAR(value(v, "fid"), 0.0, 1e-6);
  EXPECT_NEAR(value(v, "precision"), 1.0, 1e-12);
  EXPECT_NEAR(value(v, "recall"), 1.0, 1e-12);
  EXPECT_EQ(value(v, "generated_count"), 300);
  // The classifier score from reused features equals a direct computation.
  auto direct = classifier_score(class_probabilities(net, images), 10);
  EXPECT_NEAR(value(v, "classifier_score"), direct.mean, 1e-9);
  // Blank images are further away than a second draw of the same distribution.
  auto same = feature_metrics(net, images, torch::rand({300, 1, 28, 28}, derived_generator(1, 3)), req);
  auto other = feature_metrics(net, images, torch::zeros({300, 1, 28, 28}), req);
  EXPECT_GT(value(other, "fid"), 10 * value(same, "fid"));
  EXPECT_LT(value(other, "recall"), 0.5);
  // KID, where it is computed: the unbiased MMD^2 of two draws of one
  // distribution is zero up to its subset noise; blank images are far away.
  EXPECT_LT(std::abs(value(same, "kid")), 3 * value(same, "kid_std") + 1e-9);
  EXPECT_GT(value(other, "kid"), 10 * (std::abs(value(same, "kid")) + value(same, "kid_std")));
  EXPECT_EQ(value(v, "kid_subset_size"), 100);
}

TEST(FeatureMetrics, PrecisionAndRecallUseTheRequestedNeighbourhood) {
  torch::manual_seed(0);
  FeatureNet net;
  net->eval();
  auto real = torch::rand({200, 1, 28, 28}, derived_generator(2, 1));
  auto fake = torch::rand({150, 1, 28, 28}, derived_generator(2, 2)) * 0.8;  // a shifted, narrower set
  FeatureSets f = feature_sets(net, real, fake);
  std::vector<std::pair<double, double>> seen;
  for (int64_t k : {1, 10}) {
    FeatureMetricsRequest req;
    req.pr_k = k;
    auto v = precision_recall_values(f, req);
    PrecisionRecall direct = precision_recall(f.real, f.fake, k);
    EXPECT_DOUBLE_EQ(value(v, "precision"), direct.precision) << k;
    EXPECT_DOUBLE_EQ(value(v, "recall"), direct.recall) << k;
    seen.emplace_back(direct.precision, direct.recall);
  }
  // The radius matters here: a larger neighbourhood covers more.
  EXPECT_GT(seen[1].first + seen[1].second, seen[0].first + seen[0].second);
}

TEST(Memorisation, TheReferenceUsesARandomSubsetOfTheRealImages) {
  // The first half of `real` are copies of training images, the second half
  // lie far from every one: "the first 20" would measure distance 0, a
  // random subset mixes both halves.
  auto train = torch::rand({60, 1, 4, 4}, derived_generator(4, 1));
  auto real = torch::cat({train.slice(0, 0, 40), torch::rand({40, 1, 4, 4}, derived_generator(4, 2)) + 5});
  const double random20 = memorisation_reference(real, train, 20, 0);
  EXPECT_GT(random20, 1.0);
  EXPECT_LT(random20, memorisation_reference(real.slice(0, 40), train, 20, 0));
  // Seeded: the same subset again.
  EXPECT_EQ(random20, memorisation_reference(real, train, 20, 0));
  EXPECT_NE(random20, memorisation_reference(real, train, 20, 1));
}

TEST(Memorisation, CopiesHaveDistanceZeroAndTheFigureHasOneRowPerSample) {
  testing::TempDir dir;
  auto train = torch::rand({50, 1, 8, 8}, derived_generator(3, 4));
  auto copies = train.slice(0, 10, 14).clone();
  auto v = memorisation(copies, train, 2, 4, dir / "nn.png");
  EXPECT_NEAR(value(v, "nn_distance_mean"), 0.0, 1e-6);
  EXPECT_NEAR(value(v, "nn_distance_min"), 0.0, 1e-6);
  auto figure = read_image(dir / "nn.png");  // 4 rows x 3 tiles of 8x8 with padding 2
  EXPECT_EQ(figure.size(1), 4 * 8 + 5 * 2);
  EXPECT_EQ(figure.size(2), 3 * 8 + 4 * 2);
}

}  // namespace
}  // namespace genzoo
