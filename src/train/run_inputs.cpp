#include "genzoo/train/run_inputs.h"

#include "genzoo/core/error.h"
#include "genzoo/data/image.h"

namespace genzoo {

namespace {

std::string chw(int64_t c, int64_t h, int64_t w) {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

}  // namespace

torch::Tensor image_for_model(const std::string& path, const DataSpec& spec, const ImageTransform& transform,
                              const std::string& option) {
  const int64_t c = spec.channels, h = spec.height, w = spec.width;
  auto raw = read_image(path);  // uint8 [C, H, W]
  if (raw.size(0) != c || raw.size(1) != h || raw.size(2) != w)
    throw Error(option + " '" + path + "' is " + chw(raw.size(0), raw.size(1), raw.size(2)) +
                " (CxHxW), the run's images are " + chw(c, h, w));
  // The same pixel transform as the run's evaluation data.
  return transform.for_eval(raw.unsqueeze(0), 1)[0];
}

torch::Tensor run_image(const Run& run, const std::string& spec, const std::string& option) {
  if (spec.rfind("test:", 0) == 0) {
    int64_t index = -1;
    try {
      size_t used = 0;
      index = std::stoll(spec.substr(5), &used);
      if (used != spec.size() - 5) index = -1;
    } catch (const std::exception&) {
      index = -1;
    }
    const int64_t n = run.data.test.defined() ? run.data.test.size(0) : 0;
    if (index < 0 || index >= n)
      throw Error(option + " '" + spec + "': give test:INDEX with INDEX in [0, " + std::to_string(n) + ")");
    return run.data.test[index];
  }
  if (!run.transform) throw Error(option + " '" + spec + "': the run's data are not images");
  return image_for_model(spec, run.spec, *run.transform, option);
}

torch::Tensor completion_mask(const DataSpec& spec, const std::string& mask) {
  const int64_t c = spec.channels, h = spec.height, w = spec.width;
  auto m = torch::zeros({1, c, h, w}, torch::kBool);
  if (mask == "top-half") {
    m.slice(2, 0, h / 2).fill_(true);
  } else if (mask == "bottom-half") {
    m.slice(2, h / 2).fill_(true);
  } else if (mask == "left-half") {
    m.slice(3, 0, w / 2).fill_(true);
  } else if (mask == "right-half") {
    m.slice(3, w / 2).fill_(true);
  } else if (mask == "center") {
    m.fill_(true);
    m.slice(2, h / 4, h / 4 + (h + 1) / 2).slice(3, w / 4, w / 4 + (w + 1) / 2).fill_(false);
  } else if (mask.size() > 4 && mask.substr(mask.size() - 4) == ".png") {
    auto raw = read_image(mask);
    if (raw.size(1) != h || raw.size(2) != w || (raw.size(0) != 1 && raw.size(0) != c))
      throw Error("--mask '" + mask + "' is " + chw(raw.size(0), raw.size(1), raw.size(2)) +
                  " (CxHxW), the run's images are " + chw(c, h, w) + " (a grey mask applies to every channel)");
    m = (raw > 127).expand({c, h, w}).unsqueeze(0).clone();
  } else {
    throw Error("--mask '" + mask + "': use top-half, bottom-half, left-half, right-half, center or a mask .png");
  }
  if (m.all().item<bool>()) throw Error("--mask '" + mask + "' observes every pixel: nothing to complete");
  return m;
}

}  // namespace genzoo
