#include "genzoo/eval/sample_metrics.h"

#include "genzoo/eval/classifier_score.h"

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
