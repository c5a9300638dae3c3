// The comparison's summary over seeds and the seeds' verdicts, on records
// written by hand: each rule seen to confirm and to contradict.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "genzoo/report/comparison_report.h"

namespace genzoo {
namespace {

nlohmann::json run(int seed, nlohmann::json metrics, bool diverged = false, const std::string& status = "done") {
  return {{"seed", seed}, {"status", status}, {"diverged", diverged}, {"rollbacks", 0}, {"metrics", metrics}};
}

// Lists are std::vectors: a braced list of one json is an array for gcc but
// a copy of that element for clang.
nlohmann::json model(const std::string& name, const std::string& family, const std::string& caps,
                     const std::vector<nlohmann::json>& runs) {
  return {{"model", name}, {"label", name}, {"family", family}, {"capabilities", caps},
          {"runs", nlohmann::json(runs)}};
}

nlohmann::json results_of(const std::vector<nlohmann::json>& models) {
  return {{"models", nlohmann::json(models)}};
}

// The verdict on `claim` (a substring) for `label`; "" when absent.
std::string verdict(const nlohmann::json& results, const std::string& label, const std::string& claim) {
  for (const auto& v : results["verdicts"])
    if (v["model"] == label && v["claim"].get<std::string>().find(claim) != std::string::npos)
      return v["verdict"].get<std::string>();
  return "";
}

nlohmann::json grey(double fid, double sharp, double recall, double t64) {
  return {{"binarize", "none"}, {"fid", fid}, {"sharpness_ratio", sharp}, {"recall", recall},
          {"seconds_per_64_samples", t64}};
}

TEST(ComparisonSummary, MeanStandardErrorAndSpreadOverSeeds) {
  nlohmann::json results = results_of(
       {model("vae", "latent", "sample,density,latent",
              {run(0, {{"fid", 10.0}}), run(1, {{"fid", 12.0}}), run(2, {{"fid", 17.0}}),
               run(3, {{"fid", 99.0}}, false, "failed")})});
  summarise_comparison(results);
  const auto& s = results["models"][0]["summary"]["fid"];
  EXPECT_DOUBLE_EQ(s["mean"].get<double>(), 13.0);  // the failed run is not averaged
  EXPECT_EQ(s["n"].get<int>(), 3);
  const double sd = std::sqrt((9.0 + 1.0 + 16.0) / 2.0);
  EXPECT_NEAR(s["sd"].get<double>(), sd, 1e-12);
  EXPECT_NEAR(s["stderr"].get<double>(), sd / std::sqrt(3.0), 1e-12);
  // diverged is a share over the finished runs.
  EXPECT_DOUBLE_EQ(results["models"][0]["summary"]["diverged"]["mean"].get<double>(), 0.0);
}

TEST(ComparisonVerdicts, TheSeedsTableConfirmedOnAFittingCase) {
  nlohmann::json results = results_of(
       {model("nade", "explicit", "sample,density,complete,autoregressive",
              {run(0, {{"nll_is", "exact"}, {"nll_nats", 90.0}, {"seconds_per_64_samples", 0.5}})}),
        model("rnade", "explicit", "sample,density,autoregressive",
              {run(0, {{"nll_is", "exact, a density over dequantised pixels"}, {"nll_nats", -900.0}})}),
        model("vae", "latent", "sample,density,latent",
              {run(0, grey(40, 0.5, 0.6, 0.01)),
               run(1, grey(41, 0.55, 0.6, 0.01)), run(2, grey(42, 0.52, 0.6, 0.01))}),
        model("dcgan", "adversarial", "sample",
              {run(0, grey(20, 0.95, 0.3, 0.002)), run(1, grey(35, 0.9, 0.3, 0.002)),
               run(2, grey(28, 1.05, 0.3, 0.002))}),
        model("igebm", "energy", "sample,energy", {run(0, grey(60, 0.8, 0.4, 3.0))})});
  results["models"][2]["runs"][0]["metrics"]["nll_is"] = "importance-sampled estimate of a lower bound";
  summarise_comparison(results);
  EXPECT_EQ(verdict(results, "nade", "exact likelihood"), "confirmed");
  EXPECT_EQ(verdict(results, "rnade", "exact likelihood"), "confirmed");
  EXPECT_EQ(verdict(results, "nade", "very slow sampling"), "confirmed");
  EXPECT_EQ(verdict(results, "vae", "a bound"), "confirmed");
  EXPECT_EQ(verdict(results, "vae", "fast"), "confirmed");
  EXPECT_EQ(verdict(results, "vae", "blurry"), "confirmed");
  EXPECT_EQ(verdict(results, "vae", "stable training"), "confirmed");  // FID spread 2.4 % against 27 %
  EXPECT_EQ(verdict(results, "dcgan", "no likelihood"), "confirmed");
  EXPECT_EQ(verdict(results, "dcgan", "sharp samples"), "confirmed");
  EXPECT_EQ(verdict(results, "dcgan", "drops modes"), "confirmed");  // recall 0.3 against 0.4-0.6
  EXPECT_EQ(verdict(results, "dcgan", "unstable training"), "confirmed");
  EXPECT_EQ(verdict(results, "igebm", "slow"), "confirmed");
}

TEST(ComparisonVerdicts, TheSameRulesContradictWhenTheFiguresDisagree) {
  nlohmann::json results = results_of(
       {model("nade", "explicit", "sample,density,complete,autoregressive",
              {run(0, {{"nll_is", "exact"}, {"seconds_per_64_samples", 0.001}})}),
        model("vae", "latent", "sample,density,latent",
              {run(0, grey(40, 1.2, 0.6, 0.01)), run(1, grey(41, 1.2, 0.6, 0.01), true),
               run(2, grey(42, 1.2, 0.6, 0.01))}),
        model("dcgan", "adversarial", "sample",
              {run(0, grey(20, 2.0, 0.9, 0.002)), run(1, grey(20.1, 2.0, 0.9, 0.002)),
               run(2, grey(20.2, 2.0, 0.9, 0.002))})});
  summarise_comparison(results);
  EXPECT_EQ(verdict(results, "nade", "very slow sampling"), "contradicted");  // faster than the VAE
  EXPECT_EQ(verdict(results, "vae", "blurry"), "contradicted");              // sharper than the data
  EXPECT_EQ(verdict(results, "vae", "stable training"), "contradicted");     // one run diverged
  EXPECT_EQ(verdict(results, "dcgan", "sharp samples"), "contradicted");     // further from 1 than the VAE
  EXPECT_EQ(verdict(results, "dcgan", "drops modes"), "contradicted");       // the best recall
  EXPECT_EQ(verdict(results, "vae", "fast"), "contradicted");                // slower than NADE here
  EXPECT_EQ(verdict(results, "dcgan", "unstable training"), "contradicted"); // FID spread 0.5 % against 2.4 %
}

TEST(ComparisonVerdicts, WhatCannotBeJudgedIsSaidSo) {
  nlohmann::json binary = grey(40, 1.1, 0.6, 0.01);
  binary["binarize"] = "threshold";
  nlohmann::json results = results_of({model("vae", "latent", "sample,density,latent", {run(0, binary)}),
                           model("dcgan", "adversarial", "sample", {run(0, grey(20, 0.9, 0.3, 0.002))})});
  summarise_comparison(results);
  // Binary samples: sharpness measures Bernoulli noise, not blur.
  EXPECT_EQ(verdict(results, "vae", "blurry"), "not measured");
  // One seed: no spread to judge.
  EXPECT_EQ(verdict(results, "vae", "stable training"), "not measured");
  EXPECT_EQ(verdict(results, "dcgan", "unstable training"), "not measured");
  // No autoregressive model to be faster than.
  EXPECT_EQ(verdict(results, "dcgan", "fast"), "not measured");
  // A failed run is evidence of instability even with one seed.
  results["models"][1]["runs"].push_back(run(1, nlohmann::json::object(), false, "failed"));
  summarise_comparison(results);
  EXPECT_EQ(verdict(results, "dcgan", "unstable training"), "confirmed");
}

}  // namespace
}  // namespace genzoo
