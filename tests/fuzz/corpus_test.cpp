// Every checked-in input of every fuzz target -- the seed corpus
// (tests/fuzz/corpus/TARGET/) and each crashing input ever found
// (tests/fuzz/crashes/TARGET/) -- through the target's contract, as an
// ordinary test: a crash found once stays fixed.
#include <gtest/gtest.h>

#include <filesystem>

#include "fuzz/targets.h"
#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/data/image.h"
#include "genzoo/train/archive_check.h"
#include "test_support.h"

namespace genzoo {
namespace {

namespace fs = std::filesystem;

class FuzzCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(FuzzCorpus, EveryCheckedInInputKeepsTheContract) {
  const auto& t = fuzz::target(GetParam());
  size_t seeds = 0;
  for (const std::string kind : {"corpus", "crashes"}) {
    const std::string dir = std::string(GENZOO_SOURCE_DIR) + "/tests/fuzz/" + kind + "/" + t.name;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      const std::string bytes = read_file(e.path().string());
      const std::string broke = t.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      EXPECT_EQ(broke, "") << kind << "/" << t.name << "/" << e.path().filename().string();
      seeds += kind == "corpus";
    }
  }
  EXPECT_GE(seeds, 2u) << "the seed corpus of '" << t.name << "' is missing";
}

// Findings whose harm the plain build does not show (no sanitizer there):
// each is refused by the check that fixed it, with the reason.
TEST(FuzzFindings, ImagesThatMadeStbMisbehaveAreRefusedWithTheReason) {
  const std::string dir = std::string(GENZOO_SOURCE_DIR) + "/tests/fuzz/crashes/";
  struct Case {
    std::string file, reason;
  };
  for (const Case& c : {Case{"image/crash-bf2f5293b114a74da82c09b04b54c32fbf451db2", "Huffman table"},
                        Case{"image/crash-f5df61e3978305a336cf21dfe62d0f6efa486a43", "Huffman table"},
                        Case{"mask/crash-7a40b0a6b5d28bcbd6e5d9e8a92974cd6d2bb9c4", "Huffman table"},
                        Case{"image/oom-d5d9602487a1bd5cded003e5846d355b8d6cff88", "outofmem"},
                        Case{"mask/oom-ab6b2120d8dd0388eb4156805a56fc3bc11d602a", "outofmem"},
                        Case{"image/crash-05f1c35a9d6753df6f80c1765f42c8126fe2c014", "PGM/PPM header holds the number 1111"}}) {
    try {
      read_image(dir + c.file);
      ADD_FAILURE() << c.file << " was read";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.reason), std::string::npos) << c.file << ": " << e.what();
    }
  }
}

// Checkpoints that made LibTorch misbehave, refused by the archive check
// before LibTorch reads them, with the reason:
// - a pickle declaring a string of 1.9 GB in a 30 kB file (LibTorch
//   reserved it before reading);
// - code naming a class constant "__parametersd_": LibTorch's TorchScript
//   type parser dereferenced null on it (SEGV in parseClassConstant, found
//   in a 10-minute run).
TEST(FuzzFindings, CheckpointsThatMadeLibTorchMisbehaveAreRefused) {
  const std::string dir = std::string(GENZOO_SOURCE_DIR) + "/tests/fuzz/crashes/checkpoint/";
  for (const auto& [file, reason] :
       {std::pair<std::string, std::string>{"oom-e3ccbd5322ca89d1b72b43299610e7bc765c724b", "declares a string of"},
        {"crash-62e63b029b5a43511890727369d68ad2ead5953e", "__parametersd_"}}) {
    try {
      check_torch_archive(read_file(dir + file), "finding");
      ADD_FAILURE() << "the archive check passed " << file;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
  }
}

// Binary PGM headers stb reads correctly still read.
TEST(FuzzFindings, PgmHeadersWithCommentsStillRead) {
  const std::string pgm = "P5\n# a comment\n3 2\n255\n" + std::string("\x00\x10\x20\x30\x40\xff", 6);
  const testing::TempDir dir;
  const std::string path = dir / "small.pgm";
  write_file(path, pgm);
  const auto image = read_image(path);
  ASSERT_EQ(image.sizes(), (torch::IntArrayRef{1, 2, 3}));
  EXPECT_EQ(image[0][1][2].item<int>(), 255);
  EXPECT_EQ(image[0][0][1].item<int>(), 16);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzCorpus,
                         ::testing::Values("idx", "image", "config", "checkpoint", "mnist_json", "mask"));

}  // namespace
}  // namespace genzoo
