#include "genzoo/eval/feature_net.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/data/transforms.h"
#include "genzoo/eval/sample_metrics.h"
#include "test_support.h"

namespace genzoo {
namespace {

TEST(FeatureNet, ShapesAndSaveLoadRoundTrip) {
  torch::manual_seed(0);
  FeatureNet net;
  net->eval();
  auto x = torch::rand({5, 1, 28, 28});
  EXPECT_EQ(net->features(x).sizes(), (std::vector<int64_t>{5, 128}));
  EXPECT_EQ(net->forward(x).sizes(), (std::vector<int64_t>{5, 10}));
  auto probs = class_probabilities(net, x, 2);
  EXPECT_TRUE(torch::allclose(probs.sum(1), torch::ones({5}), 1e-5, 1e-5));
  EXPECT_THROW(net->features(torch::rand({2, 1, 32, 32})), c10::Error);
  testing::TempDir dir;
  save_feature_net(net, dir / "net.pt");
  FeatureNet loaded;
  torch::load(loaded, dir / "net.pt");
  loaded->eval();
  EXPECT_TRUE(torch::equal(extract_features(loaded, x), extract_features(net, x)));
}

TEST(FeatureNet, TheRecipeLearnsASeparableToyProblem) {
  // Two classes: a bright top half or a bright bottom half, on noise.
  Dataset ds;
  ds.kind = DataKind::Images;
  ds.channels = 1;
  ds.height = ds.width = 8;
  ds.num_classes = 2;
  auto gen = derived_generator(1, 1);
  auto x = torch::randint(0, 60, {256, 1, 8, 8}, gen, torch::kUInt8);
  auto y = torch::randint(0, 2, {256}, gen, torch::kInt64);
  for (int64_t i = 0; i < 256; ++i) x[i].slice(1, y[i].item<int64_t>() * 4, y[i].item<int64_t>() * 4 + 4).fill_(220);
  ds.train = {x, y};
  ds.test = {x, y};
  FeatureNetRecipe r;
  r.epochs = 3;
  r.batch_size = 32;
  r.flip = false;
  r.shift = 1;
  FeatureNet net = train_feature_net(ds, r);
  EXPECT_GT(classifier_accuracy(net, to_unit(x), y), 0.95);
}

// The shipped networks: intact (checksums) and as accurate as promised.
void check_shipped(const std::string& dataset, double min_accuracy) {
  FeatureNetInfo info = feature_net_info(dataset);
  ASSERT_TRUE(file_exists(info.path)) << info.path;
  std::string dir = info.path.substr(0, info.path.rfind('/'));
  std::string cmd = "cd '" + dir + "' && grep ' " + dataset + ".pt$' SHA256SUMS | sha256sum --check --status";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "checksum of " << info.path;
  Dataset data;
  try {
    data = load_dataset(dataset);
  } catch (const Error& e) {
    GTEST_SKIP() << e.what();
  }
  FeatureNet net = load_feature_net(dataset);
  double acc = classifier_accuracy(net, to_unit(data.test.x), data.test.y);
  EXPECT_GE(acc, min_accuracy) << info.id;
}

TEST(FeatureNet, ShippedFashionMnistNetworkIsIntactAndAccurate) { check_shipped("fashion-mnist", 0.92); }
TEST(FeatureNet, ShippedMnist10kNetworkIsIntactAndAccurate) { check_shipped("mnist-10k", 0.97); }

TEST(FeatureNet, MissingNetworkIsAnError) { EXPECT_THROW(load_feature_net("ring8"), Error); }

}  // namespace
}  // namespace genzoo

namespace genzoo {
namespace {

// The reference features kept between processes: read back exactly, keyed
// by the images, recomputed when the file is damaged.
TEST(FeatureCache, ReadsBackWhatItExtractedAndRecomputesADamagedFile) {
  torch::manual_seed(0);
  FeatureNet net;
  net->eval();
  auto x = torch::rand({20, 1, 28, 28});
  testing::TempDir dir;
  const std::string cache = dir / "cache";
  auto direct = extract_features(net, x);
  bool first_hit = true;
  auto first = cached_reference_features(net, "net-a", x, cache, &first_hit);
  EXPECT_TRUE(torch::equal(first, direct));
  EXPECT_FALSE(first_hit);
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(cache)) files.push_back(e.path().string());
  ASSERT_EQ(files.size(), 1u);
  bool hit = true;
  EXPECT_TRUE(torch::equal(cached_reference_features(net, "net-a", x, cache, &hit), direct));
  EXPECT_TRUE(hit);
  // A network with other weights keys other files.
  FeatureNet other;
  other->eval();
  ASSERT_FALSE(torch::equal(extract_features(other, x), direct));
  EXPECT_TRUE(torch::equal(cached_reference_features(other, "net-a", x, cache, &hit), extract_features(other, x)));
  EXPECT_FALSE(hit);
  // Other images, or another network's name: another file.
  auto y = x.clone();
  y[3][0][5][5] += 0.25;
  EXPECT_TRUE(torch::equal(cached_reference_features(net, "net-a", y, cache, &hit), extract_features(net, y)));
  EXPECT_FALSE(hit);
  EXPECT_TRUE(torch::equal(cached_reference_features(net, "net-b", x, cache, &hit), direct));
  EXPECT_FALSE(hit);
  // A damaged file is extracted again and rewritten whole.
  write_file(files[0], read_file(files[0]).substr(0, 100));
  EXPECT_TRUE(torch::equal(cached_reference_features(net, "net-a", x, cache, &hit), direct));
  EXPECT_FALSE(hit);
  EXPECT_GT(file_size(files[0]), 100);
  EXPECT_TRUE(torch::equal(cached_reference_features(net, "net-a", x, cache, &hit), direct));
  EXPECT_TRUE(hit);
  // No folder: no cache.
  EXPECT_TRUE(torch::equal(cached_reference_features(net, "net-a", x, ""), direct));
}

}  // namespace
}  // namespace genzoo
