// genzoo latent reconstruct|interpolate|manifold|arithmetic|probe RUN: look
// into the latent space of an ae, dae or vae run. Each figure is one PNG.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/eval/latent_space.h"
#include "genzoo/models/adversarial/gan.h"
#include "genzoo/report/png_grid.h"
#include "metric_table.h"

namespace genzoo::cli {

namespace {

struct LatentArgs {
  std::string run, out, from, to, checkpoint = "best";
  int64_t n = 8, steps = 10, grid = 20, seed = 0, from_class = 7, to_class = 9;
  bool json = false;
  int threads = 0;
};

struct LatentRun {
  Run run;
  std::shared_ptr<Latent> latent;
};

// The run's latent space, or the error naming the models that have one.
LatentRun latent_of(Run run) {
  LatentRun r{std::move(run), nullptr};
  r.latent = as<Latent>(r.run.model);
  if (!r.latent)
    throw Error("model '" + r.run.info->name + "' has no latent space (latent models: ae, dae, vae)");
  if (!r.run.data.to_display) throw Error("'" + r.run.dataset.name + "' is not images");
  std::fprintf(stderr, "%s\n", describe_checkpoint(r.run).c_str());
  return r;
}

LatentRun open_latent(const LatentArgs& a) {
  apply_threads(a.threads);
  return latent_of(open_run(a.run, a.checkpoint));
}

// Encoder means of rows [N, ...] in batches, [N, Z].
torch::Tensor codes(Latent& latent, const torch::Tensor& rows) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < rows.size(0); i += 1000)
    parts.push_back(latent.encode(rows.slice(0, i, std::min(i + 1000, rows.size(0)))));
  return torch::cat(parts);
}

std::string output(const LatentArgs& a, const std::string& name) {
  if (!a.out.empty()) return a.out;
  ensure_dir(a.run + "/samples");
  return a.run + "/samples/" + name + ".png";
}

void reconstruct(const LatentArgs& a) {
  auto r = open_latent(a);
  const auto& test = r.run.data.test;
  auto rows = random_subset(test.size(0), std::min(a.n, test.size(0)), static_cast<uint64_t>(a.seed), 0x7265636f6e);
  auto x = test.index_select(0, rows);
  torch::NoGradGuard no_grad;
  auto y = r.latent->decode(r.latent->encode(x));
  // Pairs side by side: input, reconstruction, input, reconstruction, ...
  auto tiles = torch::stack({r.run.data.to_display(x), r.run.data.to_display(y)}, 1).flatten(0, 1);
  const std::string out = output(a, "reconstructions");
  save_grid(out, tiles, 2 * std::min<int64_t>(8, x.size(0)));
  std::printf("wrote %lld test images beside their reconstructions (the decoder's mean) to %s\n",
              static_cast<long long>(x.size(0)), out.c_str());
}

// A GAN has no encoder: its figure interpolates between noise draws
// (Goodfellow et al. 2014, Figure 3): for each of n pairs z_a, z_b ~ p(z),
// a row of G along the line and a row along the great circle between them
// (a cgan keeps one class per pair: pair i draws class i mod classes).
void interpolate_noise(const LatentArgs& a, Run& run, Adversarial& gan) {
  if (!a.from.empty() || !a.to.empty())
    throw Error("'" + run.info->name + "' has no encoder to place --from/--to in its noise space: leave them out to "
                "interpolate between random noise draws");
  if (!run.data.to_display) throw Error("'" + run.dataset.name + "' is not images");
  torch::NoGradGuard no_grad;
  run.model->eval();
  RngStateGuard guard;
  torch::manual_seed(static_cast<uint64_t>(a.seed));
  auto conditional = as<ClassConditional>(run.model);
  std::vector<torch::Tensor> rows;
  for (int64_t i = 0; i < a.n; ++i) {
    auto z = gan.noise(2);  // [2, Z]
    torch::Tensor labels;
    if (conditional) labels = torch::full({a.steps}, i % conditional->classes(), torch::kLong);
    for (auto path : {interpolate_linear(z[0], z[1], a.steps), interpolate_spherical(z[0], z[1], a.steps)})
      rows.push_back(run.data.to_display(gan.generate(path, labels)));
  }
  const std::string out = output(a, "interpolation");
  save_grid(out, torch::cat(rows), a.steps);
  std::printf("wrote %s: %lld pairs of noise draws in %lld steps, each pair linear then spherical (rows 1-2, 3-4, ...)\n",
              out.c_str(), static_cast<long long>(a.n), static_cast<long long>(a.steps));
}

void interpolate(const LatentArgs& a) {
  apply_threads(a.threads);
  Run run = open_run(a.run, a.checkpoint);
  if (auto gan = as<Adversarial>(run.model)) {
    std::fprintf(stderr, "%s\n", describe_checkpoint(run).c_str());
    interpolate_noise(a, run, *gan);
    return;
  }
  if (a.from.empty() || a.to.empty()) throw Error("interpolate needs --from and --to (test:INDEX or a PNG)");
  auto r = latent_of(std::move(run));
  auto x = torch::stack({run_image(r.run, a.from, "--from"), run_image(r.run, a.to, "--to")});
  torch::NoGradGuard no_grad;
  auto z = r.latent->encode(x);  // [2, Z]
  auto lin = r.latent->decode(interpolate_linear(z[0], z[1], a.steps));
  auto sph = r.latent->decode(interpolate_spherical(z[0], z[1], a.steps));
  const std::string out = output(a, "interpolation");
  save_grid(out, torch::cat({r.run.data.to_display(lin), r.run.data.to_display(sph)}), a.steps);
  std::printf("wrote %s: %s to %s in %lld steps, linear (top row) and spherical (bottom row)\n", out.c_str(),
              a.from.c_str(), a.to.c_str(), static_cast<long long>(a.steps));
}

void manifold(const LatentArgs& a) {
  auto r = open_latent(a);
  torch::NoGradGuard no_grad;
  const int64_t z_dims = r.latent->encode(r.run.data.test.slice(0, 0, 1)).size(1);
  if (z_dims != 2)
    throw Error("the manifold figure needs a 2-D latent; this run's has " + std::to_string(z_dims) +
                " (train with --set model.latent=2)");
  auto images = r.latent->decode(prior_grid_2d(a.grid));
  const std::string out = output(a, "manifold");
  save_grid(out, r.run.data.to_display(images), a.grid);
  std::printf("wrote %s: decoded z on a %lldx%lld grid of prior quantiles\n", out.c_str(),
              static_cast<long long>(a.grid), static_cast<long long>(a.grid));
}

void arithmetic(const LatentArgs& a) {
  auto r = open_latent(a);
  const auto& ds = r.run.dataset;
  if (!ds.test.y.defined() || ds.num_classes < 2) throw Error("'" + ds.name + "' has no class labels");
  for (int64_t c : {a.from_class, a.to_class})
    if (c < 0 || c >= ds.num_classes)
      throw Error("class " + std::to_string(c) + " is not in [0, " + std::to_string(ds.num_classes) + ")");
  // The difference of the two classes' mean codes over the training rows.
  auto means = class_means(codes(*r.latent, training_rows_for_eval(r.run)), training_labels(r.run), ds.num_classes);
  auto shift = means[a.to_class] - means[a.from_class];  // [Z]
  auto of_class = (ds.test.y == a.from_class).nonzero().squeeze(1);
  if (of_class.size(0) == 0) throw Error("the test split of '" + ds.name + "' has no image of class " + std::to_string(a.from_class));
  auto pick = of_class.index_select(0, random_subset(of_class.size(0), std::min(a.n, of_class.size(0)),
                                                     static_cast<uint64_t>(a.seed), 0x6172697468));
  auto x = r.run.data.test.index_select(0, pick);
  torch::NoGradGuard no_grad;
  auto z = r.latent->encode(x);
  auto rows = torch::cat({r.run.data.to_display(x), r.run.data.to_display(r.latent->decode(z)),
                          r.run.data.to_display(r.latent->decode(z + shift))});
  const std::string out = output(a, "arithmetic");
  save_grid(out, rows, x.size(0));
  std::printf("wrote %s: test images of class %lld (top), decoded (middle), decoded after adding mean(class %lld) - "
              "mean(class %lld) (bottom)\n",
              out.c_str(), static_cast<long long>(a.from_class), static_cast<long long>(a.to_class),
              static_cast<long long>(a.from_class));
}

void probe(const LatentArgs& a) {
  auto r = open_latent(a);
  const auto& ds = r.run.dataset;
  if (!ds.test.y.defined() || ds.num_classes < 2) throw Error("'" + ds.name + "' has no class labels");
  auto train = training_rows_for_eval(r.run);
  auto train_y = training_labels(r.run), test_y = ds.test.y;
  auto on_codes = linear_probe(codes(*r.latent, train), train_y, codes(*r.latent, r.run.data.test), test_y, ds.num_classes);
  auto on_pixels = linear_probe(r.run.data.to_display(train).flatten(1), train_y,
                                r.run.data.to_display(r.run.data.test).flatten(1), test_y, ds.num_classes);
  nlohmann::json j{{"model", r.run.info->name},
                   {"dataset", ds.name},
                   {"probe", "multinomial logistic regression, L-BFGS, standardised features"},
                   {"codes_test_accuracy", on_codes.test_accuracy},
                   {"codes_train_accuracy", on_codes.train_accuracy},
                   {"codes_features", on_codes.features},
                   {"pixels_test_accuracy", on_pixels.test_accuracy},
                   {"pixels_train_accuracy", on_pixels.train_accuracy},
                   {"pixels_features", on_pixels.features},
                   {"train_count", on_codes.train_count},
                   {"test_count", on_codes.test_count}};
  if (a.json) {
    std::printf("%s\n", json_text(j).c_str());
    return;
  }
  std::printf("linear probe on %s (%lld training, %lld test images)\n", ds.name.c_str(),
              static_cast<long long>(on_codes.train_count), static_cast<long long>(on_codes.test_count));
  std::printf("  %-16s %5lld features  test accuracy %.4f  (train %.4f)\n", (r.run.info->name + " codes").c_str(),
              static_cast<long long>(on_codes.features), on_codes.test_accuracy, on_codes.train_accuracy);
  std::printf("  %-16s %5lld features  test accuracy %.4f  (train %.4f)\n", "raw pixels",
              static_cast<long long>(on_pixels.features), on_pixels.test_accuracy, on_pixels.train_accuracy);
}

}  // namespace

void add_latent_command(CLI::App& app) {
  auto args = std::make_shared<LatentArgs>();
  auto* cmd = app.add_subcommand("latent", "Figures and probes of a latent-variable run (ae, dae, vae)");
  cmd->require_subcommand(1);
  auto common = [&](CLI::App* sub, bool figure) {
    sub->add_option("RUN", args->run, "Run folder")->required();
    if (figure) sub->add_option("--out", args->out, "PNG file (default RUN/samples/NAME.png)");
    sub->add_option("--seed", args->seed, "Seed of the images picked")->check(CLI::NonNegativeNumber);
    add_checkpoint_option(sub, args->checkpoint);
    add_threads_option(sub, args->threads);
  };
  auto* rec = cmd->add_subcommand("reconstruct", "Test images beside their reconstructions");
  common(rec, true);
  rec->add_option("-n", args->n, "Images")->check(CLI::Range(1, 256))->capture_default_str();
  rec->callback([args] { reconstruct(*args); });
  auto* interp = cmd->add_subcommand(
      "interpolate", "Decoded codes between two images (a GAN: G between noise draws), linear and spherical");
  common(interp, true);
  interp->add_option("--from", args->from, "test:INDEX or a PNG (latent models)");
  interp->add_option("--to", args->to, "test:INDEX or a PNG (latent models)");
  interp->add_option("-n", args->n, "GANs: pairs of noise draws (two rows each)")->check(CLI::Range(1, 32))->capture_default_str();
  interp->add_option("--steps", args->steps, "Images per row")->check(CLI::Range(2, 64))->capture_default_str();
  interp->callback([args] { interpolate(*args); });
  auto* man = cmd->add_subcommand("manifold", "A 2-D latent decoded on a grid of prior quantiles");
  common(man, true);
  man->add_option("--grid", args->grid, "Points a side")->check(CLI::Range(2, 64))->capture_default_str();
  man->callback([args] { manifold(*args); });
  auto* arith = cmd->add_subcommand("arithmetic", "Test images of one class moved by the difference of two class means");
  common(arith, true);
  arith->add_option("--from-class", args->from_class, "Class of the images (Fashion-MNIST 7: sneaker)")
      ->capture_default_str();
  arith->add_option("--to-class", args->to_class, "Class to move them towards (Fashion-MNIST 9: ankle boot)")
      ->capture_default_str();
  arith->add_option("-n", args->n, "Images")->check(CLI::Range(1, 64))->capture_default_str();
  arith->callback([args] { arithmetic(*args); });
  auto* pr = cmd->add_subcommand("probe", "Linear-probe test accuracy of the codes, beside raw pixels");
  common(pr, false);
  pr->add_flag("--json", args->json, "Print JSON");
  pr->callback([args] { probe(*args); });
}

}  // namespace genzoo::cli
