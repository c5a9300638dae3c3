// libFuzzer entry point of one target, chosen when built
// (GENZOO_FUZZ_TARGET): a broken contract aborts, so libFuzzer keeps the
// input as a crash like any sanitizer finding.
#include <cstdio>
#include <cstdlib>

#include "targets.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  genzoo::fuzz::prepare(GENZOO_FUZZ_TARGET);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const genzoo::fuzz::NamedTarget& t = genzoo::fuzz::target(GENZOO_FUZZ_TARGET);
  const std::string broke = t.run(data, size);
  if (!broke.empty()) {
    std::fprintf(stderr, "genzoo fuzz target '%s': contract broken: %s\n", GENZOO_FUZZ_TARGET, broke.c_str());
    std::abort();
  }
  return 0;
}
