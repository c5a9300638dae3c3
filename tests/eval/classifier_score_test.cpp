#include "genzoo/eval/classifier_score.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "genzoo/core/error.h"

namespace genzoo {

namespace {

// One-hot rows [n, K] whose classes are `labels`.
torch::Tensor one_hot(const std::vector<int64_t>& labels, int64_t k) {
  return torch::one_hot(torch::tensor(labels, torch::kLong), k).to(torch::kFloat32);
}

TEST(ClassifierScore, ConfidentAndUniformOverKClassesGivesK) {
  // Row i is class i mod 5, so each of the 10 parts of 10 rows holds every
  // class twice: KL(onehot || uniform) = log 5 for every row.
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < 100; ++i) labels.push_back(i % 5);
  auto cs = classifier_score(one_hot(labels, 5), 10);
  EXPECT_NEAR(cs.mean, 5.0, 1e-9);
  EXPECT_NEAR(cs.std, 0.0, 1e-9);
  EXPECT_EQ(cs.splits, 10);
  EXPECT_EQ(cs.count, 100);
}

TEST(ClassifierScore, IdenticalRowsGiveOne) {
  auto probs = torch::tensor({0.2f, 0.3f, 0.5f}).repeat({50, 1});  // [50, 3]
  auto cs = classifier_score(probs, 5);
  EXPECT_NEAR(cs.mean, 1.0, 1e-6);
  EXPECT_NEAR(cs.std, 0.0, 1e-6);
}

TEST(ClassifierScore, HandComputedPart) {
  // Rows (1, 0) and (1/2, 1/2): p(y) = (3/4, 1/4).
  // KL1 = log(4/3); KL2 = 1/2 log(2/3) + 1/2 log 2 = 1/2 log(4/3).
  // exp(mean KL) = (4/3)^(3/4). The 0 log 0 of row 1 must count as 0.
  auto probs = torch::tensor({1.0, 0.0, 0.5, 0.5}, torch::kFloat64).reshape({2, 2});
  EXPECT_NEAR(classifier_score(probs, 1).mean, std::pow(4.0 / 3.0, 0.75), 1e-12);
}

TEST(ClassifierScore, SplitsAreContiguousWithFloorBoundaries) {
  // N = 7, 3 splits: boundaries floor(i 7 / 3) = 0, 2, 4, 7 -> parts of 2, 2, 3
  // rows. The labels make those parts score 2, 2 and 3 exactly, so any other
  // split would show.
  auto cs = classifier_score(one_hot({0, 1, 0, 1, 0, 1, 2}, 3), 3);
  EXPECT_NEAR(cs.mean, 7.0 / 3.0, 1e-9);
  EXPECT_NEAR(cs.std, std::sqrt(2.0) / 3.0, 1e-9);  // divisor 3: sqrt((1/9 + 1/9 + 4/9) / 3)
}

TEST(ClassifierScore, RejectsBadInput) {
  auto probs = torch::full({4, 2}, 0.5);
  EXPECT_THROW(classifier_score(probs, 5), Error);  // splits > N
  EXPECT_THROW(classifier_score(probs, 0), Error);
  EXPECT_THROW(classifier_score(probs * 2, 1), Error);  // rows sum to 2
  EXPECT_THROW(classifier_score(torch::tensor({1.5, -0.5}, torch::kFloat64).reshape({1, 2}), 1), Error);
  EXPECT_THROW(classifier_score(torch::full({4}, 0.25), 1), Error);
}

}  // namespace
}  // namespace genzoo
