#pragma once
// Inputs a command line hands to a run: an image to complete, denoise,
// explain or interpolate ("test:N" or an image file), and a completion mask.
// Both read files people give, so both are fuzzed (tests/fuzz): a bad file
// is a genzoo::Error naming the option and the problem, never a crash.
#include <torch/torch.h>

#include <string>

#include "genzoo/data/transforms.h"
#include "genzoo/models/model.h"
#include "genzoo/train/run.h"

namespace genzoo {

/// "test:N": the run's N-th test image; otherwise an image file (PNG, JPEG,
/// ...) of the run's size. In model space, [C, H, W]. `option` names the
/// flag in errors ("--complete").
torch::Tensor run_image(const Run& run, const std::string& spec, const std::string& option);

/// An image file of `spec`'s size through `transform`'s evaluation path
/// (e.g. pixel > 127 for thresholded data): float [C, H, W].
torch::Tensor image_for_model(const std::string& path, const DataSpec& spec, const ImageTransform& transform,
                              const std::string& option);

/// The observed pixels of a completion, bool [1, C, H, W]: top-half,
/// bottom-half, left-half, right-half, center (all but the central square
/// of half the side) or a mask PNG of the images' size (white = observed,
/// a grey mask applies to every channel). At least one pixel is missing.
torch::Tensor completion_mask(const DataSpec& spec, const std::string& mask);

}  // namespace genzoo
