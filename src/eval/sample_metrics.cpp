#include "genzoo/eval/sample_metrics.h"


#include "genzoo/core/error.h"
#include "genzoo/core/timer.h"
#include "genzoo/eval/classifier_score.h"
#include "genzoo/eval/frechet.h"
#include "genzoo/eval/neighbours.h"
#include "genzoo/eval/precision_recall.h"
#include "genzoo/report/png_grid.h"

namespace genzoo {

NamedValues feature_metrics(FeatureNet& net, const torch::Tensor& reference,
                            const torch::Tensor& generated, const FeatureMetricsRequest& r) {
  NamedValues out;
  auto start = Clock::now();
  auto real_f = extract_features(net, reference);   // [N, F]
  auto fake_f = extract_features(net, generated);   // [M, F]
  out.emplace_back("seconds_features", seconds_since(start));
  out.emplace_back("reference_count", static_cast<double>(reference.size(0)));
  out.emplace_back("generated_count", static_cast<double>(generated.size(0)));
  if (r.fid) {
    start = Clock::now();
    out.emplace_back("fid", frechet_distance(gaussian_stats(real_f), gaussian_stats(fake_f)));
    out.emplace_back("seconds_fid", seconds_since(start));
  }
  if (r.kid) {
    start = Clock::now();
    KidResult k = kernel_inception_distance(real_f, fake_f, r.kid_subsets, r.kid_subset_size, r.seed);
    out.emplace_back("kid", k.mean);
    out.emplace_back("kid_std", k.std);
    out.emplace_back("kid_subset_size", static_cast<double>(k.subset_size));
    out.emplace_back("seconds_kid", seconds_since(start));
  }
  if (r.precision_recall) {
    start = Clock::now();
    PrecisionRecall pr = precision_recall(real_f, fake_f, r.pr_k);
    out.emplace_back("precision", pr.precision);
    out.emplace_back("recall", pr.recall);
    out.emplace_back("seconds_pr", seconds_since(start));
  }
  if (r.classifier_score) {
    start = Clock::now();
    // In eval mode dropout is the identity: the logits are head(features),
    // so the features already computed give p(y|x) without a second pass.
    torch::Tensor probs;
    {
      torch::NoGradGuard no_grad;
      probs = torch::softmax(net->head->forward(fake_f), 1);  // [M, K]
    }
    ClassifierScore cs = classifier_score(probs, r.cs_splits);
    out.emplace_back("classifier_score", cs.mean);
    out.emplace_back("classifier_score_std", cs.std);
    out.emplace_back("seconds_cs", seconds_since(start));
  }
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

}  // namespace genzoo
