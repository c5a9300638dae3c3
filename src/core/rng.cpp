#include "genzoo/core/rng.h"

#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

namespace genzoo {

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
}  // namespace

uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c) {
  return splitmix64(splitmix64(splitmix64(a) ^ b) ^ c);
}

void seed_everything(uint64_t seed) { torch::manual_seed(seed); }

torch::Generator derived_generator(uint64_t seed, uint64_t stream, uint64_t index) {
  return at::make_generator<at::CPUGeneratorImpl>(mix_seed(seed, stream, index));
}

torch::Tensor random_subset(int64_t n, int64_t k, uint64_t seed, uint64_t stream) {
  TORCH_CHECK(n >= 0 && k >= 0 && k <= n, "random_subset: need 0 <= k <= n, got k = ", k, ", n = ", n);
  return torch::randperm(n, derived_generator(seed, stream), torch::kInt64).slice(0, 0, k);
}

torch::Tensor global_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_global_rng_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

RngStateGuard::RngStateGuard() : saved_(global_rng_state()) {}
RngStateGuard::~RngStateGuard() { set_global_rng_state(saved_); }

}  // namespace genzoo
