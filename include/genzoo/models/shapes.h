#pragma once
// Shape helpers every model family uses: images are [N, C, H, W], flattened
// to [N, D] with D = C*H*W where a model works on pixel vectors.
#include <torch/torch.h>

#include <vector>

namespace genzoo {

/// {n, C, H, W} from n and an image shape {C, H, W}.
std::vector<int64_t> batch_shape(int64_t n, const std::vector<int64_t>& shape);

/// Product of a shape {C, H, W}.
int64_t shape_numel(const std::vector<int64_t>& shape);

/// x [N, C, H, W] -> [N, D] after checking it holds D values per row;
/// `who` names the model in the error.
torch::Tensor flatten_pixels(const torch::Tensor& x, int64_t dims, const char* who);

/// An observed-pixel mask (Completer::complete) broadcast to x's rows: bool
/// [N, D]. `observed` may be [N, C, H, W] or [1, C, H, W] (one mask for
/// every row).
torch::Tensor flatten_observed(const torch::Tensor& observed, int64_t rows, int64_t dims, const char* who);

}  // namespace genzoo
