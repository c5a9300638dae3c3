// genzoo denoise RUN --input test:N|IMAGE... [--noise KIND:LEVEL]: rows of
// clean | corrupted | restored images from an autoencoder run, and the PSNR
// of the corrupted and of the restored images against the clean ones.
#include <cstdio>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/eval/image_quality.h"
#include "genzoo/models/latent/autoencoder.h"
#include "genzoo/report/png_grid.h"
#include "metric_table.h"

namespace genzoo::cli {

namespace {

struct DenoiseArgs {
  std::string run, out, noise, checkpoint = "best";
  std::vector<std::string> inputs;
  int64_t seed = 0;
  bool json = false;
  int threads = 0;
};

// "KIND:LEVEL" -> (kind, level); a genzoo::Error naming the choices otherwise.
std::pair<Corruption, double> parse_noise(const std::string& spec) {
  auto names = corruption_names().names();
  names.erase(names.begin());  // not "none"
  const std::string usage = "--noise '" + spec + "': give KIND:LEVEL with KIND one of " + join(names) +
                            " and LEVEL in [0, 1], e.g. masking:0.25";
  const auto colon = spec.find(':');
  if (colon == std::string::npos) throw Error(usage);
  auto kind = corruption_names().find(spec.substr(0, colon));
  if (!kind || *kind == Corruption::None) throw Error(usage);
  double level = -1;
  try {
    size_t used = 0;
    level = std::stod(spec.substr(colon + 1), &used);
    if (used != spec.size() - colon - 1) level = -1;
  } catch (const std::exception&) {
    level = -1;
  }
  if (!(level >= 0 && level <= 1)) throw Error(usage);
  return {*kind, level};
}

void run_denoise(const DenoiseArgs& a) {
  apply_threads(a.threads);
  Corruption kind = Corruption::None;
  double level = 0;
  if (!a.noise.empty()) std::tie(kind, level) = parse_noise(a.noise);
  Run run = open_run(a.run, a.checkpoint);
  auto model = as<Reconstructor>(run.model);
  auto restorer = as<Restorer>(run.model);
  if (!model && !restorer)
    throw Error("model '" + run.info->name +
                "' does not reconstruct or restore images: denoise needs an ae or dae run, or an energy model (igebm, cigebm)");
  if (!run.data.to_display) throw Error("denoise needs an image dataset");
  if (kind == Corruption::None) {
    if (!model || !model->denoises())
      throw Error(model ? "an ae run has no training corruption: give --noise KIND:LEVEL (e.g. masking:0.25)"
                        : "an energy model has no corruption of its own: give --noise KIND:LEVEL (e.g. salt_and_pepper:0.1)");
    kind = model->corruption();
    level = model->corruption_level();
  }
  std::vector<torch::Tensor> clean;
  for (const auto& spec : a.inputs) clean.push_back(run_image(run, spec, "--input"));
  auto x = torch::stack(clean);  // [N, C, H, W], model space
  seed_everything(static_cast<uint64_t>(a.seed));
  torch::NoGradGuard no_grad;
  auto corrupted = corrupt(x, kind, level, run.spec.format);
  auto restored = model ? model->reconstruct(corrupted) : restorer->restore(corrupted);
  auto shown = run.data.to_display(x), shown_noisy = run.data.to_display(corrupted),
       shown_restored = run.data.to_display(restored);  // [N, C, H, W] in [0, 1]
  auto p_noisy = psnr(shown_noisy, shown), p_restored = psnr(shown_restored, shown);  // [N]
  std::vector<torch::Tensor> tiles;
  for (int64_t i = 0; i < x.size(0); ++i) {
    tiles.push_back(shown[i]);
    tiles.push_back(shown_noisy[i]);
    tiles.push_back(shown_restored[i]);
  }
  std::string out = a.out;
  if (out.empty()) {
    ensure_dir(a.run + "/samples");
    out = a.run + "/samples/denoise.png";
  }
  save_grid(out, torch::stack(tiles), 3);
  nlohmann::json j{{"noise", std::string(corruption_names().name(kind)) + ":" + std::to_string(level)},
                   {"figure", out},
                   {"psnr_corrupted_db", p_noisy.mean().item<double>()},
                   {"psnr_restored_db", p_restored.mean().item<double>()},
                   {"images", x.size(0)}};
  // The gain per image, paired (the same corrupted image before and after),
  // and every image's restored PSNR, so that two runs given the same
  // --input and --seed (hence the same corruption) can be compared pairwise.
  auto gain = (p_restored - p_noisy).to(torch::kFloat64);
  j["psnr_gain_db"] = gain.mean().item<double>();
  j["psnr_gain_stderr"] = x.size(0) > 1 ? gain.std().item<double>() / std::sqrt(static_cast<double>(x.size(0))) : 0.0;
  auto per_image = p_restored.to(torch::kFloat64).contiguous();
  j["psnr_restored_db_per_image"] =
      std::vector<double>(per_image.data_ptr<double>(), per_image.data_ptr<double>() + per_image.numel());
  if (a.json) {
    std::printf("%s\n", json_text(j).c_str());
    return;
  }
  std::printf("wrote %lld rows (clean | corrupted | restored) to %s\n", static_cast<long long>(x.size(0)), out.c_str());
  for (int64_t i = 0; i < x.size(0); ++i)
    std::printf("  %-24s corrupted %6.2f dB, restored %6.2f dB\n", a.inputs[static_cast<size_t>(i)].c_str(),
                p_noisy[i].item<double>(), p_restored[i].item<double>());
  std::printf("mean PSNR: corrupted %.2f dB, restored %.2f dB (%s)\n", p_noisy.mean().item<double>(),
              p_restored.mean().item<double>(), j["noise"].get<std::string>().c_str());
}

}  // namespace

void add_denoise_command(CLI::App& app) {
  auto args = std::make_shared<DenoiseArgs>();
  auto* cmd = app.add_subcommand("denoise", "Corrupt images, restore them with an autoencoder or an energy model, report PSNR");
  cmd->add_option("RUN", args->run, "Run folder of an ae, dae, igebm or cigebm model")->required();
  cmd->add_option("--input", args->inputs, "Images: test:INDEX or PNG files of the run's size")->required()->expected(1, 64);
  cmd->add_option("--noise", args->noise,
                  "KIND:LEVEL, KIND gaussian|masking|salt_and_pepper, LEVEL in [0,1] (default: a dae's own; required otherwise)");
  cmd->add_option("--out", args->out, "PNG file (default RUN/samples/denoise.png)");
  cmd->add_option("--seed", args->seed, "Seed of the corruption")->check(CLI::NonNegativeNumber);
  add_checkpoint_option(cmd, args->checkpoint);
  cmd->add_flag("--json", args->json, "Print the PSNRs as JSON");
  add_threads_option(cmd, args->threads);
  cmd->callback([args] { run_denoise(*args); });
}

}  // namespace genzoo::cli
