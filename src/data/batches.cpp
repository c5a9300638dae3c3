#include "genzoo/data/batches.h"

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {

namespace {
constexpr uint64_t kShuffleStream = 0x73687566666c6521ULL;  // "shuffle!"
}  // namespace

BatchSampler::BatchSampler(int64_t n, int64_t batch_size, uint64_t seed, bool shuffle,
                           bool drop_last)
    : n_(n), batch_size_(batch_size), seed_(seed), shuffle_(shuffle), drop_last_(drop_last) {
  if (n <= 0) throw Error("cannot draw batches from an empty data set (n = " + std::to_string(n) + ")");
  if (batch_size <= 0)
    throw Error("batch size must be positive, got " + std::to_string(batch_size));
  // An epoch without batches would make a training loop spin forever.
  if (drop_last && batch_size > n)
    throw Error("batch size " + std::to_string(batch_size) + " is larger than the " +
                std::to_string(n) + " examples, and drop_last leaves no batch");
}

int64_t BatchSampler::batches_per_epoch() const {
  return drop_last_ ? n_ / batch_size_ : (n_ + batch_size_ - 1) / batch_size_;
}

torch::Tensor BatchSampler::indices(int64_t epoch, int64_t batch) {
  TORCH_CHECK(epoch >= 0, "BatchSampler: epoch must be >= 0, got ", epoch);
  TORCH_CHECK(batch >= 0 && batch < batches_per_epoch(), "BatchSampler: batch ", batch,
              " out of range (", batches_per_epoch(), " batches per epoch)");
  if (cached_epoch_ != epoch || !permutation_.defined()) {
    permutation_ = shuffle_ ? torch::randperm(n_, derived_generator(seed_, kShuffleStream,
                                                                    static_cast<uint64_t>(epoch)),
                                              torch::kLong)
                            : torch::arange(n_, torch::kLong);  // [n]
    cached_epoch_ = epoch;
  }
  const int64_t start = batch * batch_size_;
  // A copy, so a caller writing into the batch cannot corrupt the cached permutation.
  return permutation_.slice(0, start, std::min(start + batch_size_, n_)).clone();  // [B]
}

}  // namespace genzoo
