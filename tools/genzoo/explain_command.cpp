// genzoo explain: what an energy-based ConvNet computes, made visible.
//   --image SPEC   the Gaussian piece of one image (Xie et al. 2016, sec. 3):
//                  activation pattern, B = ∂f/∂I, the reconstruction σ²B,
//                  α, the identity f(I) = α + ⟨I, B⟩ and its residual, and a
//                  short Langevin trajectory from the image, as one figure.
//   --units LAYER  activation maximisation under the reference prior:
//                  chains on exp(h_unit(I)) q(I) for every channel of a
//                  layer, several per unit (distinct facets), as one grid.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/models/energy/generative_convnet.h"
#include "genzoo/report/png_grid.h"

namespace genzoo::cli {
namespace {

struct ExplainArgs {
  std::string run, checkpoint = "best", image, out, size;
  int64_t units = 0;  // 1-based layer; 0 = not asked
  int64_t steps = 0;  // 0: the mode's default
  int64_t frames = 4, chains = 3, max_units = 64;
  int64_t seed = 0;
  int threads = 0;
};

// B for display: 0.5 grey is 0, the largest |B| of the image black or white.
torch::Tensor signed_to_display(const torch::Tensor& b) {
  const double m = b.abs().max().item<double>();
  return (0.5 + 0.5 * b / (m > 0 ? m : 1.0)).clamp(0, 1);
}

std::string default_out(const ExplainArgs& a, const std::string& name) {
  if (!a.out.empty()) return a.out;
  ensure_dir(a.run + "/samples");
  return a.run + "/samples/" + name;
}

void explain_image(const ExplainArgs& a, Run& run, GenerativeConvNetImpl& net) {
  auto x = run_image(run, a.image, "--image").unsqueeze(0).to(net.mean.dtype());  // [1, C, H, W] in [0, 1]
  const auto& o = net.options;
  if (o.top() == GcnTop::Linear && (x.size(2) != o.height() || x.size(3) != o.width()))
    throw Error("--image '" + a.image + "' is " + std::to_string(x.size(2)) + " x " + std::to_string(x.size(3)) +
                ", and with model.top = linear f takes " + std::to_string(o.height()) + " x " +
                std::to_string(o.width()) + " images only");
  net.eval();
  auto image = net.to_model(x);
  auto piece = net.piece(image);
  const auto layers = o.layers();
  std::printf("image %s: %lld x %lld x %lld, f(I) = %.6g\n", a.image.c_str(), static_cast<long long>(x.size(1)),
              static_cast<long long>(x.size(2)), static_cast<long long>(x.size(3)), piece.score.item<double>());
  for (size_t l = 0; l < piece.pattern.size(); ++l) {
    const auto on = piece.pattern[l].sum().item<int64_t>(), all = piece.pattern[l].numel();
    std::printf("  layer %zu (%lld filters %lld x %lld, stride %lld): %lld of %lld units on (%.1f%%)\n", l + 1,
                static_cast<long long>(layers[l].filters), static_cast<long long>(layers[l].kernel),
                static_cast<long long>(layers[l].kernel), static_cast<long long>(layers[l].stride),
                static_cast<long long>(on), static_cast<long long>(all), 100.0 * static_cast<double>(on) / all);
  }
  const double f = piece.score.item<double>(), alpha = piece.alpha.item<double>();
  const double inner = (image * piece.basis).sum().item<double>(), residual = piece.residual.item<double>();
  std::printf("  alpha = %.6g, <I, B> = %.6g, f(I) - alpha - <I, B> = %.3g (%.2g of |f|)\n", alpha, inner, residual,
              std::abs(residual) / std::max(std::abs(f), 1e-300));
  const bool linear = o.unit() == GcnUnit::Relu || o.unit() == GcnUnit::LeakyRelu;
  std::printf("  %s\n", linear ? "piecewise linear f: the residual is rounding, and p is Gaussian on this piece"
                               : (std::string("f with ") + gcn_unit_names().name(o.unit()) +
                                  " units is not piecewise linear: alpha and B gate each unit by its slope at I, and the "
                                  "residual is how far f is from that linear function")
                                     .c_str());
  std::vector<torch::Tensor> tiles{x, signed_to_display(piece.basis)};
  std::string what = "image | B = df/dI";
  if (piece.reconstruction.defined()) {
    auto err = (image - piece.reconstruction);
    std::printf("  reconstruction sigma^2 B: mean squared error %.4g per pixel (0-255 scale), %.3g of |I|^2\n",
                err.pow(2).mean().item<double>(),
                err.pow(2).sum().item<double>() / std::max(image.pow(2).sum().item<double>(), 1e-300));
    tiles.push_back(net.to_data(piece.reconstruction).clamp(0, 1));
    what += " | reconstruction sigma^2 B";
  } else {
    std::printf("  no Gaussian piece: model.reference is %s, so the piece's mean is not sigma^2 B\n",
                gcn_reference_names().name(o.reference()));
  }
  // A short Langevin trajectory from the image: the drift is the
  // reconstruction error (σ²B − I)/σ² for a Gaussian q.
  const int64_t steps = a.steps > 0 ? a.steps : 30;
  auto lo = net.langevin_options(steps);
  lo.record_every(std::max<int64_t>(1, steps / a.frames));
  seed_everything(static_cast<uint64_t>(a.seed));
  ChainResult chain;
  {
    torch::NoGradGuard no_grad;
    chain = langevin([&](const torch::Tensor& i) { return net.model_energy(i); }, image, lo);
  }
  for (int64_t t = 1; t < chain.trajectory.size(0); ++t) tiles.push_back(net.to_data(chain.trajectory[t]).clamp(0, 1));
  const std::string out = default_out(a, "explain.png");
  save_grid(out, torch::cat(tiles).to(torch::kFloat32), static_cast<int64_t>(tiles.size()));
  std::printf("wrote %s | Langevin from the image, %lld frames to step %lld, to %s\n", what.c_str(),
              static_cast<long long>(chain.trajectory.size(0) - 1), static_cast<long long>(steps), out.c_str());
}

std::pair<int64_t, int64_t> explain_size(const ExplainArgs& a, const Run& run, bool any_size) {
  if (a.size.empty()) {
    // A fully convolutional f applies to any size: 64 x 64 keeps the grid quick.
    if (any_size) return {std::min<int64_t>(run.spec.height, 64), std::min<int64_t>(run.spec.width, 64)};
    return {run.spec.height, run.spec.width};
  }
  const auto [h, w] = parse_image_size(a.size, "--size", 512);
  if (!any_size && (h != run.spec.height || w != run.spec.width))
    throw Error("--size " + a.size + ": model '" + run.info->name + "' takes " + std::to_string(run.spec.height) +
                "x" + std::to_string(run.spec.width) + " images only");
  return {h, w};
}

void explain_units(const ExplainArgs& a, Run& run, VisibleUnits& model, bool any_size) {
  const auto layers = model.unit_layers();
  if (a.units < 1 || a.units > static_cast<int64_t>(layers.size()))
    throw Error("--units " + std::to_string(a.units) + ": model '" + run.info->name + "' has layers 1.." +
                std::to_string(layers.size()));
  const int64_t layer = a.units - 1;
  const int64_t shown = std::min(layers[layer], a.max_units);
  const auto [h, w] = explain_size(a, run, any_size);
  const auto& test = run.data.test;
  if (test.size(2) < h || test.size(3) < w)
    throw Error("--size " + std::to_string(h) + "x" + std::to_string(w) + " is larger than the run's images (" +
                std::to_string(test.size(2)) + "x" + std::to_string(test.size(3)) + ")");
  // Starts: random windows of random test images, a different one for every
  // chain, so that the chains of one unit can settle on different facets.
  seed_everything(static_cast<uint64_t>(a.seed));
  const int64_t n = shown * a.chains;
  auto pick = torch::randint(0, test.size(0), {n}, torch::kLong);
  auto top = torch::randint(0, test.size(2) - h + 1, {n}, torch::kLong);
  auto left = torch::randint(0, test.size(3) - w + 1, {n}, torch::kLong);
  std::vector<torch::Tensor> starts;
  for (int64_t i = 0; i < n; ++i)
    starts.push_back(test[pick[i].item<int64_t>()]
                         .slice(1, top[i].item<int64_t>(), top[i].item<int64_t>() + h)
                         .slice(2, left[i].item<int64_t>(), left[i].item<int64_t>() + w));
  auto x0 = torch::stack(starts);  // [n, C, h, w]
  auto units = torch::arange(shown, torch::kLong).repeat_interleave(a.chains);
  const int64_t steps = a.steps > 0 ? a.steps : 100;
  run.model->eval();
  std::vector<torch::Tensor> parts;
  constexpr int64_t kChunk = 64;
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t end = std::min(i + kChunk, n);
    torch::NoGradGuard no_grad;
    parts.push_back(model.maximise_units(x0.slice(0, i, end), layer, units.slice(0, i, end), steps));
    std::fprintf(stderr, "\runits: %lld of %lld chains", static_cast<long long>(end), static_cast<long long>(n));
  }
  std::fprintf(stderr, "\n");
  auto images = torch::cat(parts).to(torch::kFloat32);
  // Each image stretched to its own range: one unit's share of f is small,
  // so its image departs little from the mean.
  auto flat = images.flatten(1);
  auto lo = std::get<0>(flat.min(1)).view({-1, 1, 1, 1}), hi = std::get<0>(flat.max(1)).view({-1, 1, 1, 1});
  images = (images - lo) / (hi - lo).clamp_min(1e-6);
  const std::string out = default_out(a, "units-layer" + std::to_string(a.units) + ".png");
  save_grid(out, images, a.chains);
  std::printf("wrote %lld units of layer %lld (of %lld), one row each, %lld chains of %lld Langevin steps per unit, "
              "%lld x %lld, each image stretched to its own range, to %s\n",
              static_cast<long long>(shown), static_cast<long long>(a.units), static_cast<long long>(layers[layer]),
              static_cast<long long>(a.chains), static_cast<long long>(steps), static_cast<long long>(h),
              static_cast<long long>(w), out.c_str());
}

void run_explain(const ExplainArgs& a) {
  if (a.image.empty() == (a.units == 0)) throw Error("give one of --image SPEC or --units LAYER");
  if (!a.out.empty() && (a.out.size() < 4 || a.out.substr(a.out.size() - 4) != ".png"))
    throw Error("--out '" + a.out + "': explain writes a .png figure");
  apply_threads(a.threads);
  Run run = open_run(a.run, a.checkpoint);
  std::fprintf(stderr, "%s\n", describe_checkpoint(run).c_str());
  if (!run.transform) throw Error("explain shows images: '" + a.run + "' models 2-D points");
  if (!a.image.empty()) {
    auto net = std::dynamic_pointer_cast<GenerativeConvNetImpl>(run.model);
    if (!net) throw Error("--image: the Gaussian pieces are the genconvnet's; model '" + run.info->name + "' has none");
    return explain_image(a, run, *net);
  }
  auto visible = as<VisibleUnits>(run.model);
  if (!visible) throw Error("--units: model '" + run.info->name + "' has no units to show (genconvnet has)");
  explain_units(a, run, *visible, as<AnySizeSampler>(run.model) != nullptr);
}

}  // namespace

void add_explain_command(CLI::App& app) {
  auto args = std::make_shared<ExplainArgs>();
  auto* cmd = app.add_subcommand(
      "explain", "Show what an energy ConvNet computes: an image's Gaussian piece, or what its units respond to");
  cmd->add_option("RUN", args->run, "Run folder")->required();
  auto* image = cmd->add_option("--image", args->image,
                                "An image (PNG/JPEG of the run's size, or test:INDEX): its activation pattern, B = "
                                "df/dI, reconstruction sigma^2 B, alpha, residual, and a Langevin trajectory");
  cmd->add_option("--units", args->units, "A layer (1 = the bottom): one row per unit of images that maximise it")
      ->check(CLI::PositiveNumber)
      ->excludes(image);
  cmd->add_option("--steps", args->steps, "Langevin steps (default 30 for --image, 100 for --units)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--frames", args->frames, "--image: trajectory frames shown")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  cmd->add_option("--chains", args->chains, "--units: chains per unit (distinct facets)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  cmd->add_option("--max-units", args->max_units, "--units: show at most this many units of the layer (the first)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--size", args->size, "--units: image size HxW (default the run's, at most 64x64 for any-size models)");
  cmd->add_option("--out", args->out, "The figure (.png; default RUN/samples/explain.png or units-layerL.png)");
  cmd->add_option("--seed", args->seed, "Random seed")->check(CLI::NonNegativeNumber)->capture_default_str();
  add_checkpoint_option(cmd, args->checkpoint);
  add_threads_option(cmd, args->threads);
  cmd->callback([args] { run_explain(*args); });
}

}  // namespace genzoo::cli
