#include "genzoo/data/image.h"

// Debian's libstb supplies the implementations; only the declarations here.
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"

namespace genzoo {

namespace detail {
extern thread_local size_t stb_allocation_cap;  // src/data/stb_image_impl.cpp
}  // namespace detail

namespace {
constexpr uint64_t kMaxDecodedImageBytes = uint64_t{1} << 30;

// Caps each of stb's allocations while it decodes one file.
class StbAllocationCap {
 public:
  explicit StbAllocationCap(uint64_t bytes) : before_(detail::stb_allocation_cap) {
    detail::stb_allocation_cap = static_cast<size_t>(bytes);
  }
  ~StbAllocationCap() { detail::stb_allocation_cap = before_; }
  StbAllocationCap(const StbAllocationCap&) = delete;
  StbAllocationCap& operator=(const StbAllocationCap&) = delete;

 private:
  size_t before_;
};
// stb_image 2.27 (Debian 12's) writes past a Huffman table's size list
// when the 16 code counts of a JPEG DHT table add up to more than 256
// (found by fuzzing, as an UndefinedBehaviorSanitizer bounds error). Such
// a file is rejected before stb sees it. Every FF C4 in the file is read
// as stb would read a DHT segment there -- tables one after another while
// the segment's length lasts, bytes past the end as 0 -- since only a real
// marker or a corrupt file holds FF C4 (entropy-coded data stuffs every
// FF). Returns the largest table found, 0 when there is none.
int largest_jpeg_huffman_table(const std::string& b) {
  auto at = [&b](size_t i) { return i < b.size() ? static_cast<int>(static_cast<unsigned char>(b[i])) : 0; };
  // What stb takes for a JPEG: FF, any number of FF fill bytes, then SOI (D8).
  size_t soi = 0;
  while (soi < b.size() && at(soi) == 0xFF) ++soi;
  if (soi == 0 || at(soi) != 0xD8) return 0;
  int largest = 0;
  for (size_t i = soi + 1; i + 1 < b.size(); ++i) {
    if (at(i) != 0xFF || at(i + 1) != 0xC4) continue;
    long left = ((at(i + 2) << 8) | at(i + 3)) - 2;
    size_t p = i + 4;
    while (left > 0 && p < b.size()) {
      int codes = 0;
      for (size_t k = 1; k <= 16; ++k) codes += at(p + k);
      largest = std::max(largest, codes);
      p += 17 + static_cast<size_t>(codes);
      left -= 17 + codes;
    }
  }
  return largest;
}

// stb_image 2.27 reads the three header numbers of a binary PGM/PPM
// (P5/P6: width, height, maximum value) into a signed int without an
// overflow check (found by fuzzing, as an UndefinedBehaviorSanitizer
// report on a width of 90 digits). The header is read here first, the way
// stb reads it -- the numbers start right after "P5"/"P6", separated by
// whitespace and '#' comments -- and a number past INT_MAX is refused.
// Returns the first such number's text, empty when there is none.
std::string oversized_pnm_number(const std::string& b) {
  if (b.size() < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6')) return {};
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
  size_t i = 2;
  for (int number = 0; number < 3; ++number) {
    for (;;) {
      while (i < b.size() && space(b[i])) ++i;
      if (i >= b.size() || b[i] != '#') break;
      while (i < b.size() && b[i] != '\n' && b[i] != '\r') ++i;
    }
    const size_t start = i;
    int64_t value = 0;
    for (; i < b.size() && b[i] >= '0' && b[i] <= '9'; ++i) {
      value = value * 10 + (b[i] - '0');
      if (value > std::numeric_limits<int>::max()) {
        size_t end = i;
        while (end < b.size() && b[end] >= '0' && b[end] <= '9') ++end;
        const std::string digits = b.substr(start, end - start);
        return digits.size() > 24 ? digits.substr(0, 12) + "... (" + std::to_string(digits.size()) + " digits)" : digits;
      }
    }
    if (i == start) return {};  // not a number: stb refuses the header itself
  }
  return {};
}

}  // namespace

torch::Tensor read_image(const std::string& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw Error("image '" + path + "' is too large (" + std::to_string(bytes.size()) + " bytes; at most 2 GiB)");
  if (const int codes = largest_jpeg_huffman_table(bytes); codes > 256)
    throw Error("cannot read image '" + path + "': a JPEG Huffman table declares " + std::to_string(codes) +
                " codes, more than 256 (a corrupt file)");
  if (const std::string number = oversized_pnm_number(bytes); !number.empty())
    throw Error("cannot read image '" + path + "': its PGM/PPM header holds the number " + number +
                ", larger than any image (a corrupt file)");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int length = static_cast<int>(bytes.size());
  int w = 0, h = 0, stored = 0;
  bool known = false;
  {
    StbAllocationCap cap((1u << 20) + 2048 * static_cast<uint64_t>(bytes.size()));
    known = stbi_info_from_memory(data, length, &w, &h, &stored) != 0;
  }
  if (!known)
    throw Error("cannot read image '" + path + "': " + stbi_failure_reason());
  // stb drops the alpha channel when asked for fewer channels: grey+alpha -> grey,
  // RGBA -> RGB.
  const int channels = stored <= 2 ? 1 : 3;
  // What the header declares must be what the file can hold: no format stb
  // reads compresses pixels more than about 1,000 : 1 (deflate's limit), so
  // a header promising more than 2,048 decoded bytes per file byte (or over
  // 1 GiB) is a lie, and a 100-byte file never makes genzoo allocate
  // gigabytes.
  const uint64_t decoded = static_cast<uint64_t>(w) * static_cast<uint64_t>(h) * static_cast<uint64_t>(channels);
  const uint64_t allowed = std::min<uint64_t>(kMaxDecodedImageBytes, (1u << 20) + 2048 * static_cast<uint64_t>(bytes.size()));
  if (w <= 0 || h <= 0 || decoded > allowed)
    throw Error("cannot read image '" + path + "': its header declares " + std::to_string(w) + "x" + std::to_string(h) +
                " pixels, more than its " + std::to_string(bytes.size()) + " bytes can hold");
  // No single allocation of the decoder beyond eight times the pixels the
  // header may declare, plus 1 MiB: stb's buffers hold up to 4 bytes per
  // requested sample before conversion (16-bit grey and alpha), and its
  // inflate buffer grows by doubling.
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(nullptr, stbi_image_free);
  {
    StbAllocationCap cap(8 * allowed + (1u << 20));
    pixels.reset(stbi_load_from_memory(data, length, &w, &h, &stored, channels));
  }
  if (!pixels) throw Error("cannot read image '" + path + "': " + stbi_failure_reason());
  // clone, not contiguous(): with C = 1 the permuted view is already
  // contiguous and would still point into stb's buffer, freed on return.
  return torch::from_blob(pixels.get(), {h, w, channels}, torch::kUInt8)  // [H, W, C]
      .permute({2, 0, 1})
      .clone(torch::MemoryFormat::Contiguous);  // [C, H, W], owns its memory
}

void write_png(const std::string& path, const torch::Tensor& image) {
  TORCH_CHECK(image.defined(), "write_png('", path, "'): undefined image");
  TORCH_CHECK(image.dim() == 3, "write_png('", path, "'): expected an image [C, H, W], got ",
              image.sizes());
  const int64_t c = image.size(0), h = image.size(1), w = image.size(2);
  TORCH_CHECK(c == 1 || c == 3, "write_png('", path, "'): expected 1 or 3 channels, got ", c);
  TORCH_CHECK(h > 0 && w > 0 && w * c <= std::numeric_limits<int>::max() &&
                  h <= std::numeric_limits<int>::max(),
              "write_png('", path, "'): bad image size ", image.sizes());
  torch::Tensor pixels;
  if (image.scalar_type() == torch::kUInt8) {
    pixels = image;
  } else {
    TORCH_CHECK(image.is_floating_point(), "write_png('", path,
                "'): expected uint8 or floating pixels, got ", image.scalar_type());
    pixels = image.detach().to(torch::kFloat).clamp(0, 1).mul(255).round().to(torch::kUInt8);
  }
  pixels = pixels.to(torch::kCPU).permute({1, 2, 0}).contiguous();  // [H, W, C]

  std::string png;
  auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), size);
  };
  if (!stbi_write_png_to_func(append, &png, static_cast<int>(w), static_cast<int>(h),
                              static_cast<int>(c), pixels.data_ptr(), static_cast<int>(w * c)))
    throw Error("cannot encode PNG '" + path + "'");
  write_file_atomic(path, png);
}

}  // namespace genzoo
