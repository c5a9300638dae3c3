#pragma once
// The evaluation metrics as a table: each entry names a metric, says in one
// line when it cannot be computed here and why, how many generated samples
// it needs, and computes it into the results. `genzoo eval RUN`, `genzoo
// eval --images` and `genzoo data baseline` build an EvalContext and run
// the same entries: select -> draw the samples once -> run each entry.
#include <torch/torch.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "genzoo/eval/sample_metrics.h"
#include "genzoo/models/model.h"

namespace genzoo::cli {

/// What the metrics look at. "Model space" is what the model sees (binary,
/// [-1,1], ...); the "view" is what sample metrics compare: [0,1] images,
/// or raw 2-D points.
struct EvalContext {
  std::string dataset;  // name: picks the feature network and the modes of toy data
  bool images = true;
  bool unit_range = false;  // a run whose model sees grey values in [0, 1] (PixelFormat::Unit)
  int64_t dims = 0;           // values per example
  std::string split = "test";
  uint64_t seed = 0;          // of the generated samples and the seeded subsets
  int64_t requested = 10000;  // --samples (or the number of images given)

  // The model, when there is one (a run); null for images made elsewhere.
  ModulePtr model;
  std::string model_name;
  bool dequantized = false;   // the density is over dequantised pixels (bits/dim)

  torch::Tensor scored;  // the split scored, model space [N, ...] (nll, auroc); may be undefined
  torch::Tensor scored_labels;  // their class labels, int64 [N]; undefined when there are none
  std::vector<int64_t> classes;  // eval --classes: the classes scored, and a classifier's candidates; empty = all
  std::function<torch::Tensor(const torch::Tensor&)> to_view;  // model space -> view
  torch::Tensor reference_view;  // the split scored, in the view [N, ...]
  /// The training rows in the view (nearest neighbours), computed on first
  /// use, and how many there are.
  std::function<torch::Tensor()> training_view;
  int64_t training_rows = 0;
  /// Real held-out images (the test split, in the view): what "not a copy"
  /// looks like for the memorisation check, whatever split is scored.
  torch::Tensor real_view;
  /// Parzen: the rows sigma is chosen on (view), what they are, and the
  /// rows it scores (the split, less the sigma rows when they come from
  /// it); set by choose_parzen_rows, which the parzen entry calls.
  torch::Tensor parzen_sigma_view, parzen_scored_view;
  std::string parzen_sigma_rows;
  std::function<void(EvalContext&)> choose_parzen_rows;
  int64_t parzen_sigma_pool = 0;  // rows sigma may be chosen from
  bool parzen_sigma_from_scored = false;  // those rows are part of the scored split
  /// auroc: --ood, and how its test split becomes model-space data.
  std::string ood;
  std::function<torch::Tensor(const std::string& ood)> ood_data;
  std::string figure_dir;  // where neighbours.png goes ("" = no figure)

  // Filled by the draw step (or given).
  torch::Tensor samples_view;  // generated samples in the view [M, ...]
  double draw_seconds = 0;

  /// The feature-network features of the reference and of `samples`,
  /// extracted on first use and shared by fid, kid, pr and cs (which all
  /// take the same samples).
  const FeatureSets& features(const torch::Tensor& samples);
  std::optional<FeatureSets> feature_cache;
  std::string feature_net_id;
  bool reference_features_cached = false;  // read from GENZOO_FEATURE_CACHE
};

struct MetricEntry {
  std::string name;
  /// "" when the metric can be computed in `ctx`, else one line: why not.
  std::function<std::string(const EvalContext& ctx)> unavailable;
  /// Generated samples it needs when `requested` are asked for (0: none).
  std::function<int64_t(int64_t requested)> samples;
  /// Computes it from `ctx` and `samples` (the first samples(requested)
  /// rows of the shared draw; undefined when it needs none) and adds its
  /// keys to `out`.
  std::function<void(EvalContext& ctx, const torch::Tensor& samples, nlohmann::json& out)> compute;
  /// Run only when named in --metrics (slow ones: robust_accuracy).
  bool on_request = false;
};

/// Every metric, in the order they run and print.
const std::vector<MetricEntry>& metric_table();
std::vector<std::string> metric_names();

/// The entries to run for --metrics `wanted` (comma-separated; empty: every
/// metric available here). An unknown or unavailable metric is a
/// genzoo::Error naming it, why, and the ones that are available.
std::vector<const MetricEntry*> select_metrics(const EvalContext& ctx, const std::string& wanted);

/// As select_metrics, but a metric of `wanted` that cannot be computed here
/// is left out and its one-line reason recorded as `skipped[name]` (an
/// unknown name is still an error): one protocol for models of every kind
/// (genzoo eval --skip-unavailable, genzoo compare).
std::vector<const MetricEntry*> select_available_metrics(const EvalContext& ctx, const std::string& wanted,
                                                         nlohmann::json& skipped);

/// Generated samples the selected entries need (the largest of them).
int64_t samples_needed(const std::vector<const MetricEntry*>& entries, int64_t requested);

/// Runs each entry into `out`, with seconds_<name> beside its keys.
void run_metrics(EvalContext& ctx, const std::vector<const MetricEntry*>& entries, nlohmann::json& out);

/// JSON text of `j`; invalid UTF-8 in strings (file names) is replaced, not fatal.
std::string json_text(const nlohmann::json& j);

/// Prints results: as JSON, or one "  key value" line per number.
void print_results(const nlohmann::json& results, bool json, const std::string& heading);

}  // namespace genzoo::cli
