#pragma once
// Fuzz targets: every parser of a file people hand genzoo, each with its
// contract. A target returns "" when the contract held for the input -- the
// function returned a valid result (shapes and values in their documented
// ranges) or threw genzoo::Error with a one-line message -- and otherwise
// what broke (another exception, a result out of range). Crashes, leaks,
// hangs and oversized allocations are found by the sanitizers and
// libFuzzer's limits around the same calls.
//
// The same functions run under libFuzzer (tests/fuzz/fuzz_main.cpp, built
// with GENZOO_BUILD_FUZZ) and over the checked-in corpus and every crashing
// input ever found as ordinary tests (tests/fuzz/corpus_test.cpp).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace genzoo::fuzz {

using Target = std::string (*)(const uint8_t* data, size_t size);

struct NamedTarget {
  std::string name;  // also the corpus folder: tests/fuzz/corpus/NAME/
  Target run;
  std::string about;
};

/// idx, image, config, checkpoint, mnist_json, mask.
const std::vector<NamedTarget>& targets();
const NamedTarget& target(const std::string& name);

/// Work a target does once (a scratch folder, a tiny run to load
/// checkpoints into); called by the first input anyway.
void prepare(const std::string& name);

}  // namespace genzoo::fuzz
