// Time of NADE's fused kernel alone (src/models/explicit/nade_kernel.cpp, no
// LibTorch): forward and backward on one batch of random binary images, one
// thread. Built from the kernel's source, so another version of the kernel
// can be timed the same way, e.g. an earlier commit's:
//
//   git show COMMIT:src/models/explicit/nade_kernel.cpp > /tmp/old_kernel.cpp
//   g++ -std=gnu++17 -O3 -fopenmp-simd -fno-trapping-math -Isrc/models/explicit \
//       bench/nade_kernel_bench.cpp /tmp/old_kernel.cpp -o /tmp/old_bench
//
//   genzoo_nade_kernel_bench [--rows N] [--hidden H] [--density P] [--reps K] [--relu]
// Prints one JSON line: milliseconds per batch (forward, backward), images/s,
// and a checksum of the outputs, equal between versions that agree.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "nade_kernel.h"

namespace {

double arg(int argc, char** argv, const char* flag, double fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return std::atof(argv[i + 1]);
  return fallback;
}

bool has(int argc, char** argv, const char* flag) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t rows = static_cast<int64_t>(arg(argc, argv, "--rows", 100));
  const int64_t hidden = static_cast<int64_t>(arg(argc, argv, "--hidden", 500));
  const double ones = arg(argc, argv, "--density", 0.31);
  const int reps = static_cast<int>(arg(argc, argv, "--reps", 5));
  const bool relu = has(argc, argv, "--relu");
  const int64_t dims = 784;
  if (rows < 1 || hidden < 1 || reps < 1 || ones < 0 || ones > 1) {
    std::fprintf(stderr, "genzoo_nade_kernel_bench: need --rows, --hidden, --reps >= 1 and --density in [0, 1]\n");
    return 2;
  }
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> weight(-0.05f, 0.05f), grad(-0.5f, 0.5f);
  std::bernoulli_distribution pixel(ones);
  auto filled = [&](int64_t n, auto&& draw) {
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& e : v) e = draw();
    return v;
  };
  const auto x = filled(rows * dims, [&] { return pixel(gen) ? 1.0f : 0.0f; });
  const auto wt = filled(dims * hidden, [&] { return weight(gen); });
  const auto v = filled(dims * hidden, [&] { return weight(gen); });
  const auto g = filled(rows * dims, [&] { return grad(gen); });
  const std::vector<float> c(static_cast<size_t>(hidden), 0.0f), b(static_cast<size_t>(dims), 0.0f);
  std::vector<float> logits(static_cast<size_t>(rows * dims)), a_end(static_cast<size_t>(rows * hidden));
  std::vector<float> dwt(wt.size()), dv(v.size()), dc(c.size()), db(b.size());
  using Clock = std::chrono::steady_clock;
  double forward_s = 0, backward_s = 0;
  for (int k = 0; k <= reps; ++k) {  // k = 0 warms up and is not timed
    std::fill(dwt.begin(), dwt.end(), 0.0f);
    std::fill(dv.begin(), dv.end(), 0.0f);
    std::fill(dc.begin(), dc.end(), 0.0f);
    std::fill(db.begin(), db.end(), 0.0f);
    const auto t0 = Clock::now();
    genzoo::detail::nade_forward<float>(x.data(), wt.data(), c.data(), v.data(), b.data(), rows, dims, hidden, relu,
                                        logits.data(), a_end.data());
    const auto t1 = Clock::now();
    genzoo::detail::nade_backward<float>(x.data(), wt.data(), v.data(), g.data(), a_end.data(), rows, dims, hidden,
                                         relu, dwt.data(), dc.data(), dv.data(), db.data(), nullptr);
    const auto t2 = Clock::now();
    if (k == 0) continue;
    forward_s += std::chrono::duration<double>(t1 - t0).count();
    backward_s += std::chrono::duration<double>(t2 - t1).count();
  }
  double checksum = 0;
  for (float e : logits) checksum += e;
  for (float e : dwt) checksum += e;
  for (float e : dv) checksum += e;
  std::printf("{\"rows\": %lld, \"hidden\": %lld, \"density\": %.3f, \"relu\": %s, \"forward_ms\": %.2f, "
              "\"backward_ms\": %.2f, \"images_per_s\": %.0f, \"checksum\": %.4f}\n",
              static_cast<long long>(rows), static_cast<long long>(hidden), ones, relu ? "true" : "false",
              1e3 * forward_s / reps, 1e3 * backward_s / reps, rows * reps / (forward_s + backward_s), checksum);
  return 0;
}
