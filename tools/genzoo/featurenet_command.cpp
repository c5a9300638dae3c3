// genzoo featurenet train|check DATASET: the classifiers whose features every
// FID, KID, precision/recall and classifier score is measured in.
#include <chrono>
#include <cstdio>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/data/transforms.h"
#include "genzoo/eval/feature_net.h"

namespace genzoo::cli {

namespace {
struct FeatureNetArgs {
  std::string dataset, out;
  bool force = false;
  int threads = 0;
};

void report_accuracy(FeatureNet& net, const Dataset& data, const std::string& id) {
  auto start = std::chrono::steady_clock::now();
  double acc = classifier_accuracy(net, to_unit(data.test.x), data.test.y);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: test accuracy %.4f on %lld %s test images (%.1f s)\n", id.c_str(), acc,
              static_cast<long long>(data.test.size()), data.name.c_str(), s);
}
}  // namespace

void add_featurenet_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("featurenet", "Train or check the feature networks behind FID/KID/PR");
  cmd->require_subcommand(1);
  auto args = std::make_shared<FeatureNetArgs>();

  auto* train = cmd->add_subcommand("train", "Train a feature network with genzoo's fixed recipe");
  train->add_option("DATASET", args->dataset, "fashion-mnist or mnist-10k")
      ->required()->check(CLI::IsMember({"fashion-mnist", "mnist-10k"}));
  train->add_option("--out", args->out, "Weights file (default: the shipped location)");
  train->add_flag("--force", args->force, "Replace an existing weights file");
  add_threads_option(train, args->threads);
  train->callback([args] {
    apply_threads(args->threads);
    Dataset data = load_dataset(args->dataset);
    FeatureNetInfo info = feature_net_info(args->dataset);
    std::string out = args->out.empty() ? info.path : args->out;
    // Refuse before the long training, not after it.
    if (file_exists(out) && !args->force)
      throw Error("'" + out + "' exists (the shipped network?); pass --force to replace it or choose --out");
    write_file_atomic(out + ".probe", "");
    std::remove((out + ".probe").c_str());
    auto start = std::chrono::steady_clock::now();
    FeatureNet net = train_feature_net(data, feature_net_recipe(args->dataset));
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    save_feature_net(net, out);
    std::printf("trained in %.0f s, wrote %s\n", s, out.c_str());
    report_accuracy(net, data, info.id);
  });

  auto* check = cmd->add_subcommand("check", "Load the shipped feature network and report its test accuracy");
  check->add_option("DATASET", args->dataset, "fashion-mnist or mnist-10k")
      ->required()->check(CLI::IsMember({"fashion-mnist", "mnist-10k"}));
  add_threads_option(check, args->threads);
  check->callback([args] {
    apply_threads(args->threads);
    Dataset data = load_dataset(args->dataset);
    FeatureNet net = load_feature_net(args->dataset);
    std::printf("%s\n", feature_net_info(args->dataset).path.c_str());
    report_accuracy(net, data, feature_net_info(args->dataset).id);
  });
}

}  // namespace genzoo::cli
