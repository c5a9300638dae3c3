#include "genzoo/models/energy/igebm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <tuple>

#include "genzoo/core/config.h"
#include "genzoo/core/error.h"
#include "genzoo/models/spectral_norm.h"
#include "genzoo/train/objectives/contrastive.h"

namespace genzoo {
namespace {

int64_t count_spectral_layers(torch::nn::Module& m) {
  int64_t n = 0;
  for (auto& child : m.modules(/*include_self=*/false))
    if (dynamic_cast<SpectralConv2dImpl*>(child.get()) || dynamic_cast<SpectralLinearImpl*>(child.get())) ++n;
  return n;
}

TEST(Igebm, ThePapersMnistNetHasItsShapesAndNormalisesAllButTheLastLayer) {
  torch::manual_seed(1);
  Igebm net(IgebmOptions().filters(8));
  // 28 -> 28 -> 14 -> 7 -> 4 ("same" padding): fc 4F * 4 * 4 -> 2F -> 1.
  auto* dense = (*net->linears)[0]->as<SpectralLinearImpl>();
  ASSERT_NE(dense, nullptr);
  EXPECT_EQ(dense->options.in_features(), 4 * 8 * 4 * 4);
  EXPECT_EQ(dense->options.out_features(), 16);
  auto* last = (*net->linears)[1]->as<torch::nn::LinearImpl>();
  ASSERT_NE(last, nullptr);  // the last layer is a plain linear layer
  EXPECT_EQ(count_spectral_layers(*net), 5);  // four convolutions and the dense layer
  auto e = net->energy(torch::rand({3, 1, 28, 28}));
  EXPECT_EQ(e.sizes().vec(), std::vector<int64_t>{3});
  Igebm plain(IgebmOptions().filters(8).spectral_norm(false));
  EXPECT_EQ(count_spectral_layers(*plain), 0);
  Igebm res(IgebmOptions().filters(8).arch(IgebmArch::ResNet));
  EXPECT_EQ(count_spectral_layers(*res), 10);  // the first conv, 3 blocks of 3
  EXPECT_EQ(res->energy(torch::rand({2, 1, 28, 28})).sizes().vec(), std::vector<int64_t>{2});
  EXPECT_ANY_THROW(net->energy(torch::rand({2, 1, 27, 28})));
}

TEST(Igebm, ClassEnergiesClassifyByTheirMinimumAndMarginaliseByLogSumExp) {
  torch::manual_seed(2);
  ConditionalIgebm model(IgebmOptions().height(8).width(8).filters(4).classes(3).spectral_norm(false));
  auto& net = *model->net;
  {
    torch::NoGradGuard no_grad;
    for (auto& b : net.biases) b.normal_(0, 1);  // classes apart
  }
  auto x = torch::rand({5, 1, 8, 8});
  auto all = net.all_class_energies(x);  // [5, 3]
  for (int64_t y = 0; y < 3; ++y) {
    auto direct = net.class_energy(x, torch::full({5}, y, torch::kLong));
    EXPECT_TRUE(torch::allclose(all.select(1, y), direct, 1e-5, 1e-5)) << y;
  }
  EXPECT_FALSE(torch::allclose(all.select(1, 0), all.select(1, 1)));
  EXPECT_TRUE(torch::equal(model->class_logits(x).argmax(1), all.argmin(1)));
  EXPECT_TRUE(torch::allclose(model->energy(x), -torch::logsumexp(-all, 1), 1e-5, 1e-5));
  EXPECT_EQ(model->classes(), 3);
  EXPECT_ANY_THROW(net.class_energy(x, {}));  // a conditional energy needs labels
  Igebm unconditional(IgebmOptions().height(8).width(8).filters(4));
  EXPECT_THROW(unconditional->class_logits(x), Error);
  EXPECT_ANY_THROW(unconditional->class_energy(x, torch::zeros({5}, torch::kLong)));
}

TEST(Igebm, TheClassOfLowestEnergyIsTheOnePredictedOnAHandCase) {
  // Every weight 0 but the last convolution's class bias β_y = v_y on all
  // channels, a dense layer and an output that average: then
  // E(x, y) = v_y for every image, and the prediction is argmin_y v_y.
  ConditionalIgebm model(IgebmOptions().height(8).width(8).filters(2).classes(3).spectral_norm(false));
  auto& net = *model->net;
  const std::vector<float> v{0.5f, 0.2f, 0.9f};
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net.parameters()) p.zero_();
    for (auto& g : net.gains) g.fill_(1);
    for (int64_t y = 0; y < 3; ++y) net.biases[3][y].fill_(v[static_cast<size_t>(y)]);
    auto* dense = (*net.linears)[0]->as<torch::nn::LinearImpl>();
    dense->weight.fill_(1.0 / static_cast<double>(dense->weight.size(1)));
    auto* out = (*net.linears)[1]->as<torch::nn::LinearImpl>();
    out->weight.fill_(1.0 / static_cast<double>(out->weight.size(1)));
  }
  auto x = torch::rand({4, 1, 8, 8});
  auto e = net.all_class_energies(x);
  for (int64_t y = 0; y < 3; ++y)
    EXPECT_TRUE(torch::allclose(e.select(1, y), torch::full({4}, v[static_cast<size_t>(y)]), 1e-6, 1e-6)) << y;
  EXPECT_TRUE((model->class_logits(x).argmax(1) == 1).all().item<bool>());
}

TEST(Igebm, SamplesStayInTheDataRangeAndCompletionsKeepObservedPixels) {
  torch::manual_seed(3);
  Igebm net(IgebmOptions().height(8).width(8).filters(4).sample_steps(5));
  auto s = net->sample(6);
  EXPECT_EQ(s.sizes().vec(), (std::vector<int64_t>{6, 1, 8, 8}));
  EXPECT_GE(s.min().item<double>(), 0.0);
  EXPECT_LE(s.max().item<double>(), 1.0);
  auto x = torch::rand({2, 1, 8, 8});
  auto observed = torch::zeros({2, 1, 8, 8}, torch::kBool);
  observed.slice(2, 0, 4).fill_(true);  // the top half
  auto c = net->complete(x, observed);
  EXPECT_TRUE(torch::equal(c.index({observed}), x.index({observed})));
  // A mask of one image's shape applies to every image.
  auto c1 = net->complete(x, observed.slice(0, 0, 1));
  EXPECT_TRUE(torch::equal(c1.index({observed}), x.index({observed})));
}

Config igebm_config(double alpha) {
  Config c;
  c.set("optim.name", std::string("sgd"));
  c.set("optim.lr", 0.01);
  c.set("objective.langevin_steps", int64_t{4});
  c.set("objective.alpha", alpha);
  c.set("objective.reinit", 0.25);
  return c;
}

TEST(EbmContrastive, TheLossIsTheEnergyGapPlusTheL2PenaltyAndChainsFillTheBuffer) {
  torch::manual_seed(4);
  Igebm net(IgebmOptions().height(8).width(8).filters(4).buffer_size(20));
  auto twin = std::dynamic_pointer_cast<IgebmImpl>(net->clone());  // the same weights and buffer
  Config c = igebm_config(0.5);
  EbmContrastiveObjective objective(net.ptr(), c);
  auto pos = torch::rand({6, 1, 8, 8});
  // What the step does, by hand, on the twin with the same random stream.
  torch::manual_seed(11);
  auto part = torch::zeros({6}, torch::kLong);
  auto starts = twin->replay->draw(part, 0.25);
  torch::Tensor neg;
  {
    torch::NoGradGuard no_grad;
    neg = twin->run_chains(starts.x, {}, 4).x;
  }
  auto e_pos = twin->class_energy(pos, {}), e_neg = twin->class_energy(neg, {});
  const double want = (e_pos.mean() - e_neg.mean() + 0.5 * (e_pos.pow(2).mean() + e_neg.pow(2).mean())).item<double>();
  torch::manual_seed(11);
  FixedBatch batch(pos);
  auto m = objective.step(batch);
  auto get = [&](const std::string& k) {
    for (const auto& kv : m)
      if (kv.first == k) return kv.second;
    ADD_FAILURE() << "no metric " << k;
    return 0.0;
  };
  EXPECT_NEAR(get("loss"), want, 1e-5 * (1 + std::abs(want)));
  EXPECT_NEAR(get("e_pos"), e_pos.mean().item<double>(), 1e-5);
  EXPECT_NEAR(get("e_neg"), e_neg.mean().item<double>(), 1e-5);
  EXPECT_EQ(get("fresh"), 1.0);  // the buffer was empty
  EXPECT_GT(get("input_grad"), 0.0);
  // The chains' ends went into the buffer.
  EXPECT_EQ(net->replay->size(), 6);
  EXPECT_TRUE(torch::allclose(net->replay->contents(0), neg, 0, 0.5 / 255 + 1e-6));
  // The step changed the weights, and the twin's stayed.
  EXPECT_FALSE(torch::equal((*net->linears)[1]->as<torch::nn::LinearImpl>()->weight,
                            (*twin->linears)[1]->as<torch::nn::LinearImpl>()->weight));
}

TEST(EbmContrastive, StepsLowerTheDataEnergyBelowTheSamples) {
  // Data: images of one bright square; the energy learns to put them below
  // the chains, which start from noise and the buffer.
  torch::manual_seed(5);
  Igebm net(IgebmOptions().height(8).width(8).filters(8).buffer_size(64).step_size(1.0));
  Config c = igebm_config(0.1);
  c.set("optim.name", std::string("adam"));
  c.set("optim.lr", 1e-3);
  EbmContrastiveObjective objective(net.ptr(), c);
  auto pos = torch::zeros({16, 1, 8, 8});
  pos.slice(2, 2, 6).slice(3, 2, 6).fill_(1.0);
  FixedBatch batch(pos);
  double gap = 0;
  for (int i = 0; i < 30; ++i)
    for (const auto& kv : objective.step(batch))
      if (kv.first == "e_gap") gap = kv.second;
  EXPECT_LT(gap, 0.0);
  auto noise = torch::rand({16, 1, 8, 8});
  EXPECT_LT(net->energy(pos).mean().item<double>(), net->energy(noise).mean().item<double>());
  EXPECT_GT(net->replay->size(), 16);
}

TEST(EbmContrastive, TheLabelTermIsTheCrossEntropyOverTheBatchsClassesAndLeavesOtherClassesAlone) {
  torch::manual_seed(6);
  Igebm net(IgebmOptions().height(8).width(8).filters(4).classes(6));
  auto x = torch::rand({4, 1, 8, 8});
  auto labels = torch::tensor({5, 2, 5, 2}, torch::kLong);
  auto ce = present_class_cross_entropy(*net, x, labels);
  // By hand: every class's energy, the absent ones (0, 1, 3, 4) left out of
  // the log-sum-exp.
  torch::Tensor want;
  {
    torch::NoGradGuard no_grad;
    auto e = net->all_class_energies(x).to(torch::kFloat64);  // [4, 6]
    double total = 0;
    for (int64_t n = 0; n < 4; ++n) {
      const int64_t y = labels[n].item<int64_t>();
      const double lse = std::log(std::exp(-e[n][2].item<double>()) + std::exp(-e[n][5].item<double>()));
      total += e[n][y].item<double>() + lse;
    }
    want = torch::tensor(total / 4);
  }
  EXPECT_NEAR(ce.item<double>(), want.item<double>(), 1e-5);
  ce.backward();
  for (size_t layer = 0; layer < net->gains.size(); ++layer) {
    auto g = net->gains[layer].grad(), b = net->biases[layer].grad();
    ASSERT_TRUE(g.defined() && b.defined());
    for (int64_t c : {0, 1, 3, 4}) {
      EXPECT_EQ(g[c].abs().max().item<double>(), 0.0) << "layer " << layer << " class " << c;
      EXPECT_EQ(b[c].abs().max().item<double>(), 0.0) << "layer " << layer << " class " << c;
    }
    EXPECT_GT(g[2].abs().max().item<double>() + g[5].abs().max().item<double>(), 0.0) << "layer " << layer;
  }
}

TEST(EbmContrastive, WithTheLabelTermTheLossIsTheGenerativeLossPlusLambdaTimesIt) {
  torch::manual_seed(9);
  Igebm net(IgebmOptions().height(8).width(8).filters(4).classes(3).buffer_size(30));
  auto twin = std::dynamic_pointer_cast<IgebmImpl>(net->clone());
  Config c = igebm_config(0.5);
  c.set("objective.label_contrast", 0.7);
  EbmContrastiveObjective objective(net.ptr(), c);
  auto pos = torch::rand({4, 1, 8, 8});
  auto labels = torch::tensor({0, 2, 0, 2}, torch::kLong);
  torch::manual_seed(12);
  auto starts = twin->replay->draw(labels, 0.25);
  torch::Tensor neg;
  {
    torch::NoGradGuard no_grad;
    neg = twin->run_chains(starts.x, labels, 4).x;
  }
  auto e_pos = twin->class_energy(pos, labels), e_neg = twin->class_energy(neg, labels);
  const double ce = present_class_cross_entropy(*twin, pos, labels).item<double>();
  const double want =
      (e_pos.mean() - e_neg.mean() + 0.5 * (e_pos.pow(2).mean() + e_neg.pow(2).mean())).item<double>() + 0.7 * ce;
  torch::manual_seed(12);
  FixedBatch batch(pos, labels);
  std::map<std::string, double> got;
  for (const auto& kv : objective.step(batch)) got[kv.first] = kv.second;
  EXPECT_NEAR(got.at("label_ce"), ce, 1e-5 * (1 + ce));
  EXPECT_NEAR(got.at("loss"), want, 1e-5 * (1 + std::abs(want)));
}

TEST(EbmContrastive, WithTheLabelTermStepsLearnToTellTheBatchsClassesApart) {
  // Two classes of images: a bright left half or a bright right half. With
  // the label term, argmin_y E(x, y) over the two classes comes to name
  // each image's class; the step reports the term as label_ce.
  torch::manual_seed(7);
  Igebm net(IgebmOptions().height(8).width(8).filters(8).classes(4).buffer_size(64).step_size(1.0));
  Config c = igebm_config(0.1);
  c.set("optim.name", std::string("adam"));
  c.set("optim.lr", 1e-3);
  c.set("objective.label_contrast", 1.0);
  EbmContrastiveObjective objective(net.ptr(), c);
  auto pos = torch::zeros({16, 1, 8, 8});
  pos.slice(0, 0, 8).slice(3, 0, 4).fill_(1.0);
  pos.slice(0, 8, 16).slice(3, 4, 8).fill_(1.0);
  auto labels = torch::cat({torch::full({8}, 1, torch::kLong), torch::full({8}, 3, torch::kLong)});
  FixedBatch batch(pos, labels);
  double first = -1, last = -1;
  for (int i = 0; i < 100; ++i)
    for (const auto& kv : objective.step(batch))
      if (kv.first == "label_ce") (first < 0 ? first : last) = kv.second;
  ASSERT_GT(first, 0.0);
  EXPECT_LT(last, 0.5 * first);
  torch::NoGradGuard no_grad;
  auto e = net->all_class_energies(pos);  // [16, 4]
  auto pick = torch::where(e.select(1, 1) < e.select(1, 3), torch::full({16}, 1, torch::kLong),
                           torch::full({16}, 3, torch::kLong));
  EXPECT_TRUE(torch::equal(pick, labels)) << pick;
}

TEST(EbmContrastive, RehearsalBringsStoredClassesAbsentFromTheBatchIntoTheLabelTerm) {
  // Class 0 has stored samples; the batch holds class 2 only. Without
  // rehearsal the label term over {2} alone is 0 and class 0's gains stay;
  // with it, stored class-0 samples join the term and its gains move.
  auto run = [](double rehearse) {
    torch::manual_seed(8);
    Igebm net(IgebmOptions().height(8).width(8).filters(4).classes(3).buffer_size(30));
    net->replay->push(torch::rand({5, 1, 8, 8}), torch::zeros({5}, torch::kLong));
    Config c = igebm_config(0.1);
    c.set("objective.label_contrast", 1.0);
    if (rehearse > 0) c.set("objective.rehearse", rehearse);
    EbmContrastiveObjective objective(net.ptr(), c);
    auto before = net->gains[0][0].clone();
    FixedBatch batch(torch::rand({4, 1, 8, 8}), torch::full({4}, 2, torch::kLong));
    auto m = objective.step(batch);
    std::map<std::string, double> got(m.begin(), m.end());
    return std::make_tuple(got, torch::equal(before, net->gains[0][0]), net->replay->size(0));
  };
  auto [plain, plain_kept, plain_stored] = run(0.0);
  EXPECT_NEAR(plain.at("label_ce"), 0.0, 1e-7);  // one class: log-softmax of a single logit
  EXPECT_EQ(plain.count("rehearsed"), 0u);
  EXPECT_TRUE(plain_kept);
  auto [rehearsed, kept, stored] = run(0.5);
  EXPECT_EQ(rehearsed.at("rehearsed"), 2.0);  // round(0.5 x 4) rows of class 0
  EXPECT_GT(rehearsed.at("label_ce"), 0.0);
  EXPECT_FALSE(kept);
  EXPECT_EQ(stored, 5);  // rehearsed rows are not written back
  EXPECT_EQ(plain_stored, 5);
}

TEST(EbmContrastive, BadKeysAreOneLineErrorsNamingTheKey) {
  Igebm net(IgebmOptions().height(8).width(8).filters(4));
  {
    Config fine;
    EXPECT_NO_THROW(EbmContrastiveObjective(net.ptr(), fine));
  }
  for (auto [key, value] : std::vector<std::pair<std::string, ConfigValue>>{{"objective.reinit", 1.5},
                                                                          {"objective.alpha", -1.0},
                                                                          {"objective.score_noise", 0.0},
                                                                          {"objective.langevin_steps", int64_t{0}},
                                                                          {"objective.label_contrast", -1.0},
                                                                          {"objective.rehearse", 1.5}}) {
    Config c;
    c.set(key, value);
    try {
      EbmContrastiveObjective objective(net.ptr(), c);
      ADD_FAILURE() << key << " accepted";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(key), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
  // The label term needs classes.
  Config unconditional;
  unconditional.set("objective.label_contrast", 1.0);
  try {
    EbmContrastiveObjective objective(net.ptr(), unconditional);
    ADD_FAILURE() << "label_contrast accepted on an unconditional energy";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cigebm"), std::string::npos) << e.what();
  }
  // Rehearsal feeds the label term: without it, one line naming both keys.
  Igebm conditional(IgebmOptions().height(8).width(8).filters(4).classes(3));
  Config alone;
  alone.set("objective.rehearse", 0.5);
  try {
    EbmContrastiveObjective objective(conditional.ptr(), alone);
    ADD_FAILURE() << "rehearse accepted without label_contrast";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("objective.label_contrast"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace genzoo
