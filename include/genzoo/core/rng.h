#pragma once
// Random state. Every random draw in genzoo goes through a torch::Generator:
// either the global CPU generator (model sampling, initialisation) or a
// generator derived from (seed, stream, index) so that, e.g., the shuffle of
// epoch e never depends on what else consumed randomness before it. That is
// what makes a resumed run equal an uninterrupted one.
#include <torch/torch.h>

#include <cstdint>

namespace genzoo {

/// Seeds the global CPU generator (and nothing else needs seeding).
void seed_everything(uint64_t seed);

/// A fresh generator whose seed mixes (seed, stream, index) with SplitMix64,
/// so neighbouring indices give unrelated streams.
torch::Generator derived_generator(uint64_t seed, uint64_t stream, uint64_t index = 0);

/// k distinct rows of n, int64 [k] in random order: the first k of a
/// permutation of n drawn from derived_generator(seed, stream). A fixed
/// subset that does not depend on how the rows are stored (class-ordered
/// splits hand over whole classes to "the first k").
torch::Tensor random_subset(int64_t n, int64_t k, uint64_t seed, uint64_t stream);

/// Mixes several words into one 64-bit seed (SplitMix64 finaliser).
uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c = 0);

/// State of the global CPU generator as a uint8 tensor (for checkpoints).
torch::Tensor global_rng_state();
void set_global_rng_state(const torch::Tensor& state);

/// Saves the global generator state and restores it on scope exit, so that
/// side work (sample grids during training) does not perturb the training
/// stream.
class RngStateGuard {
 public:
  RngStateGuard();
  ~RngStateGuard();
  RngStateGuard(const RngStateGuard&) = delete;
  RngStateGuard& operator=(const RngStateGuard&) = delete;

 private:
  torch::Tensor saved_;
};

}  // namespace genzoo
