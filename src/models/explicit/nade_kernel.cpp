#include "nade_kernel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace genzoo::detail {

namespace {

// Rows processed together: their running pre-activations (2 x kBlock x H
// values) stay in cache while each pixel's rows of W and V are read once.
constexpr int64_t kBlock = 16;

#define GENZOO_INLINE __attribute__((always_inline)) inline

// exp for float without a library call, so the hidden-unit loops vectorise:
// exp(x) = 2^k e^r with k = round(x / ln 2), |r| <= ln2 / 2, and e^r from the
// degree-6 Cephes polynomial (relative error ~1e-7, float's own precision).
// Rounding adds and subtracts 1.5 * 2^23, which leaves no branch to if-convert.
GENZOO_INLINE float exp_poly(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  const int32_t k = static_cast<int32_t>(n);
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (k + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

GENZOO_INLINE float sigmoid(float a) { return 1.0f / (1.0f + exp_poly(-a)); }
// Double is the finite-difference checking path: exact library exp.
GENZOO_INLINE double sigmoid(double a) { return 1.0 / (1.0 + std::exp(-a)); }

// h = act(a) into `h`, returns v . h.
template <typename T>
GENZOO_INLINE T hidden_dot(const T* a, const T* v, T* h, int64_t hidden, bool relu) {
  if (relu) {
#pragma omp simd
    for (int64_t k = 0; k < hidden; ++k) h[k] = a[k] > T(0) ? a[k] : T(0);
  } else {
#pragma omp simd
    for (int64_t k = 0; k < hidden; ++k) h[k] = sigmoid(a[k]);
  }
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t k = 0; k < hidden; ++k) s += v[k] * h[k];
  return s;
}

template <typename T>
GENZOO_INLINE void forward_impl(const T* x, const T* wt, const T* c, const T* v, const T* b, int64_t rows, int64_t dims,
                  int64_t hidden, bool relu, T* logits, T* a_end) {
  std::vector<T> h(static_cast<size_t>(hidden));
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
    const int64_t r1 = std::min(rows, r0 + kBlock);
    for (int64_t r = r0; r < r1; ++r) std::copy(c, c + hidden, a_end + r * hidden);
    for (int64_t i = 0; i < dims; ++i) {
      const T* vi = v + i * hidden;
      const T* wi = wt + i * hidden;
      for (int64_t r = r0; r < r1; ++r) {
        T* a = a_end + r * hidden;  // running a = c + sum_{j<i} wt_j x_rj
        logits[r * dims + i] = b[i] + hidden_dot(a, vi, h.data(), hidden, relu);
        const T xi = x[r * dims + i];
        if (xi != T(0)) {
#pragma omp simd
          for (int64_t k = 0; k < hidden; ++k) a[k] += xi * wi[k];
        }
      }
    }
  }
}

template <typename T>
GENZOO_INLINE void backward_impl(const T* x, const T* wt, const T* v, const T* g, const T* a_end, int64_t rows,
                   int64_t dims, int64_t hidden, bool relu, T* dwt, T* dc, T* dv, T* db, T* dx) {
  std::vector<T> a_buf(static_cast<size_t>(kBlock * hidden)), acc_buf(a_buf.size());
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
    const int64_t r1 = std::min(rows, r0 + kBlock);
    std::copy(a_end + r0 * hidden, a_end + r1 * hidden, a_buf.begin());
    std::fill(acc_buf.begin(), acc_buf.end(), T(0));
    for (int64_t i = dims - 1; i >= 0; --i) {
      const T* vi = v + i * hidden;
      const T* wi = wt + i * hidden;
      T* dvi = dv + i * hidden;
      T* dwi = dwt + i * hidden;
      for (int64_t r = r0; r < r1; ++r) {
        T* a = a_buf.data() + (r - r0) * hidden;
        T* acc = acc_buf.data() + (r - r0) * hidden;  // dL/da_{i+1} = sum_{k>i} dL/dpre_k
        const T xi = x[r * dims + i];
        if (xi != T(0)) {
          // x_ri entered every a_k with k > i: dW_:i += acc x_ri; step a back.
#pragma omp simd
          for (int64_t k = 0; k < hidden; ++k) {
            dwi[k] += acc[k] * xi;
            a[k] -= xi * wi[k];
          }
        }
        if (dx) {
          T s = 0;
#pragma omp simd reduction(+ : s)
          for (int64_t k = 0; k < hidden; ++k) s += acc[k] * wi[k];
          dx[r * dims + i] = s;
        }
        const T gi = g[r * dims + i];
        if (gi == T(0)) continue;
        db[i] += gi;
        if (relu) {
#pragma omp simd
          for (int64_t k = 0; k < hidden; ++k) {
            const bool on = a[k] > T(0);
            dvi[k] += gi * (on ? a[k] : T(0));
            acc[k] += on ? gi * vi[k] : T(0);
          }
        } else {
#pragma omp simd
          for (int64_t k = 0; k < hidden; ++k) {
            const T hk = sigmoid(a[k]);
            dvi[k] += gi * hk;
            acc[k] += gi * vi[k] * hk * (T(1) - hk);
          }
        }
      }
    }
    for (int64_t r = r0; r < r1; ++r) {
      const T* acc = acc_buf.data() + (r - r0) * hidden;
#pragma omp simd
      for (int64_t k = 0; k < hidden; ++k) dc[k] += acc[k];
    }
  }
}

// Float, the training path, is compiled twice on x86-64 with GCC: for
// x86-64-v3 (AVX2 + FMA, about 3x faster here) and for the baseline, picked
// at load time. Elsewhere once, for the target's default ISA.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GENZOO_FLOAT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define GENZOO_FLOAT_CLONES
#endif

GENZOO_FLOAT_CLONES void forward_f32(
    const float* x, const float* wt, const float* c, const float* v, const float* b, int64_t rows, int64_t dims,
    int64_t hidden, bool relu, float* logits, float* a_end) {
  forward_impl<float>(x, wt, c, v, b, rows, dims, hidden, relu, logits, a_end);
}

GENZOO_FLOAT_CLONES void backward_f32(
    const float* x, const float* wt, const float* v, const float* g, const float* a_end, int64_t rows,
    int64_t dims, int64_t hidden, bool relu, float* dwt, float* dc, float* dv, float* db, float* dx) {
  backward_impl<float>(x, wt, v, g, a_end, rows, dims, hidden, relu, dwt, dc, dv, db, dx);
}

}  // namespace

template <>
void nade_forward<float>(const float* x, const float* wt, const float* c, const float* v, const float* b,
                         int64_t rows, int64_t dims, int64_t hidden, bool relu, float* logits, float* a_end) {
  forward_f32(x, wt, c, v, b, rows, dims, hidden, relu, logits, a_end);
}

template <>
void nade_forward<double>(const double* x, const double* wt, const double* c, const double* v, const double* b,
                          int64_t rows, int64_t dims, int64_t hidden, bool relu, double* logits,
                          double* a_end) {
  forward_impl<double>(x, wt, c, v, b, rows, dims, hidden, relu, logits, a_end);
}

template <>
void nade_backward<float>(const float* x, const float* wt, const float* v, const float* g, const float* a_end,
                          int64_t rows, int64_t dims, int64_t hidden, bool relu, float* dwt, float* dc, float* dv,
                          float* db, float* dx) {
  backward_f32(x, wt, v, g, a_end, rows, dims, hidden, relu, dwt, dc, dv, db, dx);
}

template <>
void nade_backward<double>(const double* x, const double* wt, const double* v, const double* g,
                           const double* a_end, int64_t rows, int64_t dims, int64_t hidden, bool relu,
                           double* dwt, double* dc, double* dv, double* db, double* dx) {
  backward_impl<double>(x, wt, v, g, a_end, rows, dims, hidden, relu, dwt, dc, dv, db, dx);
}

}  // namespace genzoo::detail
