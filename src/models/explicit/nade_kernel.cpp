#include "nade_kernel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace genzoo::detail {

namespace {

// Rows processed together: as many as keep their running state
// (pre-activations, hidden units, gradient accumulators: 3 x rows x H values)
// within about 384 KB, so it stays in L2, while each pixel's rows of W, V and
// of their gradients (too large for L2 on MNIST-sized images) are streamed in
// once per block rather than once per row. Between 8 and kMaxBlock rows.
constexpr int64_t kMaxBlock = 64;
template <typename T>
int64_t block_rows(int64_t hidden) {
  const int64_t fit = (384 * 1024) / (3 * hidden * static_cast<int64_t>(sizeof(T)));
  return std::max<int64_t>(8, std::min(kMaxBlock, fit));
}
// Within a block, rows are visited in groups of at most kGroup with their
// loops unrolled, so that each group's accumulators live in registers.
constexpr int kGroup = 8;

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

// A 32-byte vector of T (GCC/Clang vector extension): 8 floats or 4 doubles.
// The loops below walk the hidden units in such chunks with the rows of a
// block innermost, so a chunk of W_:i or V_i is loaded once for all rows and
// every row keeps its own accumulator (no single serial chain of additions).
template <typename T>
struct Simd {
  typedef T vec __attribute__((vector_size(32)));
  static constexpr int64_t lanes = 32 / sizeof(T);
  static GENZOO_INLINE void load(vec& v, const T* p) { std::memcpy(&v, p, sizeof v); }
  static GENZOO_INLINE void store(T* p, const vec& v) { std::memcpy(p, &v, sizeof v); }
  static GENZOO_INLINE T sum(const vec& v) {
    T s = 0;
    for (int64_t l = 0; l < lanes; ++l) s += v[l];
    return s;
  }
};

// h = act(a) over n hidden units.
template <typename T, bool Relu>
GENZOO_INLINE void activate(const T* a, T* h, int64_t n) {
  if constexpr (Relu) {
#pragma omp simd
    for (int64_t k = 0; k < n; ++k) h[k] = a[k] > T(0) ? a[k] : T(0);
  } else {
#pragma omp simd
    for (int64_t k = 0; k < n; ++k) h[k] = sigmoid(a[k]);
  }
}

// act'(a) written in terms of h = act(a): h (1 - h) for the sigmoid, [h > 0]
// for the ReLU.
template <typename T, bool Relu>
GENZOO_INLINE T act_grad(T h) {
  if constexpr (Relu) {
    return h > T(0) ? T(1) : T(0);
  } else {
    return h - h * h;
  }
}
template <typename T, bool Relu>
GENZOO_INLINE void act_grad(typename Simd<T>::vec& d, const typename Simd<T>::vec& h) {
  using V = typename Simd<T>::vec;
  if constexpr (Relu) {
    const V one = V{} + T(1), zero = V{};
    d = h > zero ? one : zero;
  } else {
    d = h - h * h;
  }
}

// Calls CALL(NR, first_row) for groups of rows [0, rows): groups of kGroup,
// then the remainder as groups of 4, 2 and 1, so that every group size has
// its own unrolled copy of the row loop.
#define GENZOO_NADE_FOR_GROUPS(rows, CALL)   \
  for (int64_t g0 = 0; g0 < (rows);) {       \
    const int64_t left = (rows) - g0;        \
    if (left >= kGroup) {                    \
      CALL(kGroup, g0);                      \
      g0 += kGroup;                          \
    } else if (left >= 4) {                  \
      CALL(4, g0);                           \
      g0 += 4;                               \
    } else if (left >= 2) {                  \
      CALL(2, g0);                           \
      g0 += 2;                               \
    } else {                                 \
      CALL(1, g0);                           \
      g0 += 1;                               \
    }                                        \
  }

// Asks for the next pixel's parameter row (n values) ahead of its use: the
// rows are too many to stay in L2, and each is only 2 KB long, too short for
// the hardware prefetcher to ramp up.
template <typename T>
GENZOO_INLINE void prefetch_row(const T* p, int64_t n) {
  const char* c = reinterpret_cast<const char*>(p);
  for (int64_t off = 0; off < n * static_cast<int64_t>(sizeof(T)); off += 64) __builtin_prefetch(c + off);
}

// logit_ri = b_i + v_i . h_r for NR rows of h (row stride `hidden`): the
// chunk of v_i is loaded once for all NR rows, each row has its own vector
// accumulator.
template <typename T, int NR>
GENZOO_INLINE void group_logits(const T* vi, T bi, const T* h, int64_t hidden, T* logits, int64_t dims) {
  using S = Simd<T>;
  using V = typename S::vec;
  constexpr int64_t L = S::lanes;
  const int64_t hv = hidden - hidden % L;
  V s[NR];
#pragma GCC unroll 16
  for (int r = 0; r < NR; ++r) s[r] = V{};
  for (int64_t k = 0; k < hv; k += L) {
    V vk, hk;
    S::load(vk, vi + k);
#pragma GCC unroll 16
    for (int r = 0; r < NR; ++r) {
      S::load(hk, h + r * hidden + k);
      s[r] += vk * hk;
    }
  }
  for (int r = 0; r < NR; ++r) {
    T dot = S::sum(s[r]);
    for (int64_t k = hv; k < hidden; ++k) dot += vi[k] * h[r * hidden + k];
    logits[r * dims] = bi + dot;
  }
}

// dV_i += sum_r g_r h_r and acc_r += g_r V_i * act'(a_r) for NR rows.
template <typename T, bool Relu, int NR>
GENZOO_INLINE void group_output_grad(const T* vi, const T* gs, const T* h, T* acc, int64_t hidden, T* dvi) {
  using S = Simd<T>;
  using V = typename S::vec;
  constexpr int64_t L = S::lanes;
  const int64_t hv = hidden - hidden % L;
  for (int64_t k = 0; k < hv; k += L) {
    V vk, dvk, hk, t, d;
    S::load(vk, vi + k);
    S::load(dvk, dvi + k);
#pragma GCC unroll 16
    for (int r = 0; r < NR; ++r) {
      S::load(hk, h + r * hidden + k);
      dvk += gs[r] * hk;
      S::load(t, acc + r * hidden + k);
      act_grad<T, Relu>(d, hk);
      S::store(acc + r * hidden + k, t + (gs[r] * vk) * d);
    }
    S::store(dvi + k, dvk);
  }
  for (int r = 0; r < NR; ++r) {
    for (int64_t k = hv; k < hidden; ++k) {
      const T hk = h[r * hidden + k];
      dvi[k] += gs[r] * hk;
      acc[r * hidden + k] += gs[r] * vi[k] * act_grad<T, Relu>(hk);
    }
  }
}

// One block of nb <= kMaxBlock rows, forward. Row r's state: a_r (in a_end) and
// h_r = act(a_r). h_r only changes when a pixel x_ri != 0 is added, so the
// activation is recomputed for those pixels only: on binarised images most
// pixels are 0 (69% on Fashion-MNIST, 87% on MNIST), and the activation is
// the most expensive step. Every pixel still costs one dot product v_i . h_r.
template <typename T, bool Relu>
GENZOO_INLINE void forward_block(const T* x, const T* wt, const T* c, const T* v, const T* b, int64_t nb,
                                 int64_t dims, int64_t hidden, T* logits, T* a_end, T* h_buf) {
  for (int64_t r = 0; r < nb; ++r) {
    std::copy(c, c + hidden, a_end + r * hidden);
    activate<T, Relu>(c, h_buf + r * hidden, hidden);
  }
  for (int64_t i = 0; i < dims; ++i) {
    const T* vi = v + i * hidden;
    const T* wi = wt + i * hidden;
    if (i + 1 < dims) {
      prefetch_row(vi + hidden, hidden);
      prefetch_row(wi + hidden, hidden);
    }
#define GENZOO_NADE_LOGITS(NR, g0) \
  group_logits<T, NR>(vi, b[i], h_buf + (g0) * hidden, hidden, logits + (g0) * dims + i, dims)
    GENZOO_NADE_FOR_GROUPS(nb, GENZOO_NADE_LOGITS)
#undef GENZOO_NADE_LOGITS
    // a_r += W_:i x_ri, and refresh h_r, for the rows where x_ri != 0.
    for (int64_t r = 0; r < nb; ++r) {
      const T xi = x[r * dims + i];
      if (xi == T(0)) continue;
      T* a = a_end + r * hidden;
#pragma omp simd
      for (int64_t k = 0; k < hidden; ++k) a[k] += xi * wi[k];
      if (i + 1 < dims) activate<T, Relu>(a, h_buf + r * hidden, hidden);
    }
  }
}

// One block of nb <= kMaxBlock rows, backward, walking the pixels from last to
// first. Row r's state: a_r (the pre-activation of pixel i, recovered from
// a_end by subtracting W_:j x_rj for j >= i), h_r = act(a_r) (recomputed
// only after a subtraction), and acc_r = dL/da_{i+1} = sum over pixels k > i
// of dL/dpre_rk, where pre_rk is the pre-activation that fed logit k.
template <typename T, bool Relu>
GENZOO_INLINE void backward_block(const T* x, const T* wt, const T* v, const T* g, const T* a_end, int64_t nb,
                                  int64_t dims, int64_t hidden, T* dwt, T* dc, T* dv, T* db, T* dx, T* a_buf,
                                  T* acc_buf, T* h_buf) {
  using S = Simd<T>;
  using V = typename S::vec;
  constexpr int64_t L = S::lanes;
  const int64_t hv = hidden - hidden % L;
  std::copy(a_end, a_end + nb * hidden, a_buf);
  std::fill(acc_buf, acc_buf + nb * hidden, T(0));
  bool stale[kMaxBlock];
  int64_t active[kMaxBlock];
  T xs[kMaxBlock], gs[kMaxBlock];
  for (int64_t r = 0; r < nb; ++r) stale[r] = true;
  for (int64_t i = dims - 1; i >= 0; --i) {
    const T* vi = v + i * hidden;
    const T* wi = wt + i * hidden;
    T* dvi = dv + i * hidden;
    T* dwi = dwt + i * hidden;
    if (i > 0) {
      prefetch_row(vi - hidden, hidden);
      prefetch_row(wi - hidden, hidden);
      prefetch_row(dvi - hidden, hidden);
      prefetch_row(dwi - hidden, hidden);
    }
    // x_ri entered every a_rk with k > i: dW_:i += sum_r acc_r x_ri, and
    // a_r -= W_:i x_ri steps the pre-activation back to pixel i.
    int64_t n_active = 0;
    for (int64_t r = 0; r < nb; ++r) {
      xs[r] = x[r * dims + i];
      if (xs[r] != T(0)) active[n_active++] = r;
    }
    if (n_active > 0) {
      for (int64_t k = 0; k < hv; k += L) {
        V wk, dw, t;
        S::load(wk, wi + k);
        S::load(dw, dwi + k);
        for (int64_t j = 0; j < n_active; ++j) {
          const int64_t r = active[j];
          S::load(t, acc_buf + r * hidden + k);
          dw += t * xs[r];
          S::load(t, a_buf + r * hidden + k);
          S::store(a_buf + r * hidden + k, t - wk * xs[r]);
        }
        S::store(dwi + k, dw);
      }
      for (int64_t j = 0; j < n_active; ++j) {
        const int64_t r = active[j];
        for (int64_t k = hv; k < hidden; ++k) {
          dwi[k] += acc_buf[r * hidden + k] * xs[r];
          a_buf[r * hidden + k] -= wi[k] * xs[r];
        }
        stale[r] = true;
      }
    }
    if (dx) {
      // dL/dx_ri = W_:i . acc_r (acc before pixel i's own term is added).
      for (int64_t r = 0; r < nb; ++r) {
        const T* acc = acc_buf + r * hidden;
        V s = V{}, t, u;
        for (int64_t k = 0; k < hv; k += L) {
          S::load(t, acc + k);
          S::load(u, wi + k);
          s += t * u;
        }
        T d = S::sum(s);
        for (int64_t k = hv; k < hidden; ++k) d += acc[k] * wi[k];
        dx[r * dims + i] = d;
      }
    }
    for (int64_t r = 0; r < nb; ++r) {
      gs[r] = g[r * dims + i];
      db[i] += gs[r];
      if (stale[r]) {
        activate<T, Relu>(a_buf + r * hidden, h_buf + r * hidden, hidden);
        stale[r] = false;
      }
    }
#define GENZOO_NADE_OUTPUT_GRAD(NR, g0) \
  group_output_grad<T, Relu, NR>(vi, gs + (g0), h_buf + (g0) * hidden, acc_buf + (g0) * hidden, hidden, dvi)
    GENZOO_NADE_FOR_GROUPS(nb, GENZOO_NADE_OUTPUT_GRAD)
#undef GENZOO_NADE_OUTPUT_GRAD
  }
  for (int64_t r = 0; r < nb; ++r) {
    const T* acc = acc_buf + r * hidden;
#pragma omp simd
    for (int64_t k = 0; k < hidden; ++k) dc[k] += acc[k];
  }
}

template <typename T, bool Relu>
GENZOO_INLINE void forward_impl(const T* x, const T* wt, const T* c, const T* v, const T* b, int64_t rows,
                                int64_t dims, int64_t hidden, T* logits, T* a_end) {
  const int64_t block = block_rows<T>(hidden);
  std::vector<T> h_buf(static_cast<size_t>(block * hidden));
  for (int64_t r0 = 0; r0 < rows; r0 += block) {
    forward_block<T, Relu>(x + r0 * dims, wt, c, v, b, std::min(block, rows - r0), dims, hidden,
                           logits + r0 * dims, a_end + r0 * hidden, h_buf.data());
  }
}

template <typename T, bool Relu>
GENZOO_INLINE void backward_impl(const T* x, const T* wt, const T* v, const T* g, const T* a_end, int64_t rows,
                                 int64_t dims, int64_t hidden, T* dwt, T* dc, T* dv, T* db, T* dx) {
  const int64_t block = block_rows<T>(hidden);
  const size_t state = static_cast<size_t>(block * hidden);
  std::vector<T> a_buf(state), acc_buf(state), h_buf(state);
  for (int64_t r0 = 0; r0 < rows; r0 += block) {
    backward_block<T, Relu>(x + r0 * dims, wt, v, g + r0 * dims, a_end + r0 * hidden, std::min(block, rows - r0),
                            dims, hidden, dwt, dc, dv, db, dx ? dx + r0 * dims : nullptr, a_buf.data(),
                            acc_buf.data(), h_buf.data());
  }
}

template <typename T>
GENZOO_INLINE void forward_any(const T* x, const T* wt, const T* c, const T* v, const T* b, int64_t rows,
                               int64_t dims, int64_t hidden, bool relu, T* logits, T* a_end) {
  if (relu) {
    forward_impl<T, true>(x, wt, c, v, b, rows, dims, hidden, logits, a_end);
  } else {
    forward_impl<T, false>(x, wt, c, v, b, rows, dims, hidden, logits, a_end);
  }
}

template <typename T>
GENZOO_INLINE void backward_any(const T* x, const T* wt, const T* v, const T* g, const T* a_end, int64_t rows,
                                int64_t dims, int64_t hidden, bool relu, T* dwt, T* dc, T* dv, T* db, T* dx) {
  if (relu) {
    backward_impl<T, true>(x, wt, v, g, a_end, rows, dims, hidden, dwt, dc, dv, db, dx);
  } else {
    backward_impl<T, false>(x, wt, v, g, a_end, rows, dims, hidden, dwt, dc, dv, db, dx);
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

GENZOO_FLOAT_CLONES void forward_f32(const float* x, const float* wt, const float* c, const float* v,
                                     const float* b, int64_t rows, int64_t dims, int64_t hidden, bool relu,
                                     float* logits, float* a_end) {
  forward_any<float>(x, wt, c, v, b, rows, dims, hidden, relu, logits, a_end);
}

GENZOO_FLOAT_CLONES void backward_f32(const float* x, const float* wt, const float* v, const float* g,
                                      const float* a_end, int64_t rows, int64_t dims, int64_t hidden, bool relu,
                                      float* dwt, float* dc, float* dv, float* db, float* dx) {
  backward_any<float>(x, wt, v, g, a_end, rows, dims, hidden, relu, dwt, dc, dv, db, dx);
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
  forward_any<double>(x, wt, c, v, b, rows, dims, hidden, relu, logits, a_end);
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
  backward_any<double>(x, wt, v, g, a_end, rows, dims, hidden, relu, dwt, dc, dv, db, dx);
}

}  // namespace genzoo::detail
