#include "genzoo/models/explicit/made.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "autoregressive_checks.h"
#include "genzoo/core/error.h"

namespace genzoo {
namespace {

Made random_made(uint64_t seed, int64_t layers, int64_t masks, const std::string& ordering, bool direct = false) {
  torch::manual_seed(seed);
  Made m(MadeOptions()
             .shape({1, 4, 4})
             .hidden(12)
             .layers(layers)
             .masks(masks)
             .ordering(*made_ordering_names().find(ordering))
             .direct(direct));
  torch::NoGradGuard g;
  for (auto& p : m->parameters()) p.normal_(0, 1.0);
  m->eval();
  return m;
}

struct MadeCase {
  int64_t layers;
  const char* ordering;
  bool direct;
};
const MadeCase kCases[] = {{1, "natural", false}, {2, "natural", false}, {1, "random", false},
                           {2, "random", false},  {1, "natural", true},  {2, "random", true}};

TEST(Made, EveryMaskAndTheMixtureSumToOne) {
  for (const auto& c : kCases) {
    auto m = random_made(1, c.layers, 4, c.ordering, c.direct);
    for (int64_t k = 0; k < 4; ++k)
      EXPECT_NEAR(testing::total_probability([&](const torch::Tensor& x) { return m->log_prob_mask(x, k); }),
                  1.0, 1e-4)
          << c.layers << " layers, " << c.ordering << (c.direct ? ", direct" : "") << ", mask " << k;
    EXPECT_NEAR(testing::total_probability([&](const torch::Tensor& x) { return m->log_prob(x); }), 1.0, 1e-4)
        << c.layers << " layers, " << c.ordering << ", mixture";
  }
}

TEST(Made, EveryMaskIsAutoregressiveInItsOwnOrder) {
  for (const auto& c : kCases) {
    auto m = random_made(2, c.layers, 3, c.ordering, c.direct);
    for (int64_t k = 0; k < 3; ++k)
      testing::expect_autoregressive([&](const torch::Tensor& x) { return m->conditional_logits(x, k); },
                                     m->orders[k]);
  }
}

TEST(Made, EvaluationIsTheMixtureOfTheMasksNotAnAverageOfLogits) {
  auto m = random_made(3, 2, 5, "random");
  auto x = torch::bernoulli(torch::full({6, 1, 4, 4}, 0.5));
  torch::NoGradGuard g;
  auto p = torch::zeros({6}, torch::kFloat64);
  for (int64_t k = 0; k < 5; ++k) p += m->log_prob_mask(x, k).to(torch::kFloat64).exp();
  EXPECT_TRUE(torch::allclose(m->log_prob(x).to(torch::kFloat64), (p / 5).log(), 1e-6, 1e-5));
}

TEST(Made, TrainingCyclesThroughTheMasks) {
  auto m = random_made(4, 1, 3, "random");
  m->train();
  auto x = torch::bernoulli(torch::full({4, 1, 4, 4}, 0.5));
  torch::NoGradGuard g;
  for (int64_t step = 0; step < 7; ++step)
    EXPECT_TRUE(torch::allclose(m->log_prob(x), m->log_prob_mask(x, step % 3))) << "step " << step;
  EXPECT_EQ(m->next_mask.item<int64_t>(), 7);
}

TEST(Made, MasksDependOnlyOnTheMaskSeed) {
  auto a = random_made(5, 2, 3, "random");
  auto b = random_made(6, 2, 3, "random");
  EXPECT_TRUE(torch::equal(a->orders, b->orders));
  ASSERT_EQ(a->degrees.size(), 2u);
  for (size_t l = 0; l < a->degrees.size(); ++l)
    EXPECT_TRUE(torch::equal(a->degrees[l], b->degrees[l])) << "layer " << l;
  Made c(MadeOptions().shape({1, 4, 4}).hidden(12).layers(2).masks(3).ordering(MadeOrdering::Random).mask_seed(1));
  EXPECT_FALSE(torch::equal(a->orders, c->orders));
  for (size_t l = 0; l < a->degrees.size(); ++l)
    EXPECT_FALSE(torch::equal(a->degrees[l], c->degrees[l])) << "layer " << l;
}

TEST(Made, CompletionNeverChangesObservedPixels) {
  for (const auto& c : kCases) {
    auto m = random_made(7, c.layers, 4, c.ordering, c.direct);
    testing::expect_completion_keeps_observed(
        [&](const torch::Tensor& x, const torch::Tensor& o) { return m->complete(x, o); });
  }
}

TEST(Made, CompletionIsExactOnlyWhenEveryOrderingPutsTheObservedPixelsFirst) {
  auto top = torch::zeros({1, 1, 4, 4}, torch::kBool);
  top.slice(2, 0, 2).fill_(true);
  EXPECT_TRUE(random_made(8, 1, 4, "natural")->completion_is_exact(top));
  EXPECT_FALSE(random_made(8, 1, 4, "random")->completion_is_exact(top));
}

// With the top half observed and the natural order, the completion must
// choose masks by their posterior p(m | x_top): check it against the exact
// conditional of the mixture on a 2x2 image, top row given.
TEST(Made, CompletionSamplesTheMixturesExactConditional) {
  // Parameters (seed 8, scale 1.5) under which the masks disagree clearly
  // about x_top; checked below, so that the test has power.
  torch::manual_seed(8);
  Made m(MadeOptions().shape({1, 2, 2}).hidden(6).masks(3));
  {
    torch::NoGradGuard g;
    for (auto& p : m->parameters()) p.normal_(0, 1.5);
  }
  m->eval();
  auto top = torch::zeros({1, 1, 2, 2}, torch::kBool);
  top.slice(2, 0, 1).fill_(true);
  auto x = torch::tensor({1.f, 0.f, 0.f, 0.f}).reshape({1, 1, 2, 2}).expand({100000, 1, 2, 2}).contiguous();
  auto y = m->complete(x, top).reshape({-1, 4}).to(torch::kInt64);
  auto codes = y.select(1, 2) + 2 * y.select(1, 3);  // bottom row
  auto freq = torch::bincount(codes, {}, 4).to(torch::kFloat64) / y.size(0);
  torch::NoGradGuard g;
  auto all = testing::all_binary_images(2, 2).reshape({16, 4});
  auto with_top = all.index_select(0, torch::tensor({1, 5, 9, 13}));  // x0=1, x1=0, bottom = 0..3
  auto joint = m->log_prob(with_top.reshape({4, 1, 2, 2})).exp().to(torch::kFloat64);
  auto want = joint / joint.sum();
  EXPECT_LT((freq - want).abs().max().item<double>(), 0.01) << freq << want;
  // The test has power: picking masks uniformly instead of by p(m | x_top)
  // gives a clearly different distribution here.
  auto uniform = torch::zeros({4}, torch::kFloat64);
  for (int64_t k = 0; k < 3; ++k) {
    auto pk = m->log_prob_mask(with_top.reshape({4, 1, 2, 2}), k).exp().to(torch::kFloat64);
    uniform += pk / pk.sum() / 3;
  }
  EXPECT_GT((uniform - want).abs().max().item<double>(), 0.1) << uniform << want;
}

TEST(Made, TheTrainingCycleAndTheMasksSurviveACheckpoint) {
  auto a = random_made(10, 2, 4, "random");
  a->train();
  auto x = torch::bernoulli(torch::full({2, 1, 4, 4}, 0.5));
  for (int i = 0; i < 3; ++i) a->log_prob(x);
  std::ostringstream bytes;
  {
    torch::serialize::OutputArchive out;
    a->save(out);
    out.save_to(bytes);
  }
  Made b(MadeOptions().shape({1, 4, 4}).hidden(12).layers(2).masks(4).ordering(MadeOrdering::Random));
  std::istringstream in_bytes(bytes.str());
  torch::serialize::InputArchive in;
  in.load_from(in_bytes);
  load_module_checked(*b, in);
  EXPECT_EQ(b->next_mask.item<int64_t>(), 3);
  EXPECT_TRUE(torch::equal(a->orders, b->orders));
  b->train();
  torch::NoGradGuard g;
  EXPECT_TRUE(torch::allclose(b->log_prob(x), a->log_prob_mask(x, 3)));  // the fourth mask comes next
}

TEST(Made, DirectConnectionsAloneAreAnFvsbnInTheMasksOrder) {
  // Hidden-to-output weights at zero: the logits are c + (A ⊙ M^A) x, so
  // pixel i's conditional is a logistic regression on the pixels before it.
  auto m = random_made(11, 1, 2, "random", /*direct=*/true);
  torch::NoGradGuard g;
  m->output->weight.zero_();
  auto x = torch::bernoulli(torch::full({5, 1, 4, 4}, 0.5));
  for (int64_t k = 0; k < 2; ++k) {
    auto r = m->orders[k];
    auto earlier = (r.unsqueeze(1) > r.unsqueeze(0)).to(torch::kFloat);  // [D, D]
    auto want = m->output->bias + torch::matmul(x.reshape({5, 16}), (m->direct * earlier).t());
    EXPECT_TRUE(torch::allclose(m->conditional_logits(x, k), want, 1e-5, 1e-5)) << "mask " << k;
  }
}

TEST(Made, RejectsBadOptions) {
  EXPECT_THROW(Made(MadeOptions().layers(3)), c10::Error);
  EXPECT_THROW(Made(MadeOptions().masks(0)), c10::Error);
  // Enumerated options are typed: a bad name fails where the config is read.
  Config c;
  c.set("model.ordering", std::string("reverse"));
  ModelContext ctx;
  ctx.config = &c;
  ctx.data.format = PixelFormat::Binary;
  try {
    create_model(made_model_info(), ctx);
    ADD_FAILURE() << "model.ordering = reverse was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("natural, random"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace genzoo
