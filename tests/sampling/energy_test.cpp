#include "genzoo/sampling/energy.h"

#include <gtest/gtest.h>

#include <cmath>

#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/models/model.h"
#include "genzoo/train/objectives/likelihood.h"
#include "genzoo/train/trainer.h"
#include "test_support.h"

namespace genzoo {
namespace {

// E(x) = |x - m|^2 / (2 s^2) per row: dE/dx = (x - m) / s^2.
EnergyFunction gaussian(double m, double s) {
  return [=](const torch::Tensor& x) { return (x - m).pow(2).flatten(1).sum(1) / (2 * s * s); };
}

TEST(InputGradient, IsTheGradientOfTheEnergyUnderNoGradGuard) {
  auto x = torch::randn({4, 1, 2, 2}, derived_generator(1, 1));
  torch::NoGradGuard no_grad;  // how samplers are called (models/model.h)
  auto g = input_gradient(gaussian(0.5, 2.0), x);
  EXPECT_TRUE(torch::allclose(g, (x - 0.5) / 4.0, 1e-6, 1e-6));
  EXPECT_FALSE(g.requires_grad());
  auto [e, g2] = energy_and_input_gradient(gaussian(0.5, 2.0), x);
  EXPECT_TRUE(torch::allclose(e, (x - 0.5).pow(2).flatten(1).sum(1) / 8.0));
  EXPECT_TRUE(torch::equal(g, g2));
}

TEST(InputGradient, LeavesParameterGradientsAlone) {
  torch::nn::Linear layer(4, 1);
  auto energy = [&](const torch::Tensor& x) { return layer(x.flatten(1)).squeeze(1).pow(2); };
  auto x = torch::randn({3, 4}, derived_generator(2, 1));
  auto g = input_gradient(energy, x);
  EXPECT_FALSE(layer->weight.grad().defined());
  EXPECT_FALSE(layer->bias.grad().defined());
  // d/dx (w.x + b)^2 = 2 (w.x + b) w
  auto want = 2 * layer(x).detach() * layer->weight.detach();
  EXPECT_TRUE(torch::allclose(g, want, 1e-5, 1e-6));
}

TEST(InputGradient, RefusesInferenceModeWithAClearError) {
  auto x = torch::randn({2, 3});
  c10::InferenceMode guard;
  try {
    input_gradient(gaussian(0, 1), x);
    ADD_FAILURE() << "a gradient was taken inside InferenceMode";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("NoGradGuard"), std::string::npos) << e.what();
  }
}

TEST(SumEnergies, ComposesEnergiesAndTheirGradients) {
  auto x = torch::randn({5, 2}, derived_generator(3, 1));
  auto both = sum_energies({gaussian(1.0, 1.0), gaussian(-1.0, 1.0)}, {1.0, 3.0});
  EXPECT_TRUE(torch::allclose(both(x), gaussian(1.0, 1.0)(x) + 3 * gaussian(-1.0, 1.0)(x)));
  // A product of Gaussians N(1, 1) N(-1, 1/3) has its mode at (1 - 3) / 4 = -0.5.
  auto at_mode = torch::full({1, 2}, -0.5);
  EXPECT_LT(input_gradient(both, at_mode).abs().max().item<double>(), 1e-6);
  EXPECT_THROW(sum_energies({gaussian(0, 1)}, {1.0, 2.0}), c10::Error);
}

// A model whose sampler descends dE/dx (what Langevin dynamics does, without
// the noise): x_{t+1} = x_t - eta (x_t - m), so x_T = m + (1 - eta)^T (x_0 - m).
// It also has a density so the likelihood objective can train its mean m.
struct DescentModelImpl : torch::nn::Cloneable<DescentModelImpl>, Sampler, Density {
  DescentModelImpl() { reset(); }
  void reset() override { mean = register_parameter("mean", torch::full({1}, 0.25)); }
  torch::Tensor log_prob(const torch::Tensor& x) override {
    return -(x - mean).pow(2).flatten(1).sum(1) / 2 - 0.5 * static_cast<double>(x[0].numel()) * std::log(2 * testing::kPi);
  }
  torch::Tensor sample(int64_t n) override {
    grad_mode_seen.push_back(torch::GradMode::is_enabled());
    auto x = torch::randn({n, 1, 2, 2});  // [n, 1, 2, 2]
    auto energy = [this](const torch::Tensor& v) { return -log_prob(v); };
    for (int t = 0; t < steps; ++t) x = x - eta * input_gradient(energy, x);
    return x;
  }
  int steps = 20;
  double eta = 0.1;
  std::vector<bool> grad_mode_seen;  // gradient mode at each call of sample()
  torch::Tensor mean;
};
TORCH_MODULE(DescentModel);

TEST(InputGradientSampler, WorksThroughDrawSamplesAsSampleAndEvalCallIt) {
  DescentModel model;
  torch::manual_seed(4);
  auto x0 = torch::randn({300, 1, 2, 2});
  torch::manual_seed(4);
  auto s = draw_samples(*model, 300, /*chunk=*/300);
  const double m = model->mean.item<double>();
  auto want = m + std::pow(0.9, 20) * (x0 - m);
  EXPECT_TRUE(torch::allclose(s, want, 1e-5, 1e-5));
  EXPECT_FALSE(s.requires_grad());
  EXPECT_FALSE(model->mean.grad().defined());  // sampling trained nothing
  // draw_samples calls the sampler without gradients (models/model.h): the
  // sampler turned them on for its input only.
  EXPECT_EQ(model->grad_mode_seen, std::vector<bool>{false});
  // In chunks: 300 samples of 128 are three calls.
  model->grad_mode_seen.clear();
  EXPECT_EQ(draw_samples(*model, 300, 128).size(0), 300);
  EXPECT_EQ(model->grad_mode_seen.size(), 3u);
}

TEST(InputGradientSampler, WorksInTheTrainersSampleGrids) {
  DescentModel model;
  testing::TempDir dir;
  TrainData data;
  data.train = torch::randn({40, 1, 2, 2}, derived_generator(5, 1)) * 0.1 + 0.5;
  data.to_display = [](const torch::Tensor& x) { return x.clamp(0, 1); };
  Config c;
  c.set("train.epochs", int64_t{2});
  c.set("train.batch_size", int64_t{10});
  c.set("train.sample_count", int64_t{4});
  TrainerOptions options = TrainerOptions::from_config(c);
  LikelihoodObjective objective(model.ptr(), c);
  Trainer trainer(options, dir.path(), model.ptr(), objective, data, c.to_toml());
  trainer.run(false);
  // Called for each grid (epochs 1, 2 and the final one), never with gradients on.
  EXPECT_EQ(model->grad_mode_seen, (std::vector<bool>{false, false, false}));
  EXPECT_TRUE(file_exists(dir / "samples/epoch_0001.png"));
  EXPECT_TRUE(file_exists(dir / "samples/final.png"));
}

}  // namespace
}  // namespace genzoo
