#pragma once
// How close an image is to a reference: the peak signal-to-noise ratio,
//   PSNR = 10 log10(peak^2 / MSE),  MSE = mean over pixels of (x - y)^2,
// in decibels, per image (higher is closer; MSE is floored at 1e-10 peak^2,
// so identical images score 100 dB); and how sharp an image is, its mean
// gradient energy
//   G(x) = 1/(H W) sum_{i,j} [ (x[i,j+1] - x[i,j])^2 + (x[i+1,j] - x[i,j])^2 ],
// the mean squared difference between horizontal and vertical neighbours
// (one-sided, inside the image), averaged over channels. A blurred image has
// a lower G than its sharp original; white noise a higher one.
#include <torch/torch.h>

namespace genzoo {

/// PSNR of every image of x against y, both [N, ...] in a range of width
/// `peak` (1 for [0, 1], 255 for levels, 2 for [-1, 1]): double [N].
torch::Tensor psnr(const torch::Tensor& x, const torch::Tensor& y, double peak = 1.0);

/// G(x) of every image of `images` [N, C, H, W] (H, W >= 2), in squared
/// units of its range: double [N].
torch::Tensor gradient_energy(const torch::Tensor& images);

}  // namespace genzoo
