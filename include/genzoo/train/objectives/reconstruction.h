#pragma once
// Autoencoder training: minimise the negative log-likelihood of the clean
// batch under the decoder, given the code of its (for a denoising
// autoencoder, corrupted) copy,
//   loss = -(1/B) sum_b log p(x_b | z = h(c(x_b))),
// with one optimizer. One batch per step. step() reports loss; evaluate()
// reports reconstruction = -mean log p(x | h(x)) in nats per example and,
// for a denoising autoencoder, first denoising = -mean log p(x | h(c(x)))
// (the corruption drawn with the same seed at every evaluation). best.pt is
// selected by the first: what the model trains.
#include <memory>

#include "genzoo/models/latent/autoencoder.h"
#include "genzoo/train/objective.h"

namespace genzoo {

class ReconstructionObjective : public OneOptimizerObjective {
 public:
  ReconstructionObjective(ModulePtr model, Config& config);
  Metrics step(BatchSource& batches) override;
  Metrics evaluate(const Examples& data, int64_t batch_size) override;
  std::vector<std::string> held_out_metrics() const override;
  std::vector<std::string> progress_metrics() const override { return {"loss"}; }

 private:
  ModulePtr model_;
  std::shared_ptr<Reconstructor> reconstructor_;
};

/// {"reconstruction", a factory of ReconstructionObjective}.
ObjectiveInfo reconstruction_objective();

}  // namespace genzoo
