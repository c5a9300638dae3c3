#include "genzoo/sampling/replay_buffer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace genzoo {
namespace {

const std::vector<int64_t> kShape{1, 2, 2};

// Rows [n, 1, 2, 2] whose every pixel is value_k = (k + 1) / 255 for row k.
torch::Tensor numbered_rows(int64_t n, int64_t first = 0) {
  return (torch::arange(first, first + n, torch::kFloat32) + 1).div(255.0).view({n, 1, 1, 1}).expand({n, 1, 2, 2}).contiguous();
}

TEST(ReplayBuffer, TheReinitialisedShareIsWithinBinomialTolerance) {
  torch::manual_seed(1);
  ReplayBuffer buffer(100, kShape);
  buffer->push(numbered_rows(100), torch::zeros({100}, torch::kLong));
  const int64_t n = 20000;
  const double p = 0.05;
  auto starts = buffer->draw(torch::zeros({n}, torch::kLong), p);
  const double fresh = starts.fresh.sum().item<double>();
  const double sd = std::sqrt(n * p * (1 - p));
  EXPECT_NEAR(fresh, n * p, 4 * sd);
  // Rows not re-initialised are stored samples: constant images of k/255.
  auto kept = starts.x.index({~starts.fresh});
  auto levels = kept * 255.0;
  EXPECT_TRUE(torch::allclose(levels, levels.round(), 0, 1e-3));
  EXPECT_TRUE((kept.amax({1, 2, 3}) == kept.amin({1, 2, 3})).all().item<bool>());
  // Re-initialised rows are uniform noise: not constant images.
  auto noise = starts.x.index({starts.fresh});
  EXPECT_TRUE((noise.amax({1, 2, 3}) > noise.amin({1, 2, 3})).all().item<bool>());
  // Every stored sample is reached, about equally often.
  auto drawn = (kept.select(3, 0).select(2, 0).select(1, 0) * 255.0).round().to(torch::kLong) - 1;
  auto counts = torch::bincount(drawn, c10::nullopt, 100).to(torch::kFloat64);
  EXPECT_GT(counts.min().item<double>(), 0);
  const double mean = counts.mean().item<double>();
  EXPECT_NEAR(counts.std().item<double>(), std::sqrt(mean), 0.35 * std::sqrt(mean));  // ~ Poisson spread
}

TEST(ReplayBuffer, StoresUint8AndRoundTripsExactLevels) {
  ReplayBuffer buffer(10, kShape);
  EXPECT_EQ(buffer->store.scalar_type(), torch::kUInt8);
  auto x = numbered_rows(4);
  buffer->push(x, torch::zeros({4}, torch::kLong));
  EXPECT_TRUE(torch::equal(buffer->contents(0), x));
  // Other values are rounded to the nearest 1/255 and clamped to [0, 1].
  ReplayBuffer other(10, kShape);
  auto y = torch::tensor({-0.3f, 0.1234f, 0.5f, 1.7f}).view({1, 1, 2, 2});
  other->push(y, torch::zeros({1}, torch::kLong));
  auto back = other->contents(0);
  EXPECT_LE((back - y.clamp(0, 1)).abs().max().item<double>(), 0.5 / 255 + 1e-6);
  EXPECT_EQ(back[0][0][0][0].item<float>(), 0.0f);
  EXPECT_EQ(back[0][0][1][1].item<float>(), 1.0f);
}

TEST(ReplayBuffer, ARingOverwritesItsOldestSamples) {
  ReplayBuffer buffer(3, kShape);
  buffer->push(numbered_rows(2, 0), torch::zeros({2}, torch::kLong));
  buffer->push(numbered_rows(3, 2), torch::zeros({3}, torch::kLong));
  EXPECT_EQ(buffer->size(), 3);
  EXPECT_TRUE(torch::equal(buffer->contents(0), numbered_rows(3, 2)));  // rows 2, 3, 4: oldest first
  // More rows in one push than the ring holds: the last ones stay.
  buffer->push(numbered_rows(5, 10), torch::zeros({5}, torch::kLong));
  EXPECT_TRUE(torch::equal(buffer->contents(0), numbered_rows(3, 12)));
}

TEST(ReplayBuffer, ClassPartitionsServeOnlyTheirOwnClass) {
  torch::manual_seed(3);
  ReplayBuffer buffer(30, kShape, 3);
  EXPECT_EQ(buffer->capacity(), 30);
  auto zeros = torch::zeros({5}, torch::kLong);
  buffer->push(torch::full({5, 1, 2, 2}, 0.2f), zeros);
  buffer->push(torch::full({5, 1, 2, 2}, 0.8f), zeros + 1);
  EXPECT_EQ(buffer->size(0), 5);
  EXPECT_EQ(buffer->size(1), 5);
  EXPECT_EQ(buffer->size(2), 0);
  auto part = torch::tensor({0, 1, 2, 0, 1, 2}, torch::kLong);
  auto starts = buffer->draw(part, 0.0);
  const float want0 = std::round(0.2f * 255) / 255, want1 = std::round(0.8f * 255) / 255;
  EXPECT_TRUE((starts.x[0] == want0).all().item<bool>());
  EXPECT_TRUE((starts.x[3] == want0).all().item<bool>());
  EXPECT_TRUE((starts.x[1] == want1).all().item<bool>());
  EXPECT_TRUE((starts.x[4] == want1).all().item<bool>());
  // The empty partition starts from noise whatever the share.
  EXPECT_TRUE(torch::equal(starts.fresh, torch::tensor({false, false, true, false, false, true})));
  EXPECT_ANY_THROW(buffer->draw(torch::tensor({3}, torch::kLong), 0.0));
  EXPECT_ANY_THROW(buffer->push(torch::zeros({1, 1, 2, 2}), torch::tensor({-1}, torch::kLong)));
  EXPECT_ANY_THROW(buffer->push(torch::zeros({1, 1, 3, 2}), torch::tensor({0}, torch::kLong)));
}

TEST(ReplayBuffer, MixedPartitionsMoveAShareOfRowsToOtherNonEmptyClasses) {
  torch::manual_seed(4);
  ReplayBuffer buffer(40, kShape, 4);
  // Partitions 0, 1 and 3 hold samples; 2 is empty.
  for (int64_t k : {0, 1, 3}) buffer->push(torch::full({3, 1, 2, 2}, 0.1f * static_cast<float>(k + 1)), torch::full({3}, k, torch::kLong));
  const int64_t n = 20000;
  auto own = torch::zeros({n}, torch::kLong);  // every row is of class 0
  EXPECT_TRUE(torch::equal(buffer->mix_partitions(own, 0.0), own));
  // Share 1: every row moves, never to its own class nor to the empty one,
  // and about equally often to 1 and 3.
  auto all = buffer->mix_partitions(own, 1.0);
  auto counts = torch::bincount(all, c10::nullopt, 4);
  EXPECT_EQ(counts[0].item<int64_t>(), 0);
  EXPECT_EQ(counts[2].item<int64_t>(), 0);
  const double sd_half = std::sqrt(n * 0.25);
  EXPECT_NEAR(counts[1].item<double>(), n / 2.0, 4 * sd_half);
  // Share 0.3: the moved share within binomial tolerance.
  const double p = 0.3;
  const double moved = (buffer->mix_partitions(own, p) != 0).sum().item<double>();
  EXPECT_NEAR(moved, n * p, 4 * std::sqrt(n * p * (1 - p)));
  // A class whose partition is the only non-empty one keeps its own.
  ReplayBuffer lone(20, kShape, 2);
  lone->push(torch::full({2, 1, 2, 2}, 0.5f), torch::zeros({2}, torch::kLong));
  auto zeros = torch::zeros({50}, torch::kLong);
  EXPECT_TRUE(torch::equal(lone->mix_partitions(zeros, 1.0), zeros));
  // The draw then takes the other class's samples.
  auto starts = buffer->draw(all.slice(0, 0, 10), 0.0);
  for (int64_t r = 0; r < 10; ++r) {
    const float want = std::round(0.1f * static_cast<float>(all[r].item<int64_t>() + 1) * 255) / 255;
    EXPECT_TRUE((starts.x[r] == want).all().item<bool>()) << r;
  }
  EXPECT_ANY_THROW(buffer->mix_partitions(own, 1.5));
}

TEST(ReplayBuffer, ACheckpointRoundTripRestoresContentsAndDraws) {
  torch::manual_seed(4);
  ReplayBuffer a(12, kShape, 2);
  a->push(torch::rand({9, 1, 2, 2}), torch::randint(0, 2, {9}, torch::kLong));
  std::stringstream bytes;
  {
    torch::serialize::OutputArchive archive;
    a->save(archive);
    archive.save_to(bytes);
  }
  ReplayBuffer b(12, kShape, 2);
  {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes);
    b->load(archive);
  }
  EXPECT_TRUE(torch::equal(a->store, b->store));
  EXPECT_TRUE(torch::equal(a->filled, b->filled));
  EXPECT_TRUE(torch::equal(a->next, b->next));
  auto part = torch::tensor({0, 1, 1, 0, 1}, torch::kLong);
  torch::manual_seed(9);
  auto da = a->draw(part, 0.3);
  torch::manual_seed(9);
  auto db = b->draw(part, 0.3);
  EXPECT_TRUE(torch::equal(da.x, db.x));
  EXPECT_TRUE(torch::equal(da.fresh, db.fresh));
}

}  // namespace
}  // namespace genzoo
