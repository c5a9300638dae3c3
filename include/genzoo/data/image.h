#pragma once
// PNG and JPEG files through stb_image / stb_image_write.
#include <torch/torch.h>

#include <string>

namespace genzoo {

/// Reads a PNG or JPEG as uint8 [C, H, W] with C = 1 (grey) or 3 (RGB); an
/// alpha channel is dropped, grey+alpha becomes grey. genzoo::Error naming the
/// file when it is missing or not a readable image, or when its header
/// declares more pixels than its length can hold (over 2,048 decoded bytes
/// per file byte plus 1 MiB, or over 1 GiB).
torch::Tensor read_image(const std::string& path);

/// Writes a PNG atomically. `image` is uint8 [C, H, W] (C = 1 or 3) in
/// {0..255}, or floating [C, H, W] in [0, 1] (clamped, rounded).
void write_png(const std::string& path, const torch::Tensor& image);

}  // namespace genzoo
