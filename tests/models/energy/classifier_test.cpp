#include "genzoo/models/energy/classifier.h"

#include <gtest/gtest.h>

#include "genzoo/core/config.h"
#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"
#include "genzoo/sampling/energy.h"
#include "genzoo/train/objectives/classification.h"

namespace genzoo {
namespace {

ConvClassifier small_classifier(int64_t chains = 6) {
  torch::manual_seed(8);
  ConvClassifier net(ConvClassifierOptions()
                         .height(6)
                         .width(6)
                         .classes(3)
                         .layers({{4, 3, 1, 1}})
                         .hidden(5)
                         .sigma(4.0)
                         .step_size(0.8)
                         .chains(chains));
  net->to(torch::kFloat64);
  return net;
}

TEST(ConvClassifier, ClassSamplesRaiseTheirOwnScore) {
  auto net = small_classifier();
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.mul_(20.0);  // scores strong enough to tilt q visibly
    net->mean.fill_(0.5);
  }
  auto labels = torch::arange(3, torch::kLong).repeat_interleave(8);  // 8 chains per class
  auto start = torch::zeros({24, 1, 6, 6}, torch::kFloat64);
  torch::manual_seed(2);
  auto tilted = net->synthesise(start, labels, 200).x;
  torch::manual_seed(2);
  auto plain = langevin([&](const torch::Tensor& i) { return i.pow(2).flatten(1).sum(1) / 32.0; }, start,
                        net->langevin_options(200))
                   .x;  // the same noise on q = N(0, 4^2) alone
  torch::NoGradGuard no_grad;
  auto with = net->class_score(tilted, labels), without = net->class_score(plain, labels);
  for (int64_t c = 0; c < 3; ++c) {
    auto mine = (labels == c).nonzero().flatten();
    EXPECT_GT(with.index_select(0, mine).mean().item<double>(), without.index_select(0, mine).mean().item<double>() + 1.0)
        << "class " << c;
  }
  // sample_given returns images in [0, 1], and refuses labels out of range.
  auto x = net->sample_given(torch::tensor({0, 2}, torch::kLong));
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{2, 1, 6, 6}));
  EXPECT_GE(x.min().item<double>(), 0.0);
  EXPECT_LE(x.max().item<double>(), 1.0);
  EXPECT_THROW(net->sample_given(torch::tensor({3}, torch::kLong)), Error);
}

TEST(ConvClassifier, EnergyIsTheMarginalsAndLogitsReadTheDataScale) {
  auto net = small_classifier();
  auto x = torch::rand({3, 1, 6, 6}, derived_generator(4, 1), torch::TensorOptions(torch::kFloat64));
  auto image = net->to_model(x);
  auto want = image.pow(2).flatten(1).sum(1) / 32.0 - torch::logsumexp(net->scores(image), 1);
  EXPECT_TRUE(torch::allclose(net->energy(x), want));
  EXPECT_TRUE(torch::allclose(net->class_logits(x), net->scores(image)));
  auto labels = torch::tensor({2, 0, 1}, torch::kLong);
  EXPECT_TRUE(torch::allclose(net->class_energy(image, labels),
                              image.pow(2).flatten(1).sum(1) / 32.0 - net->scores(image).gather(1, labels.view({-1, 1})).squeeze(1)));
}

// One generative step of plain SGD with rate eta moves the parameters by
// eta (mean over the batch of d f_y(x)/dw - mean over the chains of
// d f_c(x~)/dw), x~ the chains after this step's Langevin steps.
TEST(ClassificationObjective, GenerativeStepIsTheDifferenceOfTheTwoMeans) {
  Config c;
  c.set("optim.name", std::string("sgd"));
  c.set("optim.lr", 0.01);
  c.set("objective.generative", true);
  c.set("objective.langevin_steps", int64_t{3});
  auto net = small_classifier(4);
  auto before = net->clone();
  auto copy = std::dynamic_pointer_cast<ConvClassifierImpl>(before);
  ClassificationObjective objective(net.ptr(), c);
  auto x = torch::rand({5, 1, 6, 6}, derived_generator(5, 1), torch::TensorOptions(torch::kFloat64));
  auto y = torch::tensor({0, 1, 2, 0, 1}, torch::kLong);
  FixedBatch batch(x, y);
  objective.step(batch);
  // The expected update, from the parameters before the step and the chains after it.
  // The batch's class shares are 2/5, 2/5, 1/5; class 0 has two chains (0
  // and 3), classes 1 and 2 one each.
  auto weight = torch::tensor({0.2, 0.4, 0.2, 0.2}, torch::kFloat64);
  auto obj = copy->class_score(copy->to_model(x), y).mean() -
             (weight * copy->class_score(net->synthesis, net->synthesis_labels)).sum();
  auto params = copy->parameters();
  auto grads = torch::autograd::grad({obj}, params);
  auto after = net->parameters();
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_TRUE(torch::allclose(after[i], params[i] + 0.01 * grads[i], 1e-9, 1e-12)) << "parameter " << i;
  // The chains moved, and each keeps its class n mod K.
  EXPECT_FALSE(torch::equal(net->synthesis, copy->synthesis));
  EXPECT_TRUE(torch::equal(net->synthesis_labels, torch::tensor({0, 1, 2, 0}, torch::kLong)));
}

TEST(ClassificationObjective, BadKeysNameThemselves) {
  auto net = small_classifier();
  Config bad;
  bad.set("objective.ce_weight", 1.0);  // without objective.generative
  try {
    ClassificationObjective o(net.ptr(), bad);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("objective.generative"), std::string::npos) << e.what();
  }
  Config steps;
  steps.set("objective.langevin_steps", int64_t{0});
  EXPECT_THROW(ClassificationObjective(net.ptr(), steps), Error);
  auto two = small_classifier(2);  // 2 chains, 3 classes
  Config generative;
  generative.set("objective.generative", true);
  try {
    ClassificationObjective o(two.ptr(), generative);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("objective.chains"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace genzoo
