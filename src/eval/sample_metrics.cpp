#include "genzoo/eval/sample_metrics.h"

#include <cstdio>
#include <cstring>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/core/timer.h"
#include "genzoo/eval/classifier_score.h"
#include "genzoo/eval/frechet.h"
#include "genzoo/eval/neighbours.h"
#include "genzoo/eval/precision_recall.h"
#include "genzoo/report/png_grid.h"

namespace genzoo {

namespace {
constexpr uint64_t kReferenceStream = 0x6e6e5f7265666572ULL;  // "nn_refer"
}

FeatureSets feature_sets(FeatureNet& net, const torch::Tensor& reference, const torch::Tensor& generated) {
  auto start = Clock::now();
  FeatureSets f = feature_sets_with_reference(net, extract_features(net, reference), generated);
  f.seconds = seconds_since(start);
  return f;
}

namespace {

// FNV-1a over the bytes of a contiguous tensor.
uint64_t tensor_hash(const torch::Tensor& t) {
  auto c = t.contiguous();
  const auto* p = static_cast<const uint8_t*>(c.data_ptr());
  const size_t n = static_cast<size_t>(c.numel()) * c.element_size();
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

constexpr char kCacheMagic[8] = {'g', 'z', 'f', 'e', 'a', 't', '0', '1'};

}  // namespace

torch::Tensor cached_reference_features(FeatureNet& net, const std::string& net_id, const torch::Tensor& reference,
                                        const std::string& cache_dir, bool* hit) {
  if (hit) *hit = false;
  if (cache_dir.empty()) return extract_features(net, reference);
  std::string key = net_id;
  for (auto d : reference.sizes()) key += "-" + std::to_string(d);
  uint64_t weights = 0;
  for (const auto& p : net->parameters()) weights = weights * 31 + tensor_hash(p.detach().to(torch::kFloat32));
  char hash[40];
  std::snprintf(hash, sizeof hash, "%016llx-%016llx", static_cast<unsigned long long>(weights),
                static_cast<unsigned long long>(tensor_hash(reference.to(torch::kFloat32))));
  const std::string path = cache_dir + "/" + key + "-" + hash + ".features";
  // The file: magic, rows, columns (int64 each), then rows x columns float32.
  if (file_exists(path)) {
    try {
      const std::string bytes = read_file(path);
      int64_t rows = 0, cols = 0;
      if (bytes.size() >= 24 && bytes.compare(0, 8, std::string(kCacheMagic, 8)) == 0) {
        std::memcpy(&rows, bytes.data() + 8, 8);
        std::memcpy(&cols, bytes.data() + 16, 8);
        if (rows == reference.size(0) && cols > 0 && cols < (1 << 20) &&
            bytes.size() == 24 + static_cast<size_t>(rows) * static_cast<size_t>(cols) * 4) {
          auto t = torch::empty({rows, cols}, torch::kFloat32);
          std::memcpy(t.data_ptr(), bytes.data() + 24, bytes.size() - 24);
          if (torch::isfinite(t).all().item<bool>()) {
            if (hit) *hit = true;
            return t;
          }
        }
      }
    } catch (const Error&) {
      // unreadable: extracted again below
    }
  }
  auto features = extract_features(net, reference).to(torch::kFloat32).contiguous();  // [N, F]
  try {
    ensure_dir(cache_dir);
    std::string bytes(kCacheMagic, 8);
    const int64_t rows = features.size(0), cols = features.size(1);
    bytes.append(reinterpret_cast<const char*>(&rows), 8);
    bytes.append(reinterpret_cast<const char*>(&cols), 8);
    bytes.append(static_cast<const char*>(features.data_ptr()), static_cast<size_t>(rows * cols) * 4);
    write_file_atomic(path, bytes);
  } catch (const Error&) {
    // a cache that cannot be written only costs time
  }
  return features;
}

FeatureSets feature_sets_with_reference(FeatureNet& net, torch::Tensor real_features, const torch::Tensor& generated) {
  FeatureSets f;
  auto start = Clock::now();
  f.real = std::move(real_features);          // [N, F]
  f.fake = extract_features(net, generated);  // [M, F]
  {
    // In eval mode dropout is the identity: the logits are head(features),
    // so the features already computed give p(y|x) without a second pass.
    torch::NoGradGuard no_grad;
    f.fake_probs = torch::softmax(net->head->forward(f.fake), 1);  // [M, K]
  }
  f.seconds = seconds_since(start);
  return f;
}

NamedValues fid_values(const FeatureSets& f) {
  auto start = Clock::now();
  const double fid = frechet_distance(gaussian_stats(f.real), gaussian_stats(f.fake));
  return {{"fid", fid}, {"seconds_fid", seconds_since(start)}};
}

NamedValues kid_values(const FeatureSets& f, const FeatureMetricsRequest& r) {
  auto start = Clock::now();
  KidResult k = kernel_inception_distance(f.real, f.fake, r.kid_subsets, r.kid_subset_size, r.seed);
  return {{"kid", k.mean},
          {"kid_std", k.std},
          {"kid_subset_size", static_cast<double>(k.subset_size)},
          {"seconds_kid", seconds_since(start)}};
}

NamedValues precision_recall_values(const FeatureSets& f, const FeatureMetricsRequest& r) {
  auto start = Clock::now();
  PrecisionRecall pr = precision_recall(f.real, f.fake, r.pr_k);
  return {{"precision", pr.precision}, {"recall", pr.recall}, {"seconds_pr", seconds_since(start)}};
}

NamedValues classifier_score_values(const FeatureSets& f, const FeatureMetricsRequest& r) {
  auto start = Clock::now();
  ClassifierScore cs = classifier_score(f.fake_probs, r.cs_splits);
  return {{"classifier_score", cs.mean}, {"classifier_score_std", cs.std}, {"seconds_cs", seconds_since(start)}};
}

NamedValues feature_metrics(FeatureNet& net, const torch::Tensor& reference, const torch::Tensor& generated,
                            const FeatureMetricsRequest& r) {
  FeatureSets f = feature_sets(net, reference, generated);
  NamedValues out{{"seconds_features", f.seconds},
                  {"reference_count", static_cast<double>(reference.size(0))},
                  {"generated_count", static_cast<double>(generated.size(0))}};
  auto add = [&](const NamedValues& v) { out.insert(out.end(), v.begin(), v.end()); };
  if (r.fid) add(fid_values(f));
  if (r.kid) add(kid_values(f, r));
  if (r.precision_recall) add(precision_recall_values(f, r));
  if (r.classifier_score) add(classifier_score_values(f, r));
  return out;
}

NamedValues memorisation(const torch::Tensor& generated, const torch::Tensor& training, int64_t k,
                         int64_t figure_rows, const std::string& figure_path) {
  if (generated.size(0) == 0) throw Error("memorisation: no generated images");
  Neighbours nn = nearest_neighbours(generated, training, k);  // [M, k]
  auto nearest = nn.distances.select(1, 0);                     // [M]
  NamedValues out{{"nn_distance_mean", nearest.mean().item<double>()},
                  {"nn_distance_min", nearest.min().item<double>()},
                  {"nn_distance_median", nearest.median().item<double>()},
                  {"nn_queries", static_cast<double>(generated.size(0))}};
  if (!figure_path.empty()) {
    int64_t rows = std::min(figure_rows, generated.size(0));
    std::vector<torch::Tensor> tiles;
    for (int64_t i = 0; i < rows; ++i) {
      tiles.push_back(generated[i].to(torch::kFloat));
      for (int64_t j = 0; j < k; ++j)
        tiles.push_back(training[nn.indices[i][j].item<int64_t>()].to(torch::kFloat));
    }
    save_grid(figure_path, torch::stack(tiles), k + 1);  // a row: sample, then its neighbours
  }
  return out;
}

double memorisation_reference(const torch::Tensor& real, const torch::Tensor& training, int64_t count,
                              uint64_t seed) {
  if (count < 1 || real.size(0) == 0) throw Error("memorisation_reference: no real images");
  auto rows = random_subset(real.size(0), std::min(count, real.size(0)), seed, kReferenceStream);  // [k]
  Neighbours nn = nearest_neighbours(real.index_select(0, rows), training, 1);
  return nn.distances.select(1, 0).mean().item<double>();
}

}  // namespace genzoo
