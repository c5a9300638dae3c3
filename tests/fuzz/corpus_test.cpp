// Every checked-in input of every fuzz target -- the seed corpus
// (tests/fuzz/corpus/TARGET/) and each crashing input ever found
// (tests/fuzz/crashes/TARGET/) -- through the target's contract, as an
// ordinary test: a crash found once stays fixed.
#include <gtest/gtest.h>

#include <filesystem>

#include "fuzz/targets.h"
#include "genzoo/core/files.h"

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

INSTANTIATE_TEST_SUITE_P(Targets, FuzzCorpus,
                         ::testing::Values("idx", "image", "config", "checkpoint", "mnist_json", "mask"));

}  // namespace
}  // namespace genzoo
