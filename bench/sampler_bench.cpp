// The samplers of sampling/langevin.h measured against each other and a
// PyTorch reference.
//
//   genzoo_sampler_bench ess [--seconds S] [--threads N]
//     Langevin, MALA and HMC on a known 2-D energy, a Gaussian with
//     correlation 0.95 (E(x) = x' Σ⁻¹ x / 2, Σ = [[1, ρ], [ρ, 1]]; the
//     condition number 39 is what makes a gradient sampler slow), 200
//     chains from N(0, I). For each sampler and step size of a grid: the
//     effective sample size per second (the smaller of the two coordinates',
//     Geyer's initial monotone sequence estimate of the autocorrelation
//     time, over all chains after a burn-in of a fifth), the acceptance
//     rate, and the error of the sampled variance (unadjusted Langevin is
//     biased by O(ε²); MALA and HMC are not).
//
//   genzoo_sampler_bench langevin-step [--size S] [--steps K] [--threads N]
//     Seconds per Langevin step of the Generative ConvNet texture net
//     (100x15s3p2, 64x5s1p2, 30x3s1p2, ReLU, sum over positions, σ = 1,
//     δ = 0.3) on one S x S chain: the input gradient of the energy and the
//     update, the work bench/peers/genconvnet.py does in PyTorch.
//
//   genzoo_sampler_bench igebm [--batch B] [--steps K] [--filters F] [--iterations T] [--threads N]
//     IGEBM on 28 x 28 images (the paper's MNIST net with F filters,
//     LeakyReLU, spectral norm): seconds per Langevin step on B chains
//     (noise 0.005 first, gradient clipped to 0.01, step 10, clamp), and
//     seconds per training iteration (K Langevin steps from the replay
//     buffer, the loss E(x+) - E(x-) + (E(x+)^2 + E(x-)^2), its backward,
//     an Adam step and one power iteration), the work bench/peers/igebm.py
//     does in PyTorch.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "genzoo/core/device.h"
#include "genzoo/core/config.h"
#include "genzoo/models/energy/generative_convnet.h"
#include "genzoo/models/energy/igebm.h"
#include "genzoo/train/objectives/contrastive.h"
#include "genzoo/sampling/langevin.h"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

constexpr double kRho = 0.95;

torch::Tensor gaussian_energy(const torch::Tensor& x) {  // x [N, 2]
  const double det = 1 - kRho * kRho;
  auto a = x.select(1, 0), b = x.select(1, 1);
  return (a * a - 2 * kRho * a * b + b * b) / (2 * det);
}

// Effective sample size of chains [T, C] (one coordinate): T C / τ, τ = 1 +
// 2 Σ ρ_k, summed over Geyer's initial monotone positive sequence of pair
// sums ρ_{2m} + ρ_{2m+1}, with ρ_k averaged over the chains.
double effective_sample_size(const torch::Tensor& chains) {
  auto x = chains.to(torch::kFloat64);
  const int64_t t = x.size(0), c = x.size(1);
  auto centred = x - x.mean();
  const double var = centred.pow(2).mean().item<double>();
  // The 1/T autocovariance estimator (Geyer 1992's sequence assumes it).
  auto rho = [&](int64_t k) {
    return (centred.slice(0, k) * centred.slice(0, 0, t - k)).sum().item<double>() / static_cast<double>(t * c) / var;
  };
  double tau = -1;  // 1 + 2 Σ_{k>=1} ρ_k = -1 + 2 Σ_{m>=0} (ρ_{2m} + ρ_{2m+1})
  double previous = 1e300;
  for (int64_t m = 0; 2 * m + 1 < t / 2; ++m) {
    double pair = rho(2 * m) + rho(2 * m + 1);
    if (pair <= 0) break;
    pair = std::min(pair, previous);  // monotone
    previous = pair;
    tau += 2 * pair;
  }
  return static_cast<double>(t * c) / std::max(tau, 1.0 / static_cast<double>(t));
}

struct Measured {
  double seconds, ess, acceptance, var_error;
  int64_t gradients;
};

template <typename Run>
Measured measure(Run run, int64_t steps) {
  torch::manual_seed(1);
  auto x0 = torch::randn({200, 2}, torch::kFloat64);
  const double t0 = now();
  genzoo::ChainResult r = run(x0, steps);
  const double seconds = now() - t0;
  auto kept = r.trajectory.slice(0, r.trajectory.size(0) / 5);  // [T, C, 2] after burn-in
  const double ess = std::min(effective_sample_size(kept.select(2, 0)), effective_sample_size(kept.select(2, 1)));
  const double var = kept.flatten(0, 1).var(0).mean().item<double>();
  return {seconds, ess, r.acceptance, var - 1.0, r.gradient_evaluations};
}

void print(const char* name, double step, const Measured& m) {
  if (!std::isfinite(m.var_error)) {
    std::printf("| %s | %.3g | diverged | %.1f | | | %lld |\n", name, step, m.seconds,
                static_cast<long long>(m.gradients));
    return;
  }
  std::printf("| %s | %.3g | %.0f | %.1f | %.3f | %+.3f | %lld |\n", name, step, m.ess / m.seconds, m.seconds,
              m.acceptance, m.var_error, static_cast<long long>(m.gradients));
  std::fflush(stdout);
}

int ess_main(double seconds) {
  std::printf("| sampler | step | ESS / s | wall s | acceptance | variance error | gradient evaluations |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  // Steps per sampler sized so that each runs about `seconds`: measured
  // with a short pilot run.
  auto sized = [&](auto run) {
    const double t0 = now();
    torch::manual_seed(1);
    run(torch::randn({200, 2}, torch::kFloat64), 200);
    const double per_step = (now() - t0) / 200;
    return std::max<int64_t>(1000, static_cast<int64_t>(seconds / per_step));
  };
  for (double eps : {0.05, 0.1, 0.2, 0.3, 0.4}) {  // stable while (ε²/2) λ_max(Σ⁻¹) < 2: ε < 0.447
    auto run = [&](const torch::Tensor& x0, int64_t steps) {
      return genzoo::langevin(gaussian_energy, x0, genzoo::LangevinOptions::coupled(eps, steps).record_every(1));
    };
    print("langevin", eps, measure(run, sized(run)));
  }
  for (double eps : {0.1, 0.2, 0.3, 0.4, 0.5}) {
    auto run = [&](const torch::Tensor& x0, int64_t steps) {
      return genzoo::mala(gaussian_energy, x0, genzoo::MalaOptions().steps(steps).step_size(eps).record_every(1));
    };
    print("mala", eps, measure(run, sized(run)));
  }
  for (double h : {0.05, 0.1, 0.2, 0.3}) {
    auto run = [&](const torch::Tensor& x0, int64_t steps) {
      return genzoo::hmc(gaussian_energy, x0,
                         genzoo::HmcOptions().steps(steps).leapfrog(10).step_size(h).record_every(1));
    };
    print("hmc (L = 10)", h, measure(run, sized(run)));
  }
  return 0;
}

int step_main(int64_t size, int64_t steps) {
  torch::manual_seed(0);
  genzoo::GenerativeConvNet net(genzoo::GenerativeConvNetOptions().height(size).width(size));
  net->eval();
  if (std::getenv("GENZOO_BENCH_FROZEN"))  // parameters without requires_grad, as the PyTorch peer's
    for (auto& p : net->parameters()) p.set_requires_grad(false);
  auto energy = [&](const torch::Tensor& i) { return net->model_energy(i); };
  auto image = torch::zeros({1, 1, size, size});
  torch::NoGradGuard no_grad;
  genzoo::langevin(energy, image, net->langevin_options(3));  // warm-up
  const double t0 = now();
  auto r = genzoo::langevin(energy, image, net->langevin_options(steps));
  const double per_step = (now() - t0) / static_cast<double>(steps);
  std::printf("genzoo langevin step, texture net, 1 chain %lld x %lld: %.4f s\n", static_cast<long long>(size),
              static_cast<long long>(size), per_step);
  return r.x.defined() ? 0 : 1;
}

int igebm_main(int64_t batch, int64_t steps, int64_t filters, int64_t iterations) {
  torch::manual_seed(0);
  genzoo::Igebm net(genzoo::IgebmOptions().filters(filters));
  auto chains = torch::rand({batch, 1, 28, 28});
  {
    torch::NoGradGuard no_grad;
    auto energy = [&](const torch::Tensor& x) { return net->class_energy(x, {}); };
    genzoo::langevin(energy, chains, net->langevin_options(3));  // warm-up
    const double t0 = now();
    genzoo::langevin(energy, chains, net->langevin_options(steps));
    std::printf("genzoo igebm langevin step, %lld chains, %lld filters: %.4f s\n", static_cast<long long>(batch),
                static_cast<long long>(filters), (now() - t0) / static_cast<double>(steps));
  }
  genzoo::Config c;
  c.set("optim.name", std::string("adam"));
  c.set("optim.lr", 3e-4);
  c.set("optim.beta1", 0.0);
  c.set("optim.beta2", 0.999);
  c.set("objective.langevin_steps", steps);
  genzoo::EbmContrastiveObjective objective(net.ptr(), c);
  genzoo::FixedBatch data(torch::rand({batch, 1, 28, 28}));
  objective.step(data);  // warm-up (and a first buffer)
  objective.step(data);
  const double t0 = now();
  for (int64_t i = 0; i < iterations; ++i) objective.step(data);
  std::printf("genzoo igebm training iteration, batch %lld, %lld Langevin steps, %lld filters: %.4f s\n",
              static_cast<long long>(batch), static_cast<long long>(steps), static_cast<long long>(filters),
              (now() - t0) / static_cast<double>(iterations));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: genzoo_sampler_bench ess|langevin-step|igebm [--seconds S] [--size S] [--steps K] [--batch B] [--filters F] [--iterations T] [--threads N]\n");
    return 2;
  }
  const std::string what = argv[1];
  double seconds = 5;
  int64_t size = 224, steps = 20, batch = 64, filters = 32, iterations = 3;
  int threads = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--seconds") seconds = std::atof(argv[i + 1]);
    else if (flag == "--size") size = std::atoll(argv[i + 1]);
    else if (flag == "--steps") steps = std::atoll(argv[i + 1]);
    else if (flag == "--threads") threads = std::atoi(argv[i + 1]);
    else if (flag == "--batch") batch = std::atoll(argv[i + 1]);
    else if (flag == "--filters") filters = std::atoll(argv[i + 1]);
    else if (flag == "--iterations") iterations = std::atoll(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  genzoo::set_threads(threads);
  if (what == "ess") return ess_main(seconds);
  if (what == "langevin-step") return step_main(size, steps);
  if (what == "igebm") return igebm_main(batch, steps, filters, iterations);
  std::fprintf(stderr, "unknown benchmark '%s' (ess, langevin-step or igebm)\n", what.c_str());
  return 2;
}
