#include "genzoo/sampling/langevin.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {
namespace {

// A diagonal Gaussian N(mean, diag(sd²)) on [N, 2]: E(x) = Σ_d (x_d − m_d)² / 2 s_d².
struct DiagonalGaussian {
  double m0, m1, s0, s1;
  EnergyFunction energy() const {
    auto mean = torch::tensor({m0, m1}, torch::kFloat64);
    auto inv_var = torch::tensor({1 / (s0 * s0), 1 / (s1 * s1)}, torch::kFloat64);
    return [mean, inv_var](const torch::Tensor& x) { return 0.5 * ((x - mean).pow(2) * inv_var).sum(1); };
  }
};

torch::Tensor zeros_start(int64_t n) { return torch::zeros({n, 2}, torch::kFloat64); }

// Checks the sample mean of column d against m within 4 standard errors and
// the sample variance against v within 4 standard errors of a Gaussian's
// variance estimate (sd of s² = v √(2/n)).
void expect_moments(const torch::Tensor& x, int64_t d, double m, double v, const char* what) {
  const auto n = static_cast<double>(x.size(0));
  auto column = x.select(1, d);
  const double mean = column.mean().item<double>(), var = column.var().item<double>();
  EXPECT_NEAR(mean, m, 4 * std::sqrt(v / n)) << what << ", column " << d;
  EXPECT_NEAR(var, v, 4 * v * std::sqrt(2 / n)) << what << ", column " << d;
}

TEST(Langevin, CoupledStepRecoversAGaussianWithItsKnownDiscretisationBias) {
  // x ← (1 − c) x + ε ξ with c = ε²/2s² has stationary variance
  // s² / (1 − c/2): at ε = 0.5, 6.7 % and 33 % above s², well beyond the
  // tolerance (4 % of the variance), so the test sees the bias itself.
  const DiagonalGaussian target{1.0, -2.0, 1.0, 0.5};
  auto result = langevin(target.energy(), zeros_start(20000), LangevinOptions::coupled(0.5, 300), {},
                         derived_generator(11, 1));
  const double c0 = 0.25 / 2, c1 = 0.25 / (2 * 0.25);
  expect_moments(result.x, 0, 1.0, 1.0 / (1 - c0 / 2), "langevin");
  expect_moments(result.x, 1, -2.0, 0.25 / (1 - c1 / 2), "langevin");
  EXPECT_EQ(result.acceptance, 1.0);
  EXPECT_EQ(result.gradient_evaluations, 300);
  EXPECT_TRUE(torch::allclose(result.energy, target.energy()(result.x)));
}

// A correlated Gaussian, unit variances and correlation rho, with x1
// observed at a: x0 | x1 = a is N(rho a, 1 − rho²).
TEST(Samplers, MaskedChainsSampleTheConditionalDistribution) {
  const double rho = 0.8, a = 1.5;
  auto precision = torch::tensor({{1.0, -rho}, {-rho, 1.0}}, torch::kFloat64) / (1 - rho * rho);
  auto energy = [precision](const torch::Tensor& x) { return 0.5 * (x.matmul(precision) * x).sum(1); };
  auto x0 = torch::zeros({20000, 2}, torch::kFloat64);
  x0.select(1, 1).fill_(a);
  auto observed = torch::zeros({20000, 2}, torch::kBool);
  observed.select(1, 1).fill_(true);
  auto m = mala(energy, x0, MalaOptions().steps(200).step_size(0.6), observed, derived_generator(22, 1));
  expect_moments(m.x, 0, rho * a, 1 - rho * rho, "mala | x1");
  EXPECT_TRUE(torch::equal(m.x.select(1, 1), x0.select(1, 1)));
  auto h = hmc(energy, x0, HmcOptions().steps(60).leapfrog(5).step_size(0.2), observed, derived_generator(22, 2));
  expect_moments(h.x, 0, rho * a, 1 - rho * rho, "hmc | x1");
  EXPECT_GT(h.acceptance, 0.9);
}

TEST(Mala, CorrectsTheBiasThatUnadjustedLangevinHasAtALargeStep) {
  // At ε = 1 on N(0, 1) the unadjusted chain's variance is 1/(1 − 1/4) = 4/3;
  // the Metropolis correction brings MALA back to 1.
  const DiagonalGaussian target{0.0, 0.0, 1.0, 1.0};
  auto biased = langevin(target.energy(), zeros_start(20000), LangevinOptions::coupled(1.0, 200), {},
                         derived_generator(12, 1));
  expect_moments(biased.x, 0, 0.0, 4.0 / 3.0, "unadjusted");
  auto exact = mala(target.energy(), zeros_start(20000), MalaOptions().steps(300).step_size(1.0), {},
                    derived_generator(12, 2));
  expect_moments(exact.x, 0, 0.0, 1.0, "mala");
  expect_moments(exact.x, 1, 0.0, 1.0, "mala");
  EXPECT_GT(exact.acceptance, 0.3);
  EXPECT_LT(exact.acceptance, 0.99);  // at this step some proposals must be refused
  EXPECT_EQ(exact.accepted.size(0), 20000);
}

TEST(Hmc, RecoversAGaussiansMeanAndVariance) {
  const DiagonalGaussian target{1.0, -2.0, 1.0, 0.5};
  auto result = hmc(target.energy(), zeros_start(8000), HmcOptions().steps(60).leapfrog(8).step_size(0.15), {},
                    derived_generator(13, 1));
  expect_moments(result.x, 0, 1.0, 1.0, "hmc");
  expect_moments(result.x, 1, -2.0, 0.25, "hmc");
  EXPECT_GT(result.acceptance, 0.8);
  EXPECT_EQ(result.gradient_evaluations, 1 + 60 * 8);
  EXPECT_TRUE(torch::allclose(result.energy, target.energy()(result.x)));
}

// A non-Gaussian energy: a quartic well plus a coupling, [N, 3].
torch::Tensor quartic(const torch::Tensor& x) {
  return x.pow(4).sum(1) / 4 + (x.select(1, 0) * x.select(1, 1)) - x.select(1, 2);
}

TEST(MetropolisSamplers, AcceptAlmostAlwaysAtTinySteps) {
  auto x0 = torch::randn({500, 3}, derived_generator(14, 1), torch::TensorOptions(torch::kFloat64));
  auto m = mala(quartic, x0, MalaOptions().steps(20).step_size(1e-3), {}, derived_generator(14, 2));
  EXPECT_GT(m.acceptance, 0.99);
  auto h = hmc(quartic, x0, HmcOptions().steps(10).leapfrog(5).step_size(1e-3), {}, derived_generator(14, 3));
  EXPECT_GT(h.acceptance, 0.99);
  // and both moved
  EXPECT_GT((m.x - x0).abs().max().item<double>(), 1e-4);
  EXPECT_GT((h.x - x0).abs().max().item<double>(), 1e-4);
}

TEST(MetropolisSamplers, RejectProposalsWhoseEnergyIsNotFinite) {
  // E is NaN for x > 0.5: a chain started at 0 with a large step must stay in x ≤ 0.5.
  auto wall = [](const torch::Tensor& x) {
    auto e = 0.5 * x.pow(2).sum(1);
    return torch::where(x.select(1, 0) > 0.5, torch::full_like(e, std::nan("")), e);
  };
  auto x0 = torch::zeros({200, 1}, torch::kFloat64);
  auto m = mala(wall, x0, MalaOptions().steps(50).step_size(1.0), {}, derived_generator(15, 1));
  EXPECT_LE(m.x.max().item<double>(), 0.5);
  EXPECT_TRUE(torch::isfinite(m.energy).all().item<bool>());
  auto h = hmc(wall, x0, HmcOptions().steps(20).leapfrog(3).step_size(0.5), {}, derived_generator(15, 2));
  EXPECT_LE(h.x.max().item<double>(), 0.5);
}

// Bit patterns of the observed entries.
torch::Tensor observed_bits(const torch::Tensor& x, const torch::Tensor& observed) {
  return x.masked_select(observed).view(torch::kInt64);
}

TEST(Samplers, HoldObservedEntriesBitForBit) {
  auto gen = derived_generator(16, 1);
  auto x0 = torch::randn({6, 1, 4, 4}, gen, torch::TensorOptions(torch::kFloat64));
  x0.index_put_({0, 0, 0, 0}, -0.0);  // a negative zero must stay negative
  auto observed = torch::rand({6, 1, 4, 4}, gen, torch::TensorOptions(torch::kFloat64)) < 0.5;
  observed.index_put_({0, 0, 0, 0}, true);
  auto weight = torch::randn({1, 1, 3, 3}, gen, torch::TensorOptions(torch::kFloat64));
  auto energy = [weight](const torch::Tensor& x) {
    return torch::conv2d(x, weight, {}, 1, 1).tanh().pow(2).flatten(1).sum(1) + 0.5 * x.pow(2).flatten(1).sum(1);
  };
  auto want = observed_bits(x0, observed);
  auto free = ~observed;
  auto check = [&](const ChainResult& r, const char* what) {
    EXPECT_TRUE(torch::equal(observed_bits(r.x, observed), want)) << what;
    for (int64_t t = 0; t < r.trajectory.size(0); ++t)
      EXPECT_TRUE(torch::equal(observed_bits(r.trajectory[t], observed), want)) << what << " at state " << t;
    EXPECT_GT((r.x - x0).masked_select(free).abs().max().item<double>(), 1e-3) << what << ": free entries moved";
  };
  check(langevin(energy, x0, LangevinOptions::coupled(0.1, 20).record_every(1).clamp(true).low(-2).high(2),
                 observed, derived_generator(16, 2)),
        "langevin");
  check(mala(energy, x0, MalaOptions().steps(20).step_size(0.2).record_every(1), observed, derived_generator(16, 3)),
        "mala");
  check(hmc(energy, x0, HmcOptions().steps(10).leapfrog(4).step_size(0.1).record_every(1), observed,
            derived_generator(16, 4)),
        "hmc");
}

TEST(Langevin, ClippingBoundsEveryUpdate) {
  // E = 50 ‖x‖²: gradients of size ~100 against a clip of 0.01; without noise
  // every update moves each entry by exactly drift × clip at most.
  auto steep = [](const torch::Tensor& x) { return 50 * x.pow(2).sum(1); };
  auto x0 = torch::randn({8, 5}, derived_generator(17, 1), torch::TensorOptions(torch::kFloat64)) + 2;
  const double drift = 0.1, clip = 0.01;
  auto r = langevin(steep, x0, LangevinOptions::separate(drift, 0.0, 30).grad_clip(clip).record_every(1));
  ASSERT_EQ(r.trajectory.size(0), 31);
  auto steps = (r.trajectory.slice(0, 1) - r.trajectory.slice(0, 0, -1)).abs();  // [30, 8, 5]
  EXPECT_LE(steps.max().item<double>(), drift * clip * (1 + 1e-9));
  EXPECT_NEAR(steps.max().item<double>(), drift * clip, 1e-12);  // the clip was active
  // Without the clip the first update is 0.1 × 100 x: far larger.
  auto free = langevin(steep, x0, LangevinOptions::separate(drift, 0.0, 1));
  EXPECT_GT((free.x - x0).abs().max().item<double>(), 1.0);
  EXPECT_GT(r.grad_norm, 100.0);  // reported before clipping
}

TEST(Langevin, TheRecipesClippedSamplerWalksToAQuadraticsMinimum) {
  // IGEBM's setting on E = 50 ‖x − m‖² in [0, 1]: noise 0.005 first, the
  // gradient clipped to ±0.01, a step of 10: every entry moves 0.1 per step
  // toward m while it is far; near m the clipped step overshoots, so the
  // entries then bounce within one step (0.1) of m, as the recipe's chains
  // do (it is close to clipped gradient descent).
  const double m = 0.7;
  auto bowl = [m](const torch::Tensor& x) { return 50 * (x - m).pow(2).sum(1); };
  auto x0 = torch::zeros({16, 6}, torch::kFloat64);
  auto o = LangevinOptions::separate(10.0, 0.005, 20).noise_first(true).grad_clip(0.01).clamp(true).record_every(1);
  auto r = langevin(bowl, x0, o, {}, derived_generator(23, 1));
  auto distance = (r.trajectory - m).abs().amax({1, 2});  // [21] the farthest entry per step
  for (int k = 1; k <= 6; ++k) EXPECT_NEAR(r.trajectory[k].mean().item<double>(), 0.1 * k, 0.01) << k;
  for (int k = 1; k <= 7; ++k) EXPECT_LT(distance[k].item<double>(), distance[k - 1].item<double>()) << k;
  EXPECT_LT(distance.slice(0, 7).max().item<double>(), 0.1 + 0.03);
}

TEST(Langevin, NoiseFirstTakesTheGradientAtTheNoisyPoint) {
  // E = ‖x‖²/2, one step with the noise ξ of a known generator:
  // gradient first x′ = (1 − a)x + bξ; noise first x′ = (1 − a)(x + bξ).
  auto bowl = [](const torch::Tensor& x) { return 0.5 * x.pow(2).sum(1); };
  auto x0 = torch::randn({3, 4}, derived_generator(21, 1), torch::TensorOptions(torch::kFloat64));
  const double a = 0.2, b = 0.5;
  auto xi = torch::randn({3, 4}, derived_generator(21, 2), torch::TensorOptions(torch::kFloat64));
  auto after = langevin(bowl, x0, LangevinOptions::separate(a, b, 1), {}, derived_generator(21, 2));
  EXPECT_TRUE(torch::allclose(after.x, (1 - a) * x0 + b * xi, 1e-12, 1e-12));
  auto first = langevin(bowl, x0, LangevinOptions::separate(a, b, 1).noise_first(true), {}, derived_generator(21, 2));
  EXPECT_TRUE(torch::allclose(first.x, (1 - a) * (x0 + b * xi), 1e-12, 1e-12));
}

TEST(Langevin, ClampsToTheDataRange) {
  auto outward = [](const torch::Tensor& x) { return -10 * x.sum(1); };  // pushes every entry up
  auto x0 = torch::full({4, 3}, 0.5, torch::kFloat64);
  auto r = langevin(outward, x0, LangevinOptions::coupled(0.3, 25).clamp(true).low(0).high(1).record_every(1),
                    {}, derived_generator(18, 1));
  EXPECT_GE(r.trajectory.min().item<double>(), 0.0);
  EXPECT_LE(r.trajectory.max().item<double>(), 1.0);
  EXPECT_EQ(r.x.max().item<double>(), 1.0);
}

TEST(Samplers, TakeGradientsWithRespectToTheInputOnly) {
  torch::nn::Linear layer(3, 1);
  layer->to(torch::kFloat64);
  auto energy = [&](const torch::Tensor& x) { return layer(x).squeeze(1).pow(2) + 0.5 * x.pow(2).sum(1); };
  auto x0 = torch::randn({5, 3}, derived_generator(19, 1), torch::TensorOptions(torch::kFloat64));
  torch::NoGradGuard no_grad;  // how models call samplers
  langevin(energy, x0, LangevinOptions::coupled(0.1, 3));
  mala(energy, x0, MalaOptions().steps(3));
  hmc(energy, x0, HmcOptions().steps(2).leapfrog(2));
  EXPECT_FALSE(layer->weight.grad().defined());
  EXPECT_FALSE(layer->bias.grad().defined());
}

TEST(Samplers, KeepTheRequestedTrajectoryAndRepeatWithTheSameGenerator) {
  const DiagonalGaussian target{0.0, 0.0, 1.0, 1.0};
  auto x0 = zeros_start(4);
  auto a = langevin(target.energy(), x0, LangevinOptions::coupled(0.5, 7).record_every(3), {}, derived_generator(20, 1));
  ASSERT_EQ(a.trajectory.size(0), 4);  // states 0, 3, 6, 7
  EXPECT_TRUE(torch::equal(a.trajectory[0], x0));
  EXPECT_TRUE(torch::equal(a.trajectory[3], a.x));
  auto b = langevin(target.energy(), x0, LangevinOptions::coupled(0.5, 7), {}, derived_generator(20, 1));
  EXPECT_TRUE(torch::equal(a.x, b.x));
  EXPECT_FALSE(b.trajectory.defined());
  auto c = hmc(target.energy(), x0, HmcOptions().steps(5).record_every(5), {}, derived_generator(20, 2));
  EXPECT_EQ(c.trajectory.size(0), 2);
  auto zero = mala(target.energy(), x0, MalaOptions().steps(0));
  EXPECT_TRUE(torch::equal(zero.x, x0));
  EXPECT_EQ(zero.acceptance, 1.0);
}

TEST(Samplers, RefuseBadSettingsWithOneLine) {
  const DiagonalGaussian target{0.0, 0.0, 1.0, 1.0};
  auto x0 = zeros_start(2);
  auto expect_error = [](const std::function<void()>& call, const std::string& needle) {
    try {
      call();
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  };
  auto e = target.energy();
  expect_error([&] { langevin(e, x0, LangevinOptions().steps(-1)); }, "steps");
  expect_error([&] { langevin(e, x0, LangevinOptions().noise(-0.1)); }, "noise");
  expect_error([&] { langevin(e, x0, LangevinOptions().drift(std::nan(""))); }, "drift");
  expect_error([&] { langevin(e, x0, LangevinOptions().grad_clip(-1)); }, "clip");
  expect_error([&] { langevin(e, x0, LangevinOptions().clamp(true).low(1).high(0)); }, "low < high");
  expect_error([&] { mala(e, x0, MalaOptions().step_size(0)); }, "step size");
  expect_error([&] { hmc(e, x0, HmcOptions().leapfrog(0)); }, "leapfrog");
  EXPECT_THROW(langevin(e, x0, LangevinOptions(), torch::zeros({3, 2}, torch::kBool)), c10::Error);
  EXPECT_THROW(langevin(e, torch::zeros({2, 2}, torch::kLong), LangevinOptions()), c10::Error);
}

}  // namespace
}  // namespace genzoo
