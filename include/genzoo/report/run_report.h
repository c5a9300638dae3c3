#pragma once
// The report of one run folder (genzoo report RUN): what the run is, every
// curve of its metrics.jsonl, its sample grids through training, the other
// figures in the folder, eval.json as a table and the resolved config. It
// reads files only (no model is loaded), so it works on a run that is still
// training, and on one that has no curves or no checkpoint yet.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "genzoo/report/html.h"

namespace genzoo {

/// The lines of RUN/metrics.jsonl that parse as JSON objects (a line being
/// written, or a damaged one, is skipped and counted in `skipped`).
std::vector<nlohmann::json> read_metrics_lines(const std::string& path, int* skipped = nullptr);

/// Where a run stands by its metric lines: the last step, the training
/// seconds, rollbacks and warnings logged.
struct RunTally {
  double steps = 0, seconds = 0;
  int rollbacks = 0, warnings = 0;
};
RunTally tally_run(const std::vector<nlohmann::json>& lines);

/// Whether the run has ended: the last line of its metrics.jsonl is the
/// trainer's "end" event (a run that trains on after a resume loses it).
bool run_finished(const std::vector<nlohmann::json>& lines);

/// The charts of a run's metric lines as Vega-Lite specs with captions, x =
/// optimisation step: per-step metrics (related ones together: both GAN
/// losses, D(x) and D(G(z)), f on data and on syntheses, E+ and E-, the
/// VAE's reconstruction and KL), then each held-out metric with its train,
/// validation and test series on one chart, then throughput.
std::vector<std::pair<nlohmann::json, std::string>> metric_charts(const std::vector<nlohmann::json>& lines,
                                                                  const std::string& title_prefix = "");

/// Files in `dir` whose names end in `suffix`, ordered by the first number
/// in the name (epoch_2 before epoch_10; names without one, such as
/// final.png, last).
std::vector<std::string> files_in_step_order(const std::string& dir, const std::string& suffix);

/// The page for run folder `dir`; `finished` (when given) says whether the
/// metrics it was drawn from end the run (read once, so the two agree).
/// genzoo::Error when `dir` is not a folder or holds neither config.toml
/// nor metrics.jsonl.
HtmlPage run_report(const std::string& dir, bool* finished = nullptr);

}  // namespace genzoo
