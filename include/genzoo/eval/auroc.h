#pragma once
// Out-of-distribution detection from a model's own score (higher = more
// in-distribution): the area under the ROC curve, with tied scores counted as
// one half (the Mann-Whitney statistic), and the false-positive rate at 95%
// true-positive rate (in-distribution examples are the positives).
#include <torch/torch.h>

namespace genzoo {

struct RocResult {
  double auroc = 0;
  double fpr_at_95_tpr = 0;
  int64_t in_count = 0, out_count = 0;
};

/// scores_in [N], scores_out [M]; non-finite scores are an error.
RocResult roc_scores(const torch::Tensor& scores_in, const torch::Tensor& scores_out);

}  // namespace genzoo
