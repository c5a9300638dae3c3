#include "genzoo/data/dataset.h"

#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/data/idx.h"
#include "genzoo/data/image.h"
#include "test_support.h"

namespace genzoo {
namespace {

using testing::TempDir;
using testing::write_bytes;

// Sets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) setenv(it->first.c_str(), it->second->c_str(), 1);
      else unsetenv(it->first.c_str());
    }
  }
  void set(const std::string& name, const char* value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    if (value) setenv(name.c_str(), value, 1);
    else unsetenv(name.c_str());
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Runs `f`, expects a genzoo::Error and returns its message.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no genzoo::Error";
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---- data_dir, names, listing ----

TEST(Dataset, DataDirPrecedence) {
  ScopedEnv env;
  env.set("GENZOO_DATA", "/a/b");
  env.set("XDG_DATA_HOME", "/x");
  env.set("HOME", "/h");
  EXPECT_EQ(data_dir(), "/a/b");
  env.set("GENZOO_DATA", "");
  EXPECT_EQ(data_dir(), "/x/genzoo");
  env.set("XDG_DATA_HOME", nullptr);
  EXPECT_EQ(data_dir(), "/h/.local/share/genzoo");
}

TEST(Dataset, UnknownNameListsTheChoices) {
  const auto msg = error_of([] { load_dataset("mnist"); });
  EXPECT_TRUE(contains(msg, "unknown dataset 'mnist' (choose from fashion-mnist, mnist-10k, "
                            "texture:brick, texture:grass, texture:gravel, ring8, grid25, moons, "
                            "swissroll, checkerboard, idx:IMAGES[,LABELS], folder:DIR)"))
      << msg;
  EXPECT_TRUE(contains(error_of([] { load_dataset("texture:wood"); }),
                       "unknown texture 'wood' (choose from brick, grass, gravel)"));
}

TEST(Dataset, ListShowsWhereAndHowToGetEachDataset) {
  TempDir dir;
  ScopedEnv env;
  env.set("GENZOO_DATA", dir.path().c_str());
  auto list = list_datasets();
  std::vector<std::string> names;
  for (const auto& d : list) names.push_back(d.name);
  EXPECT_EQ(names, dataset_names());
  for (const auto& d : list) {
    EXPECT_FALSE(d.description.empty()) << d.name;
    EXPECT_FALSE(d.sizes.empty()) << d.name;
    if (d.name == "mnist-10k") {
      EXPECT_FALSE(d.available);
      EXPECT_EQ(d.location, dir / "mnist-10k");
      EXPECT_EQ(d.how_to_get, "scripts/get-data mnist-10k");
      EXPECT_EQ(d.sizes, "8,000 train / 2,000 test, 1x28x28");
    } else if (d.name == "texture:grass") {
      EXPECT_FALSE(d.available);
      EXPECT_EQ(d.location, dir / "textures/grass.png");
      EXPECT_EQ(d.how_to_get, "scripts/get-data textures");
    } else if (d.name == "fashion-mnist") {
      EXPECT_EQ(d.how_to_get, "sudo apt-get install dataset-fashion-mnist");
      EXPECT_EQ(d.location, "/usr/share/datasets/fashion-mnist");
    } else if (d.name == "ring8") {
      EXPECT_TRUE(d.available);
      EXPECT_EQ(d.sizes, "50,000 train / 10,000 test, 2-D points");
    }
  }
}

TEST(Dataset, MissingFilesNameTheCommandThatFetchesThem) {
  TempDir dir;
  ScopedEnv env;
  env.set("GENZOO_DATA", dir.path().c_str());
  auto msg = error_of([] { load_dataset("mnist-10k"); });
  EXPECT_TRUE(contains(msg, "scripts/get-data mnist-10k")) << msg;
  EXPECT_TRUE(contains(msg, dir / "mnist-10k/train-images.idx.gz")) << msg;
  msg = error_of([] { load_dataset("texture:brick"); });
  EXPECT_TRUE(contains(msg, "scripts/get-data textures")) << msg;
}

// ---- toy 2-D ----

TEST(Dataset, ToyDatasetsAreFixedPointClouds) {
  auto a = load_dataset("ring8");
  EXPECT_EQ(a.kind, DataKind::Points);
  EXPECT_EQ(a.train.x.sizes(), (std::vector<int64_t>{50000, 2}));
  EXPECT_EQ(a.test.x.sizes(), (std::vector<int64_t>{10000, 2}));
  EXPECT_FALSE(a.train.y.defined());
  EXPECT_EQ(a.dims(), 2);
  EXPECT_EQ(a.num_classes, 0);
  torch::manual_seed(123);  // the run's seed does not matter
  auto b = load_dataset("ring8");
  EXPECT_TRUE(torch::equal(a.train.x, b.train.x));
  EXPECT_TRUE(torch::equal(a.test.x, b.test.x));
  EXPECT_FALSE(torch::equal(a.train.x.slice(0, 0, 10000), a.test.x));
}

// ---- textures ----

TEST(Dataset, TextureIsOneImageUsedForTrainAndTest) {
  TempDir dir;
  ScopedEnv env;
  env.set("GENZOO_DATA", dir.path().c_str());
  ensure_dir(dir / "textures");
  auto img = torch::randint(0, 256, {1, 20, 30}, torch::kUInt8);
  write_png(dir / "textures/gravel.png", img);
  auto d = load_dataset("texture:gravel");
  EXPECT_EQ(d.kind, DataKind::Images);
  EXPECT_EQ(d.train.x.sizes(), (std::vector<int64_t>{1, 1, 20, 30}));
  EXPECT_TRUE(torch::equal(d.train.x[0], img));
  EXPECT_TRUE(torch::equal(d.test.x, d.train.x));
  EXPECT_EQ(d.dims(), 600);
  for (const auto& info : list_datasets()) {
    if (info.name == "texture:gravel") {
      EXPECT_TRUE(info.available);
    }
  }
}

// ---- mnist-10k conversion ----

// Digit j of class c: pixel 0 = (20c + j) / 255 to 3 decimals, pixel 1 = 0.5,
// pixel 783 = 1, the rest 0.
std::string digit_json(int c, int count) {
  std::string s = "{ \"data\": [";
  for (int j = 0; j < count; ++j) {
    char first[16];
    std::snprintf(first, sizeof first, "%.3f", (20 * c + j) / 255.0);
    s += std::string(j ? "," : "") + first + ",0.5";
    for (int i = 2; i < 783; ++i) s += ",0";
    s += ",1";
  }
  return s + "]}";
}

void write_digits(const std::string& dir, const std::vector<int>& counts) {
  ensure_dir(dir);
  for (int c = 0; c < 10; ++c) write_bytes(dir + "/" + std::to_string(c) + ".json", digit_json(c, counts[c]));
}

TEST(ConvertMnistJson, StratifiedSplitAndPixelValues) {
  TempDir dir;
  ScopedEnv env;
  env.set("GENZOO_DATA", dir.path().c_str());
  // n_c = c + 1, 55 digits, 44 train. floor(4 n / 5) = 0 1 2 3 4 4 5 6 7 8 (40),
  // remainders 4 3 2 1 0 4 3 2 1 0: classes 0, 5 (4) then 1, 6 (3) get one more.
  write_digits(dir / "digits", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  convert_mnist_json(dir / "digits", dir / "mnist-10k");
  const std::vector<int64_t> train_counts = {1, 2, 2, 3, 4, 5, 6, 6, 7, 8};

  auto d = load_dataset("mnist-10k");
  EXPECT_EQ(d.kind, DataKind::Images);
  EXPECT_EQ(d.train.size(), 44);
  EXPECT_EQ(d.test.size(), 11);
  EXPECT_EQ(d.channels, 1);
  EXPECT_EQ(d.height, 28);
  EXPECT_EQ(d.width, 28);
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.train.y.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(torch::bincount(d.train.y, {}, 10), torch::tensor(train_counts)));

  // Train: class by class, file order; test: the remaining digits, same order.
  int64_t tr = 0, te = 0;
  for (int c = 0; c < 10; ++c) {
    for (int j = 0; j <= c; ++j) {
      const bool train = j < train_counts[c];
      const auto& split = train ? d.train : d.test;
      const int64_t row = train ? tr++ : te++;
      EXPECT_EQ(split.y[row].item<int64_t>(), c);
      auto img = split.x[row][0].reshape(-1);  // [784]
      EXPECT_EQ(img[0].item<int64_t>(), 20 * c + j) << "class " << c << " digit " << j;
      EXPECT_EQ(img[1].item<int64_t>(), 128);
      EXPECT_EQ(img[783].item<int64_t>(), 255);
      EXPECT_EQ(img.slice(0, 2, 783).sum().item<int64_t>(), 0);
    }
  }
  // Stored as the MNIST convention: uint8 [N, 28, 28] and uint8 labels.
  auto raw = read_idx(dir / "mnist-10k/test-images.idx.gz");
  EXPECT_EQ(raw.sizes(), (std::vector<int64_t>{11, 28, 28}));
  EXPECT_EQ(read_idx(dir / "mnist-10k/test-labels.idx.gz").scalar_type(), torch::kUInt8);
}

TEST(ConvertMnistJson, TiesGoToTheLowerClass) {
  TempDir dir;
  ScopedEnv env;
  env.set("GENZOO_DATA", dir.path().c_str());
  // One digit per class: 8 train, all remainders equal, so classes 0..7 train.
  write_digits(dir / "digits", std::vector<int>(10, 1));
  convert_mnist_json(dir / "digits", dir / "mnist-10k");
  auto d = load_dataset("mnist-10k");
  EXPECT_TRUE(torch::equal(d.train.y, torch::arange(8, torch::kLong)));
  EXPECT_TRUE(torch::equal(d.test.y, torch::tensor({8, 9}, torch::kLong)));
}

TEST(ConvertMnistJson, BadInputs) {
  TempDir dir;
  const std::string digits = dir / "digits";
  auto convert = [&] { convert_mnist_json(digits, dir / "out"); };
  write_digits(digits, std::vector<int>(10, 1));
  std::remove((digits + "/3.json").c_str());
  auto msg = error_of(convert);
  EXPECT_TRUE(contains(msg, "missing '" + digits + "/3.json'")) << msg;

  write_digits(digits, std::vector<int>(10, 1));
  write_bytes(digits + "/4.json", "{ \"data\": [0, 0.5,");
  EXPECT_TRUE(contains(error_of(convert), "4.json': malformed JSON")) << error_of(convert);

  write_digits(digits, std::vector<int>(10, 1));
  write_bytes(digits + "/5.json", "{ \"data\": [0, 0.5, 1]}");
  EXPECT_TRUE(contains(error_of(convert), "3 values is not a positive multiple of 784"));

  write_digits(digits, std::vector<int>(10, 1));
  write_bytes(digits + "/6.json", "[1, 2]");
  EXPECT_TRUE(contains(error_of(convert), "expected an object {\"data\": [...]}"));

  std::string json = digit_json(7, 1);
  write_bytes(digits + "/6.json", digit_json(6, 1));
  write_bytes(digits + "/7.json", json.replace(json.find(",1]"), 3, ",1.5]"));
  msg = error_of(convert);
  EXPECT_TRUE(contains(msg, "7.json': value 783 = 1.5 is outside [0, 1]")) << msg;

  json = digit_json(7, 1);
  write_bytes(digits + "/7.json", json.replace(json.find(",1]"), 3, ",\"x\"]"));
  EXPECT_TRUE(contains(error_of(convert), "value 783 is not a number"));
  EXPECT_FALSE(file_exists(dir / "out/train-images.idx.gz"));
}

// ---- idx: ----

TEST(Dataset, IdxSpecSplitsEveryTenthExample) {
  TempDir dir;
  auto images = torch::randint(0, 256, {25, 5, 4}, torch::kUInt8);
  auto labels = torch::randint(0, 3, {25}, torch::kUInt8);
  labels[0] = 2;
  write_idx(dir / "im.idx", images);
  write_idx(dir / "lab.idx.gz", labels);
  auto d = load_dataset("idx:" + (dir / "im.idx") + "," + (dir / "lab.idx.gz"));
  EXPECT_EQ(d.kind, DataKind::Images);
  EXPECT_EQ(d.train.size(), 23);
  EXPECT_EQ(d.test.size(), 2);
  EXPECT_EQ(d.channels, 1);
  EXPECT_EQ(d.height, 5);
  EXPECT_EQ(d.width, 4);
  EXPECT_EQ(d.num_classes, 3);
  EXPECT_TRUE(torch::equal(d.test.x.squeeze(1), torch::stack({images[9], images[19]})));
  EXPECT_TRUE(torch::equal(d.test.y, torch::stack({labels[9], labels[19]}).to(torch::kLong)));
  EXPECT_TRUE(torch::equal(d.train.x[9][0], images[10]));
  EXPECT_TRUE(torch::equal(d.train.y[9], labels[10].to(torch::kLong)));

  // Multi-channel images without labels.
  auto rgb = torch::randint(0, 256, {12, 3, 2, 2}, torch::kUInt8);
  write_idx(dir / "rgb.idx.gz", rgb);
  auto e = load_dataset("idx:" + (dir / "rgb.idx.gz"));
  EXPECT_EQ(e.channels, 3);
  EXPECT_EQ(e.train.size(), 11);
  EXPECT_FALSE(e.train.y.defined());
  EXPECT_EQ(e.num_classes, 0);
  EXPECT_TRUE(torch::equal(e.test.x[0], rgb[9]));
}

TEST(Dataset, IdxSpecErrors) {
  TempDir dir;
  write_idx(dir / "im.idx", torch::zeros({20, 4, 4}, torch::kUInt8));
  write_idx(dir / "lab.idx", torch::zeros({19}, torch::kUInt8));
  write_idx(dir / "lab2d.idx", torch::zeros({20, 1}, torch::kUInt8));
  write_idx(dir / "float.idx", torch::zeros({20, 4, 4}, torch::kFloat32));
  write_idx(dir / "few.idx", torch::zeros({9, 4, 4}, torch::kUInt8));
  const std::string im = dir / "im.idx";
  auto msg = error_of([&] { load_dataset("idx:" + im + "," + (dir / "lab.idx")); });
  EXPECT_TRUE(contains(msg, "19 labels for 20 images")) << msg;
  msg = error_of([&] { load_dataset("idx:" + im + "," + (dir / "lab2d.idx")); });
  EXPECT_TRUE(contains(msg, "expected integer labels [N], got Byte 20x1")) << msg;
  msg = error_of([&] { load_dataset("idx:" + (dir / "float.idx")); });
  EXPECT_TRUE(contains(msg, "expected uint8 [N,H,W] or [N,C,H,W], got Float 20x4x4")) << msg;
  msg = error_of([&] { load_dataset("idx:" + (dir / "missing.idx")); });
  EXPECT_TRUE(contains(msg, dir / "missing.idx")) << msg;
  msg = error_of([&] { load_dataset("idx:" + (dir / "few.idx")); });
  EXPECT_TRUE(contains(msg, "has 9 examples; at least 10")) << msg;
  EXPECT_TRUE(contains(error_of([] { load_dataset("idx:"); }), "expected idx:IMAGES"));
  EXPECT_TRUE(contains(error_of([&] { load_dataset("idx:" + im + ","); }), "expected idx:IMAGES"));
}

// ---- folder: ----

TEST(Dataset, FolderOfPngsSortedByName) {
  TempDir dir;
  std::vector<torch::Tensor> images;
  for (int i = 0; i < 12; ++i) {
    images.push_back(torch::randint(0, 256, {3, 6, 5}, torch::kUInt8));
    char name[32];
    std::snprintf(name, sizeof name, "img%02d.png", i);
    write_png(dir / name, images.back());
  }
  write_bytes(dir / "notes.txt", "not an image");
  ensure_dir(dir / "sub.png");  // a folder, ignored
  auto d = load_dataset("folder:" + dir.path());
  EXPECT_EQ(d.name, "folder:" + dir.path());
  EXPECT_EQ(d.train.size(), 11);
  EXPECT_EQ(d.test.size(), 1);
  EXPECT_EQ(d.channels, 3);
  EXPECT_EQ(d.height, 6);
  EXPECT_EQ(d.width, 5);
  EXPECT_FALSE(d.train.y.defined());
  EXPECT_TRUE(torch::equal(d.test.x[0], images[9]));
  EXPECT_TRUE(torch::equal(d.train.x[9], images[10]));
  EXPECT_TRUE(torch::equal(d.train.x[0], images[0]));
}

TEST(Dataset, FolderOfOnePhotographIsASingleImageDataset) {
  TempDir dir;
  auto image = torch::randint(0, 256, {1, 9, 7}, torch::kUInt8);
  write_png(dir / "photo.png", image);
  auto d = load_dataset("folder:" + dir.path());
  EXPECT_EQ(d.train.size(), 1);
  EXPECT_EQ(d.test.size(), 1);  // scored on the image it learns from, as texture:NAME
  EXPECT_TRUE(torch::equal(d.train.x[0], image));
  EXPECT_TRUE(torch::equal(d.test.x[0], image));
  // Two to nine images are still too few for the every-10th split.
  write_png(dir / "second.png", image);
  EXPECT_TRUE(contains(error_of([&] { load_dataset("folder:" + dir.path()); }), "has 2 examples; at least 10"));
}

TEST(Dataset, FolderOfJpegs) {
  TempDir dir;
  std::vector<uint8_t> pixels(8 * 8, 100);
  // stb's JPEG writer stores even grey input as 3-component YCbCr, so these read back as RGB.
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(stbi_write_jpg((dir / ("p" + std::to_string(i) + ".JPG")).c_str(), 8, 8, 1,
                               pixels.data(), 95));
  auto d = load_dataset("folder:" + dir.path());
  EXPECT_EQ(d.train.x.sizes(), (std::vector<int64_t>{9, 3, 8, 8}));
  EXPECT_LE((d.train.x.to(torch::kInt32) - 100).abs().max().item<int>(), 2);
}

TEST(Dataset, FolderErrors) {
  TempDir dir;
  ensure_dir(dir / "empty");
  auto msg = error_of([&] { load_dataset("folder:" + (dir / "empty")); });
  EXPECT_TRUE(contains(msg, "has no PNG or JPEG files")) << msg;
  msg = error_of([&] { load_dataset("folder:" + (dir / "nope")); });
  EXPECT_TRUE(contains(msg, "is not a folder")) << msg;
  EXPECT_TRUE(contains(error_of([] { load_dataset("folder:"); }), "expected folder:DIR"));

  ensure_dir(dir / "mixed");
  for (int i = 0; i < 12; ++i)
    write_png(dir / ("mixed/" + std::string(1, static_cast<char>('a' + i)) + ".png"),
              torch::zeros({1, 4, 4}, torch::kUInt8));
  write_png(dir / "mixed/e.png", torch::zeros({3, 4, 4}, torch::kUInt8));
  msg = error_of([&] { load_dataset("folder:" + (dir / "mixed")); });
  EXPECT_TRUE(contains(msg, "'" + (dir / "mixed/e.png") + "' is 3x4x4")) << msg;
  EXPECT_TRUE(contains(msg, "a.png' is 1x4x4")) << msg;

  write_png(dir / "mixed/e.png", torch::zeros({1, 4, 4}, torch::kUInt8));
  write_bytes(dir / "mixed/f.png", "garbage");
  msg = error_of([&] { load_dataset("folder:" + (dir / "mixed")); });
  EXPECT_TRUE(contains(msg, "cannot read image '" + (dir / "mixed/f.png") + "'")) << msg;
}

// ---- fashion-mnist (installed by the Debian package) ----

TEST(Dataset, FashionMnist) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto d = load_dataset("fashion-mnist");
  EXPECT_EQ(d.train.x.sizes(), (std::vector<int64_t>{60000, 1, 28, 28}));
  EXPECT_EQ(d.test.x.sizes(), (std::vector<int64_t>{10000, 1, 28, 28}));
  EXPECT_EQ(d.train.x.scalar_type(), torch::kUInt8);
  EXPECT_EQ(d.train.y.scalar_type(), torch::kLong);
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.dims(), 784);
  // Fashion-MNIST is balanced: 6,000 / 1,000 per class.
  EXPECT_TRUE(torch::equal(torch::bincount(d.train.y), torch::full({10}, 6000, torch::kLong)));
  EXPECT_TRUE(torch::equal(torch::bincount(d.test.y), torch::full({10}, 1000, torch::kLong)));
}

}  // namespace
}  // namespace genzoo

namespace genzoo {
namespace {

Dataset labelled_images() {
  Dataset d;
  d.name = "made-up";
  d.channels = 1;
  d.height = d.width = 4;
  d.num_classes = 3;
  d.train.x = torch::arange(12 * 16, torch::kLong).remainder(256).to(torch::kUInt8).view({12, 1, 4, 4});
  d.train.y = torch::arange(12, torch::kLong).remainder(3);
  d.test.x = torch::full({6, 1, 4, 4}, 7, torch::kUInt8);
  d.test.y = torch::arange(6, torch::kLong).remainder(3);
  return d;
}

TEST(SelectData, OneClassTheFirstRowsAndAResize) {
  DataSelection s;
  s.labels = {2};
  s.limit = 3;
  auto d = select_data(labelled_images(), s);
  ASSERT_EQ(d.train.size(), 3);  // rows 2, 5, 8 of the four of class 2
  EXPECT_TRUE((d.train.y == 2).all().item<bool>());
  EXPECT_EQ(d.train.x[1][0][0][0].item<int64_t>(), 5 * 16);
  EXPECT_EQ(d.test.size(), 2);
  EXPECT_TRUE((d.test.y == 2).all().item<bool>());

  DataSelection r;
  r.height = r.width = 2;  // box averages of 2 x 2 blocks
  auto small = select_data(labelled_images(), r);
  EXPECT_EQ(small.height, 2);
  ASSERT_EQ(small.train.x.sizes(), (std::vector<int64_t>{12, 1, 2, 2}));
  EXPECT_EQ(small.train.x.scalar_type(), torch::kUInt8);
  // Image 0 holds 0..15 row by row: the top-left block is 0, 1, 4, 5.
  EXPECT_EQ(small.train.x[0][0][0][0].item<int64_t>(), 2);  // 2.5, rounded half to even
  EXPECT_EQ(small.train.x[0][0][1][1].item<int64_t>(), 12);  // 10, 11, 14, 15: 12.5
  EXPECT_TRUE((small.test.x == 7).all().item<bool>());
  r.height = r.width = 8;  // growing: bilinear
  EXPECT_EQ(select_data(labelled_images(), r).train.x.size(3), 8);
}

TEST(SelectData, BadSelectionsNameTheirKey) {
  DataSelection s;
  s.labels = {3};
  EXPECT_THROW(select_data(labelled_images(), s), Error);
  Dataset unlabelled = labelled_images();
  unlabelled.num_classes = 0;
  unlabelled.train.y = torch::Tensor();
  s.labels = {0};
  try {
    select_data(unlabelled, s);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("data.class"), std::string::npos) << e.what();
  }
  Dataset points = load_dataset("ring8");
  DataSelection limit;
  limit.limit = 10;
  EXPECT_THROW(select_data(points, limit), Error);
}

}  // namespace
}  // namespace genzoo

namespace genzoo {
namespace {

TEST(SelectData, SeveralClassesKeepTheirRowsInOrder) {
  DataSelection s;
  s.labels = {2, 0};
  auto d = select_data(labelled_images(), s);
  ASSERT_EQ(d.train.size(), 8);  // rows 0, 2, 3, 5, 6, 8, 9, 11
  EXPECT_TRUE(torch::equal(d.train.y, torch::tensor({0, 2, 0, 2, 0, 2, 0, 2}, torch::kLong)));
  EXPECT_EQ(d.train.x[1][0][0][0].item<int64_t>(), 2 * 16);
  EXPECT_TRUE(torch::equal(d.test.y, torch::tensor({0, 2, 0, 2}, torch::kLong)));
  s.labels = {1, 5};
  EXPECT_THROW(select_data(labelled_images(), s), Error);  // class 5 of 3
}

TEST(ClassLists, ParseAndSplitIntoClassIncrementalTasks) {
  EXPECT_EQ(parse_class_list("0,1,5", "x"), (std::vector<int64_t>{0, 1, 5}));
  EXPECT_EQ(parse_class_list("7", "x"), (std::vector<int64_t>{7}));
  for (const char* bad : {"", "1,", ",1", "1,,2", "a", "-1", "1,1", "1 ,2"})
    EXPECT_THROW(parse_class_list(bad, "data.classes"), Error) << bad;
  // Split MNIST: five tasks of two consecutive classes.
  const auto split = class_incremental_tasks(10, 5);
  ASSERT_EQ(split.size(), 5u);
  for (int64_t t = 0; t < 5; ++t) EXPECT_EQ(split[t], (std::vector<int64_t>{2 * t, 2 * t + 1})) << t;
  // Uneven: the first tasks take the extra classes, every class once.
  const auto uneven = class_incremental_tasks(7, 3);
  EXPECT_EQ(uneven[0], (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(uneven[1], (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(uneven[2], (std::vector<int64_t>{5, 6}));
  EXPECT_THROW(class_incremental_tasks(10, 0), Error);
  EXPECT_THROW(class_incremental_tasks(3, 4), Error);
}

}  // namespace
}  // namespace genzoo
