#pragma once
// Image grids: many small images in one PNG, the way people look at samples.
#include <torch/torch.h>

#include <string>

namespace genzoo {

/// Tiles float images [N, C, H, W] in [0, 1] into one float [C, H', W'] image,
/// `columns` per row (0: a near-square layout), `padding` pixels of
/// `pad_value` between and around tiles.
torch::Tensor make_grid(const torch::Tensor& images, int64_t columns = 0, int64_t padding = 2,
                        double pad_value = 1.0);

/// make_grid + write_png.
void save_grid(const std::string& path, const torch::Tensor& images, int64_t columns = 0);

}  // namespace genzoo
