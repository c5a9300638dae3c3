// genzoo sample RUN: a grid of samples from a trained run.
#include <cstdio>
#include <memory>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/report/png_grid.h"
#include "genzoo/train/run.h"

namespace genzoo::cli {

namespace {
struct SampleArgs {
  std::string run, out;
  int64_t n = 64, seed = 0, columns = 0;
  int threads = 0;
};

void run_sample(const SampleArgs& a) {
  apply_threads(a.threads);
  Run run = open_run(a.run);
  auto sampler = as<Sampler>(run.model);
  if (!sampler) throw Error("model '" + run.info->name + "' cannot sample");
  if (!run.data.to_display) throw Error("samples of '" + run.dataset.name + "' are not images");
  seed_everything(static_cast<uint64_t>(a.seed));
  torch::NoGradGuard no_grad;
  auto images = run.data.to_display(sampler->sample(a.n));  // [n, C, H, W] in [0,1]
  std::string out = a.out;
  if (out.empty()) {
    ensure_dir(a.run + "/samples");
    out = a.run + "/samples/sample.png";
  }
  save_grid(out, images, a.columns);
  std::printf("wrote %lld samples to %s\n", static_cast<long long>(a.n), out.c_str());
}
}  // namespace

void add_sample_command(CLI::App& app) {
  auto args = std::make_shared<SampleArgs>();
  auto* cmd = app.add_subcommand("sample", "Draw samples from a trained run into a PNG grid");
  cmd->add_option("RUN", args->run, "Run folder")->required();
  cmd->add_option("-n", args->n, "Number of samples")->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--out", args->out, "PNG file (default RUN/samples/sample.png)");
  cmd->add_option("--seed", args->seed, "Random seed")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--columns", args->columns, "Images per row (default: near-square)")
      ->check(CLI::NonNegativeNumber);
  add_threads_option(cmd, args->threads);
  cmd->callback([args] { run_sample(*args); });
}

}  // namespace genzoo::cli
