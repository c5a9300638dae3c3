#pragma once
// Energies as plain functions, so that samplers (Langevin dynamics, replay
// buffers; they arrive with the energy-based models) depend on no model:
// any Energy plugs in, and composing models is adding their energies
// (Du & Mordatch 2019, sec. 3.3: a product of experts p1(x) p2(x) has energy
// E1(x) + E2(x)).
#include <torch/torch.h>

#include <functional>
#include <vector>

namespace genzoo {

/// x [N, ...] -> unnormalised -log p(x), [N], differentiable in x.
using EnergyFunction = std::function<torch::Tensor(const torch::Tensor& x)>;

/// E(x) = sum_k weights[k] E_k(x); weights default to 1 each.
EnergyFunction sum_energies(std::vector<EnergyFunction> energies, std::vector<double> weights = {});

/// dE/dx for every row: the gradient of sum_n E(x_n) with respect to x
/// alone, [N, ...], detached. Runs with gradients on whatever the caller's
/// mode (samplers are called under NoGradGuard, see models/model.h), builds
/// no graph through `x`'s history and leaves the .grad of every parameter
/// untouched. Inside InferenceMode, where no gradient can be taken, it is
/// an error.
torch::Tensor input_gradient(const EnergyFunction& energy, const torch::Tensor& x);

/// The same, also returning the energies [N] it evaluated (a Langevin step
/// uses both).
std::pair<torch::Tensor, torch::Tensor> energy_and_input_gradient(const EnergyFunction& energy,
                                                                  const torch::Tensor& x);

}  // namespace genzoo
