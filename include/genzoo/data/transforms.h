#pragma once
// Pixel transforms. Raw images are uint8 [N, C, H, W] in {0..255}.
#include <torch/torch.h>

#include <string>
#include <vector>

namespace genzoo {

/// How binary models see grey pixels.
///   none       keep grey values (scaled per `PixelScale`)
///   threshold  x = 1 if pixel > 127 else 0
///   static     one Bernoulli(pixel/255) draw with a fixed seed, made once
///   dynamic    a fresh Bernoulli(pixel/255) draw every batch
enum class Binarize { None, Threshold, Static, Dynamic };
enum class PixelScale { Unit, Symmetric };  // [0,1] or [-1,1]

Binarize parse_binarize(const std::string& name);  // genzoo::Error listing choices
std::string binarize_name(Binarize b);
std::vector<std::string> binarize_names();
PixelScale parse_pixel_scale(const std::string& name);
std::string pixel_scale_name(PixelScale s);

/// uint8 -> float in [0, 1].
torch::Tensor to_unit(const torch::Tensor& raw);
/// uint8 -> float in [-1, 1].
torch::Tensor to_symmetric(const torch::Tensor& raw);
/// uint8 -> float {0, 1}: pixel > 127.
torch::Tensor binarize_threshold(const torch::Tensor& raw);
/// float probabilities in [0,1] -> float {0, 1} drawn with `gen`.
torch::Tensor binarize_bernoulli(const torch::Tensor& probs, torch::Generator gen);
/// uint8 -> float in [0, 1): (pixel + u) / 256 with u ~ U[0, 1) from `gen`.
torch::Tensor dequantize(const torch::Tensor& raw, torch::Generator gen);

/// Seed of the fixed static binarization draw; the same for every run, so
/// that statically binarized data are one fixed data set.
constexpr uint64_t kStaticBinarizationSeed = 20110311;

struct TransformOptions {
  Binarize binarize = Binarize::None;
  PixelScale scale = PixelScale::Unit;
  bool dequantize = false;  // only with Binarize::None and PixelScale::Unit
  /// 256: pixels stay whole grey levels 0..255 (as float), for models with a
  /// 256-way softmax per pixel; 0: no levels (the scale applies). Only with
  /// Binarize::None, PixelScale::Unit and no dequantization.
  int64_t levels = 0;
};

/// Applies TransformOptions in two stages: `prepare` once per split (the
/// deterministic part, kept in memory as float), `batch` per mini-batch (the
/// random part: dynamic binarization, dequantization noise), seeded by
/// (seed, epoch, batch) so a resumed run draws the same noise.
class ImageTransform {
 public:
  ImageTransform(TransformOptions options, uint64_t seed);

  /// uint8 [N,C,H,W] -> float [N,C,H,W]. `split_id` (0 train, 1 test, ...)
  /// keeps the static draws of different splits independent.
  torch::Tensor prepare(const torch::Tensor& raw, int64_t split_id) const;

  /// prepared rows -> model input for training step (epoch, batch).
  torch::Tensor batch(const torch::Tensor& prepared, int64_t epoch, int64_t batch_index) const;

  /// uint8 split -> the fixed tensor evaluation uses: for dynamic
  /// binarization, a static draw (so test NLL is on one fixed binary set).
  torch::Tensor for_eval(const torch::Tensor& raw, int64_t split_id) const;

  const TransformOptions& options() const { return options_; }
  /// True when the model sees {0,1} pixels.
  bool binary() const { return options_.binarize != Binarize::None; }
  /// Model-space pixels -> float images in [0, 1] (grids, feature metrics).
  torch::Tensor to_display(const torch::Tensor& x) const;

 private:
  TransformOptions options_;
  uint64_t seed_;
};

}  // namespace genzoo
