#pragma once
// Threads: LibTorch on these machines starts with one intra-op thread, so
// genzoo sets the count explicitly (all cores unless told otherwise).

namespace genzoo {

/// Number of hardware threads (at least 1).
int hardware_threads();

/// Sets LibTorch's intra-op thread count; `threads <= 0` means all cores.
/// Returns the count in force afterwards.
int set_threads(int threads);

}  // namespace genzoo
