#include "genzoo/eval/feature_net.h"

#include <chrono>
#include <cstdio>
#include <sstream>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/paths.h"
#include "genzoo/core/rng.h"
#include "genzoo/data/batches.h"
#include "genzoo/data/transforms.h"
#include "genzoo/models/model.h"
#include "genzoo/train/archive_check.h"

namespace genzoo {

namespace {
namespace nn = torch::nn;

constexpr uint64_t kAugmentStream = 0x6665617475726521ULL;  // "feature!"

// [conv3x3, BN, ReLU] x2, maxpool 2: appended to `seq` (Sequentials cannot nest).
void append_conv_block(nn::Sequential& seq, int64_t in, int64_t out) {
  seq->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(false)));
  seq->push_back(nn::BatchNorm2d(out));
  seq->push_back(nn::ReLU());
  seq->push_back(nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
  seq->push_back(nn::BatchNorm2d(out));
  seq->push_back(nn::ReLU());
  seq->push_back(nn::MaxPool2d(2));
}

// Random horizontal flips and translations of a batch [B, C, H, W] (zero fill).
torch::Tensor augment(const torch::Tensor& x, const FeatureNetRecipe& r, torch::Generator& gen) {
  auto out = x.clone();
  const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  if (r.flip) {
    auto flip = torch::rand({b}, gen) < 0.5;  // [B]
    auto flipped = out.flip({3});
    out = torch::where(flip.view({b, 1, 1, 1}), flipped, out);
  }
  if (r.shift > 0) {
    auto padded = torch::constant_pad_nd(out, {r.shift, r.shift, r.shift, r.shift}, 0);
    auto dy = torch::randint(0, 2 * r.shift + 1, {b}, gen);
    auto dx = torch::randint(0, 2 * r.shift + 1, {b}, gen);
    auto dy_a = dy.accessor<int64_t, 1>();
    auto dx_a = dx.accessor<int64_t, 1>();
    for (int64_t i = 0; i < b; ++i)
      out[i] = padded[i].slice(1, dy_a[i], dy_a[i] + h).slice(2, dx_a[i], dx_a[i] + w);
  }
  return out;
}

}  // namespace

FeatureNetImpl::FeatureNetImpl(FeatureNetOptions options_) : options(options_) { reset(); }

void FeatureNetImpl::reset() {
  TORCH_CHECK(options.size() % 4 == 0 && options.size() >= 4, "feature net: size must be a multiple of 4");
  TORCH_CHECK(options.classes() >= 2, "feature net: needs at least 2 classes");
  const int64_t side = options.size() / 4;
  nn::Sequential seq;
  append_conv_block(seq, options.channels(), 32);  // [N, 32, H/2, W/2]
  append_conv_block(seq, 32, 64);                  // [N, 64, H/4, W/4]
  seq->push_back(nn::Flatten());
  seq->push_back(nn::Linear(nn::LinearOptions(64 * side * side, options.features()).bias(false)));
  seq->push_back(nn::BatchNorm1d(options.features()));
  seq->push_back(nn::ReLU());  // [N, F]
  body = register_module("body", seq);
  dropout = register_module("dropout", nn::Dropout(options.dropout()));
  head = register_module("head", nn::Linear(options.features(), options.classes()));
}

torch::Tensor FeatureNetImpl::features(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options.channels() && x.size(2) == options.size() &&
                  x.size(3) == options.size(),
              "feature net: expects [N, ", options.channels(), ", ", options.size(), ", ",
              options.size(), "] images, got ", x.sizes());
  return body->forward(x);  // [N, F]
}

torch::Tensor FeatureNetImpl::forward(const torch::Tensor& x) {
  return head->forward(dropout->forward(features(x)));  // [N, classes]
}

FeatureNetRecipe feature_net_recipe(const std::string& dataset) {
  FeatureNetRecipe r;
  if (dataset == "mnist-10k") {
    r.flip = false;  // a flipped digit is another glyph
    r.epochs = 20;   // 8,000 images: more passes for the same number of steps
    r.decay_epoch = 14;
  }
  return r;
}

FeatureNet train_feature_net(const Dataset& data, const FeatureNetRecipe& recipe) {
  if (data.kind != DataKind::Images) throw Error("a feature network needs images");
  if (!data.train.y.defined()) throw Error("a feature network needs class labels");
  if (data.height != data.width) throw Error("a feature network needs square images");
  torch::manual_seed(recipe.seed);
  FeatureNet net(FeatureNetOptions()
                     .channels(data.channels)
                     .size(data.height)
                     .classes(std::max<int64_t>(2, data.num_classes)));
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(recipe.lr));
  auto images = to_unit(data.train.x);  // float [N, C, H, W]
  auto labels = data.train.y;           // int64 [N]
  BatchSampler sampler(images.size(0), recipe.batch_size, recipe.seed);
  for (int64_t epoch = 0; epoch < recipe.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    double lr = epoch >= recipe.decay_epoch ? recipe.lr * 0.1 : recipe.lr;
    for (auto& g : opt.param_groups()) g.options().set_lr(lr);
    net->train();
    double loss_sum = 0;
    int64_t correct = 0;
    for (int64_t b = 0; b < sampler.batches_per_epoch(); ++b) {
      auto rows = sampler.indices(epoch, b);
      auto gen = derived_generator(recipe.seed, kAugmentStream, static_cast<uint64_t>(epoch * 100003 + b));
      auto x = augment(images.index_select(0, rows), recipe, gen);
      auto y = labels.index_select(0, rows);
      opt.zero_grad();
      auto logits = net->forward(x);
      auto loss = torch::nn::functional::cross_entropy(logits, y);
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>() * static_cast<double>(rows.size(0));
      correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "feature net epoch %lld/%lld: loss %.4f, train accuracy %.4f, %.0f s\n",
                 static_cast<long long>(epoch + 1), static_cast<long long>(recipe.epochs),
                 loss_sum / static_cast<double>(images.size(0)),
                 static_cast<double>(correct) / static_cast<double>(images.size(0)), seconds);
  }
  net->eval();
  return net;
}

namespace {
template <typename F>
torch::Tensor batched(FeatureNet& net, const torch::Tensor& images, int64_t batch_size, F f) {
  TORCH_CHECK(batch_size > 0, "batch_size must be positive");
  torch::NoGradGuard no_grad;
  net->eval();
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < images.size(0); i += batch_size)
    parts.push_back(f(images.slice(0, i, std::min(i + batch_size, images.size(0)))));
  return torch::cat(parts);
}
}  // namespace

double classifier_accuracy(FeatureNet& net, const torch::Tensor& images, const torch::Tensor& labels,
                           int64_t batch_size) {
  auto predicted = batched(net, images, batch_size, [&](const torch::Tensor& x) {
    return net->forward(x).argmax(1);
  });
  return predicted.eq(labels).to(torch::kFloat64).mean().item<double>();
}

torch::Tensor extract_features(FeatureNet& net, const torch::Tensor& images, int64_t batch_size) {
  return batched(net, images, batch_size, [&](const torch::Tensor& x) { return net->features(x); });
}

torch::Tensor class_probabilities(FeatureNet& net, const torch::Tensor& images, int64_t batch_size) {
  return batched(net, images, batch_size,
                 [&](const torch::Tensor& x) { return torch::softmax(net->forward(x), 1); });
}

FeatureNetInfo feature_net_info(const std::string& dataset) {
  FeatureNetInfo info;
  info.id = "genzoo-fnet-" + dataset + "-v1";
  info.path = find_shipped_file("GENZOO_FEATURE_NETS", "feature-nets", "assets/feature-nets", dataset + ".pt");
  return info;
}

FeatureNet load_feature_net(const std::string& dataset) {
  FeatureNetInfo info = feature_net_info(dataset);
  if (!file_exists(info.path))
    throw Error("no feature network for '" + dataset + "' (looked for " + info.path +
                "; genzoo ships fashion-mnist and mnist-10k)");
  const std::string bytes = read_file(info.path);
  check_torch_archive(bytes, "feature network '" + info.path + "'");
  FeatureNet net;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size());
    load_module_checked(*net, archive);
  } catch (const c10::Error& e) {
    throw Error("feature network '" + info.path + "' is corrupt: " +
                std::string(e.what_without_backtrace()).substr(0, 160));
  } catch (const Error& e) {
    throw Error("feature network '" + info.path + "' does not fit this genzoo: it " + e.what());
  }
  net->eval();
  return net;
}

void save_feature_net(FeatureNet& net, const std::string& path) {
  // In memory first, then our own atomic write: LibTorch's file writer
  // reports a full disk by throwing from a destructor, which aborts.
  std::ostringstream bytes;
  try {
    torch::save(net, bytes);
  } catch (const c10::Error& e) {
    throw Error("cannot serialise '" + path + "': " + std::string(e.what_without_backtrace()).substr(0, 160));
  }
  write_file_atomic(path, bytes.str());
}

}  // namespace genzoo
