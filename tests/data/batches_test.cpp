#include "genzoo/data/batches.h"

#include <gtest/gtest.h>

#include "genzoo/core/error.h"

namespace genzoo {
namespace {

torch::Tensor whole_epoch(BatchSampler& s, int64_t epoch) {
  std::vector<torch::Tensor> parts;
  for (int64_t b = 0; b < s.batches_per_epoch(); ++b) parts.push_back(s.indices(epoch, b));
  return torch::cat(parts);  // [n] or fewer with drop_last
}

TEST(BatchSampler, EveryIndexOncePerEpochWithAPartialLastBatch) {
  BatchSampler s(103, 10, 42);
  EXPECT_EQ(s.batches_per_epoch(), 11);
  EXPECT_EQ(s.indices(0, 9).size(0), 10);
  EXPECT_EQ(s.indices(0, 10).size(0), 3);
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    auto all = whole_epoch(s, epoch);
    EXPECT_EQ(all.scalar_type(), torch::kLong);
    EXPECT_TRUE(torch::equal(std::get<0>(all.sort()), torch::arange(103, torch::kLong)));
  }
}

TEST(BatchSampler, SameSeedSameBatchesOtherEpochsAndSeedsDiffer) {
  BatchSampler a(500, 32, 7), b(500, 32, 7), c(500, 32, 8);
  auto e0 = whole_epoch(a, 0);
  EXPECT_TRUE(torch::equal(e0, whole_epoch(b, 0)));
  EXPECT_FALSE(torch::equal(e0, whole_epoch(a, 1)));
  EXPECT_FALSE(torch::equal(e0, whole_epoch(c, 0)));
  EXPECT_FALSE(torch::equal(e0, torch::arange(500, torch::kLong)));  // shuffled
  // Order of access does not matter: a resumed run asking for epoch 5 first
  // sees what an uninterrupted one sees.
  auto e5 = whole_epoch(a, 5);
  EXPECT_TRUE(torch::equal(whole_epoch(b, 5), e5));
  EXPECT_TRUE(torch::equal(whole_epoch(a, 0), e0));
  EXPECT_TRUE(torch::equal(b.indices(5, 3), e5.slice(0, 96, 128)));
}

TEST(BatchSampler, DropLastDropsThePartialBatch) {
  BatchSampler s(103, 10, 1, true, true);
  EXPECT_EQ(s.batches_per_epoch(), 10);
  auto all = whole_epoch(s, 0);
  EXPECT_EQ(all.size(0), 100);
  EXPECT_EQ(std::get<0>(torch::_unique(all)).size(0), 100);
  EXPECT_THROW(s.indices(0, 10), c10::Error);
}

TEST(BatchSampler, WithoutShuffleBatchesAreInOrder) {
  BatchSampler s(25, 10, 3, false);
  EXPECT_TRUE(torch::equal(whole_epoch(s, 4), torch::arange(25, torch::kLong)));
  EXPECT_TRUE(torch::equal(s.indices(0, 2), torch::arange(20, 25, torch::kLong)));
}

TEST(BatchSampler, ReturnedBatchesDoNotAliasTheCache) {
  BatchSampler s(10, 5, 3);
  auto first = s.indices(0, 0).clone();
  s.indices(0, 0).fill_(-1);
  EXPECT_TRUE(torch::equal(s.indices(0, 0), first));
}

TEST(BatchSampler, RejectsBadArguments) {
  EXPECT_THROW(BatchSampler(0, 10, 1), Error);
  EXPECT_THROW(BatchSampler(-5, 10, 1), Error);
  EXPECT_THROW(BatchSampler(10, 0, 1), Error);
  EXPECT_THROW(BatchSampler(10, -1, 1), Error);
  EXPECT_THROW(BatchSampler(10, 11, 1, true, true), Error);
  BatchSampler s(10, 4, 1);
  EXPECT_THROW(s.indices(0, 3), c10::Error);
  EXPECT_THROW(s.indices(0, -1), c10::Error);
  EXPECT_THROW(s.indices(-1, 0), c10::Error);
  BatchSampler one(10, 11, 1);  // a single partial batch is fine without drop_last
  EXPECT_EQ(one.batches_per_epoch(), 1);
  EXPECT_EQ(one.indices(0, 0).size(0), 10);
}

}  // namespace
}  // namespace genzoo
