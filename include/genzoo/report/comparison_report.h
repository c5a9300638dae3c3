#pragma once
// The comparison of genzoo compare --models: the per-run records of
// DIR/results.json summarised per model (mean, standard error and spread
// over seeds), the seeds' verdicts on each family beside the measured
// figures, and the page DIR/report.html (the recap table, charts of the
// figures per model, the curves and last sample grid of each run).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "genzoo/report/html.h"

namespace genzoo {

/// The per-run columns of results.csv, in order (metrics of eval.json and
/// training figures of the run record).
const std::vector<std::string>& comparison_csv_columns();

/// A run record's value for `column`: the record's own field (train_seconds,
/// train_peak_mb, rollbacks, ...) or its eval metric; null when absent.
const nlohmann::json* comparison_value(const nlohmann::json& run, const std::string& column);

/// Adds to `results` each model's "summary" (per column: mean, stderr =
/// sd / sqrt(n), sd, n over its finished runs) and the top-level "verdicts":
/// each claim of the seeds' comparison tables with the figure that
/// confirms or contradicts it ("confirmed", "contradicted", "not measured").
void summarise_comparison(nlohmann::json& results);

/// The recap table as plain text (for the terminal).
std::string comparison_text(const nlohmann::json& results);

/// The page of comparison folder `dir` (its results.json). genzoo::Error
/// when `dir` has none or it does not parse.
HtmlPage comparison_report(const std::string& dir);

}  // namespace genzoo
