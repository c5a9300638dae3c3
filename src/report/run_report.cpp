#include "genzoo/report/run_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include "genzoo/core/config.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"

namespace genzoo {

namespace fs = std::filesystem;

namespace {

// Keys of a metrics line that are bookkeeping, not curves.
const std::set<std::string> kNotCurves = {"event", "step", "epoch", "elapsed_s", "message", "rollbacks", "lr_factor",
                                          "removed_lines", "stopped_early"};

// Per-step metrics drawn together on one chart, in this order.
const std::vector<std::vector<std::string>> kTogether = {
    {"d_loss", "g_loss"},        {"d_real", "d_fake"},         {"f_data", "f_synth"},
    {"e_pos", "e_neg"},          {"reconstruction", "kl"},     {"d_grad_norm", "g_grad_norm"},
};

// A chart keeps at most this many points per series (every k-th step; the
// last point always stays), so a long run still gives a light page.
constexpr size_t kMaxPoints = 1500;

std::string format_number(double v) {
  char buf[64];
  if (v == std::floor(v) && std::abs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

nlohmann::json line_chart(const std::string& title, const nlohmann::json& values, bool points) {
  return {{"$schema", "https://vega.github.io/schema/vega-lite/v6.json"},
          {"title", title},
          {"width", 420},
          {"height", 220},
          {"data", {{"values", values}}},
          {"mark", {{"type", "line"}, {"point", points}, {"tooltip", true}}},
          {"encoding",
           {{"x", {{"field", "step"}, {"type", "quantitative"}, {"title", "step"}}},
            {"y", {{"field", "value"}, {"type", "quantitative"}, {"scale", {{"zero", false}}}, {"title", ""}}},
            {"color", {{"field", "series"}, {"type", "nominal"}, {"title", ""}}}}}};
}

// One series: (step, value) pairs, thinned to kMaxPoints.
using Series = std::vector<std::pair<double, double>>;

void add_series(nlohmann::json& values, const std::string& name, const Series& s) {
  const size_t stride = s.size() > kMaxPoints ? (s.size() + kMaxPoints - 1) / kMaxPoints : 1;
  for (size_t i = 0; i < s.size(); ++i)
    if (i % stride == 0 || i + 1 == s.size())
      values.push_back({{"step", s[i].first}, {"value", s[i].second}, {"series", name}});
}

std::string split_of(const std::string& key, std::string* base) {
  for (const char* prefix : {"train_", "val_", "test_"}) {
    const std::string p = prefix;
    if (key.rfind(p, 0) == 0 && key.size() > p.size()) {
      *base = key.substr(p.size());
      return p == "val_" ? "validation" : p.substr(0, p.size() - 1);
    }
  }
  *base = key;
  return "";
}

std::string read_text_or_empty(const std::string& path) {
  if (!file_exists(path)) return "";
  try {
    return read_file(path);
  } catch (const Error&) {
    return "";
  }
}

// eval.json flattened to key | value rows ("a.b" for nested objects).
void flatten(const nlohmann::json& j, const std::string& prefix, std::vector<std::vector<std::string>>& rows) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), rows);
  } else if (j.is_number()) {
    rows.push_back({prefix, format_number(j.get<double>())});
  } else if (j.is_string()) {
    rows.push_back({prefix, j.get<std::string>()});
  } else {
    rows.push_back({prefix, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
  }
}

}  // namespace

std::vector<nlohmann::json> read_metrics_lines(const std::string& path, int* skipped) {
  std::vector<nlohmann::json> lines;
  int bad = 0;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    // A line of another shape (an event that is not a name) is damaged.
    if (j.is_discarded() || !j.is_object() || (j.contains("event") && !j["event"].is_string())) {
      ++bad;
      continue;
    }
    if (j.contains("message") && !j["message"].is_string())
      j["message"] = j["message"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    lines.push_back(std::move(j));
  }
  if (skipped) *skipped = bad;
  return lines;
}

RunTally tally_run(const std::vector<nlohmann::json>& lines) {
  RunTally t;
  for (const auto& j : lines) {
    if (j.contains("step") && j["step"].is_number()) t.steps = std::max(t.steps, j["step"].get<double>());
    if (j.contains("elapsed_s") && j["elapsed_s"].is_number()) t.seconds = std::max(t.seconds, j["elapsed_s"].get<double>());
    const std::string event = j.value("event", std::string());
    t.rollbacks += event == "rollback";
    t.warnings += event == "warning";
  }
  return t;
}

bool run_finished(const std::vector<nlohmann::json>& lines) {
  return !lines.empty() && lines.back().value("event", std::string()) == "end";
}

std::vector<std::pair<nlohmann::json, std::string>> metric_charts(const std::vector<nlohmann::json>& lines,
                                                                  const std::string& title_prefix) {
  // Per-step series and held-out series (epoch and final lines), by name.
  std::map<std::string, Series> per_step, throughput;
  std::map<std::string, std::map<std::string, Series>> held_out;  // base -> split -> series
  std::vector<std::string> step_order, held_order;
  for (const auto& j : lines) {
    const std::string event = j.value("event", std::string());
    if (!j.contains("step") || !j["step"].is_number()) continue;
    const double step = j["step"].get<double>();
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (kNotCurves.count(it.key()) || !it.value().is_number()) continue;
      const double v = it.value().get<double>();
      if (!std::isfinite(v)) continue;
      if (event == "step") {
        if (it.key() == "examples_per_s") {
          throughput["examples per second"].push_back({step, v});
          continue;
        }
        if (!per_step.count(it.key())) step_order.push_back(it.key());
        per_step[it.key()].push_back({step, v});
      } else if (event == "epoch" || event == "final") {
        std::string base;
        std::string split = split_of(it.key(), &base);
        if (split.empty()) split = "value";
        // A train_ mean of a per-step metric repeats its curve: drawn there.
        if (split == "train" && per_step.count(base)) continue;
        if (!held_out.count(base)) held_order.push_back(base);
        held_out[base][split].push_back({step, v});
      }
    }
  }
  std::vector<std::pair<nlohmann::json, std::string>> charts;
  std::set<std::string> drawn;
  for (const auto& group : kTogether) {
    nlohmann::json values = nlohmann::json::array();
    std::vector<std::string> names;
    for (const auto& name : group)
      if (per_step.count(name)) {
        add_series(values, name, per_step[name]);
        names.push_back(name);
        drawn.insert(name);
      }
    if (!names.empty())
      charts.push_back({line_chart(title_prefix + join(names, " and "), values, false),
                        "per training step: " + join(names, ", ")});
  }
  for (const auto& name : step_order) {
    if (drawn.count(name)) continue;
    nlohmann::json values = nlohmann::json::array();
    add_series(values, name, per_step[name]);
    charts.push_back({line_chart(title_prefix + name, values, false), "per training step"});
  }
  for (const auto& base : held_order) {
    nlohmann::json values = nlohmann::json::array();
    std::vector<std::string> splits;
    for (const auto& kv : held_out[base]) {
      add_series(values, kv.first, kv.second);
      splits.push_back(kv.first);
    }
    charts.push_back({line_chart(title_prefix + base, values, true),
                      "at each epoch's end (and the run's end): " + join(splits, ", ")});
  }
  for (const auto& kv : throughput) {
    nlohmann::json values = nlohmann::json::array();
    add_series(values, kv.first, kv.second);
    charts.push_back({line_chart(title_prefix + kv.first, values, false), "training throughput"});
  }
  return charts;
}

std::vector<std::string> files_in_step_order(const std::string& dir, const std::string& suffix) {
  std::vector<std::pair<double, std::string>> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    if (!ends_with(name, suffix)) continue;
    const auto digit = name.find_first_of("0123456789");
    double key = std::numeric_limits<double>::infinity();
    if (digit != std::string::npos) key = std::strtod(name.c_str() + digit, nullptr);
    found.push_back({key, name});
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> names;
  for (auto& f : found) names.push_back(std::move(f.second));
  return names;
}

HtmlPage run_report(const std::string& dir, bool* finished_out) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error("run folder '" + dir + "' does not exist");
  const std::string config_text = read_text_or_empty(dir + "/config.toml");
  const std::string metrics_path = dir + "/metrics.jsonl";
  if (config_text.empty() && !file_exists(metrics_path))
    throw Error("'" + dir + "' is not a run folder: it has neither config.toml nor metrics.jsonl");
  int skipped = 0;
  const auto lines = read_metrics_lines(metrics_path, &skipped);

  std::string model = "?", data = "?";
  if (!config_text.empty()) {
    try {
      Config config = Config::from_toml(config_text, dir + "/config.toml");
      model = config.get_string("model.name", "?");
      data = config.get_string("data.name", "?");
      const std::string binarize = config.get_string("data.binarize", "none");
      if (binarize != "none") data += " (binarized: " + binarize + ")";
    } catch (const Error&) {
      // A damaged config is still shown below as text.
    }
  }
  HtmlPage page("genzoo run: " + fs::path(dir).filename().string());
  // Summary.
  std::vector<std::vector<std::string>> summary = {{"folder", dir}, {"model", model}, {"data", data}};
  bool finished = run_finished(lines);
  if (finished_out) *finished_out = finished;
  const RunTally tally = tally_run(lines);
  summary.push_back({"state", lines.empty() ? "no metrics yet"
                              : finished   ? "finished"
                                           : "training (or interrupted: genzoo train --resume continues it)"});
  summary.push_back({"steps", format_number(tally.steps)});
  summary.push_back({"training time", format_number(std::round(tally.seconds)) + " s"});
  summary.push_back({"rollbacks", std::to_string(tally.rollbacks)});
  summary.push_back({"warnings", std::to_string(tally.warnings)});
  page.table({}, summary);

  page.heading("Curves");
  const auto charts = metric_charts(lines);
  if (charts.empty())
    page.note(lines.empty() ? "No curves yet: metrics.jsonl is empty or absent (a run writes a line every 100 steps "
                              "and at each epoch's end)."
                            : "No curves: the metric lines hold no numbers to draw.");
  for (const auto& c : charts) page.chart(c.first, c.second);
  if (skipped > 0)
    page.note(std::to_string(skipped) + " line(s) of metrics.jsonl did not parse (a line being written) and were skipped.");

  std::vector<std::vector<std::string>> events;
  for (const auto& j : lines) {
    const std::string event = j.value("event", std::string());
    if (event == "warning" || event == "rollback" || event == "resumed")
      events.push_back({event, j.contains("step") ? j["step"].dump() : "",
                        event == "resumed" ? "resumed from the checkpoint" : j.value("message", std::string())});
  }
  if (!events.empty()) {
    page.heading("Warnings, rollbacks and resumes", 3);
    page.table({"event", "step", "message"}, events);
  }

  page.heading("Samples through training");
  const std::string samples = dir + "/samples";
  auto grids = files_in_step_order(samples, ".png");
  if (grids.empty()) page.note("No sample grids yet (samples/ is written at each epoch's end).");
  // At most 12 grids: evenly spaced, the last always kept.
  constexpr size_t kMaxGrids = 12;
  for (size_t i = 0; i < grids.size(); ++i) {
    if (grids.size() > kMaxGrids && i + 1 != grids.size() && (i * kMaxGrids) / grids.size() == ((i + 1) * kMaxGrids) / grids.size())
      continue;
    const std::string path = samples + "/" + grids[i];
    page.image(read_file(path), "samples/" + grids[i]);
  }

  const auto figures = files_in_step_order(dir, ".png");
  if (!figures.empty()) {
    page.heading("Figures");
    for (const auto& f : figures) page.image(read_file(dir + "/" + f), f);
  }

  page.heading("Evaluation");
  const std::string eval_text = read_text_or_empty(dir + "/eval.json");
  if (eval_text.empty()) {
    page.note("No eval.json yet: genzoo eval " + dir + " writes it.");
  } else {
    auto j = nlohmann::json::parse(eval_text, nullptr, false);
    if (j.is_discarded()) {
      page.note("eval.json does not parse as JSON.");
    } else {
      std::vector<std::vector<std::string>> rows;
      flatten(j, "", rows);
      page.table({"metric", "value"}, rows, "eval.json");
    }
  }

  page.heading("Resolved config");
  if (config_text.empty()) page.note("No config.toml.");
  else page.preformatted(config_text);
  return page;
}

}  // namespace genzoo
