// genzoo eval RUN [--metrics LIST] [--json]: held-out metrics of a trained
// run, saved to RUN/eval.json; genzoo eval --images SOURCE --data DATASET:
// the sample metrics of images made by any program, against the dataset's
// test split. Both run the metric table (metric_table.h).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/core/timer.h"
#include "genzoo/data/dataset.h"
#include "genzoo/data/transforms.h"
#include "genzoo/eval/parzen.h"
#include "genzoo/train/objective.h"
#include "genzoo/train/run.h"
#include "metric_table.h"

namespace genzoo::cli {

namespace {

constexpr double kDrawMemoryBudget = 4e9;  // bytes of float samples held at once
constexpr int64_t kMinImages = 100;        // as --samples: fewer make FID and PR meaningless

struct EvalArgs {
  std::string run, metrics, split = "test", ood, checkpoint = "best", images, data, binarize = "none", classes;
  int64_t samples = 10000, seed = 0, importance_samples = 0;
  bool json = false, skip_unavailable = false, fresh = false;
  int threads = 0;
  // Options that only mean something for a run (rejected with --images).
  std::vector<const CLI::Option*> run_only;
};

std::string shape_text(const torch::Tensor& images) {
  return std::to_string(images.size(1)) + "x" + std::to_string(images.size(2)) + "x" + std::to_string(images.size(3));
}

// Parzen's sigma rows: the run's validation split, unless that is the split
// scored; otherwise seeded random training rows, kept out of the scored
// rows when the training split is the one scored.
void choose_parzen_rows(EvalContext& ctx, const Run& run) {
  if (run.data.validation.defined() && ctx.split != "validation") {
    ctx.parzen_sigma_view = ctx.to_view(run.data.validation);
    ctx.parzen_sigma_rows = "the run's validation split (" + std::to_string(run.data.validation.size(0)) + " rows)";
    ctx.parzen_scored_view = ctx.reference_view;
    return;
  }
  const torch::Tensor training_view = ctx.training_view();
  RowSplit rows = parzen_sigma_rows(training_view.size(0), 0);
  ctx.parzen_sigma_view = training_view.index_select(0, rows.held);
  ctx.parzen_sigma_rows = std::to_string(rows.held.size(0)) + " random training rows (seed 0)" +
                          (ctx.split == "train" ? ", not scored" : "");
  ctx.parzen_scored_view =
      ctx.split == "train" ? ctx.reference_view.index_select(0, rows.rest) : ctx.reference_view;
}

EvalContext run_context(const EvalArgs& a, Run& run) {
  EvalContext ctx;
  ctx.dataset = run.dataset.name;
  ctx.images = run.dataset.kind == DataKind::Images;
  ctx.unit_range = run.spec.format == PixelFormat::Unit;
  ctx.dims = run.spec.dims();
  ctx.split = a.split;
  ctx.seed = static_cast<uint64_t>(a.seed);
  ctx.requested = a.samples;
  ctx.model = run.model;
  ctx.model_name = run.info->name;
  ctx.dequantized = run.config.get_bool("data.dequantize", false);
  ctx.ood = a.ood;
  if (!a.classes.empty()) ctx.classes = parse_class_list(a.classes, "--classes");
  ctx.figure_dir = a.run;
  ctx.to_view = run.data.to_display;
  if (!ctx.to_view) ctx.to_view = [](const torch::Tensor& x) { return x; };
  // The rows trained on (without those held out for validation), in the
  // view the model was trained on: for dynamic binarization the fixed
  // static draw of the whole split first, then the rows.
  auto training = std::make_shared<torch::Tensor>();
  auto train_rows = [&run, training]() -> torch::Tensor {
    if (!training->defined()) *training = training_rows_for_eval(run);
    return *training;
  };
  if (a.split == "validation" && !run.data.validation.defined())
    throw Error("run '" + a.run + "' has no validation split (train it with --set train.validation=N)");
  ctx.scored = a.split == "test" ? run.data.test : a.split == "validation" ? run.data.validation : train_rows();
  ctx.scored_labels = a.split == "test"         ? run.data.test_labels
                      : a.split == "validation" ? run.data.validation_labels
                                                : training_labels(run);
  ctx.reference_view = ctx.to_view(ctx.scored);
  auto to_view = ctx.to_view;
  ctx.training_view = [train_rows, to_view] { return to_view(train_rows()); };
  ctx.training_rows = run.data.train.size(0);
  ctx.real_view = ctx.to_view(run.data.test);
  const bool sigma_on_validation = run.data.validation.defined() && a.split != "validation";
  ctx.parzen_sigma_pool = sigma_on_validation ? run.data.validation.size(0) : ctx.training_rows;
  ctx.parzen_sigma_from_scored = !sigma_on_validation && a.split == "train";
  ctx.choose_parzen_rows = [&run](EvalContext& c) { choose_parzen_rows(c, run); };
  ctx.ood_data = [&run](const std::string& name) -> torch::Tensor {
    // Two sets made from the run's own data: its test images flipped
    // upside down, and uniform noise images of its shape (as many as the
    // test split, drawn from a fixed seed).
    if (name == "flipped" || name == "noise") {
      if (run.dataset.kind != DataKind::Images) throw Error("--ood " + name + " needs a run on images");
      const auto& test = run.dataset.test.x;  // raw [N, C, H, W] or [N, H, W]
      torch::Tensor raw;
      if (name == "flipped") {
        raw = test.flip({test.dim() - 2});
      } else {
        auto gen = derived_generator(kEvaluationSeed, 0x6e6f);  // "no"
        raw = torch::randint(0, 256, test.sizes(), gen, torch::TensorOptions(torch::kLong)).to(test.scalar_type());
      }
      return run.transform->for_eval(raw, 2);
    }
    Dataset ood = load_dataset(name);
    if (run.dataset.kind != DataKind::Images) {
      if (ood.kind != DataKind::Points) throw Error("--ood '" + name + "' holds images, the run models 2-D points");
      return ood.test.x;
    }
    if (ood.kind != DataKind::Images)
      throw Error("--ood '" + name + "' holds 2-D points, the run models images of '" + run.dataset.name + "'");
    if (ood.channels != run.dataset.channels || ood.height != run.dataset.height || ood.width != run.dataset.width)
      throw Error("--ood '" + name + "' images do not have the shape of '" + run.dataset.name + "'");
    return run.transform->for_eval(ood.test.x, 2);
  };
  return ctx;
}

// Earlier results are kept only when they describe this checkpoint, split
// and choice of classes (--classes).
nlohmann::json previous_results(const EvalArgs& a, const Run& run) {
  if (!file_exists(a.run + "/eval.json")) return nlohmann::json::object();
  try {
    auto old = nlohmann::json::parse(read_file(a.run + "/eval.json"));
    if (old.is_object() && old.value("checkpoint_step", int64_t{-1}) == run.state.global_step &&
        old.value("checkpoint", std::string()) == checkpoint_name(run) && old.value("split", std::string()) == a.split &&
        old.value("classes", std::string()) == a.classes)
      return old;
  } catch (const nlohmann::json::exception&) {
    // a damaged file is rewritten whole
  }
  return nlohmann::json::object();
}

// One draw, sized for every selected metric (each uses a prefix of it).
void draw(EvalContext& ctx, int64_t n, nlohmann::json& out) {
  if (n == 0) return;
  if (4.0 * static_cast<double>(n) * static_cast<double>(ctx.dims) > kDrawMemoryBudget)
    throw Error(std::to_string(n) + " samples of " + std::to_string(ctx.dims) +
                " dimensions exceed the memory budget: lower --samples");
  seed_everything(ctx.seed);
  auto start = Clock::now();
  ctx.samples_view = ctx.to_view(draw_samples(*as<Sampler>(ctx.model), n));
  ctx.draw_seconds = seconds_since(start);
  out["samples_generated"] = n;
  out["seconds_sampling"] = ctx.draw_seconds;
}

void eval_run(const EvalArgs& a) {
  if (!a.classes.empty()) {
    parse_class_list(a.classes, "--classes");  // a bad list is named as the flag, before the run opens
    if (a.split != "test")
      throw Error("--classes scores the test split (it re-selects the run's data, which would change the "
                  "validation and training rows): drop --split " + a.split);
  }
  Run run = open_run(a.run, a.checkpoint, a.classes, a.importance_samples);
  std::fprintf(stderr, "%s\n", describe_checkpoint(run).c_str());
  EvalContext ctx = run_context(a, run);
  nlohmann::json skipped = nlohmann::json::object();
  auto entries = a.skip_unavailable ? select_available_metrics(ctx, a.metrics, skipped) : select_metrics(ctx, a.metrics);
  nlohmann::json j = a.fresh ? nlohmann::json::object() : previous_results(a, run);
  if (a.skip_unavailable) j["unavailable"] = skipped;
  if (a.importance_samples > 0) j["importance_samples"] = a.importance_samples;
  else j.erase("importance_samples");
  j["model"] = run.info->name;
  j["dataset"] = run.dataset.name;
  j["split"] = a.split;
  j["checkpoint"] = checkpoint_name(run);
  j["checkpoint_step"] = run.state.global_step;
  if (!a.classes.empty()) j["classes"] = a.classes;
  j["binarize"] = run.config.get_string("data.binarize", "none");
  draw(ctx, samples_needed(entries, a.samples), j);
  run_metrics(ctx, entries, j);
  write_file_atomic(a.run + "/eval.json", json_text(j) + "\n");
  print_results(j, a.json,
                run.info->name + " on " + run.dataset.name + " (" + a.split + " split, binarize " +
                    j["binarize"].get<std::string>() + ", step " + std::to_string(run.state.global_step) + ")");
}

void eval_images(const EvalArgs& a) {
  if (!a.run.empty()) throw Error("give either a RUN or --images, not both");
  if (a.data.empty()) throw Error("--images needs --data DATASET, the dataset whose test split is the reference");
  for (const auto* option : a.run_only)
    if (option->count() > 0)
      throw Error(option->get_name() + " applies to a trained run, not to --images (which are scored as given, "
                  "against the test split)");
  Dataset ds = load_dataset(a.data);
  if (ds.kind != DataKind::Images) throw Error("--data '" + a.data + "' holds 2-D points, not images");
  // In a seeded random order (--seed): metrics that use a prefix (neighbours)
  // or contiguous splits (the classifier score) must not depend on how the
  // file is ordered (a test split stored by class); FID, KID's subsets
  // aside, and Parzen use every image whatever the order.
  auto images = load_image_set(a.images);  // [N, C, H, W] in [0, 1]
  images = images.index_select(0, random_subset(images.size(0), images.size(0), static_cast<uint64_t>(a.seed),
                                                0x696d616765735f6fULL));  // "images_o"
  if (images.size(1) != ds.channels || images.size(2) != ds.height || images.size(3) != ds.width)
    throw Error("--images '" + a.images + "' are " + shape_text(images) + " (CxHxW), the images of '" + a.data +
                "' are " + std::to_string(ds.channels) + "x" + std::to_string(ds.height) + "x" +
                std::to_string(ds.width));
  if (images.size(0) < kMinImages)
    throw Error("--images '" + a.images + "' holds " + std::to_string(images.size(0)) + " images; the sample metrics need at least " +
                std::to_string(kMinImages));
  // The reference in the view a model of these data would be scored in:
  // grey [0, 1] by default, or binarized as --binarize says.
  auto transform = std::make_shared<ImageTransform>(TransformOptions{parse_binarize(a.binarize), PixelScale::Unit, false}, 0);
  EvalContext ctx;
  ctx.dataset = a.data;
  ctx.images = true;
  ctx.dims = ds.dims();
  ctx.seed = static_cast<uint64_t>(a.seed);
  ctx.requested = images.size(0);
  ctx.to_view = [](const torch::Tensor& x) { return x; };
  ctx.reference_view = transform->for_eval(ds.test.x, 1);
  auto training = std::make_shared<torch::Tensor>(transform->for_eval(ds.train.x, 0));
  ctx.training_view = [training] { return *training; };
  ctx.training_rows = training->size(0);
  ctx.real_view = ctx.reference_view;
  ctx.parzen_sigma_pool = ctx.training_rows;
  ctx.choose_parzen_rows = [training](EvalContext& c) {
    RowSplit rows = parzen_sigma_rows(training->size(0), 0);
    c.parzen_sigma_view = training->index_select(0, rows.held);
    c.parzen_sigma_rows = std::to_string(rows.held.size(0)) + " random training rows (seed 0)";
    c.parzen_scored_view = c.reference_view;
  };
  ctx.samples_view = images;
  auto entries = select_metrics(ctx, a.metrics);
  nlohmann::json j{{"images", a.images}, {"dataset", a.data}, {"reference", "test split"}, {"binarize", a.binarize},
                   {"images_count", images.size(0)}};
  run_metrics(ctx, entries, j);
  print_results(j, a.json, a.images + " against the test split of " + a.data + " (binarize " + a.binarize + ")");
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand(
      "eval", "Evaluate a trained run (writes RUN/eval.json), or with --images, images made by any program");
  cmd->add_option("RUN", args->run, "Run folder");
  cmd->add_option("--metrics", args->metrics,
                  "Comma-separated: " + join(metric_names(), ",") + " (default: all the model and data allow, but robust_accuracy, which runs when named)");
  args->run_only.push_back(cmd->add_option(
      "--classes", args->classes,
      "Score the examples of these classes (e.g. 0,1,2,3), whatever the run trained on; classifiers choose among "
      "them (continual learning: accuracy on every class seen so far)"));
  args->run_only.push_back(cmd->add_option("--ood", args->ood,
                                           "Out-of-distribution data for auroc: a dataset of the run's image shape, "
                                           "'flipped' (the run's test images upside down) or 'noise' (uniform noise)"));
  args->run_only.push_back(cmd->add_option("--samples", args->samples, "Generated samples for sample metrics")
                               ->check(CLI::Range(int64_t{100}, int64_t{100000}))
                               ->capture_default_str());
  cmd->add_option("--seed", args->seed, "Seed of the generated samples and of the random subsets")
      ->check(CLI::NonNegativeNumber);
  args->run_only.push_back(cmd->add_option("--split", args->split, "test|train|validation")
                               ->check(CLI::IsMember({"test", "train", "validation"}))
                               ->capture_default_str());
  auto* images = cmd->add_option("--images", args->images,
                                 "Score these images instead of a run: idx:FILE (uint8, or float in [0,1]; e.g. from "
                                 "genzoo sample --out FILE.idx), folder:DIR of PNG/JPEG, or FILE.idx[.gz]");
  cmd->add_option("--data", args->data, "With --images: the dataset whose test split is the reference")
      ->needs(images);
  cmd->add_option("--binarize", args->binarize,
                  "With --images: binarize the reference like the model's data (none|threshold|static|dynamic)")
      ->check(CLI::IsMember(binarize_names()))
      ->capture_default_str()
      ->needs(images);
  args->run_only.push_back(add_checkpoint_option(cmd, args->checkpoint));
  args->run_only.push_back(cmd->add_flag("--fresh", args->fresh,
                                         "Write only this call's results to eval.json (by default they are merged "
                                         "with the file's earlier ones of the same checkpoint and split)"));
  args->run_only.push_back(
      cmd->add_option("--importance-samples", args->importance_samples,
                      "K for the importance-sampled NLL of vae and cvae instead of the run's model.eval_samples "
                      "(a looser bound for less time; recorded as importance_samples in eval.json)")
          ->check(CLI::Range(int64_t{1}, int64_t{1000000})));
  args->run_only.push_back(cmd->add_flag("--skip-unavailable", args->skip_unavailable,
                                         "Leave out the metrics of --metrics this run cannot have (a GAN's nll), "
                                         "recording why under \"unavailable\" in eval.json (one protocol for every "
                                         "model, as genzoo compare uses)")
                               ->needs(cmd->get_option("--metrics")));
  cmd->add_flag("--json", args->json, "Print the results as JSON");
  add_threads_option(cmd, args->threads);
  cmd->callback([args] {
    apply_threads(args->threads);
    if (!args->images.empty()) return eval_images(*args);
    if (args->run.empty()) throw Error("give a RUN folder to evaluate, or --images SOURCE --data DATASET");
    eval_run(*args);
  });
}

}  // namespace genzoo::cli
