#pragma once
// What the convolutional and recurrent autoregressive image models
// (PixelCNN, Gated PixelCNN, PixelRNN; van den Oord et al. 2016) share:
//   - the output head of each conditional p(x_i | x_<i): a Bernoulli
//     (one logit) for binary pixels, a 256-way softmax for 8-bit grey levels;
//   - how pixels enter the networks (centred: 2x − 1 for {0,1}, x/127.5 − 1
//     for 0..255), so that a zero-padded border reads as the middle value;
//   - MaskedConv2d, the convolution whose kernel sees only the pixels before
//     the centre in raster order (type A, the first layer) or those and the
//     centre itself (type B, every later layer);
//   - generation in raster order from fixed uniforms: `raster` recomputes
//     the whole network for every pixel, `cached` asks the model for the
//     logits of one position from what it kept of the pixels before it.
//     Both turn the same logits and the same uniform into the same pixel,
//     so given the same random numbers they produce the same images.
// Images have one channel (grey); a pixel's position in raster order is
// d = r W + c.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "genzoo/core/config.h"
#include "genzoo/core/enum_names.h"
#include "genzoo/models/model.h"

namespace genzoo {

enum class PixelHead { Bernoulli, Softmax256 };
/// "bernoulli", "softmax256".
const EnumNames<PixelHead>& pixel_head_names();
/// The head a data format calls for: binary -> bernoulli, levels256 ->
/// softmax256; a genzoo::Error naming `who` for any other format.
PixelHead pixel_head_for(PixelFormat format, const std::string& who);
/// Logits per position: 1 (Bernoulli) or 256.
int64_t head_outputs(PixelHead head);
/// Network input: {0,1} -> 2x − 1, 0..255 -> x / 127.5 − 1 (same shape).
torch::Tensor centre_pixels(PixelHead head, const torch::Tensor& x);
/// log p(x) = sum_i log p(x_i | x_<i) from the logits of every position:
/// Bernoulli logits [N, D] with x {0,1} [N, D], or softmax logits [N, D, 256]
/// with x levels 0..255 [N, D] -> [N] nats.
torch::Tensor head_log_prob(PixelHead head, const torch::Tensor& logits, const torch::Tensor& x);
/// One pixel per row from the logits of one position, [N] (Bernoulli) or
/// [N, 256], and uniforms u [N] in [0, 1): 1[u < sigmoid(l)], or the
/// smallest level whose cumulative probability exceeds u. [N], the logits'
/// dtype.
torch::Tensor head_draw(PixelHead head, const torch::Tensor& logits, const torch::Tensor& u);
/// Network logits [N, K, H, W] -> the conditionals' parameters, [N, D]
/// (K = 1) or [N, D, K].
torch::Tensor logits_per_pixel(const torch::Tensor& logits);

enum class MaskType { A, B };

struct MaskedConv2dOptions {
  MaskedConv2dOptions(int64_t in, int64_t out, int64_t kernel_height, int64_t kernel_width, MaskType type)
      : in_(in), out_(out), kernel_height_(kernel_height), kernel_width_(kernel_width), type_(type) {}
  TORCH_ARG(int64_t, in);
  TORCH_ARG(int64_t, out);
  /// Odd sizes: the centre is the pixel the output stands at.
  TORCH_ARG(int64_t, kernel_height);
  TORCH_ARG(int64_t, kernel_width);
  TORCH_ARG(MaskType, type);
};

/// A convolution with zero padding that keeps the image size and whose
/// kernel is multiplied by a fixed mask (a buffer): rows above the centre
/// all ones, the centre row ones left of the centre, the centre one for
/// type B and zero for type A, everything below zero.
struct MaskedConv2dImpl : torch::nn::Cloneable<MaskedConv2dImpl> {
  explicit MaskedConv2dImpl(MaskedConv2dOptions options);
  void reset() override;
  /// x [N, in, H, W] -> [N, out, H, W].
  torch::Tensor forward(const torch::Tensor& x);
  /// The output at one position from `padded`, the layer's input with
  /// padding_rows() zero rows above and padding_cols() zero columns on
  /// each side ([N, in, H + padding_rows(), W + 2 padding_cols()]; rows
  /// below the centre are never read): [N, out]. The same number as
  /// forward(x)[:, :, r, c] up to rounding.
  torch::Tensor forward_at(const torch::Tensor& padded, int64_t r, int64_t c);
  int64_t padding_rows() const { return options.kernel_height() / 2; }
  int64_t padding_cols() const { return options.kernel_width() / 2; }

  MaskedConv2dOptions options;
  torch::Tensor weight, bias, mask;  // [out, in, kh, kw], [out], [1, 1, kh, kw] (buffer)
};
TORCH_MODULE(MaskedConv2d);

/// The 0/1 mask of a kernel_height x kernel_width kernel, [kh, kw] float.
torch::Tensor raster_mask(int64_t kernel_height, int64_t kernel_width, MaskType type);

/// How an image model draws its pixels (genzoo sample --method).
enum class SampleMethod { Raster, Cached };
/// "raster", "cached".
const EnumNames<SampleMethod>& sample_method_names();

/// The logits of one position of an image whose pixels before it in raster
/// order are final: what each sampling method computes. Called for every
/// position in raster order, each time after the previous pixel was written.
class RasterStepper {
 public:
  virtual ~RasterStepper() = default;
  /// x [N, 1, H, W] in the model's data space -> [N] (Bernoulli) or [N, 256].
  virtual torch::Tensor logits_at(const torch::Tensor& x, int64_t r, int64_t c) = 0;
};

/// The raster stepper that recomputes the whole network, `logits_of` x
/// [N, 1, H, W] -> [N, K, H, W], for every pixel.
class FullRecompute : public RasterStepper {
 public:
  explicit FullRecompute(std::function<torch::Tensor(const torch::Tensor&)> logits_of)
      : logits_of_(std::move(logits_of)) {}
  torch::Tensor logits_at(const torch::Tensor& x, int64_t r, int64_t c) override;

 private:
  std::function<torch::Tensor(const torch::Tensor&)> logits_of_;
};

/// Fills every pixel of `x` [N, 1, H, W] (the model's data space) that
/// `observed` (bool [N, D]) does not mark, in raster order: pixel d of row n
/// is head_draw(head, stepper.logits_at(x, r, c), uniforms[n, d]), uniforms
/// [N, D] in [0, 1). Returns the filled images (a new tensor).
torch::Tensor raster_generate(RasterStepper& stepper, const torch::Tensor& x, const torch::Tensor& observed,
                              const torch::Tensor& uniforms, PixelHead head);

/// An image model that samples by either method (genzoo sample --method).
struct MethodSampler {
  virtual ~MethodSampler() = default;
  /// n samples drawn by `method`, from fresh uniforms of the global generator.
  virtual torch::Tensor sample_by(int64_t n, SampleMethod method) = 0;
  /// Fills the pixels `observed` (bool, [N, 1, H, W] or [1, 1, H, W]) does not
  /// mark in x [N, 1, H, W], by `method`, from `uniforms` [N, D].
  virtual torch::Tensor generate(const torch::Tensor& x, const torch::Tensor& observed, const torch::Tensor& uniforms,
                                 SampleMethod method) = 0;
};

/// What every pixel model's generate does: under NoGradGuard, x to `dtype`,
/// `observed` flattened to [N, D], then raster_generate with the whole
/// network (`logits_of`: x -> [N, K, H, W]) for raster, or the stepper
/// `make_cache(N)` builds for cached. `who` names the model in errors.
torch::Tensor generate_pixels(const torch::Tensor& x, const torch::Tensor& observed, const torch::Tensor& uniforms,
                              SampleMethod method, PixelHead head, torch::ScalarType dtype,
                              const std::function<torch::Tensor(const torch::Tensor&)>& logits_of,
                              const std::function<std::unique_ptr<RasterStepper>(int64_t)>& make_cache,
                              const char* who);
/// n images of height x width from nothing observed and fresh uniforms (the
/// global generator), by `method`.
torch::Tensor sample_pixels(MethodSampler& sampler, int64_t n, int64_t height, int64_t width,
                            const torch::TensorOptions& options, SampleMethod method);
/// Completion with fresh uniforms, by the cached method.
torch::Tensor complete_pixels(MethodSampler& sampler, const torch::Tensor& x, const torch::Tensor& observed);

/// The size keys the three networks share, read under model.*: channels h,
/// the depth (under `depth_key`), first_kernel and kernel (odd, >= 3 for
/// the first, >= `min_kernel` for the others), output_channels; a bad value
/// is a genzoo::Error naming its key.
struct PixelNetKeys {
  int64_t channels, depth, first_kernel, kernel, output_channels;
};
PixelNetKeys read_pixel_net_keys(Config& config, const std::string& depth_key, const PixelNetKeys& defaults,
                                 int64_t min_depth, int64_t min_kernel);

/// The ModelInfo of a raster-order image model of one channel: binary or
/// 256-level pixels, any size; the caller sets `create`.
ModelInfo pixel_model_info(const std::string& name, const std::string& description, Capabilities capabilities);

}  // namespace genzoo
