#include "genzoo/models/latent/vae.h"

#include <gtest/gtest.h>

#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"
#include "genzoo/train/objectives/elbo.h"

namespace genzoo {
namespace {

Vae tiny_vae(uint64_t seed, int64_t k = 1, int64_t eval_samples = 200, bool dbl = false) {
  torch::manual_seed(seed);
  Vae m(VaeOptions().net(EncoderDecoderOptions().shape({1, 4, 4}).hidden(16).layers(1).latent(2)).k(k).eval_samples(eval_samples));
  if (dbl) m->to(torch::kFloat64);
  torch::NoGradGuard g;
  for (auto& p : m->parameters()) p.normal_(0, 0.7);
  return m;
}

torch::Tensor binary_batch(int64_t n, uint64_t seed) {
  return (torch::rand({n, 1, 4, 4}, derived_generator(seed, 7)) < 0.4).to(torch::kFloat);
}

TEST(Vae, AnalyticKlEqualsAMonteCarloEstimate) {
  // KL(N(m, s^2) || N(0, 1)) summed over dimensions, against the mean of
  // log q(z) - log p(z) over 400,000 draws z ~ q.
  auto m = tiny_vae(1, 1, 200, /*dbl=*/true);
  auto x = binary_batch(3, 1);
  auto [mu, logvar] = m->posterior(x);  // [3, 2]
  auto t = m->bound_terms(x, 1);
  const int64_t n = 400000;
  auto eps = torch::randn({n, 3, 2}, torch::kFloat64);
  auto z = mu.detach() + (0.5 * logvar.detach()).exp() * eps;
  auto log_q = -0.5 * (eps.pow(2) + logvar.detach() + std::log(2 * M_PI)).sum(-1);  // [n, 3]
  auto log_p = -0.5 * (z.pow(2) + std::log(2 * M_PI)).sum(-1);
  auto d = log_q - log_p;
  auto mc = d.mean(0), se = d.std(0) / std::sqrt(static_cast<double>(n));
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_NEAR(t.kl[i].item<double>(), mc[i].item<double>(), 4 * se[i].item<double>() + 1e-9) << "row " << i;
}

TEST(Vae, ReparameterisedGradientMatchesFiniteDifferencesInDouble) {
  // With the noise fixed (the same seed before every evaluation), the
  // one-sample bound is a smooth function of every parameter, and the
  // reparameterised gradient must equal its central differences.
  auto m = tiny_vae(2, 1, 200, /*dbl=*/true);
  auto x = binary_batch(4, 2);
  auto bound = [&] {
    torch::manual_seed(33);
    return m->bound_terms(x, 1).bound.sum();
  };
  m->zero_grad();
  bound().backward();
  const double eps = 1e-6;
  int checked = 0;
  for (auto& p : m->named_parameters()) {
    auto flat = p.value().detach().view({-1});
    auto g = p.value().grad().reshape({-1});
    for (int64_t j = 0; j < flat.size(0); j += std::max<int64_t>(1, flat.size(0) / 7)) {
      torch::NoGradGuard ng;
      const double old = flat[j].item<double>();
      flat[j] = old + eps;
      const double up = bound().item<double>();
      flat[j] = old - eps;
      const double down = bound().item<double>();
      flat[j] = old;
      EXPECT_NEAR(g[j].item<double>(), (up - down) / (2 * eps), 1e-5 * (1 + std::abs(g[j].item<double>())))
          << p.key() << " entry " << j;
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
}

TEST(Vae, ImportanceEstimateLiesAboveTheElboAndGrowsWithK) {
  // Averaged over 40 draws: the one-sample IS estimate (K = 1) equals the
  // ELBO in expectation, and the estimate does not decrease as K grows.
  auto m = tiny_vae(3);
  auto x = binary_batch(8, 3);
  torch::NoGradGuard g;
  auto average = [&](auto f) {
    double sum = 0, sq = 0;
    for (int s = 0; s < 40; ++s) {
      torch::manual_seed(100 + s);
      const double v = f();
      sum += v;
      sq += v * v;
    }
    const double mean = sum / 40;
    return std::make_pair(mean, std::sqrt((sq / 40 - mean * mean) / 39));
  };
  auto estimate = [&](int64_t k) {
    m->options.eval_samples(k);
    return average([&] { return m->log_prob(x).mean().item<double>(); });
  };
  auto elbo = average([&] { return m->bound_terms(x, 1).bound.mean().item<double>(); });
  auto k1 = estimate(1), k10 = estimate(10), k100 = estimate(100), k1000 = estimate(1000);
  EXPECT_NEAR(k1.first, elbo.first, 4 * std::hypot(k1.second, elbo.second)) << "K = 1 is the ELBO in expectation";
  EXPECT_LT(elbo.first, k10.first);
  EXPECT_LE(k10.first, k100.first + 2 * k100.second);
  EXPECT_LE(k100.first, k1000.first + 2 * k1000.second);
  EXPECT_GT(k1000.first - elbo.first, 0.05) << "a random model's posterior is far from q: the bound must be loose";
}

// log p(x) by quadrature over a 2-D latent: p(x) = sum_g p(x | z_g) N(z_g) h^2
// on a grid of spacing h over [-8, 8]^2. x {0,1} [N, 1, 3, 3] -> double [N].
torch::Tensor quadrature_log_marginal(Vae& m, const torch::Tensor& x) {
  torch::NoGradGuard g;
  const double h = 0.05;
  auto axis = torch::arange(-8.0, 8.0 + h / 2, h, torch::kFloat64);
  auto grid = torch::stack(torch::meshgrid({axis, axis}, "ij"), -1).reshape({-1, 2});  // [G, 2]
  auto logits = m->decoder_logits(grid);                                              // [G, 9]
  auto flat = x.reshape({x.size(0), -1}).to(torch::kFloat64);                        // [N, 9]
  auto log_lik = flat.matmul(torch::log_sigmoid(logits).t()) + (1 - flat).matmul(torch::log_sigmoid(-logits).t());  // [N, G]
  auto log_prior = -0.5 * (grid.pow(2).sum(1) + 2 * std::log(2 * M_PI));             // [G]
  return torch::logsumexp(log_lik + log_prior, 1) + 2 * std::log(h);
}

TEST(Vae, ItsMarginalIsNormalisedAndImportanceSamplingConvergesToIt) {
  // A 3x3 model with a 2-D latent, in double: the marginal p(x) by
  // quadrature sums to 1 over the 512 binary images, and the importance
  // estimate approaches it from below as K grows.
  torch::manual_seed(9);
  Vae m(VaeOptions().net(EncoderDecoderOptions().shape({1, 3, 3}).hidden(8).layers(1).latent(2)));
  m->to(torch::kFloat64);
  {
    torch::NoGradGuard g;
    for (auto& p : m->parameters()) p.normal_(0, 0.7);
  }
  auto codes = torch::arange(512, torch::kInt64).unsqueeze(1);
  auto all = codes.bitwise_right_shift(torch::arange(9, torch::kInt64)).bitwise_and(1).to(torch::kFloat64).reshape({512, 1, 3, 3});
  auto exact = quadrature_log_marginal(m, all);  // [512]
  EXPECT_NEAR(torch::logsumexp(exact, 0).exp().item<double>(), 1.0, 1e-6);
  auto x = all.slice(0, 0, 512, 64);  // 8 images
  auto truth = exact.slice(0, 0, 512, 64);
  torch::NoGradGuard g;
  double gap_small = 0, gap_large = 0;
  for (int s = 0; s < 10; ++s) {
    torch::manual_seed(400 + s);
    m->options.eval_samples(10);
    gap_small += (truth - m->log_prob(x).to(torch::kFloat64)).mean().item<double>() / 10;
    m->options.eval_samples(20000);
    gap_large += (truth - m->log_prob(x).to(torch::kFloat64)).mean().item<double>() / 10;
  }
  EXPECT_GT(gap_small, 0.0) << "a lower bound in expectation";
  EXPECT_GT(gap_large, -0.005);
  EXPECT_LT(gap_large, 0.5 * gap_small) << "the estimate tightens with K";
  EXPECT_LT(gap_large, 0.05);
}

TEST(Vae, TheIwaeBoundIsTighterThanTheElbo) {
  auto m = tiny_vae(4, 5);
  auto x = binary_batch(8, 4);
  torch::NoGradGuard g;
  double elbo = 0, iwae = 0;
  for (int s = 0; s < 30; ++s) {
    torch::manual_seed(200 + s);
    elbo += m->bound_terms(x, 1).bound.mean().item<double>();
    torch::manual_seed(300 + s);
    iwae += m->bound_terms(x, 5).bound.mean().item<double>();
  }
  EXPECT_GT(iwae / 30, elbo / 30 + 0.02);
}

TEST(Vae, TheConvolutionalPairKeepsShapesAndItsGradientMatchesFiniteDifferences) {
  torch::manual_seed(10);
  Vae m(VaeOptions().net(EncoderDecoderOptions().shape({1, 8, 8}).arch(LatentArch::Conv).channels(3).latent(2)));
  m->to(torch::kFloat64);
  auto x = (torch::rand({5, 1, 8, 8}, derived_generator(10, 1)) < 0.4).to(torch::kFloat64);
  auto [mu, logvar] = m->posterior(x);
  EXPECT_EQ(mu.sizes(), (std::vector<int64_t>{5, 2}));
  EXPECT_EQ(m->decoder_logits(torch::zeros({3, 5, 2}, torch::kFloat64)).sizes(), (std::vector<int64_t>{3, 5, 64}));
  EXPECT_EQ(m->decode(mu).sizes(), x.sizes());
  EXPECT_EQ(m->sample(4).sizes(), (std::vector<int64_t>{4, 1, 8, 8}));
  // The k-sample bound through the convolutions, against central differences.
  auto bound = [&] {
    torch::manual_seed(34);
    return m->bound_terms(x, 3).bound.sum();
  };
  m->zero_grad();
  bound().backward();
  for (auto& p : m->named_parameters()) {
    auto flat = p.value().detach().view({-1});
    auto g = p.value().grad().reshape({-1});
    for (int64_t j = 0; j < flat.size(0); j += std::max<int64_t>(1, flat.size(0) / 3)) {
      torch::NoGradGuard ng;
      const double old = flat[j].item<double>();
      flat[j] = old + 1e-6;
      const double up = bound().item<double>();
      flat[j] = old - 1e-6;
      const double down = bound().item<double>();
      flat[j] = old;
      EXPECT_NEAR(g[j].item<double>(), (up - down) / 2e-6, 1e-5 * (1 + std::abs(g[j].item<double>()))) << p.key() << " " << j;
    }
  }
  EXPECT_THROW(Vae(VaeOptions().net(EncoderDecoderOptions().shape({1, 6, 6}).arch(LatentArch::Conv))), c10::Error);  // sides must divide by 4
}

TEST(Vae, GreyDecodersTrainOnTheirData) {
  // Gaussian (learned sigma) on [0,1] pixels and the discretised logistic on
  // whole levels: finite bounds, training lowers -ELBO, samples in range.
  struct Case {
    PixelLikelihood l;
    PixelFormat f;
    torch::Tensor x;
  };
  auto grey = torch::rand({32, 1, 4, 4}, derived_generator(11, 1));
  for (const auto& c : {Case{PixelLikelihood::Gaussian, PixelFormat::Unit, grey},
                        Case{PixelLikelihood::Logistic, PixelFormat::Levels256, (grey * 255).round()}}) {
    torch::manual_seed(11);
    Vae m(VaeOptions().net(
        EncoderDecoderOptions().shape({1, 4, 4}).hidden(16).layers(1).latent(2).likelihood(c.l).format(c.f).learn_sigma(true)));
    Config cfg;
    cfg.set("optim.lr", 0.01);
    ElboObjective objective(m.ptr(), cfg);
    auto score = [&] {
      RngStateGuard guard;
      torch::manual_seed(12);
      return objective.evaluate(c.x, 32).front().second;
    };
    const double before = score();
    ASSERT_TRUE(std::isfinite(before));
    FixedBatch batch(c.x);
    for (int i = 0; i < 60; ++i) objective.step(batch);
    EXPECT_LT(score(), before) << pixel_likelihood_names().name(c.l);
    auto s = m->sample(20);
    EXPECT_GE(s.min().item<double>(), 0);
    EXPECT_LE(s.max().item<double>(), c.f == PixelFormat::Unit ? 1 : 255);
    torch::NoGradGuard g;
    m->options.eval_samples(50);
    EXPECT_TRUE(torch::isfinite(m->log_prob(c.x)).all().item<bool>());
  }
  EXPECT_THROW(Vae(VaeOptions().net(EncoderDecoderOptions().likelihood(PixelLikelihood::Logistic).format(PixelFormat::Binary))), c10::Error);
}

TEST(Vae, ElboObjectiveWarmsBetaUpAndRefusesItForIwae) {
  auto m = tiny_vae(5);
  Config c;
  c.set("objective.beta", 0.5);
  c.set("objective.warmup_steps", int64_t{4});
  ElboObjective objective(m.ptr(), c);
  std::vector<double> betas;
  for (int64_t t : {0, 1, 2, 4, 8}) {
    objective.begin_step(t);
    betas.push_back(objective.beta());
  }
  EXPECT_EQ(betas, (std::vector<double>{0.0, 0.125, 0.25, 0.5, 0.5}));
  // Step 0 weighs the KL by 0: the loss is the reconstruction term alone.
  objective.begin_step(0);
  FixedBatch batch(binary_batch(8, 5));
  Metrics first = objective.step(batch);
  EXPECT_EQ(first.front().first, "loss");
  EXPECT_DOUBLE_EQ(first[0].second, first[1].second) << first[1].first;
  EXPECT_GT(first[2].second, 0.0) << "a KL to weigh";
  // At full weight (step >= warmup) it is reconstruction + 0.5 KL.
  objective.begin_step(4);
  Metrics later = objective.step(batch);
  EXPECT_NEAR(later[0].second, later[1].second + 0.5 * later[2].second, 1e-4);
  auto iwae = tiny_vae(6, 5);
  EXPECT_THROW(ElboObjective(iwae.ptr(), c), Error);
  // An IWAE is selected by the bound it trains, reported first.
  Config plain;
  ElboObjective iwae_objective(iwae.ptr(), plain);
  EXPECT_EQ(iwae_objective.held_out_metrics(), (std::vector<std::string>{"neg_iwae_bound", "neg_elbo"}));
  auto scores = iwae_objective.evaluate(binary_batch(8, 6), 8);
  ASSERT_EQ(scores.front().first, "neg_iwae_bound");
  EXPECT_LT(scores[0].second, scores[1].second + 1.0) << "L_5 is at least about as tight as L_1";
  Config bad;
  bad.set("objective.beta", -1.0);
  EXPECT_THROW(ElboObjective(tiny_vae(7).ptr(), bad), Error);
}

TEST(Vae, TrainingLowersTheNegativeElbo) {
  auto m = tiny_vae(8);
  Config c;
  c.set("optim.lr", 0.01);
  ElboObjective objective(m.ptr(), c);
  auto x = binary_batch(64, 8);
  auto score = [&] {
    RngStateGuard guard;
    torch::manual_seed(9);
    return objective.evaluate(x, 64).front().second;
  };
  const double before = score();
  FixedBatch batch(x);
  for (int i = 0; i < 100; ++i) objective.step(batch);
  EXPECT_LT(score(), before - 1.0);
}

}  // namespace
}  // namespace genzoo
