// genzoo compose RUN[:CLASS] RUN[:CLASS] ... [--weights w,...]: samples of a
// product of experts, Langevin on the weighted sum of the runs' energies
// (Du & Mordatch 2019, sec. 4.4): p(x) ∝ Π_k p_k(x)^{w_k}, so
// E(x) = Σ_k w_k E_k(x). A RUN:CLASS term is the class-conditional energy
// E(x, CLASS) of a cigebm run; a plain RUN is the run's energy (the
// marginal over classes for a cigebm). Chains start from uniform noise;
// the sampler's settings default to the first IGEBM run's.
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/models/energy/igebm.h"
#include "genzoo/report/png_grid.h"
#include "genzoo/sampling/energy.h"
#include "genzoo/sampling/langevin.h"

namespace genzoo::cli {

namespace {

struct ComposeArgs {
  std::vector<std::string> terms;
  std::vector<double> weights;
  std::string out, checkpoint = "best";
  int64_t n = 16, steps = -1, seed = 0;
  double step_size = -1, noise = -1, grad_clip = -1;
  int threads = 0;
};

struct Term {
  std::string spec, dir;
  int64_t label = -1;  // >= 0: the class-conditional energy of this class
  std::shared_ptr<Run> run;  // shared by the terms of one run folder (RUN:3 RUN:7)
};

// "DIR:CLASS" -> (DIR, CLASS) when the part after the last ':' is a whole
// number; else (spec, -1).
std::pair<std::string, int64_t> split_term(const std::string& spec) {
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos || colon + 1 == spec.size()) return {spec, -1};
  const std::string tail = spec.substr(colon + 1);
  for (char ch : tail)
    if (ch < '0' || ch > '9') return {spec, -1};
  if (tail.size() > 6) throw Error("'" + spec + "': class " + tail + " is out of range");
  return {spec.substr(0, colon), std::stoll(tail)};
}

void run_compose(const ComposeArgs& a) {
  apply_threads(a.threads);
  if (!a.weights.empty() && a.weights.size() != a.terms.size())
    throw Error("--weights gives " + std::to_string(a.weights.size()) + " weights for " +
                std::to_string(a.terms.size()) + " energies");
  for (double w : a.weights)
    if (!std::isfinite(w)) throw Error("--weights must be finite numbers");
  if (!a.out.empty() && (a.out.size() < 4 || a.out.substr(a.out.size() - 4) != ".png"))
    throw Error("--out '" + a.out + "': compose writes a .png grid");
  std::vector<Term> terms;
  std::map<std::string, std::shared_ptr<Run>> opened;  // each folder loaded once
  for (const auto& spec : a.terms) {
    Term t;
    t.spec = spec;
    std::tie(t.dir, t.label) = split_term(spec);
    auto& run = opened[t.dir];
    if (!run) run = std::make_shared<Run>(open_run(t.dir, a.checkpoint));
    t.run = run;
    terms.push_back(std::move(t));
  }
  const Run& first = *terms.front().run;
  std::vector<EnergyFunction> energies;
  IgebmImpl* sampler_source = nullptr;
  for (auto& t : terms) {
    const auto& s = t.run->spec;
    if (!t.run->data.to_display || s.format != PixelFormat::Unit)
      throw Error("'" + t.spec + "': compose samples images in [0, 1], and model '" + t.run->info->name + "' models " +
                  std::string(pixel_format_names().name(s.format)) + " data");
    if (s.channels != first.spec.channels || s.height != first.spec.height || s.width != first.spec.width)
      throw Error("'" + t.spec + "' models " + std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" +
                  std::to_string(s.width) + " images, '" + terms.front().spec + "' " +
                  std::to_string(first.spec.channels) + "x" + std::to_string(first.spec.height) + "x" +
                  std::to_string(first.spec.width) + ": the energies must share one image space");
    auto* core = igebm_core(t.run->model);
    if (core && !sampler_source) sampler_source = core;
    if (t.label >= 0) {
      if (!core || core->options.classes() == 0)
        throw Error("'" + t.spec + "': model '" + t.run->info->name +
                    "' has no class-conditional energy (a cigebm run has; drop ':" + std::to_string(t.label) + "')");
      if (t.label >= core->options.classes())
        throw Error("'" + t.spec + "': the run's classes are 0.." + std::to_string(core->options.classes() - 1));
      const int64_t label = t.label;
      energies.push_back([core, label](const torch::Tensor& x) {
        return core->class_energy(x, torch::full({x.size(0)}, label, torch::kLong));
      });
    } else {
      auto energy = as<Energy>(t.run->model);
      if (!energy) throw Error("'" + t.spec + "': model '" + t.run->info->name + "' has no energy to compose");
      energies.push_back([energy](const torch::Tensor& x) { return energy->energy(x); });
    }
  }
  // The sampler: the flags, else the first IGEBM run's settings.
  LangevinOptions o;
  if (sampler_source) o = sampler_source->langevin_options(sampler_source->options.sample_steps());
  else if (a.steps < 0 || a.step_size < 0 || a.noise < 0)
    throw Error("no IGEBM run among the energies: give the sampler with --steps, --step-size and --noise");
  if (a.steps >= 0) o.steps(a.steps);
  if (a.step_size >= 0) o.drift(a.step_size);
  if (a.noise >= 0) o.noise(a.noise);
  if (a.grad_clip >= 0) o.grad_clip(a.grad_clip);
  o.clamp(true).low(0.0).high(1.0);
  auto total = sum_energies(energies, a.weights);
  seed_everything(static_cast<uint64_t>(a.seed));
  torch::NoGradGuard no_grad;
  auto start = torch::rand({a.n, first.spec.channels, first.spec.height, first.spec.width});
  auto chain = langevin(total, start, o);
  std::string out = a.out;
  if (out.empty()) {
    ensure_dir(terms.front().dir + "/samples");
    out = terms.front().dir + "/samples/compose.png";
  }
  save_grid(out, first.data.to_display(chain.x), 0);
  std::printf("wrote %lld samples of the product of %zu energies to %s (%lld Langevin steps, step %g, noise %g, clip %g)\n",
              static_cast<long long>(a.n), terms.size(), out.c_str(), static_cast<long long>(o.steps()), o.drift(),
              o.noise(), o.grad_clip());
  // Each expert's mean energy at the start (noise) and at the samples: every
  // term the product satisfies falls.
  for (size_t k = 0; k < terms.size(); ++k) {
    torch::AutoGradMode enable(false);
    const double before = energies[k](start).mean().item<double>(), after = energies[k](chain.x).mean().item<double>();
    std::printf("  %-32s weight %-6g mean energy: noise %.4f, samples %.4f\n", terms[k].spec.c_str(),
                a.weights.empty() ? 1.0 : a.weights[k], before, after);
  }
}

}  // namespace

void add_compose_command(CLI::App& app) {
  auto args = std::make_shared<ComposeArgs>();
  auto* cmd = app.add_subcommand(
      "compose", "Sample a product of experts: Langevin on the weighted sum of several runs' energies");
  cmd->add_option("ENERGY", args->terms,
                  "RUN (its energy) or RUN:CLASS (a cigebm run's energy of that class); several make a product")
      ->required()
      ->expected(1, 16);
  cmd->add_option("--weights", args->weights, "One weight per energy (default 1 each)")->delimiter(',');
  cmd->add_option("-n", args->n, "Samples")->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--steps", args->steps, "Langevin steps (default: the first IGEBM run's sample_steps)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--step-size", args->step_size, "The step on the clipped gradient (default: the first IGEBM's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--noise", args->noise, "Noise sd per step (default: the first IGEBM's)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--grad-clip", args->grad_clip, "Per-pixel gradient clip, 0 = none (default: the first IGEBM's)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--out", args->out, "PNG file (default FIRST_RUN/samples/compose.png)");
  cmd->add_option("--seed", args->seed, "Random seed")->check(CLI::NonNegativeNumber)->capture_default_str();
  add_checkpoint_option(cmd, args->checkpoint);
  add_threads_option(cmd, args->threads);
  cmd->callback([args] { run_compose(*args); });
}

}  // namespace genzoo::cli
