#include "genzoo/train/run.h"

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/data/toy2d.h"
#include "genzoo/train/checkpoint.h"

namespace genzoo {

std::string run_config_path(const std::string& dir) { return dir + "/config.toml"; }

Run build_run(Config config, const std::string& dir) {
  Run run;
  run.dir = dir;
  run.config = std::move(config);
  Config& c = run.config;
  run.info = &find_model(c.get_string("model.name", ""));
  const std::string data_name = c.get_string("data.name", "");
  if (data_name.empty()) throw Error("no dataset given: use --data NAME (see 'genzoo data list')");
  run.dataset = load_dataset(data_name);
  const Dataset& ds = run.dataset;

  if (ds.kind == DataKind::Points) {
    run.spec.points = true;
    run.data.train = ds.train.x;  // float [N, 2]
    run.data.test = ds.test.x;
  } else {
    TransformOptions t;
    t.binarize = parse_binarize(c.get_choice("data.binarize", "none", binarize_names()));
    t.scale = parse_pixel_scale(c.get_choice("data.scale", "unit", {"unit", "symmetric"}));
    t.dequantize = c.get_bool("data.dequantize", false);
    auto transform = std::make_shared<ImageTransform>(t, static_cast<uint64_t>(c.get_int("train.seed", 0)));
    run.transform = transform;
    run.spec.channels = ds.channels;
    run.spec.height = ds.height;
    run.spec.width = ds.width;
    run.spec.binary = transform->binary();
    run.data.train = transform->prepare(ds.train.x, 0);  // float [N, C, H, W]
    run.data.test = transform->for_eval(ds.test.x, 1);   // float [M, C, H, W]
    run.data.batch = [transform](const torch::Tensor& rows, int64_t epoch, int64_t batch) {
      return transform->batch(rows, epoch, batch);
    };
    const bool symmetric = t.scale == PixelScale::Symmetric;
    run.data.to_display = [symmetric](const torch::Tensor& x) {
      return symmetric ? (x + 1) / 2 : x;
    };
  }

  ModelContext ctx;
  ctx.config = &c;
  ctx.data = run.spec;
  ctx.train_data = run.data.train;
  run.model = create_model(run.info->name, ctx);
  return run;
}

Run open_run(const std::string& dir) {
  if (!file_exists(run_config_path(dir)))
    throw Error("'" + dir + "' is not a genzoo run folder (no config.toml)");
  Run run = build_run(Config::from_file(run_config_path(dir)), dir);
  std::string ckpt = checkpoint_path(dir);
  if (!file_exists(ckpt) && file_exists(previous_checkpoint_path(dir))) ckpt = previous_checkpoint_path(dir);
  run.state = load_checkpoint(ckpt, *run.model, nullptr);
  run.model->eval();
  return run;
}

}  // namespace genzoo
