#pragma once
// The replay buffer of IGEBM (Du & Mordatch 2019, sec. 3.2): past Langevin
// samples kept so that most chains of a training step continue from where
// earlier chains stopped (an approximation of persistent chains that needs
// no chain per example), while a share `reinit` of them restarts from
// uniform noise each step, so the buffer keeps exploring.
//
// Storage is uint8 (a value v stands for v / 255 in [0, 1]): 10,000 MNIST
// images take 7.8 MB. For class-conditional models the buffer is split
// into one partition per class, each a ring of capacity / partitions
// slots that the newest samples of that class overwrite oldest first; a
// chain of class y starts from a sample of partition y. The contents, the
// fill counts and the ring positions are module buffers, so a checkpoint
// holds them and a resumed run draws exactly what an uninterrupted one
// would (the draws use torch's global generator, which checkpoints also
// hold).
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace genzoo {

struct ReplayStarts {
  torch::Tensor x;      ///< [B, C, H, W] float in [0, 1]
  torch::Tensor fresh;  ///< bool [B]: true where the row is uniform noise
};

struct ReplayBufferImpl : torch::nn::Cloneable<ReplayBufferImpl> {
  /// `capacity` samples of shape `sample_shape` (e.g. {1, 28, 28}) in
  /// `partitions` equal rings (capacity / partitions each, rounded up).
  ReplayBufferImpl(int64_t capacity, std::vector<int64_t> sample_shape, int64_t partitions = 1);
  void reset() override;

  /// Chain starts for rows of partitions `part` (int64 [B], each in
  /// [0, partitions)): with probability `reinit`, or always while the row's
  /// partition is empty, uniform noise; else a uniformly chosen stored
  /// sample of the row's partition.
  ReplayStarts draw(const torch::Tensor& part, double reinit) const;
  /// The partitions to draw rows of `part` [B] from when a share `share`
  /// of them starts from another class's samples: each row, with
  /// probability `share`, a uniformly chosen non-empty partition other than
  /// its own (its own when there is none), else its own. int64 [B].
  torch::Tensor mix_partitions(const torch::Tensor& part, double share) const;
  /// Stores x [B, C, H, W] (values clamped to [0, 1], rounded to 1/255)
  /// in the rings of `part` [B], overwriting the oldest once full.
  void push(const torch::Tensor& x, const torch::Tensor& part);

  /// Samples held, in all partitions / in partition p.
  int64_t size() const;
  int64_t size(int64_t p) const;
  int64_t capacity() const { return partitions_ * per_partition_; }
  int64_t partitions() const { return partitions_; }
  /// The stored samples of partition p as floats in [0, 1], oldest slot first.
  torch::Tensor contents(int64_t p) const;
  /// `store` seen as one row per slot, [partitions * per_partition, C, H, W]
  /// (slot k of partition p is row p * per_partition + k); a view.
  torch::Tensor slots() const;

  int64_t requested_capacity_, partitions_, per_partition_;
  std::vector<int64_t> sample_shape_;
  torch::Tensor store;   // uint8 [partitions, per_partition, C, H, W]
  torch::Tensor filled;  // int64 [partitions]: slots in use
  torch::Tensor next;    // int64 [partitions]: the slot the next sample overwrites
};
TORCH_MODULE(ReplayBuffer);

}  // namespace genzoo
