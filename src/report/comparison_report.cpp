#include "genzoo/report/comparison_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/report/run_report.h"

namespace genzoo {

namespace {

namespace fs = std::filesystem;

// Fields of the run record itself (the rest are eval.json metrics).
const std::vector<std::string> kRecordColumns = {
    "steps_per_sample", "steps",        "train_seconds", "train_wall_seconds", "train_peak_mb", "eval_seconds",
    "eval_peak_mb",     "rollbacks",    "warnings",      "diverged"};

const std::vector<std::string> kMetricColumns = {
    "nll_is",          "nll_nats",          "nll_stderr",        "bits_per_dim",   "parzen_mean",
    "parzen_stderr",   "fid",               "kid",               "precision",      "recall",
    "ms_ssim_samples", "ms_ssim_samples_stderr", "ms_ssim_data", "sharpness_ratio", "sharpness_samples",
    "sharpness_data",  "seconds_per_64_samples", "samples_per_second", "auroc",   "auroc_ood",
    "modes_captured",  "modes_total",       "high_quality_share"};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string fmt(double v, int digits = 3) {
  if (!std::isfinite(v)) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string fmt_fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A model's summary mean / stderr / sd / n of `key`.
double stat(const nlohmann::json& model, const std::string& key, const char* which = "mean") {
  if (!model.contains("summary") || !model["summary"].contains(key)) return kNaN;
  const auto& s = model["summary"][key];
  return s.contains(which) && s[which].is_number() ? s[which].get<double>() : kNaN;
}

// "mean ± stderr" (the stderr over seeds when there are several, else the
// metric's own within-run standard error `own_se` when given).
std::string mean_se(const nlohmann::json& model, const std::string& key, int decimals,
                    const std::string& own_se = "") {
  const double m = stat(model, key);
  if (!std::isfinite(m)) return "—";
  double se = stat(model, key, "n") >= 2 ? stat(model, key, "stderr") : kNaN;
  if (!std::isfinite(se) && !own_se.empty()) se = stat(model, own_se);
  return fmt_fixed(m, decimals) + (std::isfinite(se) ? " ± " + fmt_fixed(se, decimals) : "");
}

// The first finished run's string metric (nll_is, auroc_ood).
std::string first_string(const nlohmann::json& model, const std::string& key) {
  for (const auto& r : model["runs"])
    if (r.value("status", std::string()) == "done") {
      const nlohmann::json* v = comparison_value(r, key);
      if (v && v->is_string()) return v->get<std::string>();
    }
  return "";
}

// The model's name in tables and charts: unique in the comparison.
std::string label_of(const nlohmann::json& m) {
  if (m.contains("label") && m["label"].is_string() && !m["label"].get<std::string>().empty())
    return m["label"].get<std::string>();
  return m.contains("model") && m["model"].is_string() ? m["model"].get<std::string>() : "?";
}

bool exact_density(const std::string& nll_is) { return nll_is.rfind("exact", 0) == 0; }

// Runs that failed or diverged, and rollbacks: evidence on training stability.
struct Troubles {
  int failed = 0, diverged = 0, rollbacks = 0;
  std::string text() const {
    return std::to_string(failed) + " failed, " + std::to_string(diverged) + " diverged, " + std::to_string(rollbacks) +
           " rollback(s)";
  }
  bool any() const { return failed + diverged + rollbacks > 0; }
};
Troubles troubles_of(const nlohmann::json& m) {
  Troubles t;
  for (const auto& r : m["runs"]) {
    if (r.value("status", std::string()) == "failed") ++t.failed;
    if (r.contains("diverged") && r["diverged"].is_boolean() && r["diverged"].get<bool>()) ++t.diverged;
    if (r.contains("rollbacks") && r["rollbacks"].is_number()) t.rollbacks += r["rollbacks"].get<int>();
  }
  return t;
}

// Whether the model's samples are binary (a binarized view): their
// sharpness then measures Bernoulli noise, not blur.
bool binary_samples(const nlohmann::json& m) {
  for (const auto& r : m["runs"])
    if (r.contains("metrics") && r["metrics"].contains("binarize") && r["metrics"]["binarize"].is_string())
      return r["metrics"]["binarize"].get<std::string>() != "none";
  return false;
}

// Spread over seeds is judged from 3 seeds or more.
constexpr double kSeedsForSpread = 3;

bool autoregressive(const nlohmann::json& m) {
  return m.value("capabilities", std::string()).find("autoregressive") != std::string::npos;
}
bool has_density(const nlohmann::json& m) {
  return m.value("capabilities", std::string()).find("density") != std::string::npos;
}
int finished_runs(const nlohmann::json& m) {
  int n = 0;
  for (const auto& r : m["runs"]) n += r.value("status", std::string()) == "done";
  return n;
}

std::string density_cell(const nlohmann::json& m) {
  const std::string is = first_string(m, "nll_is");
  if (std::isfinite(stat(m, "nll_nats"))) {
    const std::string kind = exact_density(is) ? "exact" : "bound";
    std::string cell = kind + ": " + mean_se(m, "nll_nats", 1, "nll_stderr") + " nats";
    if (std::isfinite(stat(m, "bits_per_dim"))) cell += " (" + fmt_fixed(stat(m, "bits_per_dim"), 3) + " bits/dim)";
    return cell;
  }
  if (std::isfinite(stat(m, "parzen_mean")))
    return "no density; Parzen log-lik. " + mean_se(m, "parzen_mean", 1, "parzen_stderr") + " nats";
  return "no density";
}

struct Verdict {
  std::string model, claim, measured, verdict;
};

// Of the models `others` selects, the smallest and largest mean of `key`.
std::pair<double, double> range_of(const nlohmann::json& models, const std::string& key,
                                   const std::function<bool(const nlohmann::json&)>& others) {
  double lo = kNaN, hi = kNaN;
  for (const auto& m : models) {
    if (!others(m)) continue;
    const double v = stat(m, key);
    if (!std::isfinite(v)) continue;
    lo = std::isfinite(lo) ? std::min(lo, v) : v;
    hi = std::isfinite(hi) ? std::max(hi, v) : v;
  }
  return {lo, hi};
}

std::vector<Verdict> verdicts(const nlohmann::json& models) {
  std::vector<Verdict> out;
  auto family_is = [](const std::string& f) {
    return [f](const nlohmann::json& m) { return m.value("family", std::string()) == f && !autoregressive(m); };
  };
  auto is_ar = [](const nlohmann::json& m) { return autoregressive(m); };
  auto latent_or_adversarial = [](const nlohmann::json& m) {
    const std::string f = m.value("family", std::string());
    return !autoregressive(m) && (f == "latent" || f == "adversarial");
  };
  for (const auto& m : models) {
    if (finished_runs(m) == 0) continue;
    const std::string name = label_of(m), family = m.value("family", std::string());
    const Troubles trouble = troubles_of(m);
    const bool binary = binary_samples(m);
    const double t64 = stat(m, "seconds_per_64_samples");
    const std::string t64_text = fmt(t64) + " s per 64 samples";
    auto speed_claim = [&](const std::string& claim, bool slow, const std::function<bool(const nlohmann::json&)>& others,
                           const std::string& others_name) {
      auto r = range_of(models, "seconds_per_64_samples", others);
      if (!std::isfinite(t64) || !std::isfinite(r.first)) {
        out.push_back({name, claim, t64_text + "; no " + others_name + " to compare with", "not measured"});
        return;
      }
      const bool holds = slow ? t64 > r.second : t64 < r.first;
      out.push_back({name, claim,
                     t64_text + " against " + fmt(slow ? r.second : r.first) + " for the " +
                         (slow ? "slowest " : "fastest ") + others_name,
                     holds ? "confirmed" : "contradicted"});
    };
    const double sharp = stat(m, "sharpness_ratio");
    const double fid_sd = stat(m, "fid", "sd"), fid_mean = stat(m, "fid");
    const std::string is = first_string(m, "nll_is");
    if (autoregressive(m)) {
      out.push_back({name, "explicit density: exact likelihood", density_cell(m),
                     exact_density(is) ? "confirmed" : is.empty() ? "not measured" : "contradicted"});
      speed_claim("sequential generation: very slow sampling", true, latent_or_adversarial,
                  "latent-variable or adversarial model");
    } else if (family == "latent") {
      const bool bound = is.find("bound") != std::string::npos;
      out.push_back({name, "approximate explicit density (a bound on the likelihood)", density_cell(m),
                     is.empty() ? "not measured" : bound ? "confirmed" : "contradicted"});
      speed_claim("latent sampling: fast (one decoder pass)", false, is_ar, "autoregressive model");
      auto gan = range_of(models, "sharpness_ratio", family_is("adversarial"));
      if (binary) {
        out.push_back({name, "blurry samples",
                       "binary samples: their sharpness (" + fmt(sharp) + " × the data's) measures Bernoulli noise, not blur",
                       "not measured"});
      } else if (!std::isfinite(sharp)) {
        out.push_back({name, "blurry samples", "no sharpness figure", "not measured"});
      } else {
        std::string measured = "gradient energy " + fmt(sharp) + " × the data's";
        bool holds = sharp < 1;
        if (std::isfinite(gan.first)) {
          measured += "; adversarial models " + fmt(gan.first) + (gan.first != gan.second ? "–" + fmt(gan.second) : "");
          holds = holds && sharp < gan.first;
        }
        out.push_back({name, "blurry samples", measured, holds ? "confirmed" : "contradicted"});
      }
      if (trouble.any()) {
        out.push_back({name, "stable training", trouble.text(), "contradicted"});
      } else if (stat(m, "fid", "n") >= kSeedsForSpread && std::isfinite(fid_sd)) {
        double worst_gan_cv = kNaN;
        for (const auto& g : models)
          if (family_is("adversarial")(g) && stat(g, "fid", "n") >= kSeedsForSpread) {
            const double cv = stat(g, "fid", "sd") / stat(g, "fid");
            worst_gan_cv = std::isfinite(worst_gan_cv) ? std::max(worst_gan_cv, cv) : cv;
          }
        const double cv = fid_sd / fid_mean;
        std::string measured = "no failure, divergence or rollback; FID spread over seeds " + fmt(100 * cv, 2) +
                               " % of its mean";
        bool holds = true;
        if (std::isfinite(worst_gan_cv)) {
          measured += " (adversarial: up to " + fmt(100 * worst_gan_cv, 2) + " %)";
          holds = cv <= worst_gan_cv;
        }
        out.push_back({name, "stable training", measured, holds ? "confirmed" : "contradicted"});
      } else {
        out.push_back({name, "stable training",
                       "no failure, divergence or rollback in " + std::to_string(m["runs"].size()) +
                           " run(s); the spread over seeds needs 3",
                       "not measured"});
      }
    } else if (family == "adversarial") {
      out.push_back({name, "implicit density: no likelihood", density_cell(m),
                     !has_density(m) ? "confirmed" : "contradicted"});
      speed_claim("one-pass sampling: fast", false, is_ar, "autoregressive model");
      auto vae = range_of(models, "sharpness_ratio", [&](const nlohmann::json& o) {
        return family_is("latent")(o) && !binary_samples(o);
      });
      if (binary) {
        out.push_back({name, "sharp samples", "binary samples: sharpness measures Bernoulli noise", "not measured"});
      } else if (std::isfinite(sharp) && std::isfinite(vae.second)) {
        const bool holds = std::abs(std::log(sharp)) < std::abs(std::log(vae.second)) &&
                           std::abs(std::log(sharp)) < std::abs(std::log(vae.first));
        out.push_back({name, "sharp samples",
                       "gradient energy " + fmt(sharp) + " × the data's; latent models " + fmt(vae.first) +
                           (vae.first != vae.second ? "–" + fmt(vae.second) : ""),
                       holds ? "confirmed" : "contradicted"});
      } else {
        out.push_back({name, "sharp samples",
                       std::isfinite(sharp) ? "gradient energy " + fmt(sharp) + " × the data's; no grey latent model"
                                            : "no sharpness figure",
                       "not measured"});
      }
      // Mode dropping: fewer modes than the data (points), or less recall
      // and more similar samples than the data (images).
      if (std::isfinite(stat(m, "modes_captured"))) {
        const double got = stat(m, "modes_captured"), total = stat(m, "modes_total");
        out.push_back({name, "drops modes", fmt(got) + " of " + fmt(total) + " modes captured",
                       got < total ? "confirmed" : "contradicted"});
      } else if (std::isfinite(stat(m, "recall"))) {
        const double recall = stat(m, "recall");
        auto others = range_of(models, "recall", [](const nlohmann::json& o) {
          return o.value("family", std::string()) != "adversarial";
        });
        const double ms = stat(m, "ms_ssim_samples"), ms_data = stat(m, "ms_ssim_data");
        std::string measured = "recall " + fmt(recall);
        bool holds = false;
        if (std::isfinite(others.first)) {
          measured += " (other families " + fmt(others.first) + "–" + fmt(others.second) + ")";
          holds = recall < others.first;
        }
        if (std::isfinite(ms) && std::isfinite(ms_data)) {
          measured += "; MS-SSIM of sample pairs " + fmt(ms) + " against the data's " + fmt(ms_data);
          holds = holds || ms > ms_data + 2 * std::max(stat(m, "ms_ssim_samples_stderr"), 0.0);
        }
        out.push_back({name, "drops modes (less diverse than the data)", measured, holds ? "confirmed" : "contradicted"});
      }
      if (trouble.any()) {
        out.push_back({name, "unstable training", trouble.text(), "confirmed"});
      } else if (stat(m, "fid", "n") >= kSeedsForSpread && std::isfinite(fid_sd)) {
        const double cv = fid_sd / fid_mean;
        double latent_cv = kNaN;
        for (const auto& v : models)
          if (family_is("latent")(v) && stat(v, "fid", "n") >= kSeedsForSpread) {
            const double c = stat(v, "fid", "sd") / stat(v, "fid");
            latent_cv = std::isfinite(latent_cv) ? std::min(latent_cv, c) : c;
          }
        std::string measured = "no failure, divergence or rollback; FID spread over seeds " + fmt(100 * cv, 2) +
                               " % of its mean";
        if (std::isfinite(latent_cv)) {
          measured += " (latent: from " + fmt(100 * latent_cv, 2) + " %)";
          out.push_back({name, "unstable training", measured, cv > latent_cv ? "confirmed" : "contradicted"});
        } else {
          out.push_back({name, "unstable training", measured + "; no latent model with 3 seeds to compare",
                         "not measured"});
        }
      } else {
        out.push_back({name, "unstable training",
                       "no failure, divergence or rollback in " + std::to_string(m["runs"].size()) +
                           " run(s); the spread over seeds needs 3",
                       "not measured"});
      }
    } else if (family == "energy") {
      out.push_back({name, "unnormalised density: no exact likelihood", density_cell(m),
                     !has_density(m) ? "confirmed" : "contradicted"});
      speed_claim("sampling by Langevin dynamics: slow", true, family_is("adversarial"), "adversarial model");
    }
  }
  return out;
}

}  // namespace

const std::vector<std::string>& comparison_csv_columns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> c = kMetricColumns;
    c.insert(c.end(), kRecordColumns.begin(), kRecordColumns.end());
    return c;
  }();
  return columns;
}

const nlohmann::json* comparison_value(const nlohmann::json& run, const std::string& column) {
  if (std::find(kRecordColumns.begin(), kRecordColumns.end(), column) != kRecordColumns.end())
    return run.contains(column) ? &run[column] : nullptr;
  if (run.contains("metrics") && run["metrics"].is_object() && run["metrics"].contains(column))
    return &run["metrics"][column];
  return nullptr;
}

void summarise_comparison(nlohmann::json& results) {
  for (auto& m : results["models"]) {
    nlohmann::json summary = nlohmann::json::object();
    for (const auto& c : comparison_csv_columns()) {
      std::vector<double> v;
      for (const auto& r : m["runs"]) {
        if (r.value("status", std::string()) != "done") continue;
        const nlohmann::json* x = comparison_value(r, c);
        if (x && x->is_number()) v.push_back(x->get<double>());
        else if (x && x->is_boolean()) v.push_back(x->get<bool>() ? 1.0 : 0.0);
      }
      if (v.empty()) continue;
      double mean = 0;
      for (double x : v) mean += x;
      mean /= static_cast<double>(v.size());
      double ss = 0;
      for (double x : v) ss += (x - mean) * (x - mean);
      nlohmann::json s{{"mean", mean}, {"n", v.size()}};
      if (v.size() >= 2) {
        const double sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
        s["sd"] = sd;
        s["stderr"] = sd / std::sqrt(static_cast<double>(v.size()));
      }
      summary[c] = s;
    }
    m["summary"] = summary;
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& v : verdicts(results["models"]))
    list.push_back({{"model", v.model}, {"claim", v.claim}, {"measured", v.measured}, {"verdict", v.verdict}});
  results["verdicts"] = list;
}

namespace {

const std::vector<std::string> kRecapHeader = {"model",
                                               "family",
                                               "runs",
                                               "density (test NLL)",
                                               "s / 64 samples",
                                               "sequential steps / sample",
                                               "FID",
                                               "KID",
                                               "precision",
                                               "recall",
                                               "sharpness (× data)",
                                               "MS-SSIM samples (data)",
                                               "modes",
                                               "OOD AUROC",
                                               "stability: FID sd over seeds; failed, diverged, rollbacks",
                                               "training steps",
                                               "train s",
                                               "peak MB"};

std::vector<std::vector<std::string>> recap_rows(const nlohmann::json& results) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : results["models"]) {
    const int done = finished_runs(m), total = static_cast<int>(m["runs"].size());
    std::string runs = std::to_string(done) + " of " + std::to_string(total);
    if (done < total) runs += " (failed: see below)";
    std::string modes = "—";
    if (std::isfinite(stat(m, "modes_captured")))
      modes = fmt(stat(m, "modes_captured")) + " of " + fmt(stat(m, "modes_total")) + ", HQ " +
              fmt(stat(m, "high_quality_share"));
    std::string ms = "—";
    if (std::isfinite(stat(m, "ms_ssim_samples")))
      ms = fmt_fixed(stat(m, "ms_ssim_samples"), 3) + " (" + fmt_fixed(stat(m, "ms_ssim_data"), 3) + ")";
    const Troubles t = troubles_of(m);
    const double fid_sd = stat(m, "fid", "sd");
    const std::string stability = (std::isfinite(fid_sd) ? fmt(fid_sd, 3) : std::string("—")) + "; " +
                                  std::to_string(t.failed) + ", " + std::to_string(t.diverged) + ", " +
                                  std::to_string(t.rollbacks);
    rows.push_back({label_of(m), m.value("family", std::string()), runs, density_cell(m),
                    mean_se(m, "seconds_per_64_samples", 3), fmt(stat(m, "steps_per_sample"), 6), mean_se(m, "fid", 2),
                    mean_se(m, "kid", 4), mean_se(m, "precision", 3), mean_se(m, "recall", 3),
                    mean_se(m, "sharpness_ratio", 3), ms, modes, mean_se(m, "auroc", 3), stability,
                    fmt(stat(m, "steps"), 6), fmt(stat(m, "train_seconds"), 4), fmt(stat(m, "train_peak_mb"), 4)});
  }
  return rows;
}

}  // namespace

std::string comparison_text(const nlohmann::json& results) {
  std::string text = "comparison on " + results.value("data", std::string()) + ", " +
                     fmt(results.value("time_limit_s", 0.0), 6) + " s per model, " +
                     std::to_string(results.value("seeds", 1)) + " seed(s) (mean ± standard error over seeds)\n";
  const std::vector<size_t> shown = {0, 3, 4, 6, 9, 10, 11};
  for (const auto& row : recap_rows(results)) {
    text += " ";
    for (size_t i : shown) text += " " + kRecapHeader[i] + ": " + row[i] + ";";
    text.pop_back();
    text += "\n";
  }
  for (const auto& v : results.value("verdicts", nlohmann::json::array()))
    text += "  " + v["model"].get<std::string>() + " — " + v["claim"].get<std::string>() + ": " +
            v["verdict"].get<std::string>() + " (" + v["measured"].get<std::string>() + ")\n";
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

namespace {

HtmlPage comparison_page(nlohmann::json& results) {
  summarise_comparison(results);  // from the records, whatever version wrote the summary
  HtmlPage page("genzoo comparison: " + results.value("data", std::string("?")));
  page.paragraph("Every model trained for the same wall-clock budget (" + fmt(results.value("time_limit_s", 0.0), 6) +
                 " s) with its recipe for " + results.value("data", std::string()) + ", " +
                 std::to_string(results.value("seeds", 1)) +
                 " seed(s), and evaluated with one protocol: " + std::to_string(results.value("samples", 0)) +
                 " samples per run in the shipped feature network (FID, KID, precision, recall), the sharpness and "
                 "diversity statistics, sampling time, and the test NLL where the model has a density." +
                 (results.value("ood", std::string()).empty()
                      ? std::string()
                      : " OOD AUROC against " + results["ood"].get<std::string>() + " where the model has a score.") +
                 " The verdicts judge the models as this budget left them: at a short one they describe models "
                 "still far from converged, not the families at their best.");
  page.heading("The measured recap");
  page.table(kRecapHeader, recap_rows(results),
             "mean ± standard error over seeds (with one seed: the metric's own standard error where it has one). "
             "Sharpness: mean gradient energy of samples over that of real images (< 1: blurrier). MS-SSIM: mean over "
             "random pairs (higher: less varied). NLLs of binarized and grey models are not comparable.");
  page.heading("The seeds' verdicts, measured");
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : results["verdicts"])
    rows.push_back({v["model"].get<std::string>(), v["claim"].get<std::string>(), v["verdict"].get<std::string>(),
                    v["measured"].get<std::string>()});
  if (rows.empty()) page.note("No finished run: nothing measured yet.");
  else page.table({"model", "claim", "verdict", "measured"}, rows);

  // Charts of the per-run figures: one point per run, per model.
  for (const auto& [key, title] : std::vector<std::pair<std::string, std::string>>{
           {"fid", "FID (lower is better)"},
           {"seconds_per_64_samples", "seconds per 64 samples (log scale)"},
           {"sharpness_ratio", "sharpness: gradient energy × the data's"},
           {"recall", "recall"}}) {
    nlohmann::json values = nlohmann::json::array();
    for (const auto& m : results["models"])
      for (const auto& r : m["runs"]) {
        if (r.value("status", std::string()) != "done") continue;
        const nlohmann::json* v = comparison_value(r, key);
        if (v && v->is_number() && std::isfinite(v->get<double>()))
          values.push_back({{"model", label_of(m)}, {"seed", r.value("seed", 0)}, {"value", v->get<double>()}});
      }
    if (values.empty()) continue;
    nlohmann::json y{{"field", "value"}, {"type", "quantitative"}, {"title", title}};
    if (key == "seconds_per_64_samples") y["scale"] = {{"type", "log"}};
    page.chart({{"$schema", "https://vega.github.io/schema/vega-lite/v6.json"},
                {"title", title},
                {"width", 360},
                {"height", 200},
                {"data", {{"values", values}}},
                {"mark", {{"type", "point"}, {"filled", true}, {"size", 70}, {"tooltip", true}}},
                {"encoding",
                 {{"x", {{"field", "model"}, {"type", "nominal"}, {"title", ""}}},
                  {"y", y},
                  {"color", {{"field", "model"}, {"type", "nominal"}, {"legend", nullptr}}}}}},
               "one point per run (seed)");
  }

  page.heading("Each run");
  for (const auto& m : results["models"])
    for (const auto& r : m["runs"]) {
      const std::string run = r.value("run", std::string());
      page.heading(label_of(m) + ", seed " + std::to_string(r.value("seed", 0)) + " (" + run + ")", 3);
      if (r.value("status", std::string()) != "done") {
        page.note("This run failed: " + r.value("error", std::string("no message recorded")));
      }
      // The last sample grid and the held-out curves.
      const auto grids = files_in_step_order(run + "/samples", ".png");
      if (!grids.empty()) {
        try {
          page.image(read_file(run + "/samples/" + grids.back()), "samples/" + grids.back());
        } catch (const Error&) {
        }
      }
      const auto lines = read_metrics_lines(run + "/metrics.jsonl");
      int drawn = 0;
      for (const auto& c : metric_charts(lines)) {
        // The held-out curves only (per-step ones are on each run's page).
        if (c.second.rfind("at each epoch", 0) != 0) continue;
        page.chart(c.first, c.second);
        if (++drawn == 2) break;
      }
      if (lines.empty()) page.note("No curves: the run wrote no metrics.");
    }
  return page;
}

}  // namespace

HtmlPage comparison_report(const std::string& dir) {
  const std::string path = dir + "/results.json";
  if (!file_exists(path)) throw Error("'" + dir + "' has no results.json (genzoo compare --models ... --out DIR writes it)");
  auto results = nlohmann::json::parse(read_file(path), nullptr, false);
  if (results.is_discarded() || !results.is_object() || !results.contains("models") || !results["models"].is_array())
    throw Error("'" + path + "' is not a genzoo compare results file");
  try {
    return comparison_page(results);
  } catch (const nlohmann::json::exception& e) {
    // A field of the wrong type: a file damaged or written by hand.
    throw Error("'" + path + "' is not a genzoo compare results file: " + e.what());
  }
}

}  // namespace genzoo
