#pragma once
// IDX files (the MNIST format): magic 0x00 0x00 <type> <ndims>, then ndims
// big-endian uint32 sizes, then the elements, big-endian. Files may be gzip
// compressed (recognised by content, not by name).
#include <torch/torch.h>

#include <string>
#include <vector>

namespace genzoo {

/// Reads an IDX file, raw or gzip. Returns a tensor of the stored element type
/// (uint8, int8, int16, int32, float32, float64) and shape. Everything is
/// validated — magic number, element type, dimensions, element count against
/// the file length — and any problem is a genzoo::Error naming the file:
/// never a crash, never a partial load.
torch::Tensor read_idx(const std::string& path);

/// The shape an IDX file (raw or gzip) declares, from its header alone:
/// what a caller checks before reading a file that may be huge. A file
/// that is not IDX is a genzoo::Error naming it.
std::vector<int64_t> idx_shape(const std::string& path);

/// Same, from bytes already in memory (gzip or raw); `name` is used in errors.
torch::Tensor parse_idx(const std::string& bytes, const std::string& name);

/// Writes a tensor as IDX (gzip-compressed when `path` ends in ".gz"),
/// atomically. Supported dtypes as for read_idx.
void write_idx(const std::string& path, const torch::Tensor& tensor);

}  // namespace genzoo
