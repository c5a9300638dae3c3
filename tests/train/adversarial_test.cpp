#include "genzoo/train/objectives/adversarial.h"
#include "genzoo/train/objectives/semi_supervised.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/train/registry.h"

namespace genzoo {
namespace {

// A small GAN on 2-D points built through the registry.
ModulePtr points_gan(Config& c, int64_t classes = 0) {
  ModelContext ctx;
  ctx.config = &c;
  ctx.data.format = PixelFormat::Points;
  ctx.data.classes = classes;
  return create_model(find_model(classes > 0 ? "cgan" : "gan").model, ctx);
}

// The value of one metric of a step; a failure when the step has none.
double metric(const Metrics& m, const std::string& name) {
  for (const auto& kv : m)
    if (kv.first == name) return kv.second;
  ADD_FAILURE() << "no " << name;
  return std::nan("");
}

Config small_config() {
  Config c;
  c.set("model.g_hidden", int64_t{16});
  c.set("model.d_hidden", int64_t{16});
  c.set("model.d_unit", std::string("relu"));
  c.set("model.d_input_dropout", 0.0);
  c.set("model.d_dropout", 0.0);
  c.set("model.noise_dims", int64_t{4});
  return c;
}

TEST(AdversarialLosses, MatchHandComputedValues) {
  // D's logits 0 and 2 on data (D(x) = 0.5, 0.8807971), -1 and 3 on fakes
  // (D(G(z)) = 0.2689414, 0.9525741).
  auto real = torch::tensor({0.0, 2.0}, torch::kFloat64), fake = torch::tensor({-1.0, 3.0}, torch::kFloat64);
  // -(mean log D(x) + mean log(1 - D(G(z))))
  //   = (0.6931472 + 0.1269280) / 2 + (0.3132617 + 3.0485874) / 2
  EXPECT_NEAR(discriminator_loss(real, fake).item<double>(), 0.4100376 + 1.6809245, 1e-6);
  // minimax: mean log(1 - D(G(z))) = -(0.3132617 + 3.0485874) / 2
  EXPECT_NEAR(generator_loss(GanLoss::Minimax, fake).item<double>(), -1.6809245, 1e-6);
  // non-saturating: mean -log D(G(z)) = (1.3132617 + 0.0485874) / 2
  EXPECT_NEAR(generator_loss(GanLoss::NonSaturating, fake).item<double>(), 0.6809245, 1e-6);
  // the critic's generator loss: -mean l(G(z))
  EXPECT_NEAR(generator_loss(GanLoss::WganGp, fake).item<double>(), -1.0, 1e-12);
  // At D = 1/2 everywhere (logits 0) D's loss is log 4: the game's value
  // -log 4 at the optimum, with the sign of a loss.
  auto zero = torch::zeros({3}, torch::kFloat64);
  EXPECT_NEAR(discriminator_loss(zero, zero).item<double>(), std::log(4.0), 1e-12);
}

TEST(EnergyDistance, MatchesTheFormulaAndSeparatesDistributions) {
  // x = {0, 2}, y = {1, 3}: between-set mean |x - y| = (1 + 3 + 1 + 1) / 4 = 1.5,
  // within-set means over distinct pairs 2 and 2: 2 * 1.5 - 2 - 2 = -1 (the
  // unbiased estimate can fall below 0 on tiny sets).
  auto x = torch::tensor({0.0, 2.0}).reshape({2, 1}), y = torch::tensor({1.0, 3.0}).reshape({2, 1});
  EXPECT_NEAR(energy_distance(x, y), -1.0, 1e-12);
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(3);
  auto a = torch::randn({2000, 2}, gen), b = torch::randn({2000, 2}, gen), shifted = torch::randn({2000, 2}, gen) + 1;
  EXPECT_LT(std::abs(energy_distance(a, b)), 0.01);
  // For N(0, I) against N((1, 1), I) the population value is about 0.48.
  EXPECT_GT(energy_distance(a, shifted), 0.3);
  EXPECT_THROW(energy_distance(a.slice(0, 0, 1), b), c10::Error);
}

// Hands out a new batch on every next() and counts them.
class CountingBatches : public BatchSource {
 public:
  torch::Tensor next() override {
    ++taken;
    return torch::randn({32, 2}) + static_cast<double>(taken);
  }
  int64_t taken = 0;
};

TEST(AdversarialObjective, TakesKDiscriminatorStepsOnFreshBatchesPerGeneratorStep) {
  for (int64_t k : {1, 3}) {
    Config c = small_config();
    c.set("objective.k", k);
    torch::manual_seed(1);
    auto model = points_gan(c);
    AdversarialObjective objective(model, c);
    auto gan = std::dynamic_pointer_cast<GanImpl>(model);
    auto g_before = gan->generator->parameters()[0].clone();
    auto d_before = gan->discriminator->parameters()[0].clone();
    CountingBatches batches;
    Metrics m = objective.step(batches);
    EXPECT_EQ(batches.taken, k) << "k = " << k;
    EXPECT_FALSE(torch::equal(g_before, gan->generator->parameters()[0]));
    EXPECT_FALSE(torch::equal(d_before, gan->discriminator->parameters()[0]));
    // D's weights take gradients again after G's update froze them.
    for (const auto& p : gan->discriminator->parameters()) EXPECT_TRUE(p.requires_grad());
    for (const char* name : {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"})
      EXPECT_TRUE(std::any_of(m.begin(), m.end(), [&](const auto& kv) { return kv.first == name; })) << name;
  }
}

// A two-player model that records what Algorithm 1 does with it: every
// noise draw, and for every call of D its input, its labels and the value
// of both players' weights at that moment. G(z) = W_g z, D(x) = w_d . x.
struct SpyGan : torch::nn::Module, Sampler, Adversarial {
  SpyGan() {
    g = register_module("g", torch::nn::Linear(torch::nn::LinearOptions(2, 2).bias(false)));
    d = register_module("d", torch::nn::Linear(torch::nn::LinearOptions(2, 1).bias(false)));
  }
  torch::Tensor noise(int64_t n) override {
    noises.push_back(torch::randn({n, 2}));
    return noises.back();
  }
  torch::Tensor generate(const torch::Tensor& z, const torch::Tensor&) override { return g(z); }
  torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor&) override {
    d_inputs.push_back(x.detach().clone());
    d_weights.push_back(d->weight.detach().clone());
    g_weights.push_back(g->weight.detach().clone());
    return d(x);
  }
  int64_t pack() const override { return 1; }
  bool needs_labels() const override { return false; }
  torch::Tensor draw_labels(int64_t) override { return {}; }
  torch::nn::Module& generator_module() override { return *g; }
  torch::nn::Module& discriminator_module() override { return *d; }
  torch::Tensor sample(int64_t n) override { return g(torch::randn({n, 2})); }

  torch::nn::Linear g{nullptr}, d{nullptr};
  std::vector<torch::Tensor> noises, d_inputs, d_weights, g_weights;
};

TEST(AdversarialObjective, AlgorithmOneUpdatesDOnEachOfKFreshMinibatchesThenGOnce) {
  const int64_t k = 3;
  Config c;
  c.set("objective.k", k);
  c.set("objective.health_every", int64_t{1000});  // no diversity check: only the game's own calls
  torch::manual_seed(6);
  auto spy = std::make_shared<SpyGan>();
  AdversarialObjective objective(spy, c);
  CountingBatches batches;  // batch i is N((i, i), I): each identifies itself
  objective.begin_step(0);
  objective.step(batches);
  ASSERT_EQ(batches.taken, k);
  // k D steps call D twice each (data, then fakes); G's step once.
  ASSERT_EQ(spy->d_inputs.size(), static_cast<size_t>(2 * k + 1));
  // Fresh noise for every D step and for G's step: k + 1 draws, all different.
  ASSERT_EQ(spy->noises.size(), static_cast<size_t>(k + 1));
  for (size_t a = 0; a < spy->noises.size(); ++a)
    for (size_t b = a + 1; b < spy->noises.size(); ++b) EXPECT_FALSE(torch::equal(spy->noises[a], spy->noises[b]));
  for (int64_t i = 0; i < k; ++i) {
    // D step i sees the i-th minibatch (mean about i + 1) and fakes of the i-th draw.
    const auto& data = spy->d_inputs[2 * i];
    EXPECT_NEAR(data.mean().item<double>(), static_cast<double>(i + 1), 0.5) << "D step " << i;
    EXPECT_TRUE(torch::allclose(spy->d_inputs[2 * i + 1], torch::mm(spy->noises[i], spy->g_weights[2 * i].t())))
        << "D step " << i << " judges G of its own noise draw";
    // D was updated between consecutive D steps, G was not.
    if (i > 0) {
      EXPECT_FALSE(torch::equal(spy->d_weights[2 * i], spy->d_weights[2 * i - 1])) << "no D update before step " << i;
      EXPECT_TRUE(torch::equal(spy->g_weights[2 * i], spy->g_weights[0])) << "G moved during the D steps";
    }
  }
  // G's step judges fakes of the last draw by the D of after the k-th update,
  // and G moves only then.
  const auto& last_d = spy->d_weights.back();
  EXPECT_FALSE(torch::equal(last_d, spy->d_weights[2 * k - 1]));
  EXPECT_TRUE(torch::equal(last_d, spy->d->weight.detach()));
  EXPECT_TRUE(torch::allclose(spy->d_inputs.back(), torch::mm(spy->noises.back(), spy->g_weights[0].t())));
  EXPECT_FALSE(torch::equal(spy->g->weight.detach(), spy->g_weights[0]));
}

TEST(AdversarialObjective, AGeneratorStepMovesOnlyTheGeneratorAndTheDStepOnlyTheDiscriminator) {
  // With D's learning rate 0 nothing but G may change, and the other way round.
  for (bool freeze_d : {true, false}) {
    Config c = small_config();
    c.set(freeze_d ? "optim_d.name" : "optim_g.name", std::string("sgd"));
    c.set(freeze_d ? "optim_d.lr" : "optim_g.lr", 1e-30);
    torch::manual_seed(2);
    auto model = points_gan(c);
    AdversarialObjective objective(model, c);
    auto gan = std::dynamic_pointer_cast<GanImpl>(model);
    auto frozen = freeze_d ? gan->discriminator->parameters() : gan->generator->parameters();
    std::vector<torch::Tensor> before;
    for (const auto& p : frozen) before.push_back(p.clone());
    CountingBatches batches;
    objective.step(batches);
    for (size_t i = 0; i < frozen.size(); ++i) EXPECT_TRUE(torch::allclose(before[i], frozen[i], 0, 1e-20));
  }
}

TEST(AdversarialObjective, TheTrainedDiscriminatorApproachesTheOptimalOne) {
  // G frozen at N((-1, 0), I), data from N((1, 0), I):
  // D*(x) = p_data / (p_data + p_g) = sigmoid(log p_data(x) - log p_g(x)) = sigmoid(2 x_1).
  Config c = small_config();
  c.set("model.g_layers", int64_t{0});  // G(z) = W z + b
  c.set("model.noise_dims", int64_t{2});
  c.set("model.noise", std::string("gaussian"));
  c.set("model.d_hidden", int64_t{32});
  torch::manual_seed(3);
  auto model = points_gan(c);
  auto gan = std::dynamic_pointer_cast<GanImpl>(model);
  {
    torch::NoGradGuard g;
    auto* linear = gan->generator->net->ptr(0)->as<torch::nn::Linear>();
    linear->weight.copy_(torch::eye(2));
    linear->bias.copy_(torch::tensor({-1.0f, 0.0f}));
  }
  torch::optim::Adam opt(gan->discriminator->parameters(), torch::optim::AdamOptions(3e-3));
  auto data_mean = torch::tensor({1.0f, 0.0f});
  for (int step = 0; step < 3000; ++step) {
    torch::Tensor fake;
    {
      torch::NoGradGuard g;
      fake = gan->generate(gan->noise(512), {});
    }
    auto real = torch::randn({512, 2}) + data_mean;
    opt.zero_grad();
    auto loss = discriminator_loss(gan->discriminate(real, {}).squeeze(1), gan->discriminate(fake, {}).squeeze(1));
    loss.backward();
    opt.step();
  }
  torch::NoGradGuard g;
  auto x1 = torch::linspace(-1.5, 1.5, 13);
  auto grid = torch::stack({x1, torch::zeros_like(x1)}, 1);  // [13, 2]
  auto d = torch::sigmoid(gan->discriminate(grid, {}).squeeze(1));
  auto optimal = torch::sigmoid(2 * x1);
  EXPECT_LT((d - optimal).abs().max().item<double>(), 0.06) << d << optimal;
  // The value of the game at this D estimates -log 4 + 2 JSD(p_data || p_g) > -log 4.
}

TEST(AdversarialObjective, SchedulesFollowThe2014Recipe) {
  Config c = small_config();
  c.set("optim_g.name", std::string("sgd"));
  c.set("optim_d.name", std::string("sgd"));
  c.set("optim_g.momentum", 0.5);
  c.set("optim_d.momentum", 0.5);
  c.set("objective.lr_decay", 1.000004);
  c.set("objective.lr_floor", 1e-6);
  c.set("objective.momentum_final", 0.7);
  c.set("objective.momentum_epochs", int64_t{250});
  auto model = points_gan(c);
  AdversarialObjective objective(model, c);
  auto lr = [&](bool g) { return objective.optimizer(g).param_groups()[0].options().get_lr(); };
  auto momentum = [&](bool g) {
    return static_cast<const torch::optim::SGDOptions&>(objective.optimizer(g).param_groups()[0].options()).momentum();
  };
  objective.begin_epoch(125);
  objective.begin_step(100000);
  for (bool g : {true, false}) {
    EXPECT_NEAR(lr(g), 0.1 / std::pow(1.000004, 100000), 1e-12);
    EXPECT_NEAR(momentum(g), 0.6, 1e-12);  // halfway from 0.5 to 0.7
  }
  objective.begin_epoch(400);
  objective.begin_step(100000000);
  for (bool g : {true, false}) {
    EXPECT_DOUBLE_EQ(lr(g), 1e-6);  // the floor
    EXPECT_NEAR(momentum(g), 0.7, 1e-12);
  }
  Config adam = small_config();
  adam.set("objective.momentum_final", 0.7);
  EXPECT_THROW(AdversarialObjective(points_gan(adam), adam), Error);
}

TEST(AdversarialObjective, WarnsWhenTheDiscriminatorWinsAndWhenDiversityFalls) {
  Config c = small_config();
  c.set("objective.d_wins_loss", 100.0);  // every step counts as a win
  c.set("objective.d_wins_steps", int64_t{3});
  torch::manual_seed(4);
  auto model = points_gan(c);
  AdversarialObjective objective(model, c);
  CountingBatches batches;
  std::vector<std::string> warnings;
  for (int s = 0; s < 5; ++s) {
    objective.begin_step(s);
    objective.step(batches);
    for (auto& w : objective.take_warnings()) warnings.push_back(w);
  }
  ASSERT_EQ(warnings.size(), 1u);  // once per stretch, at its third step
  EXPECT_NE(warnings[0].find("wins outright"), std::string::npos) << warnings[0];
  EXPECT_TRUE(objective.take_warnings().empty());

  // A generator that maps all noise to one point has no spread left.
  Config cc = small_config();
  cc.set("objective.health_every", int64_t{1});
  torch::manual_seed(5);
  auto collapsing = points_gan(cc);
  AdversarialObjective watched(collapsing, cc);
  watched.begin_step(0);
  Metrics first = watched.step(batches);
  auto gan = std::dynamic_pointer_cast<GanImpl>(collapsing);
  {
    torch::NoGradGuard g;
    for (auto& p : gan->generator->parameters()) p.zero_();
  }
  Metrics m;
  std::vector<std::string> seen;
  for (int s = 1; s < 3; ++s) {
    watched.begin_step(s);
    m = watched.step(batches);
    for (auto& w : watched.take_warnings()) seen.push_back(w);
  }
  auto diversity = [](const Metrics& mm) {
    for (const auto& kv : mm)
      if (kv.first == "diversity") return kv.second;
    return -1.0;
  };
  EXPECT_GT(diversity(first), 0.0);
  EXPECT_GE(diversity(m), 0.0);
  EXPECT_LT(diversity(m), 0.5 * diversity(first));
  ASSERT_FALSE(seen.empty());
  EXPECT_NE(seen[0].find("collapsing"), std::string::npos) << seen[0];

  // Collapsed from the start: no fall to see, so the floor check warns,
  // once, at its 20th low check in a row.
  Config fc = small_config();
  fc.set("objective.health_every", int64_t{1});
  torch::manual_seed(6);
  auto flat = points_gan(fc);
  {
    torch::NoGradGuard g;
    for (auto& p : std::dynamic_pointer_cast<GanImpl>(flat)->generator->parameters()) p.zero_();
  }
  fc.set("optim_g.name", std::string("sgd"));
  fc.set("optim_g.lr", 1e-30);  // G stays a single point
  AdversarialObjective stuck(flat, fc);
  std::vector<std::pair<int, std::string>> floor_warnings;
  for (int s = 0; s < 30; ++s) {
    stuck.begin_step(s);
    stuck.step(batches);
    for (auto& w : stuck.take_warnings())
      if (w.find("stayed alike") != std::string::npos) floor_warnings.emplace_back(s, w);
  }
  ASSERT_EQ(floor_warnings.size(), 1u);
  EXPECT_EQ(floor_warnings[0].first, 19) << floor_warnings[0].second;
}

TEST(AdversarialObjective, MeasuresDiversityInTheFeatureSpaceItIsOffered) {
  // A feature map that keeps only the first coordinate: the reported
  // diversity must be the ratio of spreads of the mapped samples and data,
  // which differs from the ratio in the data space.
  Config c = small_config();
  c.set("objective.health_every", int64_t{1});
  torch::manual_seed(7);
  auto model = points_gan(c);
  AdversarialObjective objective(model, c);
  std::vector<torch::Tensor> seen;
  auto first_coordinate = [&](const torch::Tensor& x) {
    seen.push_back(x.detach().clone());
    return x.slice(1, 0, 1) * 3;  // [N, 1]
  };
  EXPECT_TRUE(objective.use_feature_space(first_coordinate, "the first coordinate"));
  FixedBatch batch(torch::cat({torch::randn({32, 1}), 10 * torch::randn({32, 1})}, 1));  // spread mostly in x_2
  objective.begin_step(0);
  Metrics m = objective.step(batch);
  ASSERT_EQ(seen.size(), 2u);  // the fixed-noise samples, then the data batch
  auto spread = [](const torch::Tensor& f) {
    auto d = f.reshape({f.size(0), -1}).to(torch::kFloat64);
    return torch::cdist(d, d).sum().item<double>() / static_cast<double>(d.size(0) * (d.size(0) - 1));
  };
  const double in_features = spread(seen[0].slice(1, 0, 1)) / spread(seen[1].slice(1, 0, 1));
  const double in_data = spread(seen[0]) / spread(seen[1]);
  EXPECT_NEAR(metric(m, "diversity"), in_features, 1e-9);
  // The two spaces give ratios far apart on the 1e-9 scale of the check above.
  EXPECT_GT(std::abs(in_features - in_data), 1e-3) << in_features << " " << in_data;
  // Withdrawn (an empty function), the data space again.
  EXPECT_FALSE(objective.use_feature_space(nullptr, ""));
  seen.clear();
  objective.begin_step(1);
  m = objective.step(batch);
  EXPECT_TRUE(seen.empty());
}

TEST(AdversarialObjective, PackedDiscriminatorsJudgeGroupsAndConditionalOnesNeedLabels) {
  Config c = small_config();
  c.set("model.pack", int64_t{4});
  torch::manual_seed(6);
  auto model = points_gan(c);
  auto gan = std::dynamic_pointer_cast<GanImpl>(model);
  EXPECT_EQ(gan->discriminate(torch::randn({12, 2}), {}).sizes().vec(), (std::vector<int64_t>{3, 1}));
  AdversarialObjective objective(model, c);
  FixedBatch odd(torch::randn({10, 2}));  // 10 rows: 8 are used, in 2 packs
  EXPECT_NO_THROW(objective.step(odd));
  FixedBatch tiny(torch::randn({3, 2}));
  EXPECT_THROW(objective.step(tiny), Error);

  Config cc = small_config();
  auto cgan = points_gan(cc, 3);
  AdversarialObjective conditional(cgan, cc);
  FixedBatch unlabelled(torch::randn({8, 2}));
  EXPECT_THROW(conditional.step(unlabelled), Error);
  FixedBatch labelled(torch::randn({8, 2}), torch::randint(3, {8}, torch::kLong));
  EXPECT_NO_THROW(conditional.step(labelled));
}

TEST(AdversarialObjective, WganGpTrainsACriticWithAGradientPenalty) {
  Config c = small_config();
  c.set("objective.loss", std::string("wgan_gp"));
  torch::manual_seed(7);
  auto model = points_gan(c);
  AdversarialObjective objective(model, c);
  CountingBatches batches;
  Metrics m = objective.step(batches);
  auto get = [&](const std::string& name) { return metric(m, name); };
  const double penalty = get("gradient_penalty"), gap = get("wasserstein");
  EXPECT_GT(penalty, 0.0);  // an untrained critic's gradient norm is not 1
  // The critic's loss: -(mean l(x) - mean l(G(z))) + 10 * penalty.
  EXPECT_NEAR(get("d_loss"), -gap + 10 * penalty, 1e-5 * (1 + std::abs(gap) + penalty));
  EXPECT_FALSE(std::any_of(m.begin(), m.end(), [](const auto& kv) { return kv.first == "d_real"; }));
  // BatchNorm couples the examples whose gradients the penalty judges.
  Config conv;
  conv.set("objective.loss", std::string("wgan_gp"));
  ModelContext ctx;
  ctx.config = &conv;
  ctx.data.format = PixelFormat::Symmetric;
  auto dcgan = create_model(find_model("dcgan").model, ctx);
  EXPECT_THROW(AdversarialObjective(dcgan, conv), Error);
  Config bad = small_config();
  bad.set("objective.gp_weight", -1.0);
  bad.set("objective.loss", std::string("wgan_gp"));
  EXPECT_THROW(AdversarialObjective(points_gan(bad), bad), Error);
}

TEST(AdversarialObjective, R1PenalisesTheDiscriminatorsGradientOnDataPerPack) {
  Config c = small_config();
  c.set("model.pack", int64_t{2});
  c.set("objective.r1", 3.0);
  torch::manual_seed(11);
  auto model = points_gan(c);
  auto gan = std::dynamic_pointer_cast<GanImpl>(model);
  AdversarialObjective objective(model, c);
  const auto x = torch::randn({8, 2});
  // Before the step, by hand: the logistic loss on these data and on the
  // fakes the step will draw (same seed), and |grad l|^2 per pack of 2 rows
  // by central differences (l is piecewise linear in x: ReLU units).
  double by_hand_loss = 0, by_hand_penalty = 0;
  {
    torch::NoGradGuard no_grad;
    model->train();
    torch::manual_seed(12);
    auto fake = gan->generate(gan->noise(8), {});
    by_hand_loss = discriminator_loss(gan->discriminate(x, {}).squeeze(1), gan->discriminate(fake, {}).squeeze(1))
                       .item<double>();
    const double h = 1e-3;
    for (int64_t pack = 0; pack < 4; ++pack) {
      double norm2 = 0;
      for (int64_t row = 2 * pack; row < 2 * pack + 2; ++row)
        for (int64_t j = 0; j < 2; ++j) {
          auto up = x.clone(), down = x.clone();
          up[row][j] += h;
          down[row][j] -= h;
          const double d = (gan->discriminate(up, {})[pack][0].item<double>() -
                            gan->discriminate(down, {})[pack][0].item<double>()) /
                           (2 * h);
          norm2 += d * d;
        }
      by_hand_penalty += norm2 / 4;
    }
  }
  torch::manual_seed(12);
  FixedBatch batch(x);
  Metrics m = objective.step(batch);
  auto get = [&](const std::string& name) { return metric(m, name); };
  EXPECT_GT(by_hand_penalty, 0.0);
  EXPECT_NEAR(get("r1_penalty"), by_hand_penalty, 1e-3 * by_hand_penalty);
  EXPECT_NEAR(get("d_loss"), by_hand_loss + 0.5 * 3.0 * by_hand_penalty, 1e-3 * (1 + by_hand_penalty));
  // Lazy: with r1_every = 3 and k = 2, D steps 0, 3, 6, ... of the run are
  // penalised: steps 0 (D steps 0, 1), 1 (2, 3), 2 (4, 5), 3 (6, 7).
  Config lazy = small_config();
  lazy.set("objective.r1", 3.0);
  lazy.set("objective.r1_every", int64_t{3});
  lazy.set("objective.k", int64_t{2});
  AdversarialObjective lazy_objective(points_gan(lazy), lazy);
  std::vector<bool> penalised;
  for (int64_t step = 0; step < 4; ++step) {
    lazy_objective.begin_step(step);
    FixedBatch b(x);
    const Metrics ml = lazy_objective.step(b);
    penalised.push_back(std::any_of(ml.begin(), ml.end(), [](const auto& kv) { return kv.first == "r1_penalty"; }));
  }
  EXPECT_EQ(penalised, (std::vector<bool>{true, true, false, true}));
  // Off by default; refused beside WGAN-GP's own penalty and when negative.
  Config plain = small_config();
  AdversarialObjective off(points_gan(plain), plain);
  FixedBatch again(x);
  const Metrics m_off = off.step(again);
  EXPECT_FALSE(std::any_of(m_off.begin(), m_off.end(), [](const auto& kv) { return kv.first == "r1_penalty"; }));
  Config both = small_config();
  both.set("objective.r1", 1.0);
  both.set("objective.loss", std::string("wgan_gp"));
  EXPECT_THROW(AdversarialObjective(points_gan(both), both), Error);
}

TEST(AdversarialObjective, RefusesBadSettingsWithAnErrorNamingTheKey) {
  const std::vector<std::pair<std::string, ConfigValue>> bad{
      {"objective.k", int64_t{0}},           {"objective.lr_decay", 0.5},       {"objective.lr_floor", -1.0},
      {"objective.health_every", int64_t{0}}, {"objective.d_wins_steps", int64_t{0}},
      {"objective.collapse_ratio", 1.0},      {"objective.eval_rows", int64_t{1}},
      {"objective.r1", -1.0},                 {"objective.r1_every", int64_t{0}}};
  for (const auto& [key, value] : bad) {
    Config c = small_config();
    c.set(key, value);
    auto model = points_gan(c);
    try {
      AdversarialObjective objective(model, c);
      ADD_FAILURE() << key << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
  for (const auto& [key, value] : std::vector<std::pair<std::string, ConfigValue>>{
           {"model.pack", int64_t{0}},
           {"model.d_max_norm", -1.0},
           {"model.d_dropout", 1.0},
           {"model.noise_dims", int64_t{0}},
           {"model.g_init_range", -0.1},
           {"model.d_init_range", std::nan("")}}) {
    Config c = small_config();
    c.set(key, value);
    try {
      points_gan(c);
      ADD_FAILURE() << key << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
}

TEST(AdversarialNets, TheMaxNormConstraintShortensOnlyLongWeightVectors) {
  auto o = AdversarialNetOptions().shape({2}).format(PixelFormat::Points).d_hidden(4).d_pieces(3).d_max_norm(1.5);
  Discriminator d(o);
  auto linears = std::vector<torch::nn::Linear>{};
  for (auto& m : d->modules(false))
    if (auto* l = m->as<torch::nn::Linear>()) {
      torch::NoGradGuard g;
      l->weight.copy_(torch::randn(l->weight.sizes()) * 3);
      l->weight[0].fill_(0.1);  // a short row stays as it is
    }
  std::vector<torch::Tensor> before;
  for (auto& m : d->modules(false))
    if (auto* l = m->as<torch::nn::Linear>()) before.push_back(l->weight.clone());
  d->apply_max_norm();
  size_t i = 0;
  for (auto& m : d->modules(false))
    if (auto* l = m->as<torch::nn::Linear>()) {
      auto norms = l->weight.norm(2, 1);
      EXPECT_LE(norms.max().item<double>(), 1.5 + 1e-5);
      EXPECT_TRUE(torch::equal(l->weight[0], before[i][0]));
      // A long row keeps its direction.
      auto row = before[i][l->weight.size(0) - 1];
      if (l->weight.size(0) > 1 && row.norm().item<double>() > 1.5) {
        EXPECT_TRUE(torch::allclose(l->weight[l->weight.size(0) - 1], row * (1.5 / row.norm()), 1e-5, 1e-6));
      }
      ++i;
    }
  EXPECT_EQ(i, 3u);  // two maxout layers' linear maps and the output layer
}

TEST(AdversarialNets, TheUniformInitialisationKeepsWeightsInRangeAndZeroesBiases) {
  torch::manual_seed(11);
  auto o = AdversarialNetOptions().shape({2}).format(PixelFormat::Points).g_hidden(32).d_hidden(8).d_pieces(3);
  Generator g(AdversarialNetOptions(o).g_init_range(0.05));
  Discriminator d(AdversarialNetOptions(o).d_init_range(0.005));
  auto check = [](torch::nn::Module& net, double range) {
    size_t layers = 0;
    double widest = 0;
    for (auto& m : net.modules(false))
      if (auto* l = m->as<torch::nn::Linear>()) {
        EXPECT_LE(l->weight.abs().max().item<double>(), range);
        widest = std::max(widest, l->weight.abs().max().item<double>());
        EXPECT_EQ(l->bias.abs().max().item<double>(), 0.0);
        ++layers;
      }
    EXPECT_EQ(layers, 3u);
    // Drawn over the whole range (hundreds of weights), not a narrower one.
    EXPECT_GT(widest, 0.95 * range);
  };
  check(*g, 0.05);
  check(*d, 0.005);
  // LibTorch's default for a 2-input layer is U(-1/sqrt 2, 1/sqrt 2): far wider.
  Discriminator plain(o);
  double widest = 0;
  for (auto& m : plain->modules(false))
    if (auto* l = m->as<torch::nn::Linear>()) widest = std::max(widest, l->weight.abs().max().item<double>());
  EXPECT_GT(widest, 0.1);
}

TEST(SemiSupervisedLosses, MatchHandComputedValues) {
  // K = 2 logits (0, 0): Z = 2, D = Z / (Z + 1) = 2/3, so -log D = log 1.5
  // for data, and for a generated example -log(1 - D) = log 3.
  auto zeros = torch::zeros({1, 2}, torch::kFloat64);
  EXPECT_NEAR(unsupervised_loss(zeros, zeros).item<double>(), std::log(1.5) + std::log(3.0), 1e-12);
  // Logits (1, 0) with label 0: -log softmax = log(1 + e^-1) = 0.3132617.
  auto logits = torch::tensor({{1.0, 0.0}}, torch::kFloat64);
  EXPECT_NEAR(supervised_loss(logits, torch::tensor({0}, torch::kLong)).item<double>(), 0.3132617, 1e-6);
  // Confident real logits and confident fake ones drive the loss to 0.
  auto big = torch::full({1, 2}, 30.0, torch::kFloat64), small = torch::full({1, 2}, -30.0, torch::kFloat64);
  EXPECT_LT(unsupervised_loss(big, small).item<double>(), 1e-10);
}

TEST(SemiSupervisedObjective, TheLabelsOnlyBaselineLeavesTheGeneratorAloneAndSchedulesApply) {
  // A labelled 2-D toy: 3 classes, 2 labelled rows each.
  auto x = torch::randn({30, 1, 3, 3});
  auto y = torch::arange(30, torch::kLong) % 3;
  for (bool unsupervised : {false, true}) {
    Config c;
    c.set("model.g_hidden", int64_t{8});
    c.set("model.d_hidden", int64_t{8});
    c.set("model.labelled", int64_t{6});
    c.set("objective.unsupervised", unsupervised);
    c.set("objective.labelled_batch", int64_t{6});
    c.set("optim_d.schedule", std::string("step"));
    c.set("optim_d.step_epochs", int64_t{1});
    ModelContext ctx;
    ctx.config = &c;
    ctx.data.height = ctx.data.width = 3;
    ctx.data.classes = 3;
    ctx.train_data = (x * 0.2 + 0.5).clamp(0, 1);
    ctx.train_labels = y;
    auto model = create_model(find_model("ssgan").model, ctx);
    auto ss = as<SemiSupervised>(model);
    ASSERT_TRUE(ss);
    EXPECT_EQ(ss->labelled_images().size(0), 6);
    EXPECT_TRUE(torch::equal(torch::bincount(ss->labelled_labels()), torch::tensor({2, 2, 2}, torch::kLong)));
    SemiSupervisedObjective objective(model, c);
    EXPECT_NO_THROW(c.check_all_used());
    auto gan = std::dynamic_pointer_cast<SsganImpl>(model);
    auto g_before = gan->generator->parameters()[0].clone();
    objective.begin_epoch(2);
    FixedBatch batch(ctx.train_data.slice(0, 0, 10));
    Metrics m = objective.step(batch);
    EXPECT_EQ(torch::equal(g_before, gan->generator->parameters()[0]), !unsupervised) << unsupervised;
    EXPECT_EQ(std::any_of(m.begin(), m.end(), [](const auto& kv) { return kv.first == "g_loss"; }), unsupervised);
  }
}

}  // namespace
}  // namespace genzoo
