#pragma once
// How close an image is to a reference: the peak signal-to-noise ratio,
//   PSNR = 10 log10(peak^2 / MSE),  MSE = mean over pixels of (x - y)^2,
// in decibels, per image (higher is closer; MSE is floored at 1e-10 peak^2,
// so identical images score 100 dB).
#include <torch/torch.h>

namespace genzoo {

/// PSNR of every image of x against y, both [N, ...] in a range of width
/// `peak` (1 for [0, 1], 255 for levels, 2 for [-1, 1]): double [N].
torch::Tensor psnr(const torch::Tensor& x, const torch::Tensor& y, double peak = 1.0);

}  // namespace genzoo
