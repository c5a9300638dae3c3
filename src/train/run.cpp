#include "genzoo/train/run.h"

#include <tuple>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/data/toy2d.h"
#include "genzoo/report/scatter.h"
#include "genzoo/train/checkpoint.h"

namespace genzoo {

namespace {

constexpr uint64_t kValidationSeed = 0;
constexpr uint64_t kValidationStream = 0x76616c6964617465ULL;  // "validate"

// The rows of a training split of n held out for validation (the first
// `held` of a permutation that depends only on n, so every model and every
// train.seed sees the same split) and the rows left to train on, each in
// their original order.
std::pair<torch::Tensor, torch::Tensor> validation_rows(int64_t n, int64_t held) {
  auto perm = torch::randperm(n, derived_generator(kValidationSeed, kValidationStream), torch::kInt64);
  return {std::get<0>(perm.slice(0, 0, held).sort()), std::get<0>(perm.slice(0, held).sort())};
}

}  // namespace

std::string run_config_path(const std::string& dir) { return dir + "/config.toml"; }

Run build_run(Config config, const std::string& dir) {
  Run run;
  run.dir = dir;
  run.config = std::move(config);
  Config& c = run.config;
  const RegisteredModel& entry = find_model(c.get_string("model.name", ""));
  run.info = &entry.model;
  run.objective = &entry.objective;
  const std::string data_name = c.get_string("data.name", "");
  if (data_name.empty()) throw Error("no dataset given: use --data NAME (see 'genzoo data list')");
  run.dataset = load_dataset(data_name);
  {
    DataSelection sel;
    const int64_t label = c.get_int("data.class", -1);
    if (label < -1) throw Error("config key 'data.class' must be a class number >= 0 (-1: every class)");
    // A list "0,1", or one whole number (--set data.classes=3 reads as one).
    const auto given = c.values().find("data.classes");
    const std::string list = given != c.values().end() && std::holds_alternative<int64_t>(given->second)
                                 ? std::to_string(c.get_int("data.classes", -1))
                                 : c.get_string("data.classes", "");
    if (label >= 0 && !list.empty()) throw Error("give data.class or data.classes, not both");
    if (label >= 0) sel.labels = {label};
    if (!list.empty()) sel.labels = parse_class_list(list, "config key 'data.classes'");
    sel.limit = c.get_int("data.limit", 0);
    if (sel.limit < 0) throw Error("config key 'data.limit' must be >= 0 (0: every training example)");
    const std::string resize = c.get_string("data.resize", "");
    if (!resize.empty()) std::tie(sel.height, sel.width) = parse_image_size(resize, "config key 'data.resize'", 4096);
    run.dataset = select_data(std::move(run.dataset), sel);
  }
  const Dataset& ds = run.dataset;
  const int64_t n_train = ds.train.x.size(0);
  const int64_t held = c.get_int("train.validation", 0);
  if (held < 0 || held >= n_train)
    throw Error("config key 'train.validation' must be in [0, " + std::to_string(n_train) +
                "): the number of the " + std::to_string(n_train) + " training rows of '" + data_name +
                "' to hold out, got " + std::to_string(held));
  torch::Tensor val_rows, train_rows;
  if (held > 0) std::tie(val_rows, train_rows) = validation_rows(n_train, held);
  run.train_rows = train_rows;
  run.spec.classes = ds.num_classes;
  if (ds.train.y.defined() && ds.test.y.defined()) {
    run.data.train_labels = held > 0 ? ds.train.y.index_select(0, train_rows) : ds.train.y;
    run.data.test_labels = ds.test.y;
    if (held > 0) run.data.validation_labels = ds.train.y.index_select(0, val_rows);
  } else {
    run.spec.classes = 0;  // labels on one split only are no labels
  }

  if (ds.kind == DataKind::Points) {
    run.spec.format = PixelFormat::Points;
    if (auto why = data_mismatch(*run.info, run.spec); !why.empty()) throw Error(why);
    run.data.train = ds.train.x;  // float [N, 2]
    run.data.test = ds.test.x;
    if (held > 0) {
      run.data.validation = ds.train.x.index_select(0, val_rows);
      run.data.train = ds.train.x.index_select(0, train_rows);
    }
    torch::Tensor modes;
    if (ds.name == "ring8" || ds.name == "grid25") modes = toy2d_modes(ds.name);
    auto [lo, hi] = scatter_extent(run.data.train, modes);
    const double sigma = modes.defined() ? toy2d_sigma(ds.name) : 0.0;
    // Rings of 3 sigma: the high-quality zone of the mode metrics.
    run.data.plot = [modes, lo = lo, hi = hi, sigma](const torch::Tensor& points) {
      return scatter_image(points, modes, lo, hi, 400, 3 * sigma);
    };
  } else {
    TransformOptions t;
    t.binarize = parse_binarize(c.get_choice("data.binarize", "none", binarize_names()));
    t.scale = parse_pixel_scale(c.get_choice("data.scale", "unit", {"unit", "symmetric"}));
    t.dequantize = c.get_bool("data.dequantize", false);
    t.levels = c.get_int("data.levels", 0);
    auto transform = std::make_shared<ImageTransform>(t, static_cast<uint64_t>(c.get_int("train.seed", 0)));
    run.transform = transform;
    run.spec.channels = ds.channels;
    run.spec.height = ds.height;
    run.spec.width = ds.width;
    run.spec.format = transform->binary()                      ? PixelFormat::Binary
                      : t.levels != 0                          ? PixelFormat::Levels256
                      : t.scale == PixelScale::Symmetric       ? PixelFormat::Symmetric
                                                               : PixelFormat::Unit;
    // Before the data are prepared: a wrong pairing costs no time.
    if (auto why = data_mismatch(*run.info, run.spec); !why.empty()) throw Error(why);
    run.data.train = transform->prepare(ds.train.x, 0);  // float [N, C, H, W]
    run.data.test = transform->for_eval(ds.test.x, 1);   // float [M, C, H, W]
    if (held > 0) {
      // Held-out rows get the evaluation view, as the test split does.
      run.data.validation = transform->for_eval(ds.train.x.index_select(0, val_rows), 2);
      run.data.train = run.data.train.index_select(0, train_rows);
    }
    run.data.batch = [transform](const torch::Tensor& rows, int64_t epoch, int64_t batch) {
      return transform->batch(rows, epoch, batch);
    };
    run.data.to_display = [transform](const torch::Tensor& x) { return transform->to_display(x); };
  }

  ModelContext ctx;
  ctx.config = &c;
  ctx.data = run.spec;
  ctx.train_data = run.data.train;
  ctx.train_labels = run.data.train_labels;
  run.model = create_model(*run.info, ctx);
  return run;
}

torch::Tensor training_rows_for_eval(const Run& run) {
  if (!run.transform) return run.data.train;
  auto rows = run.transform->for_eval(run.dataset.train.x, 0);
  return run.train_rows.defined() ? rows.index_select(0, run.train_rows) : rows;
}

torch::Tensor training_labels(const Run& run) {
  const auto& y = run.dataset.train.y;
  if (!y.defined()) return {};
  return run.train_rows.defined() ? y.index_select(0, run.train_rows) : y;
}

Run open_run(const std::string& dir, const std::string& which, const std::string& classes,
             int64_t importance_samples) {
  if (which != "best" && which != "last")
    throw Error("the checkpoint to open must be 'best' or 'last', got '" + which + "'");
  if (!file_exists(run_config_path(dir)))
    throw Error("'" + dir + "' is not a genzoo run folder (no config.toml)");
  Config config = Config::from_file(run_config_path(dir));
  if (!classes.empty()) {
    config.set("data.class", int64_t{-1});
    config.set("data.classes", classes);
  }
  if (importance_samples > 0) {
    if (!config.has("model.eval_samples"))
      throw Error("run '" + dir + "': model '" + config.get_string("model.name", "?") +
                  "' has no importance-sampled density (importance samples apply to vae and cvae)");
    config.set("model.eval_samples", importance_samples);
  }
  Run run = build_run(std::move(config), dir);
  std::string ckpt = checkpoint_path(dir);
  if (!file_exists(ckpt) && file_exists(previous_checkpoint_path(dir))) ckpt = previous_checkpoint_path(dir);
  if (which == "best" && file_exists(best_checkpoint_path(dir))) ckpt = best_checkpoint_path(dir);
  run.checkpoint_file = ckpt;
  run.state = load_checkpoint(ckpt, *run.model, nullptr);
  run.model->eval();
  return run;
}

}  // namespace genzoo
