// Links the installed library and calls into it: prints the registered models.
#include <genzoo/train/registry.h>

#include <iostream>

int main() {
  auto names = genzoo::model_names();
  for (const auto& n : names) std::cout << n << "\n";
  return names.empty() ? 1 : 0;
}
