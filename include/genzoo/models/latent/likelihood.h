#pragma once
// The decoder's likelihood p(x|z), pixel by pixel, for the data formats a
// latent-variable model meets:
//   bernoulli  binary pixels: p(x_i = 1) = sigmoid(l_i)
//   gaussian   grey pixels in [0,1] (or [-1,1]): N(x_i; mu_i, sigma^2), mu_i =
//              sigmoid(l_i) (tanh(l_i) for [-1,1]); sigma fixed, or one learned
//              per pixel, never below 1/256 (one grey level)
//   logistic   whole grey levels 0..255, the discretised logistic of Salimans
//              et al. 2017 (PixelCNN++, one component): P(x) = F(x + 1/2) -
//              F(x - 1/2) with F the logistic CDF of mean mu = 255 sigmoid(l)
//              and scale s = exp(log s), the edges 0 and 255 taking the
//              tails (F(1/2) and 1 - F(254.5)), so the 256 levels sum to 1
// A density over continuous pixels (gaussian) gives discrete bits/dim only
// on dequantised data (data.dequantize = true).
#include <torch/torch.h>

#include <string>

#include "genzoo/models/model.h"

namespace genzoo {

enum class PixelLikelihood { Bernoulli, Gaussian, Logistic };
/// "bernoulli", "gaussian", "logistic".
const EnumNames<PixelLikelihood>& pixel_likelihood_names();

/// Decoder outputs per pixel: 1, 1, 2 (mean and log-scale).
int64_t likelihood_outputs(PixelLikelihood l);
/// The likelihood a data format calls for: binary -> bernoulli, levels256 ->
/// logistic, unit and symmetric -> gaussian.
PixelLikelihood default_likelihood(PixelFormat f);
/// "" when `l` models pixels of format `f`, else why not (one line).
std::string likelihood_mismatch(PixelLikelihood l, PixelFormat f);

/// log P(x) of the discretised logistic for whole levels x in {0..255}:
/// x, mean, log_scale broadcastable, the mean and scale in level units.
/// Elementwise; computed from log-sigmoids, with the density at the bin
/// centre where the bin's probability underflows (PixelCNN++'s guard).
torch::Tensor discretized_logistic_log_prob(const torch::Tensor& x, const torch::Tensor& mean,
                                            const torch::Tensor& log_scale);

/// p(x|z) for every pixel of a batch of decoder outputs.
struct PixelDistribution {
  PixelLikelihood kind = PixelLikelihood::Bernoulli;
  PixelFormat format = PixelFormat::Binary;
  torch::Tensor out;        // decoder output [..., P * D]: the P parameters of each pixel, parameter-major
  torch::Tensor log_sigma;  // gaussian: [D] (learned) or [] (fixed)

  /// log p(x|z) summed over the pixels: x [..., D] (broadcast) -> [...].
  torch::Tensor log_prob(const torch::Tensor& x) const;
  /// The mean of every pixel, in the data's range: [..., D].
  torch::Tensor mean() const;
  /// One draw of every pixel, in the data's range: [..., D].
  torch::Tensor sample() const;
};

}  // namespace genzoo
