// genzoo eval RUN [--metrics LIST] [--json]: held-out metrics, saved to RUN/eval.json.
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/core/timer.h"
#include "genzoo/data/toy2d.h"
#include "genzoo/eval/auroc.h"
#include "genzoo/eval/likelihood.h"
#include "genzoo/eval/modes.h"
#include "genzoo/eval/parzen.h"
#include "genzoo/eval/sample_metrics.h"
#include "genzoo/train/run.h"

namespace genzoo::cli {

namespace {


struct EvalArgs {
  std::string run, metrics, split = "test", ood, checkpoint = "best";
  int64_t samples = 10000, seed = 0;
  bool json = false;
  int threads = 0;
};

// What a metric needs of the model ("density", "sample") and of the data.
enum class Needs { Any, Images, FeatureNet, Modes };
struct MetricSpec {
  std::string name, capability;
  Needs data;
};
const std::vector<MetricSpec>& metric_specs() {
  static const std::vector<MetricSpec> specs{
      {"nll", "density", Needs::Any},          {"auroc", "score", Needs::Any},
      {"parzen", "sample", Needs::Any},        {"fid", "sample", Needs::FeatureNet},
      {"kid", "sample", Needs::FeatureNet},    {"pr", "sample", Needs::FeatureNet},
      {"cs", "sample", Needs::FeatureNet},     {"modes", "sample", Needs::Modes},
      {"neighbours", "sample", Needs::Images}, {"speed", "sample", Needs::Any}};
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

bool has_cap_named(const std::vector<std::string>& caps, const std::string& c) {
  return std::find(caps.begin(), caps.end(), c) != caps.end();
}


// Draws n samples in chunks (bounded memory) and converts them to the data
// view the metrics compare in: [0,1] images, or raw points.
torch::Tensor generate(Run& run, int64_t n) {
  auto sampler = as<Sampler>(run.model);
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < n; i += 1000) {
    auto s = sampler->sample(std::min<int64_t>(1000, n - i));
    parts.push_back(run.data.to_display ? run.data.to_display(s) : s);
  }
  return torch::cat(parts);
}

torch::Tensor view(const Run& run, const torch::Tensor& x) {
  return run.data.to_display ? run.data.to_display(x) : x;
}

// Samples each metric uses (a prefix of one shared draw).
int64_t samples_needed(const std::string& metric, int64_t requested) {
  if (metric == "modes") return std::min<int64_t>(requested, 2500);  // the mode-collapse protocol
  if (metric == "neighbours" || metric == "speed") return std::min<int64_t>(requested, 1000);
  if (metric == "parzen" || metric == "fid" || metric == "kid" || metric == "pr" || metric == "cs")
    return requested;
  return 0;
}

constexpr double kSampleMemoryBudget = 4e9;  // bytes of generated samples held at once

void run_eval(const EvalArgs& a) {
  apply_threads(a.threads);
  Run run = open_run(a.run, a.checkpoint);
  std::fprintf(stderr, "%s\n", describe_checkpoint(run).c_str());
  const bool images = run.dataset.kind == DataKind::Images;
  const int64_t dims = run.spec.dims();
  const bool has_modes = run.dataset.name == "ring8" || run.dataset.name == "grid25";
  const bool has_fnet = images && file_exists(feature_net_info(run.dataset.name).path);
  // Real data in the view the model was trained on: for dynamic binarization
  // the fixed static draw, for dequantization one fixed noise draw.
  torch::Tensor train_view;
  auto train_eval = [&]() -> const torch::Tensor& {
    if (!train_view.defined()) {
      // The rows trained on (without those held out for validation), drawn
      // as in training: the whole split first, then the rows.
      train_view = run.transform ? run.transform->for_eval(run.dataset.train.x, 0) : run.data.train;
      if (run.transform && run.train_rows.defined()) train_view = train_view.index_select(0, run.train_rows);
    }
    return train_view;
  };
  if (a.split == "validation" && !run.data.validation.defined())
    throw Error("run '" + a.run + "' has no validation split (train it with --set train.validation=N)");
  const torch::Tensor& data =
      a.split == "test" ? run.data.test : a.split == "validation" ? run.data.validation : train_eval();
  // Parzen keeps samples and test data in double: only where that fits, and
  // only where a standard error exists.
  const bool parzen_ok = data.size(0) >= 2 && 8.0 * a.samples * dims < kSampleMemoryBudget;

  auto caps = capabilities(run.model);
  auto has_cap = [&](const std::string& c) {
    if (c == "score") return has_cap_named(caps, "density") || has_cap_named(caps, "energy");
    return has_cap_named(caps, c);
  };
  auto data_ok = [&](Needs n) {
    return n == Needs::Any || (n == Needs::Images && images) || (n == Needs::FeatureNet && has_fnet) ||
           (n == Needs::Modes && has_modes);
  };
  std::vector<std::string> possible, all;
  for (const auto& m : metric_specs()) {
    all.push_back(m.name);
    if (has_cap(m.capability) && data_ok(m.data) && (m.name != "auroc" || !a.ood.empty()) &&
        (m.name != "parzen" || parzen_ok))
      possible.push_back(m.name);
  }
  std::vector<std::string> wanted = a.metrics.empty() ? possible : split_list(a.metrics);
  if (wanted.empty()) throw Error("model '" + run.info->name + "' supports none of the metrics " + join(all));
  int64_t n_samples = 0;
  for (const auto& w : wanted) {
    auto it = std::find_if(metric_specs().begin(), metric_specs().end(),
                           [&](const MetricSpec& m) { return m.name == w; });
    if (it == metric_specs().end()) throw Error("unknown metric '" + w + "' (choose from " + join(all) + ")");
    if (!has_cap(it->capability))
      throw Error(run.info->name + " has no " +
                  (it->capability == "score" ? std::string("density or energy") : it->capability) +
                  ": use --metrics " + join(possible, ","));
    if (!data_ok(it->data)) {
      std::string why = it->data == Needs::Modes ? "needs ring8 or grid25"
                      : it->data == Needs::Images ? "needs image data"
                      : "needs a feature network (fashion-mnist or mnist-10k)";
      throw Error("metric '" + w + "' " + why + ", not '" + run.dataset.name + "'");
    }
    if (w == "auroc" && a.ood.empty()) throw Error("metric 'auroc' needs --ood DATASET");
    if (w == "parzen" && !parzen_ok)
      throw Error("metric 'parzen' needs at least 2 " + a.split + " examples and " +
                  std::to_string(a.samples) + " samples of " + std::to_string(dims) +
                  " dimensions in memory: lower --samples");
    n_samples = std::max(n_samples, samples_needed(w, a.samples));
  }
  if (4.0 * n_samples * dims > kSampleMemoryBudget)
    throw Error(std::to_string(n_samples) + " samples of " + std::to_string(dims) +
                " dimensions exceed the memory budget: lower --samples");

  // Earlier results are kept only when they describe this checkpoint and split.
  nlohmann::json j = nlohmann::json::object();
  if (file_exists(a.run + "/eval.json")) {
    try {
      auto old = nlohmann::json::parse(read_file(a.run + "/eval.json"));
      if (old.is_object() && old.value("checkpoint_step", int64_t{-1}) == run.state.global_step &&
          old.value("checkpoint", std::string()) == checkpoint_name(run) && old.value("split", std::string()) == a.split)
        j = old;
    } catch (const nlohmann::json::exception&) {
      // a damaged file is rewritten whole
    }
  }
  j["model"] = run.info->name;
  j["dataset"] = run.dataset.name;
  j["split"] = a.split;
  j["checkpoint"] = checkpoint_name(run);
  j["checkpoint_step"] = run.state.global_step;
  j["binarize"] = run.config.get_string("data.binarize", "none");

  // One draw, sized for every requested metric; each uses a prefix of it, so
  // results do not depend on the order of --metrics.
  torch::Tensor generated;
  if (n_samples > 0) {
    seed_everything(static_cast<uint64_t>(a.seed));
    auto start = Clock::now();
    generated = generate(run, n_samples);
    j["samples_per_second"] = static_cast<double>(n_samples) / seconds_since(start);
    j["samples_generated"] = n_samples;
  }
  auto samples = [&](const std::string& metric) { return generated.slice(0, 0, samples_needed(metric, a.samples)); };

  bool feature_metrics_done = false;
  for (const auto& w : wanted) {
    auto start = Clock::now();
    if (w == "nll") {
      bool dequantized = run.config.get_bool("data.dequantize", false);
      LikelihoodResult r = evaluate_likelihood(*as<Density>(run.model), data, 1000, dequantized);
      j["nll_nats"] = r.nll_nats;
      j["nll_stderr"] = r.nll_stderr;
      j["bits_per_dim"] = r.bits_per_dim;
      j["nll_examples"] = r.examples;
      j["nll_is"] = r.bound ? "lower bound on log p (upper bound on nll)" : "exact";
      if (!images && toy2d_has_density(run.dataset.name))
        j["nll_true_density"] = -toy2d_log_density(run.dataset.name, data).mean().item<double>();
    } else if (w == "auroc") {
      Dataset ood = load_dataset(a.ood);
      torch::Tensor out_x;
      if (images) {
        if (ood.kind != DataKind::Images || ood.channels != run.dataset.channels ||
            ood.height != run.dataset.height || ood.width != run.dataset.width)
          throw Error("--ood '" + a.ood + "' images do not have the shape of '" + run.dataset.name + "'");
        out_x = run.transform->for_eval(ood.test.x, 2);
      } else {
        if (ood.kind != DataKind::Points) throw Error("--ood '" + a.ood + "' is not 2-D points");
        out_x = ood.test.x;
      }
      // The model's own score, higher = more in-distribution: log p(x) (or
      // its bound) for density models, -E(x) for energy models.
      auto density = as<Density>(run.model);
      auto energy = as<Energy>(run.model);
      torch::NoGradGuard no_grad;
      auto score = [&](const torch::Tensor& x) {
        std::vector<torch::Tensor> parts;
        for (int64_t i = 0; i < x.size(0); i += 1000) {
          auto rows = x.slice(0, i, std::min(i + 1000, x.size(0)));
          parts.push_back(density ? density->log_prob(rows) : -energy->energy(rows));
        }
        return torch::cat(parts).to(torch::kFloat64);
      };
      RocResult r = roc_scores(score(data), score(out_x));
      j["auroc"] = r.auroc;
      j["fpr_at_95_tpr"] = r.fpr_at_95_tpr;
      j["auroc_ood"] = a.ood;
      j["auroc_score"] = density ? (density->bound() == Bound::Exact ? "log p(x)" : "lower bound on log p(x)")
                                 : "-energy(x)";
      j["auroc_counts"] = {r.in_count, r.out_count};
    } else if (w == "parzen") {
      // Goodfellow et al. 2014: the samples as centres, sigma chosen on
      // 1,000 validation images (here the last 1,000 training examples).
      const auto& tv = train_eval();
      auto validation = view(run, tv.slice(0, std::max<int64_t>(0, tv.size(0) - 1000))).flatten(1);
      ParzenResult p = parzen_evaluate(samples(w).flatten(1), validation, view(run, data).flatten(1));
      j["parzen_mean"] = p.mean;
      j["parzen_stderr"] = p.stderr_mean;
      j["parzen_sigma"] = p.sigma;
      j["parzen_centres"] = p.centres;
    } else if (w == "fid" || w == "kid" || w == "pr" || w == "cs") {
      if (feature_metrics_done) continue;  // one pass computes all four
      auto has = [&](const char* m) { return std::find(wanted.begin(), wanted.end(), m) != wanted.end(); };
      FeatureMetricsRequest req;
      req.fid = has("fid");
      req.kid = has("kid");
      req.precision_recall = has("pr");
      req.classifier_score = has("cs");
      req.seed = static_cast<uint64_t>(a.seed);
      FeatureNet net = load_feature_net(run.dataset.name);
      j["feature_net"] = feature_net_info(run.dataset.name).id;
      for (const auto& [k, v] : feature_metrics(net, view(run, data), samples(w), req)) j[k] = v;
      feature_metrics_done = true;
      j["seconds_feature_metrics"] = seconds_since(start);
      continue;
    } else if (w == "modes") {
      ModeCoverage m = mode_coverage(samples(w), toy2d_modes(run.dataset.name), toy2d_sigma(run.dataset.name));
      j["modes_captured"] = m.modes_captured;
      j["modes_total"] = m.modes_total;
      j["high_quality_share"] = m.high_quality_share;
      j["mode_reverse_kl"] = std::isfinite(m.reverse_kl) ? nlohmann::json(m.reverse_kl) : nlohmann::json("inf");
      j["modes_samples"] = m.samples;
    } else if (w == "neighbours") {
      auto gen = samples(w);
      auto train_images = view(run, train_eval());
      std::string figure = a.run + "/neighbours.png";
      for (const auto& [k, v] : memorisation(gen, train_images, 3, 16, figure)) j[k] = v;
      // The same statistic for real test images: what "not a copy" looks like.
      auto test_images = view(run, run.data.test);
      auto reference = memorisation(test_images.slice(0, 0, std::min(test_images.size(0), gen.size(0))),
                                    train_images, 1, 0, "");
      j["nn_distance_mean_test_images"] = reference.front().second;
      j["neighbours_figure"] = figure;
    } else if (w == "speed") {
      continue;  // samples_per_second comes from the shared draw
    }
    j["seconds_" + w] = seconds_since(start);
  }
  write_file_atomic(a.run + "/eval.json", j.dump(2) + "\n");
  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s on %s (%s split, binarize %s, step %lld)\n", run.info->name.c_str(),
                run.dataset.name.c_str(), a.split.c_str(), j["binarize"].get<std::string>().c_str(),
                static_cast<long long>(run.state.global_step));
    for (const auto& [k, v] : j.items())
      if (v.is_number()) std::printf("  %-28s %s\n", k.c_str(), v.dump().c_str());
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval", "Evaluate a trained run; writes RUN/eval.json");
  cmd->add_option("RUN", args->run, "Run folder")->required();
  cmd->add_option("--metrics", args->metrics,
                  "Comma-separated: nll,auroc,parzen,fid,kid,pr,cs,modes,neighbours,speed "
                  "(default: all the model and data allow)");
  cmd->add_option("--ood", args->ood, "Out-of-distribution dataset for auroc");
  cmd->add_option("--samples", args->samples, "Generated samples for sample metrics")
      ->check(CLI::Range(int64_t{100}, int64_t{100000}))->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the generated samples")->check(CLI::NonNegativeNumber);
  cmd->add_option("--split", args->split, "test|train|validation")
      ->check(CLI::IsMember({"test", "train", "validation"}))
      ->capture_default_str();
  add_checkpoint_option(cmd, args->checkpoint);
  cmd->add_flag("--json", args->json, "Print the results as JSON");
  add_threads_option(cmd, args->threads);
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace genzoo::cli
