// genzoo sample RUN: a grid of samples from a trained run (or the samples
// themselves as IDX), or with --complete, conditional completions of partly
// observed images.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/data/idx.h"
#include "genzoo/data/image.h"
#include "genzoo/models/explicit/pixel_model.h"
#include "genzoo/report/png_grid.h"
#include "genzoo/train/run.h"
#include "genzoo/train/run_inputs.h"

namespace genzoo::cli {

namespace {
struct SampleArgs {
  std::string run, out, checkpoint = "best";
  int64_t n = 64, seed = 0, columns = 0;
  int threads = 0;
  std::vector<std::string> complete;  // PNG files or test:INDEX
  std::string complete_flag = "--complete";  // the flag that gave them (inpaint: --image)
  std::string mask = "top-half";
  int64_t per_image = 8;
  int64_t per_class = 0;  // > 0: one row per class (class-conditional models)
  int64_t label = -1;     // >= 0: samples of this class only
  std::string size;       // "HxW": another image size (fully convolutional energies)
  std::string method;     // raster | cached (pixel-by-pixel image models); "" = the model's default
};

void run_complete(const SampleArgs& a, Run& run) {
  auto completer = as<Completer>(run.model);
  if (!completer) throw Error("model '" + run.info->name + "' cannot complete images (no conditional sampler)");
  if (!run.transform || !run.data.to_display) throw Error("--complete needs an image dataset");
  auto observed = completion_mask(run.spec, a.mask);  // [1, C, H, W]
  std::vector<torch::Tensor> inputs;
  for (const auto& spec : a.complete) inputs.push_back(run_image(run, spec, a.complete_flag));
  seed_everything(static_cast<uint64_t>(a.seed));
  torch::NoGradGuard no_grad;
  // Row per input: the observed part (missing pixels grey), K completions, the original.
  std::vector<torch::Tensor> tiles;
  std::vector<double> psnrs;  // of the filled pixels against the original, per completion
  auto missing = ~observed;
  for (const auto& x : inputs) {
    auto shown = run.data.to_display(x.unsqueeze(0));
    tiles.push_back(torch::where(observed, shown, torch::full_like(shown, 0.5)));
    auto repeated = x.unsqueeze(0).expand({a.per_image, x.size(0), x.size(1), x.size(2)}).contiguous();
    auto filled = run.data.to_display(completer->complete(repeated, observed));
    tiles.push_back(filled);
    tiles.push_back(shown);
    for (int64_t k = 0; k < filled.size(0); ++k) {
      const double mse = (filled[k] - shown[0]).masked_select(missing[0]).to(torch::kFloat64).pow(2).mean().item<double>();
      psnrs.push_back(10 * std::log10(1.0 / std::max(mse, 1e-10)));
    }
  }
  std::string out = a.out;
  if (out.empty()) {
    ensure_dir(a.run + "/samples");
    out = a.run + "/samples/completion.png";
  }
  save_grid(out, torch::cat(tiles), a.per_image + 2);
  std::printf("wrote %zu rows (observed | %lld completions | original) to %s\n", inputs.size(),
              static_cast<long long>(a.per_image), out.c_str());
  double mean = 0;
  for (double p : psnrs) mean += p / static_cast<double>(psnrs.size());
  std::printf("PSNR of the completed pixels against the original: %.2f dB (mean of %zu completions)\n", mean,
              psnrs.size());
  std::printf("%s\n", completer->completion_note(observed).c_str());
}

void run_sample(const SampleArgs& a) {
  const bool as_idx = ends_with(a.out, ".idx") || ends_with(a.out, ".idx.gz");
  if (!a.out.empty() && !as_idx && !ends_with(a.out, ".png"))
    throw Error("--out '" + a.out + "': write a grid (.png) or the samples themselves (.idx, .idx.gz)");
  if (as_idx && !a.complete.empty()) throw Error("--complete writes a grid: give --out FILE.png");
  apply_threads(a.threads);
  Run run = open_run(a.run, a.checkpoint);
  std::fprintf(stderr, "%s\n", describe_checkpoint(run).c_str());
  if (!a.complete.empty() && !a.size.empty()) throw Error("--size cannot be combined with --complete");
  if (!a.complete.empty()) return run_complete(a, run);
  auto sampler = as<Sampler>(run.model);
  if (!sampler) throw Error("model '" + run.info->name + "' cannot sample");
  auto conditional = as<ClassConditional>(run.model);
  if ((a.per_class > 0 || a.label >= 0) && !conditional)
    throw Error(std::string(a.per_class > 0 ? "--per-class" : "--class") + ": model '" + run.info->name +
                "' is not class-conditional (cvae is)");
  if (a.label >= 0 && a.label >= conditional->classes())
    throw Error("--class " + std::to_string(a.label) + ": the run's classes are 0.." +
                std::to_string(conditional->classes() - 1));
  auto by_method = as<MethodSampler>(run.model);
  SampleMethod method = SampleMethod::Cached;
  if (!a.method.empty()) {
    if (!by_method)
      throw Error("--method: model '" + run.info->name +
                  "' has one way to sample; raster and cached belong to pixelcnn, gated-pixelcnn and pixelrnn");
    const auto m = sample_method_names().find(a.method);
    if (!m) throw Error("--method '" + a.method + "': choose raster or cached");
    method = *m;
    if (a.per_class > 0 || a.label >= 0) throw Error("--method cannot be combined with --class or --per-class");
  }
  auto any_size = as<AnySizeSampler>(run.model);
  std::pair<int64_t, int64_t> size{run.spec.height, run.spec.width};
  if (!a.size.empty()) {
    if (!any_size)
      throw Error("--size: model '" + run.info->name + "' synthesises images of its training size only (" +
                  std::to_string(run.spec.height) + "x" + std::to_string(run.spec.width) + ")");
    if (a.per_class > 0 || a.label >= 0) throw Error("--size cannot be combined with --class or --per-class");
    size = parse_image_size(a.size, "--size", 4096);
    // Langevin keeps every chain's activations and their gradients in
    // memory at once: about 50 floats per pixel for the texture net.
    if (static_cast<double>(a.n) * static_cast<double>(size.first * size.second) > 16.0 * 1024 * 1024)
      throw Error("--size " + a.size + " with -n " + std::to_string(a.n) + ": more than 16 million pixels at once (" +
                  "the chains and their gradients would not fit in memory); draw fewer or smaller images per call");
  }
  // How many images: -n, or a row of --per-class for every class.
  const int64_t count = a.per_class > 0 ? a.per_class * conditional->classes() : a.n;
  const std::string what = a.per_class > 0 ? "--per-class " + std::to_string(a.per_class) + " (" +
                                                 std::to_string(count) + " images)"
                                           : "-n " + std::to_string(a.n);
  if (!as_idx && count > 4096) throw Error(what + ": a grid holds at most 4,096 images; write more with --out FILE.idx");
  if (!run.data.to_display && !(run.data.plot && !as_idx && a.complete.empty()))
    throw Error("samples of '" + run.dataset.name + "' are 2-D points: draw their scatter plot with --out FILE.png");
  // Refused before any sampling: samples that cannot be held, or a place
  // they cannot be written.
  const double bytes = 4.0 * static_cast<double>(count) * static_cast<double>(run.spec.channels) *
                       static_cast<double>(size.first) * static_cast<double>(size.second);
  if (bytes > 4e9)
    throw Error(what + ": " + std::to_string(count) + " samples of " +
                std::to_string(run.spec.channels * size.first * size.second) + " values would take " + std::to_string(static_cast<int64_t>(bytes / 1e9)) +
                " GB; write fewer at a time (use --seed to draw different ones)");
  if (!a.out.empty()) {
    std::error_code ec;
    auto parent = std::filesystem::absolute(a.out, ec).parent_path();
    if (std::filesystem::is_directory(a.out, ec)) throw Error("--out '" + a.out + "' is a folder, not a file");
    if (!std::filesystem::is_directory(parent, ec) || access(parent.c_str(), W_OK) != 0)
      throw Error("--out '" + a.out + "': the folder '" + parent.string() + "' does not exist or is not writable");
  }
  seed_everything(static_cast<uint64_t>(a.seed));
  torch::Tensor drawn;  // [n, C, H, W] in the model's space
  int64_t columns = a.columns, n = a.n;
  if (a.per_class > 0) {
    drawn = draw_class_rows(*conditional, a.per_class);
    columns = a.per_class;
    n = drawn.size(0);
  } else if (a.label >= 0) {
    drawn = draw_given(*conditional, torch::full({a.n}, a.label, torch::kLong));
  } else if (!a.size.empty()) {
    torch::NoGradGuard no_grad;
    drawn = any_size->sample_size(a.n, size.first, size.second);
  } else if (!a.method.empty()) {
    // Timed: what --method is for. 1,000 images a call at most, as draw_samples.
    const auto start = std::chrono::steady_clock::now();
    std::vector<torch::Tensor> parts;
    for (int64_t done = 0; done < a.n; done += 1000)
      parts.push_back(by_method->sample_by(std::min<int64_t>(1000, a.n - done), method));
    drawn = torch::cat(parts);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "%s sampling: %lld images in %.3f s (%.1f images/s)\n", a.method.c_str(),
                 static_cast<long long>(a.n), secs, static_cast<double>(a.n) / secs);
  } else {
    drawn = draw_samples(*sampler, a.n);
  }
  if (!run.data.to_display) {  // 2-D points: one scatter plot over the true modes
    std::string out = a.out.empty() ? a.run + "/samples/sample.png" : a.out;
    if (a.out.empty()) ensure_dir(a.run + "/samples");
    write_png(out, run.data.plot(drawn));
    std::printf("wrote a scatter plot of %lld samples to %s\n", static_cast<long long>(n), out.c_str());
    return;
  }
  auto images = run.data.to_display(drawn);  // [n, C, H, W] in [0,1]
  if (as_idx) {
    // Float pixels in [0, 1], exactly what `genzoo eval` scores: `genzoo
    // eval --images FILE` reads them back without loss.
    write_idx(a.out, images.to(torch::kFloat32).contiguous());
    std::printf("wrote %lld samples [%lld, %lld, %lld, %lld] (float32 in [0, 1]) to %s\n", static_cast<long long>(n),
                static_cast<long long>(images.size(0)), static_cast<long long>(images.size(1)),
                static_cast<long long>(images.size(2)), static_cast<long long>(images.size(3)), a.out.c_str());
    return;
  }
  std::string out = a.out;
  if (out.empty()) {
    ensure_dir(a.run + "/samples");
    out = a.run + "/samples/sample.png";
  }
  save_grid(out, images, columns);
  if (a.per_class > 0)
    std::printf("wrote %lld samples to %s: one row per class, 0 to %lld from the top\n", static_cast<long long>(n),
                out.c_str(), static_cast<long long>(conditional->classes() - 1));
  else
    std::printf("wrote %lld samples to %s\n", static_cast<long long>(n), out.c_str());
}
}  // namespace

void add_inpaint_command(CLI::App& app) {
  auto args = std::make_shared<SampleArgs>();
  args->mask = "center";
  args->complete_flag = "--image";
  auto* cmd = app.add_subcommand(
      "inpaint", "Fill the masked pixels of images with a model that completes (the same as sample --complete)");
  cmd->add_option("RUN", args->run, "Run folder of a model that completes images (igebm, nade, made, fvsbn, ...)")
      ->required();
  cmd->add_option("--image", args->complete, "Images: PNG files of the run's image size, or test:INDEX")
      ->required()
      ->expected(1, 64);
  cmd->add_option("--mask", args->mask,
                  "The observed pixels: top-half, bottom-half, left-half, right-half, center (all but the central "
                  "square), or a PNG (white = observed)")
      ->capture_default_str();
  cmd->add_option("--per-image", args->per_image, "Completions per image")->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--out", args->out, "PNG file (default RUN/samples/completion.png)");
  cmd->add_option("--seed", args->seed, "Random seed")->check(CLI::NonNegativeNumber)->capture_default_str();
  add_checkpoint_option(cmd, args->checkpoint);
  add_threads_option(cmd, args->threads);
  cmd->callback([args] {
    if (!args->out.empty() && !ends_with(args->out, ".png")) throw Error("--out '" + args->out + "': inpaint writes a .png grid");
    run_sample(*args);
  });
}

void add_sample_command(CLI::App& app) {
  auto args = std::make_shared<SampleArgs>();
  auto* cmd = app.add_subcommand("sample", "Draw samples from a trained run into a PNG grid");
  cmd->add_option("RUN", args->run, "Run folder")->required();
  auto* n = cmd->add_option("-n", args->n, "Number of samples (up to 4,096 in a grid, 100,000 in an IDX file)")
                ->check(CLI::Range(1, 100000))
                ->capture_default_str();
  cmd->add_option("--out", args->out,
                  "FILE.png: a grid (default RUN/samples/sample.png); FILE.idx or FILE.idx.gz: the samples as "
                  "float32 [N, C, H, W] in [0, 1], for genzoo eval --images");
  cmd->add_option("--seed", args->seed, "Random seed")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--columns", args->columns, "Images per row (default: near-square)")
      ->check(CLI::NonNegativeNumber);
  auto* complete = cmd->add_option("--complete", args->complete,
                  "Complete these images instead: PNG files of the run's image size, or test:INDEX")
      ->expected(1, 64);
  cmd->add_option("--mask", args->mask,
                  "With --complete, the observed pixels: top-half, bottom-half, left-half, right-half, center, or a PNG "
                  "(white = observed)")
      ->capture_default_str()
      ->needs(complete);
  cmd->add_option("--per-image", args->per_image, "With --complete, completions per image")
      ->check(CLI::Range(1, 64))
      ->capture_default_str()
      ->needs(complete);
  auto* per_class = cmd->add_option("--per-class", args->per_class,
                                    "Class-conditional models: one row per class of this many samples (replaces -n)")
                         ->check(CLI::Range(1, 64))
                         ->excludes(complete)
                         ->excludes(n);
  cmd->add_option("--size", args->size,
                  "Images of HEIGHTxWIDTH instead of the training size (fully convolutional energies: genconvnet)");
  cmd->add_option("--method", args->method,
                  "Pixel-by-pixel image models (pixelcnn, gated-pixelcnn, pixelrnn): raster (the whole network per "
                  "pixel) or cached (each layer at the new pixel only; the default); prints the time taken")
      ->excludes(complete);
  cmd->add_option("--class", args->label, "Class-conditional models: samples of this class only")
      ->check(CLI::NonNegativeNumber)
      ->excludes(complete)
      ->excludes(per_class);
  add_checkpoint_option(cmd, args->checkpoint);
  add_threads_option(cmd, args->threads);
  cmd->callback([args] { run_sample(*args); });
}

}  // namespace genzoo::cli
