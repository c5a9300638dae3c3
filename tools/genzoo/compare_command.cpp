// genzoo compare RUN RUN [RUN ...]: the test NLL of each run and, for every
// pair, the difference of their mean NLLs with its paired standard error
// over the shared examples (the same images, in the same binarized view).
// genzoo compare --models A,B --data D --time-limit S --out DIR: train and
// evaluate every model at one budget and protocol (comparison.cpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "comparison.h"
#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"
#include "genzoo/eval/likelihood.h"
#include "genzoo/train/run.h"
#include "metric_table.h"

namespace genzoo::cli {

namespace {

struct CompareArgs {
  std::vector<std::string> runs;
  std::string split = "test", checkpoint = "best";
  bool json = false, bounds = false;
  int threads = 0;
};

struct Scored {
  std::string dir, model, checkpoint;
  torch::Tensor data;  // the split, model space
  torch::Tensor nll;   // double [N]
  bool bound = false;  // an importance-sampled estimate of a lower bound on log p
};

Scored score(const std::string& dir, const CompareArgs& a) {
  Run run = open_run(dir, a.checkpoint);
  auto density = as<Density>(run.model);
  if (!density) throw Error("run '" + dir + "': model '" + run.info->name + "' has no density to compare");
  if (a.split == "validation" && !run.data.validation.defined())
    throw Error("run '" + dir + "' has no validation split");
  Scored s{dir, run.info->name, checkpoint_name(run), a.split == "test" ? run.data.test : run.data.validation, {}};
  s.bound = density->bound() != Bound::Exact;
  if (s.bound && !a.bounds)
    throw Error("run '" + dir + "': '" + run.info->name +
                "' gives an estimate of a bound on log p, not log p: compare exact densities, or add --bounds");
  if (density->continuous())
    throw Error("run '" + dir + "': '" + run.info->name +
                "' gives a density over continuous pixels, not the probability of discrete ones");
  // The same seed for every run: an estimated density draws.
  seed_everything(0);
  s.nll = per_example_nll(*density, s.data);
  return s;
}

void run_compare(const CompareArgs& a) {
  apply_threads(a.threads);
  if (a.runs.size() < 2) throw Error("compare needs at least two runs");
  std::vector<Scored> scored;
  for (const auto& dir : a.runs) {
    scored.push_back(score(dir, a));
    const Scored& s = scored.back();
    // Paired only when every run scores the very same examples.
    if (!torch::equal(s.data, scored.front().data))
      throw Error("runs '" + scored.front().dir + "' and '" + s.dir + "' score different " + a.split +
                  " images (another dataset, binarization or split): a paired comparison needs the same ones");
    if (scored.size() > 1) scored.back().data = torch::Tensor();  // the first run's copy is enough
  }
  const int64_t n = scored.front().nll.size(0);
  if (n < 2)
    throw Error("the " + a.split + " split of '" + scored.front().dir + "' holds " + std::to_string(n) +
                " example(s): a standard error needs at least 2");
  nlohmann::json j{{"split", a.split}, {"examples", n}, {"runs", nlohmann::json::array()},
                   {"differences", nlohmann::json::array()}};
  for (const auto& s : scored) {
    const double mean = s.nll.mean().item<double>();
    const double se = s.nll.std().item<double>() / std::sqrt(static_cast<double>(n));
    j["runs"].push_back({{"run", s.dir},
                         {"model", s.model},
                         {"checkpoint", s.checkpoint},
                         {"nll", mean},
                         {"stderr", se},
                         {"nll_is", s.bound ? "estimate of a lower bound on log p (upper bound on nll)" : "exact"}});
  }
  for (size_t i = 0; i < scored.size(); ++i)
    for (size_t k = i + 1; k < scored.size(); ++k) {
      PairedDifference d = paired_difference(scored[i].nll, scored[k].nll);
      j["differences"].push_back({{"a", scored[i].dir},
                                  {"b", scored[k].dir},
                                  {"nll_a_minus_b", d.mean},
                                  {"paired_stderr", d.stderr_mean},
                                  {"z", d.stderr_mean > 0 ? d.mean / d.stderr_mean : 0.0}});
    }
  if (a.json) {
    std::printf("%s\n", json_text(j).c_str());
    return;
  }
  std::printf("%s NLL in nats over the same %lld %s examples (± standard error)\n", a.split.c_str(),
              static_cast<long long>(n), a.split.c_str());
  for (const auto& r : j["runs"])
    std::printf("  %-40s %-12s %10.3f ± %.3f  (%s%s)\n", r["run"].get<std::string>().c_str(),
                r["model"].get<std::string>().c_str(), r["nll"].get<double>(), r["stderr"].get<double>(),
                r["checkpoint"].get<std::string>().c_str(), r["nll_is"] == "exact" ? "" : ", bound");
  std::printf("differences (a − b, ± paired standard error over the shared examples)\n");
  if (std::any_of(scored.begin(), scored.end(), [](const Scored& s) { return s.bound; }))
    std::printf("  (runs marked bound give importance-sampled estimates: the standard errors include their noise, "
                "not their bias)\n");
  for (const auto& d : j["differences"])
    std::printf("  %s − %s: %+.3f ± %.3f  (%.1f standard errors)\n", d["a"].get<std::string>().c_str(),
                d["b"].get<std::string>().c_str(), d["nll_a_minus_b"].get<double>(), d["paired_stderr"].get<double>(),
                d["z"].get<double>());
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto args = std::make_shared<CompareArgs>();
  auto run_args = std::make_shared<CompareRunArgs>();
  auto* cmd = app.add_subcommand(
      "compare",
      "NLL of trained runs on the same examples with paired standard errors; or, with --models, train and evaluate "
      "several models at one wall-clock budget and protocol, into results.json, results.csv and report.html");
  cmd->add_option("RUNS", args->runs, "Two or more run folders of density models on the same data");
  auto* models = cmd->add_option("--models", run_args->models,
                                 "Comma-separated model names (each trained with its recipe for --data) or existing "
                                 "run folders of that data");
  cmd->add_option("--data", run_args->data, "With --models: the dataset")->needs(models);
  cmd->add_option("--time-limit", run_args->time_limit, "With --models: seconds of training per model and seed")
      ->needs(models);
  cmd->add_option("--seeds", run_args->seeds, "With --models: seeds per model (0..N-1)")
      ->capture_default_str()
      ->needs(models);
  cmd->add_option("--out", run_args->out,
                  "With --models: the comparison folder (runs/, results.json, results.csv, report.html); an existing "
                  "one is resumed: finished runs are reused")
      ->needs(models);
  cmd->add_option("--samples", run_args->samples, "With --models: generated samples per run for the sample metrics")
      ->check(CLI::Range(int64_t{100}, int64_t{100000}))
      ->capture_default_str()
      ->needs(models);
  cmd->add_option("--ood", run_args->ood,
                  "With --models: the out-of-distribution data of the OOD AUROC (e.g. mnist-10k; default none)")
      ->needs(models);
  cmd->add_option("--importance-samples", run_args->importance_samples,
                  "With --models: K of the importance-sampled NLL of vae and cvae (their recipes' 5000 take over an "
                  "hour per run on 2 cores)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}))
      ->capture_default_str()
      ->needs(models);
  cmd->add_flag("--retry-failed", run_args->retry_failed, "With --models: train again the runs that failed before")
      ->needs(models);
  cmd->add_option("--split", args->split, "test|validation")
      ->check(CLI::IsMember({"test", "validation"}))
      ->capture_default_str();
  add_checkpoint_option(cmd, args->checkpoint);
  cmd->add_flag("--bounds", args->bounds,
                "Also compare models whose density is an estimated bound (vae, cvae: importance sampled); the paired "
                "standard error then includes the estimates' noise but not their bias");
  cmd->add_flag("--json", args->json, "Print the results as JSON");
  add_threads_option(cmd, args->threads);
  cmd->callback([args, run_args, models] {
    if (models->count() > 0) {
      if (!args->runs.empty()) throw Error("give either run folders or --models, not both");
      run_args->threads = args->threads;
      return run_comparison(*run_args);
    }
    run_compare(*args);
  });
}

}  // namespace genzoo::cli
