#include "genzoo/models/energy/generative_convnet.h"

#include <gtest/gtest.h>

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
GenerativeConvNet small_net(GcnUnit unit = GcnUnit::Relu, GcnTop top = GcnTop::Sum) {
  torch::manual_seed(5);
  GenerativeConvNet net(GenerativeConvNetOptions()
                            .channels(1)
                            .height(8)
                            .width(8)
                            .layers({{5, 3, 1, 1}, {4, 3, 2, 0}})
                            .unit(unit)
                            .top(top)
                            .sigma(2.0)
                            .init_std(0.3));
  net->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : net->named_parameters())
    if (p.key().find("bias") != std::string::npos) p.value().uniform_(-0.5, 0.5);
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
}

}  // namespace
}  // namespace genzoo
