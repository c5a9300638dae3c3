// check_torch_archive: archives LibTorch writes pass; archives whose
// declared sizes their bytes cannot back are refused with the reason,
// before LibTorch allocates anything for them.
#include <gtest/gtest.h>

#include <sstream>

#include "genzoo/core/error.h"
#include "genzoo/train/archive_check.h"

namespace genzoo {
namespace {

using namespace std::string_literals;

void put(std::string& out, uint64_t v, int bytes) {
  for (int k = 0; k < bytes; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
}

struct ZipEntry {
  std::string name, bytes;
  uint16_t method = 0;       // 0 stored, 8 deflated (bytes must then be raw deflate)
  uint32_t declared = 0;     // uncompressed size written in the headers; 0: bytes.size()
};

// A minimal zip writer (no CRCs: the check does not read them), so that
// each test can say exactly which header lies.
std::string zip(const std::vector<ZipEntry>& entries) {
  std::string out, dir;
  for (const auto& e : entries) {
    const uint64_t offset = out.size();
    const uint32_t size = e.declared ? e.declared : static_cast<uint32_t>(e.bytes.size());
    put(out, 0x04034b50, 4);
    put(out, 20, 2), put(out, 0, 2), put(out, e.method, 2), put(out, 0, 4), put(out, 0, 4);
    put(out, e.bytes.size(), 4), put(out, size, 4), put(out, e.name.size(), 2), put(out, 0, 2);
    out += e.name + e.bytes;
    put(dir, 0x02014b50, 4);
    put(dir, 20, 2), put(dir, 20, 2), put(dir, 0, 2), put(dir, e.method, 2), put(dir, 0, 4), put(dir, 0, 4);
    put(dir, e.bytes.size(), 4), put(dir, size, 4), put(dir, e.name.size(), 2), put(dir, 0, 2), put(dir, 0, 2);
    put(dir, 0, 2), put(dir, 0, 2), put(dir, 0, 4), put(dir, offset, 4);
    dir += e.name;
  }
  const uint64_t dir_at = out.size();
  out += dir;
  put(out, 0x06054b50, 4);
  put(out, 0, 2), put(out, 0, 2), put(out, entries.size(), 2), put(out, entries.size(), 2);
  put(out, dir.size(), 4), put(out, dir_at, 4), put(out, 0, 2);
  return out;
}

std::string refusal(const std::string& bytes) {
  try {
    check_torch_archive(bytes, "test archive");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string pickle(const std::string& body) { return std::string("\x80\x02", 2) + body + "."; }

TEST(ArchiveCheck, PassesWhatLibTorchWrites) {
  torch::serialize::OutputArchive archive;
  archive.write("weights", torch::randn({3, 4}));
  archive.write("steps", torch::tensor(int64_t{7}));
  archive.write("text", c10::IValue(std::string("hello")));
  std::ostringstream bytes;
  archive.save_to(bytes);
  EXPECT_EQ(refusal(bytes.str()), "");
  EXPECT_EQ(refusal(zip({{"archive/data.pkl", pickle(")")}})), "");
}

TEST(ArchiveCheck, RefusesATensorLargerThanItsRecord) {
  // One tensor of 4 floats: its storage reference ends "BININT1 4, TUPLE".
  torch::serialize::OutputArchive archive;
  archive.write("w", torch::ones({4}));
  std::ostringstream out;
  archive.save_to(out);
  std::string bytes = out.str();
  const size_t at = bytes.find(std::string("K\x04t", 3));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] = '\xff';  // 255 floats from a 16-byte record
  const std::string why = refusal(bytes);
  EXPECT_NE(why.find("declares 255 elements of 4 bytes"), std::string::npos) << why;
  EXPECT_NE(why.find("holds 16 bytes"), std::string::npos) << why;
}

TEST(ArchiveCheck, RefusesPicklesThatClaimMoreThanTheyHold) {
  struct Case {
    std::string body, reason;
  };
  for (const Case& c : {
           Case{"X\xff\xff\xff\x7f" "abc"s, "a string of 2147483647 bytes with 4 left"},  // "abc" and STOP
           Case{"Nr\x00\xca\x9a\x3b"s, "memo entry 1000000000 of 0"},
           Case{"h\x03"s, "reads memo entry 3 of 0"},
           Case{"NN(\x86t"s, "mark points past its stack"},
           Case{"}(Nu"s, "key without a value"},
           Case{"cos\nsystem\n"s, "'os.system'"},
           Case{"\x94"s, "opcode 0x94"},
           Case{"(X\x07\x00\x00\x00" "storagectorch\nFloatStorage\nX\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK\x01tQ"s,
                "'archive/data/0' is missing"},
           Case{"N\x85Q"s, "never writes"},
           Case{"X\x05\x00\x00\x00" "ab"s, "5 bytes with 3 left"}}) {
    const std::string why = refusal(zip({{"archive/data.pkl", pickle(c.body)}}));
    EXPECT_NE(why.find(c.reason), std::string::npos) << "got: " << why;
    EXPECT_NE(why.find("archive/data.pkl: "), std::string::npos) << why;
  }
  // Tensors only in data.pkl and constants.pkl.
  EXPECT_NE(refusal(zip({{"archive/code/x.debug_pkl", pickle("(X\x07\x00\x00\x00" "storagetQ"s)}})).find("holds no tensors"),
            std::string::npos);
}

TEST(ArchiveCheck, RefusesZipHeadersThatLie) {
  EXPECT_NE(refusal("not a zip at all, just some text").find("no end-of-directory record"), std::string::npos);
  // A deflated entry that says it expands 10 bytes to 1 GB.
  ZipEntry bomb{"archive/code/a.py", std::string(10, '\0'), 8, 1000000000u};
  EXPECT_NE(refusal(zip({{"archive/data.pkl", pickle(")")}, bomb})).find("claims 1000000000 bytes from 10"),
            std::string::npos);
  ZipEntry lying{"archive/data/0", "1234", 0, 4096};
  EXPECT_NE(refusal(zip({{"archive/data.pkl", pickle(")")}, lying})).find("two different sizes"), std::string::npos);
  EXPECT_NE(refusal(zip({{"archive/data.pkl", pickle(")")}, {"ARCHIVE/DATA.PKL", pickle(")")}})).find("appears twice"),
            std::string::npos);
  std::string cut = zip({{"archive/data.pkl", pickle(")")}});
  cut.erase(10, 5);  // the directory now points past where entries are
  EXPECT_NE(refusal(cut), "");
}

}  // namespace
}  // namespace genzoo
