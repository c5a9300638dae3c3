#include "genzoo/sampling/langevin.h"

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "genzoo/core/error.h"

namespace genzoo {
namespace {

void chain_require(bool ok, const std::string& what) {
  if (!ok) throw Error(what);
}

bool chain_finite(double v) { return std::isfinite(v); }

// The entries a chain may move: a [x-shaped] 0/1 float mask of the free
// entries and the bool mask of the observed ones, or two undefined tensors
// when nothing is observed.
struct ChainMask {
  torch::Tensor free;      // x0's dtype, 1 where the chain moves
  torch::Tensor observed;  // bool
  bool any() const { return observed.defined(); }
  torch::Tensor hold(const torch::Tensor& x, const torch::Tensor& x0) const {
    return any() ? torch::where(observed, x0, x) : x;
  }
  torch::Tensor only_free(const torch::Tensor& v) const { return any() ? v * free : v; }
};

ChainMask chain_mask(const torch::Tensor& observed, const torch::Tensor& x0) {
  ChainMask mask;
  if (!observed.defined()) return mask;
  TORCH_CHECK(observed.sizes() == x0.sizes(), "sampler: the observed mask must have the states' shape ", x0.sizes(),
              ", got ", observed.sizes());
  mask.observed = observed.to(torch::kBool);
  mask.free = (~mask.observed).to(x0.scalar_type());
  return mask;
}

void chain_check_start(const torch::Tensor& x0) {
  TORCH_CHECK(x0.defined() && x0.dim() >= 1 && x0.size(0) >= 1, "sampler: the start must be [N, ...] with N >= 1");
  TORCH_CHECK(x0.is_floating_point(), "sampler: the start must be floating point, got ", x0.scalar_type());
}

// Keeps the start, every k-th state and the last one.
class ChainRecorder {
 public:
  ChainRecorder(int64_t every, int64_t steps) : every_(every), steps_(steps) {}
  void add(int64_t step, const torch::Tensor& x) {
    if (every_ > 0 && (step % every_ == 0 || step == steps_)) states_.push_back(x);
  }
  torch::Tensor stacked() const { return states_.empty() ? torch::Tensor() : torch::stack(states_); }

 private:
  int64_t every_, steps_;
  std::vector<torch::Tensor> states_;
};

// ‖v‖₂ per row, [N].
torch::Tensor chain_row_norm(const torch::Tensor& v) { return v.flatten(1).norm(2, 1); }

// Per-row mask [N] broadcast against [N, ...].
torch::Tensor chain_per_row(const torch::Tensor& rows, const torch::Tensor& like) {
  std::vector<int64_t> shape(static_cast<size_t>(like.dim()), 1);
  shape[0] = like.size(0);
  return rows.view(shape);
}

torch::Tensor chain_noise(const torch::Tensor& like, const c10::optional<torch::Generator>& generator) {
  return torch::randn(like.sizes(), generator, like.options());
}

ChainResult chain_finish(torch::Tensor x, torch::Tensor e, const torch::Tensor& accepted_count, int64_t steps,
                   double grad_norm_sum, int64_t evaluations, const ChainRecorder& recorder) {
  ChainResult result;
  result.x = std::move(x);
  result.energy = std::move(e);
  result.accepted = steps > 0 ? accepted_count / static_cast<double>(steps) : torch::ones_like(accepted_count);
  result.acceptance = result.accepted.mean().item<double>();
  result.grad_norm = steps > 0 ? grad_norm_sum / static_cast<double>(steps) : 0.0;
  result.gradient_evaluations = evaluations;
  result.trajectory = recorder.stacked();
  return result;
}

// What MALA and HMC share: the masked start with its energy and gradient,
// the per-chain acceptance count, the trajectory and the gradient-norm sum;
// accept() moves the chains that accepted their proposal.
struct MetropolisChain {
  MetropolisChain(const EnergyFunction& energy, const torch::Tensor& x0, const torch::Tensor& observed,
                  int64_t record_every, int64_t steps)
      : mask(chain_mask(observed, x0)), start(x0.detach()), x(start.clone()), recorder(record_every, steps) {
    std::tie(e, g) = energy_and_input_gradient(energy, x);
    g = mask.only_free(g);
    accepted = torch::zeros({x.size(0)}, x.options());  // [N]
    recorder.add(0, x);
  }
  void accept(const torch::Tensor& accept, const torch::Tensor& proposal, const torch::Tensor& e_new,
              const torch::Tensor& g_new, int64_t step) {
    x = torch::where(chain_per_row(accept, x), proposal, x);
    g = torch::where(chain_per_row(accept, g), g_new, g);
    e = torch::where(accept, e_new, e);
    accepted = accepted + accept.to(x.scalar_type());
    recorder.add(step, x);
  }
  ChainResult finish(int64_t steps, int64_t evaluations) const {
    return chain_finish(x, e, accepted, steps, grad_norm_sum, evaluations, recorder);
  }

  ChainMask mask;
  torch::Tensor start, x, e, g, accepted;  // x, g [N, ...]; e, accepted [N]
  ChainRecorder recorder;
  double grad_norm_sum = 0;
};

}  // namespace

LangevinOptions LangevinOptions::coupled(double epsilon, int64_t steps) {
  return LangevinOptions().steps(steps).drift(epsilon * epsilon / 2).noise(epsilon);
}

LangevinOptions LangevinOptions::separate(double drift, double noise, int64_t steps) {
  return LangevinOptions().steps(steps).drift(drift).noise(noise);
}

ChainResult langevin(const EnergyFunction& energy, const torch::Tensor& x0, const LangevinOptions& o,
                     const torch::Tensor& observed, c10::optional<torch::Generator> generator) {
  chain_require(o.steps() >= 0, "langevin: steps must be >= 0, got " + std::to_string(o.steps()));
  chain_require(chain_finite(o.drift()) && o.drift() >= 0, "langevin: the drift (step) must be finite and >= 0");
  chain_require(chain_finite(o.noise()) && o.noise() >= 0, "langevin: the noise must be finite and >= 0");
  chain_require(chain_finite(o.grad_clip()) && o.grad_clip() >= 0,
                 "langevin: the gradient clip must be finite and >= 0 (0 = off)");
  chain_require(!o.clamp() || (chain_finite(o.low()) && chain_finite(o.high()) && o.low() < o.high()),
                 "langevin: the clamp range needs low < high");
  chain_require(o.record_every() >= 0, "langevin: record_every must be >= 0");
  chain_check_start(x0);
  const ChainMask mask = chain_mask(observed, x0);
  const torch::Tensor start = x0.detach();
  torch::Tensor x = start.clone();  // [N, ...]
  ChainRecorder recorder(o.record_every(), o.steps());
  recorder.add(0, x);
  double grad_norm_sum = 0;
  for (int64_t t = 0; t < o.steps(); ++t) {
    const bool noisy = o.noise() > 0;
    if (noisy && o.noise_first()) x = mask.hold(x + o.noise() * chain_noise(x, generator), start);
    torch::Tensor g = mask.only_free(input_gradient(energy, x));  // [N, ...]
    grad_norm_sum += chain_row_norm(g).mean().item<double>();
    if (o.grad_clip() > 0) g = g.clamp(-o.grad_clip(), o.grad_clip());
    torch::Tensor next = x - o.drift() * g;
    if (noisy && !o.noise_first()) next = next + o.noise() * chain_noise(x, generator);
    if (o.clamp()) next = next.clamp(o.low(), o.high());
    x = mask.hold(next, start);
    recorder.add(t + 1, x);
  }
  torch::Tensor e;
  {
    torch::NoGradGuard no_grad;
    e = energy(x).detach();  // [N]
  }
  return chain_finish(x, e, torch::full({x.size(0)}, static_cast<double>(o.steps()), x.options()), o.steps(),
                grad_norm_sum, o.steps(), recorder);
}

ChainResult mala(const EnergyFunction& energy, const torch::Tensor& x0, const MalaOptions& o,
                 const torch::Tensor& observed, c10::optional<torch::Generator> generator) {
  chain_require(o.steps() >= 0, "mala: steps must be >= 0, got " + std::to_string(o.steps()));
  chain_require(chain_finite(o.step_size()) && o.step_size() > 0, "mala: the step size must be finite and > 0");
  chain_require(o.record_every() >= 0, "mala: record_every must be >= 0");
  chain_check_start(x0);
  MetropolisChain c(energy, x0, observed, o.record_every(), o.steps());
  const double eps = o.step_size(), drift = eps * eps / 2, variance = eps * eps;
  for (int64_t t = 0; t < o.steps(); ++t) {
    c.grad_norm_sum += chain_row_norm(c.g).mean().item<double>();
    torch::Tensor forward_mean = c.x - drift * c.g;
    torch::Tensor proposal = c.mask.hold(forward_mean + eps * c.mask.only_free(chain_noise(c.x, generator)), c.start);
    auto [e_new, g_new] = energy_and_input_gradient(energy, proposal);
    g_new = c.mask.only_free(g_new);
    // log q(proposal | x) and log q(x | proposal), up to the same constant;
    // observed entries are equal in both states and add nothing.
    torch::Tensor log_forward = -(proposal - forward_mean).pow(2).flatten(1).sum(1) / (2 * variance);
    torch::Tensor log_backward = -(c.x - (proposal - drift * g_new)).pow(2).flatten(1).sum(1) / (2 * variance);
    torch::Tensor log_alpha = (c.e - e_new) + log_backward - log_forward;  // [N]
    torch::Tensor u = torch::rand({c.x.size(0)}, generator, c.x.options());
    c.accept(u.log() < log_alpha, proposal, e_new, g_new, t + 1);  // NaN energies are rejected
  }
  return c.finish(o.steps(), o.steps() + 1);
}

ChainResult hmc(const EnergyFunction& energy, const torch::Tensor& x0, const HmcOptions& o,
                const torch::Tensor& observed, c10::optional<torch::Generator> generator) {
  chain_require(o.steps() >= 0, "hmc: steps must be >= 0, got " + std::to_string(o.steps()));
  chain_require(o.leapfrog() >= 1, "hmc: leapfrog steps must be >= 1, got " + std::to_string(o.leapfrog()));
  chain_require(chain_finite(o.step_size()) && o.step_size() > 0, "hmc: the step size must be finite and > 0");
  chain_require(o.record_every() >= 0, "hmc: record_every must be >= 0");
  chain_check_start(x0);
  MetropolisChain c(energy, x0, observed, o.record_every(), o.steps());
  const double h = o.step_size();
  int64_t evaluations = 1;
  for (int64_t t = 0; t < o.steps(); ++t) {
    c.grad_norm_sum += chain_row_norm(c.g).mean().item<double>();
    torch::Tensor p = c.mask.only_free(chain_noise(c.x, generator));  // [N, ...]
    torch::Tensor h_start = c.e + 0.5 * p.pow(2).flatten(1).sum(1);    // [N]
    torch::Tensor xn = c.x, en = c.e, gn = c.g, pn = p - (h / 2) * c.g;
    for (int64_t l = 0; l < o.leapfrog(); ++l) {
      xn = c.mask.hold(xn + h * pn, c.start);
      std::tie(en, gn) = energy_and_input_gradient(energy, xn);
      gn = c.mask.only_free(gn);
      ++evaluations;
      pn = pn - (l + 1 < o.leapfrog() ? h : h / 2) * gn;
    }
    torch::Tensor h_end = en + 0.5 * pn.pow(2).flatten(1).sum(1);  // [N]
    torch::Tensor u = torch::rand({c.x.size(0)}, generator, c.x.options());
    c.accept(u.log() < (h_start - h_end), xn, en, gn, t + 1);  // NaN energies are rejected
  }
  return c.finish(o.steps(), evaluations);
}

}  // namespace genzoo
