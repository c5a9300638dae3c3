#include "genzoo/data/transforms.h"

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {

namespace {

// Stream tags for derived_generator (ASCII, so they do not collide with the
// shuffle stream of BatchSampler or with each other).
constexpr uint64_t kStaticStream = 0x62696e5f73746174ULL;      // "bin_stat"
constexpr uint64_t kDynamicStream = 0x62696e5f64796e61ULL;     // "bin_dyna"
constexpr uint64_t kDequantizeStream = 0x64657175616e7469ULL;  // "dequanti"
constexpr uint64_t kEvalDequantizeStream = 0x6576616c5f646571ULL;  // "eval_deq"

const std::vector<std::string>& scale_names() {
  static const std::vector<std::string> names = {"unit", "symmetric"};
  return names;
}

void check_raw(const torch::Tensor& raw, const char* what) {
  TORCH_CHECK(raw.defined() && raw.scalar_type() == torch::kUInt8, what,
              ": expected uint8 pixels in {0..255}, got ",
              raw.defined() ? c10::toString(raw.scalar_type()) : "an undefined tensor");
}

// The one fixed Bernoulli draw of a split: seeded by the constant
// kStaticBinarizationSeed and the split id only, never by the run seed.
torch::Tensor static_draw(const torch::Tensor& raw, int64_t split_id) {
  return binarize_bernoulli(
      to_unit(raw),
      derived_generator(kStaticBinarizationSeed, kStaticStream, static_cast<uint64_t>(split_id)));
}

}  // namespace

Binarize parse_binarize(const std::string& name) {
  for (auto b : {Binarize::None, Binarize::Threshold, Binarize::Static, Binarize::Dynamic})
    if (binarize_name(b) == name) return b;
  throw Error("unknown binarization '" + name + "' (choose from " + join(binarize_names()) + ")");
}

std::string binarize_name(Binarize b) {
  switch (b) {
    case Binarize::None: return "none";
    case Binarize::Threshold: return "threshold";
    case Binarize::Static: return "static";
    case Binarize::Dynamic: return "dynamic";
  }
  return "?";
}

std::vector<std::string> binarize_names() { return {"none", "threshold", "static", "dynamic"}; }

PixelScale parse_pixel_scale(const std::string& name) {
  if (name == "unit") return PixelScale::Unit;
  if (name == "symmetric") return PixelScale::Symmetric;
  throw Error("unknown pixel scale '" + name + "' (choose from " + join(scale_names()) + ")");
}

std::string pixel_scale_name(PixelScale s) { return scale_names()[s == PixelScale::Unit ? 0 : 1]; }

torch::Tensor to_unit(const torch::Tensor& raw) {
  check_raw(raw, "to_unit");
  return raw.to(torch::kFloat32) / 255;
}

torch::Tensor to_symmetric(const torch::Tensor& raw) {
  check_raw(raw, "to_symmetric");
  return raw.to(torch::kFloat32) / 127.5 - 1;  // 0 -> -1, 255 -> 1 exactly
}

torch::Tensor binarize_threshold(const torch::Tensor& raw) {
  check_raw(raw, "binarize_threshold");
  return (raw > 127).to(torch::kFloat32);
}

torch::Tensor binarize_bernoulli(const torch::Tensor& probs, torch::Generator gen) {
  TORCH_CHECK(probs.defined() && probs.is_floating_point(),
              "binarize_bernoulli: expected floating probabilities in [0, 1]");
  // u < p with u ~ U[0,1): p = 0 never fires, p = 1 always does.
  return (torch::rand(probs.sizes(), gen, probs.options()) < probs).to(probs.scalar_type());
}

torch::Tensor dequantize(const torch::Tensor& raw, torch::Generator gen) {
  check_raw(raw, "dequantize");
  auto pixel = raw.to(torch::kFloat32);
  auto noisy = pixel + torch::rand(raw.sizes(), gen, torch::kFloat32);
  // In float32, pixel + u rounds up to pixel + 1 when u is within half an ulp
  // of 1 (2^-17 at pixel 255); cap just below it so that floor(256 x) == pixel and x < 1 always hold.
  noisy = torch::minimum(noisy, torch::nextafter(pixel + 1, pixel));
  return noisy / 256;  // exact: a power of two
}

ImageTransform::ImageTransform(TransformOptions options, uint64_t seed)
    : options_(options), seed_(seed) {
  if (options_.dequantize &&
      (options_.binarize != Binarize::None || options_.scale != PixelScale::Unit))
    throw Error("dequantization needs binarize none and pixel scale unit (got binarize " +
                binarize_name(options_.binarize) + ", scale " + pixel_scale_name(options_.scale) +
                ")");
  if (options_.levels != 0 && options_.levels != 256)
    throw Error("config key 'data.levels' must be 0 (no levels) or 256 (whole grey levels 0..255), got " +
                std::to_string(options_.levels));
  if (options_.levels != 0 &&
      (options_.binarize != Binarize::None || options_.scale != PixelScale::Unit || options_.dequantize))
    throw Error("data.levels = 256 keeps whole grey levels: it needs binarize none, pixel scale unit and no "
                "dequantization (got binarize " +
                binarize_name(options_.binarize) + ", scale " + pixel_scale_name(options_.scale) +
                (options_.dequantize ? ", dequantize" : "") + ")");
}

torch::Tensor ImageTransform::to_display(const torch::Tensor& x) const {
  if (options_.levels != 0) return x / 255;
  if (options_.binarize == Binarize::None && options_.scale == PixelScale::Symmetric) return (x + 1) / 2;
  return x;
}

// Binarized pixels are {0, 1} whatever the scale: PixelScale applies to grey values.
torch::Tensor ImageTransform::prepare(const torch::Tensor& raw, int64_t split_id) const {
  check_raw(raw, "ImageTransform::prepare");
  switch (options_.binarize) {
    case Binarize::None:
      if (options_.levels != 0) return raw.to(torch::kFloat32);  // 0..255
      return options_.scale == PixelScale::Unit ? to_unit(raw) : to_symmetric(raw);
    case Binarize::Threshold: return binarize_threshold(raw);
    case Binarize::Static: return static_draw(raw, split_id);
    case Binarize::Dynamic: return to_unit(raw);  // probabilities, drawn per batch
  }
  return {};
}

torch::Tensor ImageTransform::batch(const torch::Tensor& prepared, int64_t epoch,
                                    int64_t batch_index) const {
  const bool dynamic = options_.binarize == Binarize::Dynamic;
  if (!dynamic && !options_.dequantize) return prepared;
  const uint64_t step = mix_seed(static_cast<uint64_t>(epoch), static_cast<uint64_t>(batch_index));
  if (dynamic) return binarize_bernoulli(prepared, derived_generator(seed_, kDynamicStream, step));
  // Dequantization: prepared holds pixel / 255; recover the integer pixel.
  auto raw = prepared.mul(255).round().clamp(0, 255).to(torch::kUInt8);
  return dequantize(raw, derived_generator(seed_, kDequantizeStream, step));
}

torch::Tensor ImageTransform::for_eval(const torch::Tensor& raw, int64_t split_id) const {
  check_raw(raw, "ImageTransform::for_eval");
  if (options_.binarize == Binarize::Dynamic) return static_draw(raw, split_id);
  if (options_.dequantize)  // one fixed noise draw, independent of the run seed
    return dequantize(raw, derived_generator(kStaticBinarizationSeed, kEvalDequantizeStream,
                                             static_cast<uint64_t>(split_id)));
  return prepare(raw, split_id);
}

}  // namespace genzoo
