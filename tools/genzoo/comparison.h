#pragma once
// genzoo compare --models ...: the comparison run (comparison.cpp).
#include <cstdint>
#include <string>

namespace genzoo::cli {

struct CompareRunArgs {
  std::string models;  // comma-separated model names or run folders
  std::string data, out, ood;
  double time_limit = 0;
  int64_t seeds = 1, samples = 1000;
  int64_t importance_samples = 50;  // K of vae/cvae's NLL estimate
  int threads = 0;
  bool retry_failed = false;
};

/// Trains (or reuses) and evaluates every model, writes results.json,
/// results.csv and report.html in `out`, prints the table and the page.
void run_comparison(const CompareRunArgs& args);

}  // namespace genzoo::cli
