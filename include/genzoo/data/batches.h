#pragma once
// Seeded mini-batches over an in-memory dataset. Epoch e uses the permutation
// randperm(n) drawn from derived_generator(seed, shuffle stream, e), so every
// example appears exactly once per epoch and the order does not depend on
// anything else that happened in the run (a resumed run sees the same batches).
#include <torch/torch.h>

namespace genzoo {

class BatchSampler {
 public:
  /// `drop_last` drops a final partial batch.
  BatchSampler(int64_t n, int64_t batch_size, uint64_t seed, bool shuffle = true,
               bool drop_last = false);

  int64_t size() const { return n_; }
  int64_t batch_size() const { return batch_size_; }
  int64_t batches_per_epoch() const;

  /// int64 [B] row indices of batch `batch` (0-based) of epoch `epoch`.
  torch::Tensor indices(int64_t epoch, int64_t batch);

 private:
  int64_t n_, batch_size_;
  uint64_t seed_;
  bool shuffle_, drop_last_;
  int64_t cached_epoch_ = -1;
  torch::Tensor permutation_;  // int64 [n]
};

}  // namespace genzoo
