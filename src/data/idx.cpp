#include "genzoo/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <vector>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"

namespace genzoo {

namespace {

constexpr int kMaxDims = 8;

struct ElementType {
  uint8_t code;
  torch::ScalarType dtype;
  size_t size;
  const char* name;
};

// The six element types of the IDX format (LeCun et al., MNIST page).
constexpr ElementType kElementTypes[] = {
    {0x08, torch::kUInt8, 1, "uint8"},   {0x09, torch::kInt8, 1, "int8"},
    {0x0B, torch::kInt16, 2, "int16"},   {0x0C, torch::kInt32, 4, "int32"},
    {0x0D, torch::kFloat32, 4, "float32"}, {0x0E, torch::kFloat64, 8, "float64"},
};

const ElementType* type_by_code(uint8_t code) {
  for (const auto& t : kElementTypes)
    if (t.code == code) return &t;
  return nullptr;
}

const ElementType* type_by_dtype(torch::ScalarType dtype) {
  for (const auto& t : kElementTypes)
    if (t.dtype == dtype) return &t;
  return nullptr;
}

std::string hex_byte(uint8_t b) {
  static const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

[[noreturn]] void fail(const std::string& name, const std::string& problem) {
  throw Error("IDX file '" + name + "': " + problem);
}

bool host_is_little_endian() {
  const uint16_t one = 1;
  uint8_t first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

// IDX stores elements big-endian; swaps each `size`-byte element in place on a
// little-endian host (a no-op for bytes or on a big-endian host).
void to_or_from_big_endian(uint8_t* data, size_t count, size_t size) {
  if (size == 1 || !host_is_little_endian()) return;
  for (size_t i = 0; i < count; ++i, data += size)
    for (size_t a = 0, b = size - 1; a < b; ++a, --b) std::swap(data[a], data[b]);
}

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x1f &&
         static_cast<uint8_t>(bytes[1]) == 0x8b;
}

// The bytes an IDX file whose first bytes are `head` declares (header +
// data); 0 while `head` is too short to tell; UINT64_MAX when `head` is no
// IDX header or its dimensions overflow (parse_idx then reports why).
uint64_t declared_idx_size(const std::string& head) {
  const auto* p = reinterpret_cast<const uint8_t*>(head.data());
  if (head.size() < 4) return 0;
  const ElementType* type = type_by_code(p[2]);
  if (p[0] != 0 || p[1] != 0 || !type || p[3] < 1 || p[3] > kMaxDims) return UINT64_MAX;
  const size_t header = 4 + 4 * static_cast<size_t>(p[3]);
  if (head.size() < header) return 0;
  uint64_t total = type->size;
  for (int d = 0; d < p[3]; ++d) {
    const uint8_t* q = p + 4 + 4 * d;
    uint32_t dim = (uint32_t{q[0]} << 24) | (uint32_t{q[1]} << 16) | (uint32_t{q[2]} << 8) | q[3];
    if (dim == 0 || __builtin_mul_overflow(total, uint64_t{dim}, &total)) return UINT64_MAX;
  }
  return __builtin_add_overflow(total, uint64_t{header}, &total) ? UINT64_MAX : total;
}

// Inflates a whole gzip stream (concatenated members too, as `gzip -c a b`
// produces) in memory. zlib counts in 32 bits, so the input goes in pieces
// of at most 1 GiB. The output is capped by the IDX header inside it: once
// the header has come out, inflating past the size it declares is an error
// at once (a gzip bomb stops there instead of filling the memory). With
// `header_only`, stops as soon as the header is out (a truncated stream is
// then no error).
std::string gunzip(const std::string& compressed, const std::string& name, bool header_only = false) {
  constexpr size_t kPiece = size_t{1} << 30;
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) fail(name, "cannot initialise zlib");
  size_t fed = 0;  // input bytes handed to zlib so far
  std::string out;
  uint64_t declared = 0;  // 0: header not seen yet
  std::vector<char> buffer(size_t{1} << 16);
  auto give_up = [&](const std::string& why) {
    inflateEnd(&zs);
    fail(name, why);
  };
  for (;;) {
    if (zs.avail_in == 0 && fed < compressed.size()) {
      const size_t piece = std::min(kPiece, compressed.size() - fed);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data() + fed));
      zs.avail_in = static_cast<uInt>(piece);
      fed += piece;
    }
    zs.next_out = reinterpret_cast<Bytef*>(buffer.data());
    zs.avail_out = static_cast<uInt>(buffer.size());
    int rc = inflate(&zs, Z_NO_FLUSH);
    try {
      out.append(buffer.data(), buffer.size() - zs.avail_out);
    } catch (const std::bad_alloc&) {
      give_up("inflates to more data than fits in memory (" + std::to_string(out.size()) + " bytes so far)");
    }
    if (declared == 0) declared = declared_idx_size(out);
    if (declared == UINT64_MAX) break;  // not IDX: parse_idx names the problem from the first bytes
    if (header_only && declared != 0) break;
    if (declared != 0 && out.size() > declared)
      give_up("the gzip data inflate to more than the " + std::to_string(declared) +
              " bytes its IDX header declares (trailing data, or a gzip bomb; stopped after " +
              std::to_string(out.size()) + " bytes)");
    const bool input_left = zs.avail_in > 0 || fed < compressed.size();
    if (rc == Z_STREAM_END) {
      if (!input_left) break;
      if (inflateReset(&zs) != Z_OK) break;  // next member
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && !input_left) {
      if (header_only) break;
      give_up("corrupt gzip data: the compressed stream is truncated");
    }
    give_up("corrupt gzip data: " + (zs.msg ? std::string(zs.msg) : "error " + std::to_string(rc)));
  }
  inflateEnd(&zs);
  return out;
}

std::string gzip(const std::string& raw, const std::string& name) {
  // zlib counts in 32 bits: the input goes in pieces of at most 1 GiB.
  constexpr size_t kPiece = size_t{1} << 30;
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    throw Error("cannot compress '" + name + "': zlib initialisation failed");
  std::string out;
  std::vector<char> buffer(size_t{1} << 20);
  size_t fed = 0;
  int rc = Z_OK;
  do {
    if (zs.avail_in == 0 && fed < raw.size()) {
      const size_t piece = std::min(kPiece, raw.size() - fed);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data() + fed));
      zs.avail_in = static_cast<uInt>(piece);
      fed += piece;
    }
    zs.next_out = reinterpret_cast<Bytef*>(buffer.data());
    zs.avail_out = static_cast<uInt>(buffer.size());
    rc = deflate(&zs, fed == raw.size() && zs.avail_in == 0 ? Z_FINISH : Z_NO_FLUSH);
    if (rc == Z_STREAM_ERROR) break;
    out.append(buffer.data(), buffer.size() - zs.avail_out);
  } while (rc != Z_STREAM_END);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw Error("cannot compress '" + name + "': zlib error " + std::to_string(rc));
  return out;
}

}  // namespace

torch::Tensor parse_idx(const std::string& file_bytes, const std::string& name) {
  if (file_bytes.empty()) fail(name, "empty file");
  const std::string raw = is_gzip(file_bytes) ? gunzip(file_bytes, name) : std::string();
  const std::string& bytes = is_gzip(file_bytes) ? raw : file_bytes;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());

  if (bytes.size() < 4)
    fail(name, "truncated header: " + std::to_string(bytes.size()) +
                   " bytes, an IDX header needs at least 4");
  if (p[0] != 0 || p[1] != 0)
    fail(name, "bad magic number: first two bytes are " + hex_byte(p[0]) + " " + hex_byte(p[1]) +
                   ", expected 0x00 0x00 (not an IDX file)");
  const ElementType* type = type_by_code(p[2]);
  if (!type)
    fail(name, "bad element type code " + hex_byte(p[2]) +
                   " (expected 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32, "
                   "0x0e float64)");
  const int ndims = p[3];
  if (ndims < 1 || ndims > kMaxDims)
    fail(name, "bad number of dimensions " + std::to_string(ndims) + " (expected 1.." +
                   std::to_string(kMaxDims) + ")");
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  if (bytes.size() < header)
    fail(name, "truncated header: " + std::to_string(bytes.size()) + " bytes, the " +
                   std::to_string(ndims) + "-D header needs " + std::to_string(header));

  std::vector<int64_t> shape(ndims);
  uint64_t data_bytes = type->size;  // product of dims x element size, checked for overflow
  bool overflow = false;
  for (int d = 0; d < ndims; ++d) {
    const uint8_t* q = p + 4 + 4 * d;
    uint32_t dim = (uint32_t{q[0]} << 24) | (uint32_t{q[1]} << 16) | (uint32_t{q[2]} << 8) | q[3];
    if (dim == 0) fail(name, "dimension " + std::to_string(d) + " has size 0");
    shape[d] = dim;
    overflow = overflow || __builtin_mul_overflow(data_bytes, uint64_t{dim}, &data_bytes);
  }
  const uint64_t found = bytes.size() - header;
  if (overflow)
    fail(name, "truncated: the dimensions declare more data than can exist, found " +
                   std::to_string(found) + " bytes");
  if (found < data_bytes)
    fail(name, "truncated: expected " + std::to_string(data_bytes) + " bytes of data, found " +
                   std::to_string(found));
  if (found > data_bytes)
    fail(name, "trailing bytes: expected " + std::to_string(data_bytes) +
                   " bytes of data, found " + std::to_string(found));

  torch::Tensor out = torch::empty(shape, torch::TensorOptions().dtype(type->dtype));
  auto* dst = static_cast<uint8_t*>(out.data_ptr());
  std::memcpy(dst, p + header, data_bytes);
  to_or_from_big_endian(dst, data_bytes / type->size, type->size);
  return out;
}

torch::Tensor read_idx(const std::string& path) { return parse_idx(read_file(path), path); }

std::vector<int64_t> idx_shape(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot be read");
  std::string head(size_t{1} << 16, '\0');  // far more than any header, even compressed
  in.read(&head[0], static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.empty()) fail(path, "empty file");
  const std::string bytes = is_gzip(head) ? gunzip(head, path, /*header_only=*/true) : head;
  const uint64_t declared = declared_idx_size(bytes);
  if (declared == 0 || declared == UINT64_MAX) {
    parse_idx(bytes, path);  // reports what is wrong with the header
    fail(path, "not an IDX header");
  }
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  std::vector<int64_t> shape(p[3]);
  for (int d = 0; d < p[3]; ++d) {
    const uint8_t* q = p + 4 + 4 * d;
    shape[d] = (int64_t{q[0]} << 24) | (int64_t{q[1]} << 16) | (int64_t{q[2]} << 8) | q[3];
  }
  return shape;
}

void write_idx(const std::string& path, const torch::Tensor& tensor) {
  TORCH_CHECK(tensor.defined(), "write_idx('", path, "'): undefined tensor");
  const ElementType* type = type_by_dtype(tensor.scalar_type());
  TORCH_CHECK(type, "write_idx('", path, "'): dtype ", tensor.scalar_type(),
              " has no IDX type (use uint8, int8, int16, int32, float32 or float64)");
  TORCH_CHECK(tensor.dim() >= 1 && tensor.dim() <= kMaxDims, "write_idx('", path,
              "'): IDX holds 1 to ", kMaxDims, " dimensions, got ", tensor.dim());
  for (int64_t d = 0; d < tensor.dim(); ++d)
    TORCH_CHECK(tensor.size(d) >= 1 && tensor.size(d) <= std::numeric_limits<uint32_t>::max(),
                "write_idx('", path, "'): dimension ", d, " has size ", tensor.size(d),
                " (IDX needs 1 to 2^32-1)");

  const torch::Tensor t = tensor.to(torch::kCPU).contiguous();
  const size_t header = 4 + 4 * static_cast<size_t>(t.dim());
  const size_t data_bytes = static_cast<size_t>(t.numel()) * type->size;
  std::string bytes(header + data_bytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(&bytes[0]);
  p[2] = type->code;
  p[3] = static_cast<uint8_t>(t.dim());
  for (int64_t d = 0; d < t.dim(); ++d) {
    auto dim = static_cast<uint32_t>(t.size(d));
    uint8_t* q = p + 4 + 4 * d;
    q[0] = dim >> 24;
    q[1] = (dim >> 16) & 0xff;
    q[2] = (dim >> 8) & 0xff;
    q[3] = dim & 0xff;
  }
  std::memcpy(p + header, t.data_ptr(), data_bytes);
  to_or_from_big_endian(p + header, static_cast<size_t>(t.numel()), type->size);
  write_file_atomic(path, ends_with(path, ".gz") ? gzip(bytes, path) : bytes);
}

}  // namespace genzoo
