#include "genzoo/sampling/energy.h"

namespace genzoo {

EnergyFunction sum_energies(std::vector<EnergyFunction> energies, std::vector<double> weights) {
  TORCH_CHECK(!energies.empty(), "sum_energies: no energies");
  if (weights.empty()) weights.assign(energies.size(), 1.0);
  TORCH_CHECK(weights.size() == energies.size(), "sum_energies: ", energies.size(), " energies but ",
              weights.size(), " weights");
  return [energies = std::move(energies), weights = std::move(weights)](const torch::Tensor& x) {
    torch::Tensor total = weights[0] * energies[0](x);  // [N]
    for (size_t k = 1; k < energies.size(); ++k) total = total + weights[k] * energies[k](x);
    return total;
  };
}

std::pair<torch::Tensor, torch::Tensor> energy_and_input_gradient(const EnergyFunction& energy,
                                                                  const torch::Tensor& x) {
  TORCH_CHECK(!c10::InferenceMode::is_enabled(),
              "input_gradient: called inside InferenceMode, where no gradient exists; call samplers under "
              "torch::NoGradGuard instead");
  torch::AutoGradMode enable(true);
  auto input = x.detach().requires_grad_(true);  // a leaf: no graph through x's history
  auto e = energy(input);                         // [N]
  TORCH_CHECK(e.dim() == 1 && e.size(0) == x.size(0), "input_gradient: the energy must be [N] = [", x.size(0),
              "], got ", e.sizes());
  // autograd::grad, not backward(): only dE/dx is computed, and no
  // parameter's .grad is written.
  auto grad = torch::autograd::grad({e.sum()}, {input}, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                    /*create_graph=*/false, /*allow_unused=*/true)[0];
  if (!grad.defined()) grad = torch::zeros_like(input);  // an energy that ignores x
  return {e.detach(), grad.detach()};
}

torch::Tensor input_gradient(const EnergyFunction& energy, const torch::Tensor& x) {
  return energy_and_input_gradient(energy, x).second;
}

}  // namespace genzoo
