#include "genzoo/models/energy/generative_convnet.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "genzoo/core/config.h"
#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"
#include "genzoo/train/objectives/contrastive.h"

namespace genzoo {
namespace {

// A small ReLU f in double precision with non-zero biases, so that alpha
// is not trivially 0.
// With grey units, their weights are random too.
GenerativeConvNet small_net(GcnUnit unit = GcnUnit::Relu, GcnTop top = GcnTop::Sum, int64_t grey_units = 0) {
  torch::manual_seed(5);
  GenerativeConvNet net(GenerativeConvNetOptions()
                            .channels(1)
                            .height(8)
                            .width(8)
                            .layers({{5, 3, 1, 1}, {4, 3, 2, 0}})
                            .unit(unit)
                            .top(top)
                            .sigma(2.0)
                            .init_std(0.3)
                            .grey_units(grey_units));
  net->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : net->named_parameters())
    if (p.key().find("bias") != std::string::npos) p.value().uniform_(-0.5, 0.5);
  if (grey_units > 0) net->grey_weight.uniform_(-0.5, 0.5);
  return net;
}

torch::Tensor random_images(int64_t n, uint64_t seed) {
  return torch::randn({n, 1, 8, 8}, derived_generator(seed, 1), torch::TensorOptions(torch::kFloat64));
}

bool same_pattern(const GcnPiece& a, const GcnPiece& b) {
  for (size_t l = 0; l < a.pattern.size(); ++l)
    if (!torch::equal(a.pattern[l], b.pattern[l])) return false;
  return true;
}

TEST(GenerativeConvNet, ReluScoreIsAffineOnEachActivationPattern) {
  for (GcnTop top : {GcnTop::Sum, GcnTop::Linear}) {
    auto net = small_net(GcnUnit::Relu, top);
    auto image = random_images(3, 1);
    auto piece = net->piece(image);
    // f(I) = alpha + <I, B>, alpha from the biases through the gates.
    EXPECT_LT(piece.residual.abs().max().item<double>(), 1e-10);
    EXPECT_GT(piece.alpha.abs().max().item<double>(), 1e-3);  // the biases matter
    EXPECT_TRUE(torch::allclose(piece.reconstruction, 4.0 * piece.basis));  // sigma^2 B
    // A small step that keeps the pattern changes f by exactly eta <v, B>.
    auto v = random_images(3, 2);
    const double eta = 1e-4;
    auto moved = image + eta * v;
    auto piece2 = net->piece(moved);
    ASSERT_TRUE(same_pattern(piece, piece2)) << "the step crossed a boundary; pick a smaller one";
    torch::NoGradGuard no_grad;
    auto df = net->score(moved) - net->score(image);
    auto want = eta * (v * piece.basis).flatten(1).sum(1);
    EXPECT_TRUE(torch::allclose(df, want, 1e-9, 1e-12)) << df << want;
    // On the piece the energy is the Gaussian ||I - sigma^2 B||^2 / 2 sigma^2 + const.
    auto gaussian = [&](const torch::Tensor& x) {
      return (x - piece.reconstruction).pow(2).flatten(1).sum(1) / 8.0;
    };
    auto de = net->model_energy(moved) - net->model_energy(image);
    EXPECT_TRUE(torch::allclose(de, gaussian(moved) - gaussian(image), 1e-9, 1e-12));
  }
}

TEST(GenerativeConvNet, GreyLevelUnitsKeepFPiecewiseLinearAndAddTheirPart) {
  auto net = small_net(GcnUnit::Relu, GcnTop::Sum, 4);
  // Thresholds 255 (t_k - 0.5) for t = 1/8, 3/8, 5/8, 7/8.
  auto beta = net->grey_thresholds();
  ASSERT_EQ(beta.sizes(), (std::vector<int64_t>{1, 4}));
  EXPECT_NEAR(beta[0][0].item<double>(), 255.0 * (0.125 - 0.5), 1e-9);
  EXPECT_NEAR(beta[0][3].item<double>(), 255.0 * (0.875 - 0.5), 1e-9);
  // Pixels spread over the thresholds, so some grey units are on and some off.
  auto image = 60.0 * random_images(3, 1);
  torch::Tensor plain_f;
  {
    torch::NoGradGuard no_grad;
    plain_f = net->read_out(net->features(image));
    auto grey = torch::zeros({3}, torch::kFloat64);
    for (int64_t n = 0; n < 3; ++n)
      for (int64_t k = 0; k < 4; ++k)
        grey[n] += net->grey_weight[0][k] * torch::relu(image[n] - beta[0][k]).sum();
    EXPECT_TRUE(torch::allclose(net->score(image), plain_f + grey, 1e-12, 1e-9));
    auto on = (image.unsqueeze(2) > beta.view({1, 1, 4, 1, 1}));
    EXPECT_GT(on.sum().item<int64_t>(), 0);
    EXPECT_LT(on.sum().item<int64_t>(), on.numel());
  }
  auto piece = net->piece(image);
  EXPECT_LT(piece.residual.abs().max().item<double>(), 1e-9);  // f = alpha + <I, B> still
  // A step that crosses no threshold and keeps the pattern changes f by eta <v, B>.
  auto v = random_images(3, 2);
  const double eta = 1e-6;
  auto moved = image + eta * v;
  auto piece2 = net->piece(moved);
  ASSERT_TRUE(same_pattern(piece, piece2));
  ASSERT_TRUE(torch::equal(image.unsqueeze(2) > beta.view({1, 1, 4, 1, 1}),
                           moved.unsqueeze(2) > beta.view({1, 1, 4, 1, 1})));
  // f's gradient in w_k, what the contrastive step moves, is the sum of
  // ReLU(I - beta_k) over the pixels.
  auto dw = torch::autograd::grad({net->score(image).sum()}, {net->grey_weight})[0];
  for (int64_t k = 0; k < 4; ++k)
    EXPECT_NEAR(dw[0][k].item<double>(), torch::relu(image - beta[0][k]).sum().item<double>(), 1e-8);
  torch::NoGradGuard no_grad;
  auto df = net->score(moved) - net->score(image);
  EXPECT_TRUE(torch::allclose(df, eta * (v * piece.basis).flatten(1).sum(1), 1e-7, 1e-10));
}

TEST(GenerativeConvNet, SmoothUnitsLeaveAResidualAndLeakyReluNone) {
  // Leaky ReLU is piecewise linear too: the identity holds exactly.
  auto leaky = small_net(GcnUnit::LeakyRelu);
  auto image = random_images(3, 3);
  auto lp = leaky->piece(image);
  EXPECT_LT(lp.residual.abs().max().item<double>(), 1e-10);
  EXPECT_TRUE(torch::allclose(lp.score, leaky->score(image).detach()));
  // Smooth units are not: unit(h) - slope * h != 0 shows as the residual,
  // while B is still the input gradient.
  for (GcnUnit unit : {GcnUnit::Tanh, GcnUnit::Sigmoid, GcnUnit::Swish}) {
    auto net = small_net(unit);
    auto piece = net->piece(image);
    EXPECT_GT(piece.residual.abs().max().item<double>(), 1e-3) << gcn_unit_names().name(unit);
    auto grad = input_gradient([&](const torch::Tensor& x) { return net->score(x); }, image);
    EXPECT_TRUE(torch::allclose(piece.basis, grad, 1e-9, 1e-12)) << gcn_unit_names().name(unit);
  }
}

TEST(GenerativeConvNet, ReferenceEnergiesAreTheirNegativeLogDensities) {
  auto image = random_images(2, 7) * 3.0;
  auto gauss = small_net();  // sigma 2
  EXPECT_TRUE(torch::allclose(gauss->reference_energy(image), image.pow(2).flatten(1).sum(1) / 8.0));
  GenerativeConvNet laplace(GenerativeConvNetOptions()
                                .height(8)
                                .width(8)
                                .layers({{2, 3, 1, 1}})
                                .reference(GcnReference::Laplace)
                                .sigma(2.0));
  laplace->to(torch::kFloat64);
  EXPECT_TRUE(torch::allclose(laplace->reference_energy(image), image.abs().flatten(1).sum(1) / 2.0));
  EXPECT_FALSE(laplace->langevin_options(5).clamp());
  GenerativeConvNet uniform(
      GenerativeConvNetOptions().height(8).width(8).layers({{2, 3, 1, 1}}).reference(GcnReference::Uniform));
  uniform->to(torch::kFloat64);
  uniform->set_mean(torch::full({1, 1, 8, 8}, 0.25, torch::kFloat64));
  EXPECT_EQ(uniform->reference_energy(image).abs().max().item<double>(), 0.0);
  // Its chains stay on q's support, the data range [0, 1].
  auto o = uniform->langevin_options(5);
  EXPECT_TRUE(o.clamp());
  EXPECT_DOUBLE_EQ(o.low(), -255.0 * 0.25);
  EXPECT_DOUBLE_EQ(o.high(), 255.0 * 0.75);
  auto x = uniform->to_data(uniform->synthesise(image * 100.0, 5).x);
  EXPECT_GE(x.min().item<double>(), -1e-12);
  EXPECT_LE(x.max().item<double>(), 1 + 1e-12);
}

TEST(GenerativeConvNet, UnitMaximisationRaisesEachChainsOwnUnit) {
  auto net = small_net();
  {
    torch::NoGradGuard no_grad;
    net->mean.fill_(0.5);
  }
  // Eight chains per unit of layer 2, from the mean image; beside them the
  // same chains (same noise) on the reference q alone.
  auto x0 = torch::full({32, 1, 8, 8}, 0.5, torch::kFloat64);
  auto units = torch::arange(4, torch::kLong).repeat_interleave(8);
  torch::manual_seed(3);
  auto x = net->maximise_units(x0, 1, units, 200);
  ASSERT_EQ(x.sizes(), x0.sizes());
  EXPECT_GE(x.min().item<double>(), 0.0);
  EXPECT_LE(x.max().item<double>(), 1.0);
  torch::manual_seed(3);
  auto plain = net->to_data(
      langevin([&](const torch::Tensor& i) { return net->reference_energy(i); }, net->to_model(x0),
               net->langevin_options(200)).x);
  torch::NoGradGuard no_grad;
  auto tilted = net->layer_responses(net->to_model(x), 1).flatten(2).sum(2);       // [chain, unit]
  auto untilted = net->layer_responses(net->to_model(plain), 1).flatten(2).sum(2);  // [chain, unit]
  for (int64_t u = 0; u < 4; ++u) {
    auto mine = torch::arange(8 * u, 8 * u + 8, torch::kLong);
    const double with = tilted.index_select(0, mine).select(1, u).mean().item<double>();
    const double without = untilted.index_select(0, mine).select(1, u).mean().item<double>();
    EXPECT_GT(with, without + 1.0) << "unit " << u;
  }
  EXPECT_THROW(net->maximise_units(x0, 2, units, 1), Error);
}

TEST(GenerativeConvNet, InputGradientMatchesFiniteDifferences) {
  for (GcnUnit unit : {GcnUnit::Relu, GcnUnit::Swish, GcnUnit::Sigmoid}) {
    auto net = small_net(unit);
    auto image = random_images(2, 4);
    auto grad = input_gradient([&](const torch::Tensor& x) { return net->model_energy(x); }, image);
    torch::NoGradGuard no_grad;
    const double h = 1e-6;
    for (int64_t k : {0, 17, 40, 63}) {
      auto e = torch::zeros({1, 1, 8, 8}, torch::kFloat64);
      e.view(-1)[k] = h;
      auto fd = (net->model_energy(image + e) - net->model_energy(image - e)) / (2 * h);
      EXPECT_TRUE(torch::allclose(fd, grad.flatten(1).select(1, k), 1e-6, 1e-7))
          << gcn_unit_names().name(unit) << " pixel " << k;
    }
  }
}

TEST(GenerativeConvNet, ScalesImagesAroundTheTrainingMean) {
  auto net = small_net();
  auto train = torch::rand({4, 1, 8, 8}, derived_generator(6, 1), torch::TensorOptions(torch::kFloat64));
  net->set_mean(train);
  EXPECT_NEAR(net->mean.item<double>(), train.mean().item<double>(), 1e-12);
  auto image = net->to_model(train);
  EXPECT_NEAR(image.mean().item<double>(), 0.0, 1e-9);
  EXPECT_TRUE(torch::allclose(net->to_data(image), train));
  EXPECT_TRUE(torch::allclose(net->energy(train), net->model_energy(image)));
}

TEST(GenerativeConvNet, LayerSpecsParseAndBadOnesNameTheKey) {
  auto layers = parse_gcn_layers("100x15s3p2,64x5s1p2", "model.layers");
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].filters, 100);
  EXPECT_EQ(layers[0].kernel, 15);
  EXPECT_EQ(layers[0].stride, 3);
  EXPECT_EQ(layers[1].padding, 2);
  EXPECT_EQ(gcn_layers_string(layers), "100x15s3p2,64x5s1p2");
  for (const char* bad : {"", "abc", "10x3", "10x3s1p", "10x3s0p1", "10x3s1p1,", "0x3s1p1", "10x3s1p1;4x3s1p1"}) {
    try {
      parse_gcn_layers(bad, "model.layers");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("model.layers"), std::string::npos) << e.what();
    }
  }
}

// Contrastive divergence with plain SGD of rate 1 on a one-unit f whose ReLU
// is always on (a large bias): f(I) = sum_positions (w I + b), so the step
// changes w by mean_obs sum(I)/P - mean_syn sum(I)/P and b by 0.
TEST(ContrastiveDivergence, StepsAlongTheDifferenceOfTheTwoMeans) {
  Config c;
  c.set("optim.name", std::string("sgd"));
  c.set("optim.lr", 1.0);
  c.set("objective.chains", int64_t{2});
  c.set("objective.langevin_steps", int64_t{3});
  auto net = GenerativeConvNet(
      GenerativeConvNetOptions().channels(1).height(4).width(4).layers({{1, 1, 1, 0}}).sigma(1.0).step_size(0.1).chains(2));
  {
    torch::NoGradGuard no_grad;
    net->convs[0]->as<torch::nn::Conv2d>()->weight.fill_(0.5);
    net->convs[0]->as<torch::nn::Conv2d>()->bias.fill_(1000.0);
  }
  net->set_mean(torch::full({1, 1, 4, 4}, 0.5));
  ContrastiveDivergenceObjective objective(net.ptr(), c);
  auto images = torch::rand({3, 1, 4, 4}, derived_generator(7, 1));
  FixedBatch batch(images);
  auto* conv = net->convs[0]->as<torch::nn::Conv2d>();
  const double w0 = conv->weight.item<double>(), b0 = conv->bias.item<double>();
  auto m = objective.step(batch);
  const auto& synth = objective.synthesised();
  ASSERT_EQ(synth.size(0), 2);
  const double obs_mean = net->to_model(images).mean().item<double>();  // sum(I)/P averaged over images
  const double syn_mean = synth.mean().item<double>();
  EXPECT_NEAR(conv->weight.item<double>() - w0, obs_mean - syn_mean, 1e-3 * (1 + std::abs(obs_mean)));
  EXPECT_NEAR(conv->bias.item<double>() - b0, 0.0, 1e-3);
  double f_gap = 0;
  for (const auto& kv : m)
    if (kv.first == "f_gap") f_gap = kv.second;
  EXPECT_NEAR(f_gap, w0 * (obs_mean - syn_mean), 1e-3 * (1 + std::abs(obs_mean)));
}

// Denoising score matching per pixel with the noise of the evaluation
// seed, J = mean ‖∂f/∂Ĩ − Ĩ/σ² + ε/τ‖² / D, Ĩ = I + τε, against a hand
// computation for a 1 x 1 sigmoid unit, f = Σ s(w Ĩ + b), ∂f/∂Ĩ = w s(1 − s),
// on images near the mean so that the f term is a large part of the score.
TEST(ContrastiveDivergence, HeldOutScoreIsDenoisingScoreMatching) {
  auto images = 0.5 + 0.01 * torch::randn({3, 1, 4, 4}, derived_generator(9, 1));
  for (double w : {0.0, 0.5}) {
    Config c;
    auto net = GenerativeConvNet(GenerativeConvNetOptions()
                                     .channels(1)
                                     .height(4)
                                     .width(4)
                                     .layers({{1, 1, 1, 0}})
                                     .unit(GcnUnit::Sigmoid)
                                     .sigma(2.0));
    net->set_mean(torch::full({1, 1, 4, 4}, 0.5));
    auto* conv = net->convs[0]->as<torch::nn::Conv2d>();
    {
      torch::NoGradGuard no_grad;
      conv->weight.fill_(w);
      conv->bias.fill_(0.2);
    }
    ContrastiveDivergenceObjective objective(net.ptr(), c);
    auto m = objective.evaluate({images}, 8);
    ASSERT_EQ(m.front().first, "score_matching");
    auto image = net->to_model(images).to(torch::kFloat64);  // [3, 1, 4, 4]
    auto eps = torch::randn({3, 1, 4, 4}, derived_generator(kEvaluationSeed, 1)).to(torch::kFloat64);
    const double tau = 2.0;  // objective.score_noise = 0: sigma
    auto noisy = image + tau * eps;
    auto s = torch::sigmoid(w * noisy + 0.2);
    auto score = w * s * (1 - s) - noisy / 4.0;
    const double want = (score + eps / tau).pow(2).mean().item<double>();
    EXPECT_NEAR(m.front().second, want, 1e-5 * (1 + want)) << "w = " << w;
    if (w > 0) {  // the f term matters: leaving it out would miss by far more than the tolerance
      const double without_f = (-noisy / 4.0 + eps / tau).pow(2).mean().item<double>();
      EXPECT_GT(std::abs(without_f - want), 100 * 1e-5 * (1 + want));
    }
  }
}

TEST(ContrastiveDivergence, TheModelKeepsThePersistentChainsAndSamplesContinueThem) {
  Config c;
  c.set("objective.crop", int64_t{4});
  c.set("objective.crops", int64_t{2});
  c.set("objective.langevin_steps", int64_t{2});
  c.set("objective.chains", int64_t{2});
  ModelContext ctx;
  ctx.config = &c;
  ctx.data.height = ctx.data.width = 9;
  ctx.train_data = torch::rand({1, 1, 9, 9}, derived_generator(8, 1));
  c.set("model.layers", std::string("2x3s1p1"));
  c.set("model.sample_steps", int64_t{0});
  auto module = create_model(genconvnet_model_info(), ctx);
  auto net = std::dynamic_pointer_cast<GenerativeConvNetImpl>(module);
  ASSERT_TRUE(net);
  EXPECT_EQ(net->synthesis.sizes(), (std::vector<int64_t>{2, 1, 4, 4}));  // chains at the crop size
  ContrastiveDivergenceObjective objective(module, c);
  FixedBatch batch(ctx.train_data);
  EXPECT_EQ(objective.observed(ctx.train_data).sizes(), (std::vector<int64_t>{2, 1, 4, 4}));
  // Before training, samples start from the mean image: with 0 steps, the mean.
  EXPECT_TRUE(torch::allclose(net->sample(3), net->mean.view({1, 1, 1, 1}).expand({3, 1, 4, 4})));
  objective.step(batch);
  auto after_one = net->synthesis.clone();
  EXPECT_GT(after_one.abs().max().item<double>(), 0.0);  // left the mean image
  objective.step(batch);
  EXPECT_EQ(net->synthesis_steps.item<int64_t>(), 4);
  EXPECT_FALSE(torch::equal(net->synthesis, after_one));
  // Samples continue the kept chains (cycled to n).
  auto want = net->to_data(net->synthesis).clamp(0, 1);
  EXPECT_TRUE(torch::allclose(net->sample(3), torch::cat({want, want.slice(0, 0, 1)})));
  // Another size starts from them tiled: 6 x 9 from 4 x 4 tiles.
  auto tiled = net->sample_size(1, 6, 9);
  ASSERT_EQ(tiled.sizes(), (std::vector<int64_t>{1, 1, 6, 9}));
  EXPECT_TRUE(torch::allclose(tiled.slice(2, 0, 4).slice(3, 0, 4), want.slice(0, 0, 1)));
  EXPECT_TRUE(torch::allclose(tiled.slice(2, 4, 6).slice(3, 4, 8), want.slice(0, 0, 1).slice(2, 0, 2)));
  // A checkpoint holds them.
  std::stringstream bytes;
  torch::save(net->synthesis, bytes);
  torch::Tensor restored;
  torch::load(restored, bytes);
  EXPECT_TRUE(torch::equal(restored, net->synthesis));
  // Chains restarted every step leave the model's synthesis at the mean image.
  c.set("objective.persistent", false);
  auto fresh_module = create_model(genconvnet_model_info(), ctx);
  ContrastiveDivergenceObjective fresh(fresh_module, c);
  fresh.step(batch);
  EXPECT_EQ(std::dynamic_pointer_cast<GenerativeConvNetImpl>(fresh_module)->synthesis.abs().max().item<double>(), 0.0);
}

TEST(ContrastiveDivergence, CoarseStartsAreBlockMeansOfTheStepsImagesOnePerChain) {
  Config c;
  c.set("objective.start", std::string("coarse"));
  c.set("objective.start_side", int64_t{2});
  c.set("objective.persistent", false);
  c.set("objective.chains", int64_t{3});
  c.set("objective.langevin_steps", int64_t{1});
  c.set("model.layers", std::string("2x3s1p1"));
  c.set("model.top", std::string("linear"));
  c.set("model.sample_steps", int64_t{0});
  ModelContext ctx;
  ctx.config = &c;
  ctx.data.height = ctx.data.width = 4;
  ctx.train_data = torch::rand({2, 1, 4, 4}, derived_generator(9, 1));
  auto module = create_model(genconvnet_model_info(), ctx);
  auto net = std::dynamic_pointer_cast<GenerativeConvNetImpl>(module);
  ContrastiveDivergenceObjective objective(module, c);
  // Image 0 = [1 2 0 0; 3 4 0 0; 0 0 8 8; 0 0 8 8] has block means 2.5, 0,
  // 0, 8 on a 2 x 2 grid; image 1 is all 6. Chains 0, 1, 2 take images
  // 0, 1, 0.
  auto images = torch::tensor({1., 2., 0., 0., 3., 4., 0., 0., 0., 0., 8., 8., 0., 0., 8., 8.}).reshape({1, 1, 4, 4});
  images = torch::cat({images, torch::full({1, 1, 4, 4}, 6.0)});
  auto starts = objective.coarse_starts(images);
  ASSERT_EQ(starts.sizes(), (std::vector<int64_t>{3, 1, 4, 4}));
  auto first = torch::tensor({2.5, 2.5, 0., 0., 2.5, 2.5, 0., 0., 0., 0., 8., 8., 0., 0., 8., 8.}).reshape({1, 4, 4});
  EXPECT_TRUE(torch::allclose(starts[0], first)) << starts[0];
  EXPECT_TRUE(torch::allclose(starts[1], torch::full({1, 4, 4}, 6.0)));
  EXPECT_TRUE(torch::allclose(starts[2], first));
  // A step keeps its chains for sample() although they are not persistent.
  FixedBatch batch(ctx.train_data);
  objective.step(batch);
  EXPECT_EQ(net->synthesis_steps.item<int64_t>(), 1);
  EXPECT_FALSE(torch::equal(net->synthesis[0], net->synthesis[1]));  // distinct starts, distinct chains
  // Coarse starts restart every step: persistent chains contradict them.
  c.set("objective.persistent", true);
  try {
    ContrastiveDivergenceObjective bad(module, c);
    ADD_FAILURE() << "coarse starts with persistent chains";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("objective.persistent"), std::string::npos) << e.what();
  }
  c.set("objective.persistent", false);
  c.set("objective.start", std::string("noise"));
  try {
    ContrastiveDivergenceObjective bad(module, c);
    ADD_FAILURE() << "an unknown start";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("objective.start"), std::string::npos) << e.what();
  }
}

TEST(ContrastiveDivergence, LayerByLayerAddsAConvolutionPerStageRestartsTheChainsAndHalvesTheRate) {
  Config c;
  c.set("objective.layer_steps", int64_t{2});
  c.set("objective.langevin_steps", int64_t{1});
  c.set("model.layers", std::string("2x3s1p1,3x3s1p1"));
  c.set("optim.name", std::string("sgd"));
  c.set("optim.lr", 0.1);
  ModelContext ctx;
  ctx.config = &c;
  ctx.data.height = ctx.data.width = 6;
  ctx.train_data = torch::rand({2, 1, 6, 6}, derived_generator(10, 1));
  auto module = create_model(genconvnet_model_info(), ctx);
  auto net = std::dynamic_pointer_cast<GenerativeConvNetImpl>(module);
  ASSERT_TRUE(net->options.staged());
  ContrastiveDivergenceObjective objective(module, c);
  FixedBatch batch(ctx.train_data);
  auto image = torch::randn({1, 1, 6, 6});
  std::vector<int64_t> depths;
  std::vector<double> rates;
  torch::Tensor synthesis_before_stage_2;
  for (int64_t s = 0; s < 4; ++s) {
    objective.begin_epoch(0);
    objective.begin_step(s);
    depths.push_back(net->depth());
    if (s == 2) {
      // The new stage starts its chains at the mean image.
      EXPECT_EQ(net->synthesis.abs().max().item<double>(), 0.0);
      EXPECT_EQ(net->synthesis_steps.item<int64_t>(), 0);
    }
    // f is the sum of the responses of the top convolution read.
    EXPECT_TRUE(torch::allclose(net->score(image), net->layer_responses(image, net->depth() - 1).sum()));
    Metrics m = objective.step(batch);
    double logged = -1;
    for (const auto& kv : m)
      if (kv.first == "depth") logged = kv.second;
    EXPECT_EQ(logged, static_cast<double>(net->depth()));
  }
  EXPECT_EQ(depths, (std::vector<int64_t>{1, 1, 2, 2}));
  // Past the last stage it stays at full depth, at the rate of the last stage.
  objective.begin_step(50);
  EXPECT_EQ(net->depth(), 2);
  // The depth is part of the model (a checkpoint holds it) and bounded.
  EXPECT_EQ(net->named_buffers().find("depth")->item<int64_t>(), 2);
  EXPECT_THROW(net->set_depth(3), Error);
  // An unstaged model has no depth to set, and a linear top cannot be staged.
  Config plain;
  plain.set("model.layers", std::string("2x3s1p1"));
  ctx.config = &plain;
  auto flat = std::dynamic_pointer_cast<GenerativeConvNetImpl>(create_model(genconvnet_model_info(), ctx));
  EXPECT_EQ(flat->depth(), 1);
  EXPECT_THROW(flat->set_depth(1), Error);
  Config linear = c;
  linear.set("model.top", std::string("linear"));
  ctx.config = &linear;
  try {
    create_model(genconvnet_model_info(), ctx);
    ADD_FAILURE() << "a staged linear top";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.top"), std::string::npos) << e.what();
  }
}

TEST(ContrastiveDivergence, TheStageRateIsTheBaseRateTimesTheFactorPerStage) {
  // SGD without momentum at lr 1: a step moves each weight by lr x its
  // gradient, so the ratio of a step's move to the same gradient's gives lr.
  Config c;
  c.set("objective.layer_steps", int64_t{1});
  c.set("objective.stage_lr_factor", 0.25);
  c.set("model.layers", std::string("2x3s1p1,2x3s1p1"));
  c.set("optim.name", std::string("sgd"));
  c.set("optim.lr", 1.0);
  ModelContext ctx;
  ctx.config = &c;
  ctx.data.height = ctx.data.width = 5;
  ctx.train_data = torch::rand({1, 1, 5, 5}, derived_generator(12, 1));
  auto module = create_model(genconvnet_model_info(), ctx);
  ContrastiveDivergenceObjective objective(module, c);
  for (int64_t s : {0, 1}) {
    objective.begin_epoch(0);
    objective.begin_step(s);
    // The gradient the step will take: the same step on a clone of the
    // model at a vanishing rate, from the same random stream.
    auto copy = std::dynamic_pointer_cast<GenerativeConvNetImpl>(module->clone());
    auto w0 = module->parameters()[0].detach().clone();
    torch::Tensor grad;
    {
      RngStateGuard guard;
      FixedBatch b(ctx.train_data);
      Config no_step = c;
      no_step.set("optim.lr", 1e-30);
      ContrastiveDivergenceObjective probe(copy, no_step);
      probe.begin_epoch(0);
      probe.begin_step(s);
      probe.step(b);
      grad = copy->parameters()[0].grad().clone();
    }
    FixedBatch b(ctx.train_data);
    objective.step(b);
    auto moved = w0 - module->parameters()[0].detach();
    const double expected_lr = s == 0 ? 1.0 : 0.25;
    EXPECT_TRUE(torch::allclose(moved, expected_lr * grad, 1e-4, 1e-6)) << "stage " << s;
  }
}

TEST(ContrastiveDivergence, ClipGradMaxBoundsEveryEntryOfEachParametersUpdate) {
  Config c;
  c.set("model.layers", std::string("2x3s1p1"));
  c.set("optim.name", std::string("sgd"));
  c.set("optim.lr", 1.0);
  ModelContext ctx;
  ctx.config = &c;
  ctx.data.height = ctx.data.width = 5;
  ctx.train_data = torch::rand({1, 1, 5, 5}, derived_generator(13, 1)).to(torch::kFloat64);
  for (double clip : {0.0, 1e-6}) {
    Config cc = c;
    cc.set("objective.clip_grad_max", clip);
    ctx.config = &cc;
    torch::manual_seed(3);
    auto module = create_model(genconvnet_model_info(), ctx);
    module->to(torch::kFloat64);  // so that the weights' rounding does not blur a move of 1e-6
    std::vector<torch::Tensor> before;
    for (const auto& p : module->parameters()) before.push_back(p.detach().clone());
    ContrastiveDivergenceObjective objective(module, cc);
    FixedBatch b(ctx.train_data);
    objective.step(b);
    double largest = 0;
    for (size_t i = 0; i < before.size(); ++i)
      largest = std::max(largest, (module->parameters()[i].detach() - before[i]).abs().max().item<double>());
    if (clip > 0)
      EXPECT_LE(largest, clip * (1 + 1e-5));
    else
      EXPECT_GT(largest, 1e-3);  // unclipped, the same step moves far more
  }
}

TEST(ContrastiveDivergence, BadCropsAndLayersNameTheirKeys) {
  Config c;
  c.set("objective.crop", int64_t{12});
  ModelContext ctx;
  ctx.config = &c;
  ctx.data.height = ctx.data.width = 9;
  try {
    create_model(genconvnet_model_info(), ctx);
    ADD_FAILURE() << "a crop of 12 from 9 x 9 images";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("objective.crop"), std::string::npos) << e.what();
  }
  Config e;
  e.set("objective.score_noise", -1.0);
  e.set("model.layers", std::string("2x3s1p1"));
  ctx.config = &e;
  auto model = create_model(genconvnet_model_info(), ctx);
  try {
    ContrastiveDivergenceObjective objective(model, e);
    ADD_FAILURE() << "a negative objective.score_noise";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("objective.score_noise"), std::string::npos) << err.what();
  }
  Config d;
  d.set("model.layers", std::string("4x15s3p2"));
  ctx.config = &d;
  try {
    create_model(genconvnet_model_info(), ctx);
    ADD_FAILURE() << "a 15 x 15 kernel on 9 x 9 images";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.layers"), std::string::npos) << e.what();
  }
  Config g;
  g.set("model.layers", std::string("2x3s1p1"));
  g.set("model.grey_units", int64_t{-1});
  ctx.config = &g;
  try {
    create_model(genconvnet_model_info(), ctx);
    ADD_FAILURE() << "model.grey_units = -1";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.grey_units"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace genzoo
