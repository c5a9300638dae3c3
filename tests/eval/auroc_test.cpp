#include "genzoo/eval/auroc.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {
namespace {

torch::Tensor scores(std::vector<double> v) { return torch::tensor(v, torch::kFloat64); }

TEST(Roc, SeparableReversedAndIdenticalScores) {
  auto hi = scores({2, 3, 4}), lo = scores({0, 1});
  auto sep = roc_scores(hi, lo);
  EXPECT_DOUBLE_EQ(sep.auroc, 1.0);
  EXPECT_DOUBLE_EQ(sep.fpr_at_95_tpr, 0.0);
  EXPECT_EQ(sep.in_count, 3);
  EXPECT_EQ(sep.out_count, 2);

  auto rev = roc_scores(lo, hi);
  EXPECT_DOUBLE_EQ(rev.auroc, 0.0);
  EXPECT_DOUBLE_EQ(rev.fpr_at_95_tpr, 1.0);

  auto same = roc_scores(torch::ones({5}), torch::ones({7}));
  EXPECT_DOUBLE_EQ(same.auroc, 0.5);
  EXPECT_DOUBLE_EQ(same.fpr_at_95_tpr, 1.0);  // ties at the threshold count as positives
}

TEST(Roc, HandCountedTies) {
  // in (1, 2, 2, 3) vs out (0, 2, 2), 12 pairs. In-score 1 beats 0: 1. Each
  // in-score 2 beats 0 and ties both 2s: 1 + 1/2 + 1/2 = 2. In-score 3 beats
  // all three: 3. AUROC = (1 + 2 + 2 + 3) / 12 = 2/3.
  EXPECT_NEAR(roc_scores(scores({1, 2, 2, 3}), scores({0, 2, 2})).auroc, 2.0 / 3.0, 1e-15);
}

TEST(Roc, MatchesPairCountingOnRandomScoresWithTies) {
  auto gen = derived_generator(3, 0x524f43);
  auto in = torch::randint(0, 20, {300}, gen, torch::kFloat32) + 3;  // integers: many ties
  auto out = torch::randint(0, 20, {200}, gen, torch::kFloat32);
  auto diff = in.unsqueeze(1) - out.unsqueeze(0);  // [300, 200]
  const double wins = (diff > 0).sum().item<int64_t>(), ties = (diff == 0).sum().item<int64_t>();
  const double expected = (wins + 0.5 * ties) / (300.0 * 200.0);
  EXPECT_NEAR(roc_scores(in, out).auroc, expected, 1e-12);
}

TEST(Roc, FprAt95TprHandCases) {
  // 20 in-scores 1..20: ceil(0.95 * 20) = 19 of them must be >= t, so t = 2
  // (the 19th largest). Out-scores >= 2: 2, 2.5, 3 -> FPR 3/5.
  auto in20 = torch::arange(1, 21, torch::kFloat64);
  EXPECT_DOUBLE_EQ(roc_scores(in20, scores({0, 1.5, 2, 2.5, 3})).fpr_at_95_tpr, 0.6);
  // 100 in-scores 1..100: t = the 95th largest = 6. Out 0..9: 6, 7, 8, 9 -> 4/10.
  auto in100 = torch::arange(1, 101, torch::kFloat64);
  EXPECT_DOUBLE_EQ(roc_scores(in100, torch::arange(0, 10, torch::kFloat64)).fpr_at_95_tpr, 0.4);
  // 10 in-scores: ceil(9.5) = 10, so t is the smallest in-score, 1.
  auto in10 = torch::arange(1, 11, torch::kFloat64);
  EXPECT_DOUBLE_EQ(roc_scores(in10, scores({0.5, 1, 5})).fpr_at_95_tpr, 2.0 / 3.0);
}

TEST(Roc, RejectsBadInput) {
  auto ok = scores({1, 2});
  EXPECT_THROW(roc_scores(torch::empty({0}), ok), Error);
  EXPECT_THROW(roc_scores(ok, torch::empty({0})), Error);
  EXPECT_THROW(roc_scores(scores({1, NAN}), ok), Error);
  EXPECT_THROW(roc_scores(ok, scores({INFINITY})), Error);
  EXPECT_THROW(roc_scores(ok.reshape({1, 2}), ok), Error);
}

}  // namespace
}  // namespace genzoo
