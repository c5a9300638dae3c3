// genzoo eval RUN [--metrics LIST] [--json]: held-out metrics, saved to RUN/eval.json.
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/eval/likelihood.h"
#include "genzoo/train/run.h"

namespace genzoo::cli {

namespace {

struct EvalArgs {
  std::string run, metrics, split = "test";
  bool json = false;
  int threads = 0;
};

// Metric name -> the capability it needs.
struct MetricSpec {
  std::string name, needs;
};
const std::vector<MetricSpec>& metric_specs() {
  static const std::vector<MetricSpec> specs{{"nll", "density"}};
  return specs;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

void run_eval(const EvalArgs& a) {
  apply_threads(a.threads);
  Run run = open_run(a.run);
  auto caps = capabilities(run.model);
  auto has = [&](const std::string& c) { return std::find(caps.begin(), caps.end(), c) != caps.end(); };
  std::vector<std::string> possible, all;
  for (const auto& m : metric_specs()) {
    all.push_back(m.name);
    if (has(m.needs)) possible.push_back(m.name);
  }
  std::vector<std::string> wanted = a.metrics.empty() ? possible : split_list(a.metrics);
  if (wanted.empty()) throw Error("model '" + run.info->name + "' supports none of the metrics " + join(all));
  for (const auto& w : wanted) {
    auto it = std::find_if(metric_specs().begin(), metric_specs().end(),
                           [&](const MetricSpec& m) { return m.name == w; });
    if (it == metric_specs().end())
      throw Error("unknown metric '" + w + "' (choose from " + join(all) + ")");
    if (!has(it->needs))
      throw Error(run.info->name + " has no " + it->needs + ": use --metrics " + join(possible, ","));
  }

  const torch::Tensor& data = a.split == "test" ? run.data.test : run.data.train;
  nlohmann::json j;
  if (file_exists(a.run + "/eval.json")) {
    try {
      j = nlohmann::json::parse(read_file(a.run + "/eval.json"));
    } catch (const nlohmann::json::exception&) {
      j = nlohmann::json::object();  // a damaged file is rewritten whole
    }
  }
  j["model"] = run.info->name;
  j["dataset"] = run.dataset.name;
  j["split"] = a.split;
  j["binarize"] = run.config.get_string("data.binarize", "none");
  for (const auto& w : wanted) {
    auto start = std::chrono::steady_clock::now();
    if (w == "nll") {
      bool dequantized = run.config.get_bool("data.dequantize", false);
      LikelihoodResult r = evaluate_likelihood(*as<Density>(run.model), data, 1000, dequantized);
      j["nll_nats"] = r.nll_nats;
      j["nll_stderr"] = r.nll_stderr;
      j["bits_per_dim"] = r.bits_per_dim;
      j["nll_examples"] = r.examples;
      j["nll_is"] = r.bound ? "lower bound on log p (upper bound on nll)" : "exact";
    }
    j["seconds_" + w] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  write_file_atomic(a.run + "/eval.json", j.dump(2) + "\n");
  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s on %s (%s split, binarize %s)\n", run.info->name.c_str(), run.dataset.name.c_str(),
                a.split.c_str(), j["binarize"].get<std::string>().c_str());
    for (const auto& [k, v] : j.items())
      if (v.is_number()) std::printf("  %-16s %s\n", k.c_str(), v.dump().c_str());
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval", "Evaluate a trained run; writes RUN/eval.json");
  cmd->add_option("RUN", args->run, "Run folder")->required();
  cmd->add_option("--metrics", args->metrics, "Comma-separated metrics (default: all the model allows)");
  cmd->add_option("--split", args->split, "test|train")->check(CLI::IsMember({"test", "train"}))->capture_default_str();
  cmd->add_flag("--json", args->json, "Print the results as JSON");
  add_threads_option(cmd, args->threads);
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace genzoo::cli
