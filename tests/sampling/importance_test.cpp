#include "genzoo/sampling/importance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"
#include "test_support.h"

namespace genzoo {
namespace {

// Linear-Gaussian latent model: z ~ N(0, I_d), x | z ~ N(W z + b, s² I_D).
// Closed forms: p(x) = N(b, W Wᵀ + s² I); posterior q*(z|x) = N(m, S) with
// S = (I + Wᵀ W / s²)⁻¹, m = S Wᵀ (x − b) / s².
struct LinearGaussian {
  int64_t d = 2, big_d = 3;
  double s = 0.5;
  torch::Tensor w = torch::tensor({{1.0, 0.5}, {-0.3, 0.8}, {0.2, -1.1}}, torch::kFloat64);  // [D, d]
  torch::Tensor b = torch::tensor({0.1, -0.2, 0.3}, torch::kFloat64);                        // [D]

  static torch::Tensor gaussian_log_density(const torch::Tensor& x, const torch::Tensor& mean,
                                            const torch::Tensor& cov) {
    // x [.., D], mean broadcastable, cov [D, D]
    auto l = torch::linalg_cholesky(cov);
    auto diff = (x - mean).unsqueeze(-1);
    auto sol = torch::linalg_solve_triangular(l, diff, /*upper=*/false).squeeze(-1);
    double logdet = 2 * l.diagonal().log().sum().item<double>();
    return -0.5 * (sol.pow(2).sum(-1) + logdet + cov.size(0) * std::log(2 * testing::kPi));
  }

  torch::Tensor log_marginal(const torch::Tensor& x) const {
    return gaussian_log_density(x, b, w.matmul(w.t()) + s * s * torch::eye(big_d, torch::kFloat64));
  }

  torch::Tensor log_joint(const torch::Tensor& x, const torch::Tensor& z) const {  // z [k, N, d]
    auto prior = gaussian_log_density(z, torch::zeros({d}, torch::kFloat64), torch::eye(d, torch::kFloat64));
    auto mean = z.matmul(w.t()) + b;  // [k, N, D]
    auto lik = gaussian_log_density(x.unsqueeze(0), mean, s * s * torch::eye(big_d, torch::kFloat64));
    return prior + lik;  // [k, N]
  }

  ImportanceModel with_posterior(torch::Generator gen) const {
    ImportanceModel m;
    auto cov = torch::linalg_inv(torch::eye(d, torch::kFloat64) + w.t().matmul(w) / (s * s));  // [d, d]
    auto chol = torch::linalg_cholesky(cov);
    m.propose = [=](const torch::Tensor& x, int64_t k) mutable {
      auto mean = (x - b).matmul(w) .matmul(cov.t()) / (s * s);  // [N, d]
      auto eps = torch::randn({k, x.size(0), d}, gen, torch::kFloat64);
      auto z = mean.unsqueeze(0) + eps.matmul(chol.t());  // [k, N, d]
      return std::make_pair(z, gaussian_log_density(z, mean, cov));
    };
    m.log_joint = [this](const torch::Tensor& x, const torch::Tensor& z) { return log_joint(x, z); };
    return m;
  }

  ImportanceModel with_prior(torch::Generator gen) const {
    ImportanceModel m;
    m.propose = [=](const torch::Tensor& x, int64_t k) mutable {
      auto z = torch::randn({k, x.size(0), d}, gen, torch::kFloat64);
      return std::make_pair(z, gaussian_log_density(z, torch::zeros({d}, torch::kFloat64),
                                                    torch::eye(d, torch::kFloat64)));
    };
    m.log_joint = [this](const torch::Tensor& x, const torch::Tensor& z) { return log_joint(x, z); };
    return m;
  }
};

TEST(Importance, ExactWithTheTruePosteriorForAnyK) {
  LinearGaussian lg;
  auto x = torch::randn({20, 3}, derived_generator(1, 1), torch::kFloat64);
  auto truth = lg.log_marginal(x);
  // K = 1 is the ELBO; K = 7 with chunks of 3 combines three chunks (3, 3, 1).
  for (auto [k, chunk] : {std::pair<int64_t, int64_t>{1, 500}, {7, 3}, {64, 64}, {100, 30}}) {
    auto est = importance_log_likelihood(lg.with_posterior(derived_generator(1, 2 + k)), x, k, chunk);
    EXPECT_LT((est - truth).abs().max().item<double>(), 1e-9) << "K = " << k << ", chunk " << chunk;
  }
}

TEST(Importance, TightensTowardsTheTruthAsKGrowsWithAPoorProposal) {
  LinearGaussian lg;
  auto x = torch::randn({50, 3}, derived_generator(2, 1), torch::kFloat64);
  auto truth = lg.log_marginal(x).mean().item<double>();
  double elbo = importance_log_likelihood(lg.with_prior(derived_generator(2, 2)), x, 1).mean().item<double>();
  double k5000 = importance_log_likelihood(lg.with_prior(derived_generator(2, 3)), x, 5000, 512)
                     .mean().item<double>();
  double k10 = importance_log_likelihood(lg.with_prior(derived_generator(2, 4)), x, 10).mean().item<double>();
  // The bound holds in expectation, not for every draw, so what is checked is
  // its tightening with K: far below at K = 1, closer at K = 10, and within
  // 0.02 nats (averaged over 50 points) at K = 5000.
  EXPECT_LT(elbo, truth - 0.5);
  EXPECT_LT(elbo, k10);
  EXPECT_LT(k10, truth - 0.05);
  EXPECT_NEAR(k5000, truth, 0.02);
}

TEST(Importance, ChunkingOnlyChangesMemoryNotTheResult) {
  // A deterministic "proposal": the j-th latent drawn is the number j, with
  // log q = 0, and log p(x, z) = -0.1 z (x + 1). Then the estimate is
  // logsumexp_j(-0.1 j (x + 1)) - log K, whatever the chunk size.
  auto counting = [] {
    auto next = std::make_shared<int64_t>(0);
    ImportanceModel m;
    m.propose = [next](const torch::Tensor& x, int64_t k) {
      auto z = torch::arange(*next, *next + k, torch::kFloat64).unsqueeze(1).expand({k, x.size(0)});
      *next += k;
      return std::make_pair(z.clone(), torch::zeros({k, x.size(0)}, torch::kFloat64));
    };
    m.log_joint = [](const torch::Tensor& x, const torch::Tensor& z) { return -0.1 * z * (x + 1); };
    return m;
  };
  auto x = torch::tensor({0.0, 1.0, 2.0}, torch::kFloat64);
  auto whole = importance_log_likelihood(counting(), x, 10, 10);
  auto pieces = importance_log_likelihood(counting(), x, 10, 3);
  auto j = torch::arange(10, torch::kFloat64).unsqueeze(1);
  auto truth = torch::logsumexp(-0.1 * j * (x + 1), 0) - std::log(10.0);
  EXPECT_TRUE(torch::allclose(whole, truth, 0, 1e-12));
  EXPECT_TRUE(torch::allclose(pieces, truth, 0, 1e-12));
}

TEST(Importance, BadArgumentsAreErrors) {
  LinearGaussian lg;
  auto x = torch::zeros({2, 3}, torch::kFloat64);
  EXPECT_THROW(importance_log_likelihood(lg.with_prior(derived_generator(0, 0)), x, 0), Error);
  EXPECT_THROW(importance_log_likelihood(lg.with_prior(derived_generator(0, 0)), x, 10, 0), Error);
  EXPECT_THROW(importance_log_likelihood(ImportanceModel{}, x, 10), Error);
  // A log q or log p(x, z) of the wrong shape is refused before the two are
  // combined: [k, 1] or [N] would broadcast silently against [k, N].
  auto with_log_q = [&](std::function<torch::Tensor(int64_t)> log_q) {
    ImportanceModel m = lg.with_prior(derived_generator(0, 1));
    auto propose = m.propose;
    m.propose = [propose, log_q](const torch::Tensor& xs, int64_t k) {
      auto [z, lq] = propose(xs, k);
      return std::make_pair(z, log_q(k));
    };
    return m;
  };
  EXPECT_THROW(importance_log_likelihood(with_log_q([](int64_t k) { return torch::zeros({k, 1}, torch::kFloat64); }), x, 4),
               c10::Error);
  EXPECT_THROW(importance_log_likelihood(with_log_q([](int64_t) { return torch::zeros({2}, torch::kFloat64); }), x, 4),
               c10::Error);
  ImportanceModel short_joint = lg.with_prior(derived_generator(0, 2));
  short_joint.log_joint = [](const torch::Tensor& xs, const torch::Tensor& z) {
    return torch::zeros({z.size(0), 1}, torch::kFloat64);
  };
  EXPECT_THROW(importance_log_likelihood(short_joint, x, 4), c10::Error);
}

}  // namespace
}  // namespace genzoo
