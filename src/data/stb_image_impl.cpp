// stb_image compiled here rather than taken from Debian's libstb, so that
// every allocation it makes goes through a cap that read_image sets from
// what the file can justify: a PNG whose compressed stream inflates past
// its declared size, or any other lie, fails as "outofmem" instead of
// asking for gigabytes (found by fuzzing: an 82-byte file made stb ask
// for 1.5 GB). Built outside the unity batches, without warnings (the
// code is stb's).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace genzoo::detail {
thread_local size_t stb_allocation_cap = SIZE_MAX;
}  // namespace genzoo::detail

namespace {
void* capped_malloc(size_t n) { return n > genzoo::detail::stb_allocation_cap ? nullptr : std::malloc(n); }
void* capped_realloc(void* p, size_t n) {
  return n > genzoo::detail::stb_allocation_cap ? nullptr : std::realloc(p, n);
}
}  // namespace

#define STBI_MALLOC(sz) capped_malloc(sz)
#define STBI_REALLOC(p, newsz) capped_realloc(p, newsz)
#define STBI_FREE(p) std::free(p)
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
