#include "genzoo/core/device.h"

#include <torch/torch.h>

#include <thread>

namespace genzoo {

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

int set_threads(int threads) {
  int n = threads > 0 ? threads : hardware_threads();
  torch::set_num_threads(n);
  return torch::get_num_threads();
}

}  // namespace genzoo
