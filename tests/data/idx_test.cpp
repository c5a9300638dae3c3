#include "genzoo/data/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "test_support.h"

namespace genzoo {
namespace {

using testing::TempDir;
using testing::write_bytes;

std::string bytes_of(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

// Writes `bytes` to a file, reads it back and expects a genzoo::Error whose
// message names the file and contains `problem`.
void expect_idx_error(const std::string& bytes, const std::string& problem) {
  TempDir dir;
  const std::string path = dir / "bad.idx";
  write_bytes(path, bytes);
  try {
    read_idx(path);
    ADD_FAILURE() << "no error for a file that should give '" << problem << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(problem), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
}

std::string gzip_bytes(const std::string& raw) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, raw.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

class IdxRoundTrip : public ::testing::TestWithParam<std::tuple<torch::ScalarType, bool>> {};

TEST_P(IdxRoundTrip, ReadsBackWhatWasWritten) {
  const auto [dtype, gz] = GetParam();
  TempDir dir;
  torch::manual_seed(1);
  // Values spanning the type's range, so byte order mistakes show.
  torch::Tensor t;
  if (dtype == torch::kUInt8) t = torch::randint(0, 256, {7, 3, 5}, dtype);
  else if (dtype == torch::kInt8) t = torch::randint(-128, 128, {4, 9}, dtype);
  else if (dtype == torch::kInt16) t = torch::randint(-32768, 32768, {2, 3, 4, 5}, dtype);
  else if (dtype == torch::kInt32) t = torch::randint(-2000000000, 2000000000, {11}, dtype);
  else t = torch::randn({3, 2, 2, 2, 3}, dtype) * 1e6;
  const std::string path = dir / (gz ? "t.idx.gz" : "t.idx");
  write_idx(path, t);
  const std::string stored = read_file(path);
  ASSERT_GE(stored.size(), 2u);
  EXPECT_EQ(static_cast<uint8_t>(stored[0]) == 0x1f && static_cast<uint8_t>(stored[1]) == 0x8b, gz);

  auto back = read_idx(path);
  EXPECT_EQ(back.scalar_type(), dtype);
  EXPECT_EQ(back.sizes(), t.sizes());
  EXPECT_TRUE(torch::equal(back, t));
}

INSTANTIATE_TEST_SUITE_P(
    Dtypes, IdxRoundTrip,
    ::testing::Combine(::testing::Values(torch::kUInt8, torch::kInt8, torch::kInt16, torch::kInt32,
                                         torch::kFloat32, torch::kFloat64),
                       ::testing::Bool()));

TEST(Idx, ParsesBigEndianBytes) {
  // int16 [2]: 0x0102 = 258, 0xfffe = -2.
  auto t = parse_idx(bytes_of({0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe}), "mem");
  EXPECT_EQ(t.scalar_type(), torch::kInt16);
  EXPECT_EQ(t[0].item<int64_t>(), 258);
  EXPECT_EQ(t[1].item<int64_t>(), -2);
  // uint8 [2, 1]
  auto u = parse_idx(bytes_of({0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 1, 7, 200}), "mem");
  EXPECT_EQ(u.sizes(), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(u[1][0].item<int64_t>(), 200);
  // float32 1.0 = 0x3f800000
  auto f = parse_idx(bytes_of({0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3f, 0x80, 0, 0}), "mem");
  EXPECT_EQ(f.item<float>(), 1.0f);
}

TEST(Idx, GzipIsRecognisedByContentNotName) {
  TempDir dir;
  auto t = torch::arange(10, torch::kInt32);
  write_idx(dir / "a.gz", t);
  write_bytes(dir / "plain-name.idx", read_file(dir / "a.gz"));
  EXPECT_TRUE(torch::equal(read_idx(dir / "plain-name.idx"), t));
}

TEST(Idx, ConcatenatedGzipMembersAreOneStream) {
  // `cat a.gz b.gz` is a valid gzip file holding the concatenated data.
  TempDir dir;
  auto t = torch::arange(300, torch::kInt16);
  write_idx(dir / "t.idx", t);
  const std::string raw = read_file(dir / "t.idx");
  EXPECT_TRUE(torch::equal(parse_idx(gzip_bytes(raw.substr(0, 17)) + gzip_bytes(raw.substr(17)),
                                     "two members"),
                           t));
}

TEST(Idx, BadMagic) { expect_idx_error(bytes_of({1, 0, 0x08, 1, 0, 0, 0, 1, 5}), "bad magic"); }

TEST(Idx, BadTypeCode) {
  expect_idx_error(bytes_of({0, 0, 0x0A, 1, 0, 0, 0, 1, 5}), "bad element type code 0x0a");
}

TEST(Idx, ZeroDimensions) {
  expect_idx_error(bytes_of({0, 0, 0x08, 0}), "bad number of dimensions 0");
  expect_idx_error(bytes_of({0, 0, 0x08, 9}), "bad number of dimensions 9");
  expect_idx_error(bytes_of({0, 0, 0x08, 2, 0, 0, 0, 3, 0, 0, 0, 0}), "dimension 1 has size 0");
}

TEST(Idx, TruncatedData) {
  expect_idx_error(bytes_of({0, 0, 0x08, 1, 0, 0, 0, 4, 1, 2, 3}),
                   "truncated: expected 4 bytes of data, found 3");
  expect_idx_error(bytes_of({0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0}),
                   "truncated: expected 8 bytes of data, found 7");
  // Dimensions whose product overflows 64 bits.
  expect_idx_error(bytes_of({0, 0, 0x0E, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                             0xff, 0xff, 0xff, 1}),
                   "truncated");
}

TEST(Idx, TrailingBytes) {
  expect_idx_error(bytes_of({0, 0, 0x08, 1, 0, 0, 0, 2, 1, 2, 3}),
                   "trailing bytes: expected 2 bytes of data, found 3");
}

TEST(Idx, TruncatedHeader) {
  expect_idx_error(bytes_of({0, 0, 0x08}), "truncated header");
  expect_idx_error(bytes_of({0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0}), "truncated header");
}

TEST(Idx, CorruptGzip) {
  TempDir dir;
  write_idx(dir / "t.idx.gz", torch::arange(5000, torch::kInt32));
  const std::string gz = read_file(dir / "t.idx.gz");
  expect_idx_error(gz.substr(0, gz.size() / 2), "corrupt gzip data");
  std::string flipped = gz;
  for (size_t i = 20; i < 40; ++i) flipped[i] = static_cast<char>(~flipped[i]);
  expect_idx_error(flipped, "corrupt gzip data");
  expect_idx_error(bytes_of({0x1f, 0x8b, 0x08, 0x00, 1, 2, 3}), "corrupt gzip data");
}

TEST(Idx, EmptyFile) { expect_idx_error("", "empty file"); }

TEST(Idx, AGzipBombStopsAtTheSizeItsHeaderDeclares) {
  // A 2x2x2 uint8 header (8 bytes of data), then 64 MiB of zeros: about 64
  // KB compressed. Inflation stops as soon as it passes the 24 bytes the
  // header declares, instead of inflating everything first.
  std::string raw = bytes_of({0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8});
  raw.append(size_t{64} << 20, '\0');
  const std::string bomb = gzip_bytes(raw);
  ASSERT_LT(bomb.size(), size_t{1} << 20);
  expect_idx_error(bomb, "more than the 24 bytes its IDX header declares");
  // And it stopped early: within the first 64 KiB inflated, not 64 MiB.
  try {
    parse_idx(bomb, "bomb");
  } catch (const Error& e) {
    const std::string msg = e.what();
    const auto at = msg.find("stopped after ");
    ASSERT_NE(at, std::string::npos) << msg;
    EXPECT_LE(std::stoll(msg.substr(at + 14)), int64_t{1} << 16) << msg;
  }
  // The same header with its 8 bytes and nothing more inflates and parses.
  auto t = parse_idx(gzip_bytes(raw.substr(0, 24)), "exact");
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ(t.sum().item<int64_t>(), 36);
}

TEST(Idx, MissingFile) {
  TempDir dir;
  try {
    read_idx(dir / "nope.idx");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir / "nope.idx"), std::string::npos) << e.what();
  }
}

TEST(Idx, WriteRejectsUnsupportedTensors) {
  TempDir dir;
  EXPECT_THROW(write_idx(dir / "a.idx", torch::zeros({2}, torch::kInt64)), c10::Error);
  EXPECT_THROW(write_idx(dir / "a.idx", torch::zeros({}, torch::kUInt8)), c10::Error);
  EXPECT_THROW(write_idx(dir / "a.idx", torch::zeros({0, 3}, torch::kUInt8)), c10::Error);
  EXPECT_FALSE(file_exists(dir / "a.idx"));
}

TEST(Idx, NonContiguousInputIsWrittenInLogicalOrder) {
  TempDir dir;
  auto t = torch::arange(12, torch::kInt16).reshape({3, 4}).t();  // [4, 3], strided
  write_idx(dir / "t.idx", t);
  EXPECT_TRUE(torch::equal(read_idx(dir / "t.idx"), t));
}

}  // namespace
}  // namespace genzoo
