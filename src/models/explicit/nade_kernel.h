#pragma once
// NADE's O(HD) recurrence on raw row-major arrays, for one block of rows
// (Larochelle & Murray 2011, eq. 2-3 and Algorithm 1). Kept free of LibTorch
// headers so the loops compile on their own with SIMD reductions; the
// autograd wrapper is in nade.cpp.
//
// Shapes: x [R, D], wt [D, H] (W transposed: wt[i] is column i of W),
// c [H], v [D, H], b [D]; logits and g (dL/dlogits) [R, D]; a_end [R, H].
#include <cstdint>

namespace genzoo::detail {

/// logits[r, i] = b_i + v_i . act(c + sum_{j<i} wt_j x_rj); also writes the
/// running pre-activation after the last pixel, a_end = c + sum_j wt_j x_rj.
template <typename T>
void nade_forward(const T* x, const T* wt, const T* c, const T* v, const T* b, int64_t rows, int64_t dims,
                  int64_t hidden, bool relu, T* logits, T* a_end);

/// Back-propagates g through nade_forward. Adds the parameter gradients into
/// dwt [D, H], dc [H], dv [D, H], db [D]; writes dx [R, D] when dx != nullptr.
/// Walks the pixels backwards, recovering each pre-activation from a_end by
/// subtraction, so no [R, D, H] activation tensor is ever stored.
template <typename T>
void nade_backward(const T* x, const T* wt, const T* v, const T* g, const T* a_end, int64_t rows,
                   int64_t dims, int64_t hidden, bool relu, T* dwt, T* dc, T* dv, T* db, T* dx);

}  // namespace genzoo::detail
