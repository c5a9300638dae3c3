// check_torch_archive: archives LibTorch writes pass; archives whose
// declared sizes their bytes cannot back are refused with the reason,
// before LibTorch allocates anything for them.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
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
  uint32_t attributes = 0;   // external attributes (0x10: a folder, for DOS)
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
    put(dir, 0, 2), put(dir, 0, 2), put(dir, e.attributes, 4), put(dir, offset, 4);
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

TEST(ArchiveCheck, RefusesATensorViewThatReachesPastItsStorage) {
  torch::serialize::OutputArchive archive;
  archive.write("w", torch::ones({4}));
  std::ostringstream out;
  archive.save_to(out);
  // _rebuild_tensor_v2(storage, offset 0, sizes (4,), strides (1,), ...):
  // BININT1 0, MARK BININT1 4 TUPLE, MARK BININT1 1 TUPLE
  const std::string view("K\x00(K\x04t(K\x01t", 10);
  const size_t at = out.str().find(view);
  ASSERT_NE(at, std::string::npos);
  for (const auto& [byte, value] : {std::pair<size_t, char>{1, 3}, {8, 2}, {4, 5}}) {
    std::string bytes = out.str();
    bytes[at + byte] = value;  // offset 3, stride 2, or 5 elements: past the 4 of the storage
    const std::string why = refusal(bytes);
    EXPECT_NE(why.find("reach past its storage of 4 elements"), std::string::npos) << why;
  }
  std::string bytes = out.str();
  bytes[at + 1] = 9;  // offset 9 of 4
  EXPECT_NE(refusal(bytes).find("starts at element 9 of a storage of 4"), std::string::npos) << refusal(bytes);
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
           Case{"N\x85Q"s, "in a form LibTorch's writer never writes"},
           Case{"X\x05\x00\x00\x00" "ab"s, "5 bytes with 3 left"},
           // A storage read twice (LibTorch reads its record afresh each time).
           Case{"(X\x07\x00\x00\x00" "storagectorch\nFloatStorage\nX\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK\x00tq\x00Qh\x00Q"s,
                "storage '0' is referred to twice"},
           Case{"(X\x07\x00\x00\x00" "storagectorch\nFloatStorage\nX\x02\x00\x00\x00" "1xX\x03\x00\x00\x00" "cpuK\x00tQ"s,
                "has the name '1x'"},
           Case{")" + std::string(150, '\x85'), "nests values more than 100 deep"},
           Case{"]q\x00\x85h\x00(K\x01" "e"s, "grows a container after placing it inside another"},
           Case{"]q\x00(h\x00" "e"s, "puts a container inside itself"},
           Case{"K\x00)R"s, "calls something that is not a global it named"},
           Case{"N(K\x01" "e"s, "adds items to a value that is no container"},
           Case{"ctorch._utils\n_rebuild_tensor_v2\nK\x00K\x00\x86R"s, "rebuilds a tensor from arguments"}}) {
    const std::string why = refusal(zip({{"archive/data.pkl", pickle(c.body)}}));
    EXPECT_NE(why.find(c.reason), std::string::npos) << "expected: " << c.reason << "\ngot: " << why;
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
  EXPECT_NE(refusal(cut).find("zip directory is damaged"), std::string::npos) << refusal(cut);
  EXPECT_NE(refusal(zip({{"archive/data.pkl", pickle(")")}, {"archive/data/1\0x"s, "1234"}})).find("NUL byte"),
            std::string::npos);
  EXPECT_NE(refusal(zip({{"archive/data.pkl", pickle(")")}, {"archive/data/"}})).find("is a folder"), std::string::npos);
  ZipEntry folder{"archive/data/0", "1234"};
  folder.attributes = 0x10;
  EXPECT_NE(refusal(zip({{"archive/data.pkl", pickle(")")}, folder})).find("is a folder"), std::string::npos);
  // Pickles are stored, and small.
  EXPECT_NE(refusal(zip({{"archive/data.pkl", "xx", 8, 2}})).find("compressed"), std::string::npos);
  EXPECT_NE(refusal(zip({{"archive/data.pkl", pickle(std::string(1 << 20, 'N'))}})).find("over 1 MiB"),
            std::string::npos);
}

TEST(ArchiveCheck, DebugPicklesAndCodeAreWhatTheWriterWrites) {
  const std::string code = "class Module(Module):\n  __parameters__ = [\"w\", ]\n  __buffers__ = []\n  w : Tensor\n"
                           "  betas : Tuple[float, float]\n  __annotations__[\"0x1\"] = __torch__.___torch_mangle_1.Module\n";
  const ZipEntry pkl{"archive/data.pkl", pickle(")")}, other{"archive/code/__torch__/___torch_mangle_1.py", "class Module(Module):\n"};
  EXPECT_EQ(refusal(zip({pkl, {"archive/code/__torch__.py", code}, other})), "");
  EXPECT_NE(refusal(zip({pkl, {"archive/code/__torch__.py", code}})).find("refers to class __torch__.___torch_mangle_1.Module"),
            std::string::npos);
  for (const std::string bad : {"class Module(Module):\n  def __setstate__(self, state: int):\n    return None\n",
                                "class Module(Module):\n  x : List[List[List[List[List[List[List[List[List[List[int]]]]]]]]]]\n",
                                "class Module(Module):\n  x : __torch__.torch.classes.Foo\n", "import os\n",
                                "class Module(Module):\n  __parameters__ = [\"a\\\"b\", ]\n"}) {
    const std::string why = refusal(zip({pkl, {"archive/code/__torch__.py", bad}}));
    EXPECT_TRUE(why.find("never writes") != std::string::npos || why.find("does not start with") != std::string::npos)
        << bad << " -> " << why;
  }
  // Debug pickles: ("FORMAT_WITH_STRING_TABLE", (text, ...), records) with zeros only.
  const std::string good = "X\x18\x00\x00\x00" "FORMAT_WITH_STRING_TABLEX\x00\x00\x00\x00\x85K\x00\x85\x87"s;
  EXPECT_EQ(refusal(zip({pkl, {"archive/code/__torch__.py.debug_pkl", pickle(good)}})), "");
  const std::string nonzero = "X\x18\x00\x00\x00" "FORMAT_WITH_STRING_TABLEX\x00\x00\x00\x00\x85K\x03\x85\x87"s;
  EXPECT_NE(refusal(zip({pkl, {"archive/code/__torch__.py.debug_pkl", pickle(nonzero)}})).find("non-zero number"),
            std::string::npos);
  const std::string no_table = "X\x18\x00\x00\x00" "FORMAT_WITH_STRING_TABLE)K\x00\x85\x87"s;
  EXPECT_NE(refusal(zip({pkl, {"archive/code/__torch__.py.debug_pkl", pickle(no_table)}})).find("not a (format"),
            std::string::npos);
}

// Every archive genzoo has: the checked-in checkpoints and the shipped feature networks.
TEST(ArchiveCheck, PassesGenzoosCheckpointsAndFeatureNetworks) {
  const std::string root = GENZOO_SOURCE_DIR;
  int checked = 0;
  for (const std::string dir : {root + "/tests/fuzz/corpus/checkpoint", root + "/assets/feature-nets"}) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (e.path().extension() != ".pt" || name.find("truncated") != std::string::npos) continue;
      EXPECT_EQ(refusal(read_file(e.path().string())), "") << name;
      ++checked;
    }
  }
  EXPECT_GE(checked, 5);
}

}  // namespace
}  // namespace genzoo
