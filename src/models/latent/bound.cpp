#include "genzoo/models/latent/bound.h"

#include <algorithm>
#include <cmath>

#include "genzoo/sampling/importance.h"

namespace genzoo {

namespace {

constexpr double kLog2Pi = 1.8378770664093453;  // log(2 pi)

// log q(z|x) at z = mu + sigma eps: -1/2 sum_j (eps_j^2 + log sigma_j^2 + log 2 pi).
torch::Tensor posterior_log_density(const torch::Tensor& eps, const torch::Tensor& logvar) {
  return -0.5 * (eps.pow(2) + logvar + kLog2Pi).sum(-1);
}

}  // namespace

torch::Tensor standard_normal_log_density(const torch::Tensor& z) { return -0.5 * (z.pow(2) + kLog2Pi).sum(-1); }

torch::Tensor gaussian_kl(const torch::Tensor& mu, const torch::Tensor& logvar) {
  // Kingma & Welling 2014, appendix B: -KL = 1/2 sum_j (1 + log s_j^2 - m_j^2 - s_j^2).
  return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1);  // [N]
}

BoundTerms gaussian_latent_bound(const torch::Tensor& mu, const torch::Tensor& logvar, int64_t k,
                                 const LatentLogLikelihood& log_likelihood) {
  TORCH_CHECK(k >= 1, "the bound needs k >= 1 samples of z, got ", k);
  auto sigma = (0.5 * logvar).exp();
  BoundTerms t;
  t.kl = gaussian_kl(mu, logvar);
  if (k == 1) {
    auto z = mu + sigma * torch::randn_like(mu);  // reparameterised: [N, Z]
    t.reconstruction = log_likelihood(z);         // [N]
    t.bound = t.reconstruction - t.kl;
    return t;
  }
  auto eps = torch::randn({k, mu.size(0), mu.size(1)}, mu.options());  // [k, N, Z]
  auto z = mu + sigma * eps;                                          // [k, N, Z]
  auto log_lik = log_likelihood(z);                                    // [k, N]
  auto log_w = log_lik + standard_normal_log_density(z) - posterior_log_density(eps, logvar);  // [k, N]
  t.bound = torch::logsumexp(log_w, 0) - std::log(static_cast<double>(k));  // Burda et al. 2016, eq. 8
  t.reconstruction = log_lik.mean(0);
  return t;
}

torch::Tensor gaussian_latent_log_prob(const torch::Tensor& x, int64_t samples, int64_t chunk,
                                       const GaussianPosterior& posterior, const BatchLogLikelihood& log_likelihood) {
  torch::NoGradGuard no_grad;
  // The posterior once: every chunk of samples is drawn for all of x.
  auto [mu, logvar] = posterior(x);  // [N, Z]
  ImportanceModel m;
  m.propose = [&, mu = mu, logvar = logvar](const torch::Tensor& xs, int64_t k) {
    TORCH_CHECK(xs.size(0) == mu.size(0), "importance sampling: proposals for ", xs.size(0), " rows, the posterior has ",
                mu.size(0));
    auto eps = torch::randn({k, mu.size(0), mu.size(1)}, mu.options());  // [k, N, Z]
    return std::make_pair(mu + (0.5 * logvar).exp() * eps, posterior_log_density(eps, logvar));
  };
  m.log_joint = [&](const torch::Tensor& xs, const torch::Tensor& z) {
    return log_likelihood(xs, z) + standard_normal_log_density(z);  // [k, N]
  };
  return importance_log_likelihood(m, x, samples, chunk);
}

int64_t importance_chunk(int64_t rows, int64_t dims, bool conv) {
  const int64_t per_sample = std::max<int64_t>(1, rows) * dims * (conv ? 8 : 1);
  return std::max<int64_t>(1, 20000000 / per_sample);
}

}  // namespace genzoo
