#include "genzoo/models/explicit/made.h"

#include <cmath>

#include "genzoo/core/rng.h"
#include "genzoo/models/explicit/autoregressive.h"

namespace genzoo {

namespace {
constexpr uint64_t kMadeMaskStream = 0x4d414445;  // "MADE"
}

const EnumNames<MadeOrdering>& made_ordering_names() {
  static const EnumNames<MadeOrdering> names{{MadeOrdering::Natural, "natural"}, {MadeOrdering::Random, "random"}};
  return names;
}

MadeImpl::MadeImpl(MadeOptions options_) : options(std::move(options_)) { reset(); }

void MadeImpl::reset() {
  TORCH_CHECK(options.shape().size() == 3, "made: shape must be {C, H, W}");
  TORCH_CHECK(options.hidden() > 0, "made: hidden must be > 0, got ", options.hidden());
  TORCH_CHECK(options.layers() == 1 || options.layers() == 2, "made: layers must be 1 or 2, got ",
              options.layers());
  TORCH_CHECK(options.masks() >= 1 && options.masks() <= 4096, "made: masks must be in [1, 4096], got ",
              options.masks());
  const int64_t d = shape_numel(options.shape()), h = options.hidden(), n = options.masks();
  TORCH_CHECK(d >= 2, "made: needs at least 2 pixels");

  hidden_layers.clear();
  degrees.clear();
  int64_t fan_in = d;
  for (int64_t l = 0; l < options.layers(); ++l) {
    hidden_layers.push_back(register_module("hidden" + std::to_string(l), torch::nn::Linear(fan_in, h)));
    fan_in = h;
  }
  output = register_module("output", torch::nn::Linear(h, d));
  direct = options.direct() ? register_parameter("direct", torch::zeros({d, d})) : torch::Tensor();

  // Degrees, mask by mask, from a generator of their own so that the masks
  // depend only on mask_seed (Section 4: m^l(k) ~ U{min m^{l-1}, ..., D-1}).
  auto order_all = torch::empty({n, d}, torch::kInt64);
  std::vector<torch::Tensor> deg_all(static_cast<size_t>(options.layers()));
  for (auto& t : deg_all) t = torch::empty({n, h}, torch::kInt64);
  for (int64_t m = 0; m < n; ++m) {
    auto gen = derived_generator(options.mask_seed(), kMadeMaskStream, static_cast<uint64_t>(m));
    torch::Tensor ranks;
    if (options.ordering() == MadeOrdering::Natural) {
      ranks = torch::arange(1, d + 1, torch::kInt64);
    } else {
      ranks = torch::randperm(d, gen, torch::kInt64) + 1;  // pixel d is generated ranks[d]-th
    }
    order_all[m].copy_(ranks);
    int64_t low = 1;
    for (int64_t l = 0; l < options.layers(); ++l) {
      auto deg = torch::randint(low, d, {h}, gen, torch::kInt64);
      deg_all[static_cast<size_t>(l)][m].copy_(deg);
      low = deg.min().item<int64_t>();
    }
  }
  orders = register_buffer("orders", order_all);
  for (int64_t l = 0; l < options.layers(); ++l)
    degrees.push_back(register_buffer("degrees" + std::to_string(l), deg_all[static_cast<size_t>(l)]));
  next_mask = register_buffer("next_mask", torch::zeros({}, torch::kInt64));
}

MadeImpl::MaskedWeights MadeImpl::masked_weights(int64_t mask) {
  TORCH_CHECK(mask >= 0 && mask < num_masks(), "made: mask ", mask, " out of range [0, ", num_masks(), ")");
  const auto dtype = output->weight.dtype();
  MaskedWeights w;
  auto prev = orders[mask];  // [D]
  for (size_t l = 0; l < hidden_layers.size(); ++l) {
    auto deg = degrees[l][mask];                                                  // [H]
    auto m = (deg.unsqueeze(1) >= prev.unsqueeze(0)).to(dtype);                  // [H, fan_in]  (eq. 12)
    w.hidden.push_back(hidden_layers[l]->weight * m);
    prev = deg;
  }
  w.output = output->weight * (orders[mask].unsqueeze(1) > prev.unsqueeze(0)).to(dtype);  // [D, H]  (eq. 13)
  if (direct.defined())
    w.direct = direct * (orders[mask].unsqueeze(1) > orders[mask].unsqueeze(0)).to(dtype);  // [D, D]
  return w;
}

torch::Tensor MadeImpl::conditional_logits(const torch::Tensor& x, int64_t mask) {
  const MaskedWeights w = masked_weights(mask);
  auto input = flatten_pixels(x, dims(), "made").to(output->weight.dtype());  // [N, D]
  auto h = input;
  for (size_t l = 0; l < hidden_layers.size(); ++l) h = torch::relu(torch::linear(h, w.hidden[l], hidden_layers[l]->bias));
  auto logits = torch::linear(h, w.output, output->bias);  // [N, D]
  if (w.direct.defined()) logits = logits + torch::linear(input, w.direct);
  return logits;
}

torch::Tensor MadeImpl::log_prob_mask(const torch::Tensor& x, int64_t mask) {
  return bernoulli_log_prob(conditional_logits(x, mask),
                            flatten_pixels(x, dims(), "made").to(output->weight.dtype()));
}

torch::Tensor MadeImpl::log_prob(const torch::Tensor& x) {
  if (is_training()) {
    const int64_t m = next_mask.item<int64_t>() % num_masks();
    {
      torch::NoGradGuard no_grad;
      next_mask.add_(1);
    }
    return log_prob_mask(x, m);
  }
  std::vector<torch::Tensor> per_mask;
  for (int64_t m = 0; m < num_masks(); ++m) per_mask.push_back(log_prob_mask(x, m));
  // log (1/N sum_m p_m(x)): a mixture of the N models, not an average of logits.
  return torch::logsumexp(torch::stack(per_mask), 0) - std::log(static_cast<double>(num_masks()));
}

torch::Tensor MadeImpl::conditionals(const torch::Tensor& x, int64_t ordering) {
  return conditional_logits(x, ordering);
}

torch::Tensor MadeImpl::generation_rank(int64_t ordering) const {
  TORCH_CHECK(ordering >= 0 && ordering < num_masks(), "made: ordering ", ordering, " out of range [0, ", num_masks(), ")");
  return orders[ordering];
}

torch::Tensor MadeImpl::generation_order(int64_t mask) const { return orders[mask].argsort(); }

torch::Tensor MadeImpl::sample(int64_t n) {
  TORCH_CHECK(n >= 0, "made: sample count must be >= 0");
  return complete(torch::zeros(batch_shape(n, options.shape()), output->weight.options()),
                  nothing_observed(dims()));
}

torch::Tensor MadeImpl::complete(const torch::Tensor& x, const torch::Tensor& observed) {
  torch::NoGradGuard no_grad;
  const int64_t d = dims(), n_masks = num_masks();
  auto out = flatten_pixels(x, d, "made").to(output->weight.dtype()).clone();  // [N, D]
  const int64_t rows = out.size(0);
  auto keep = flatten_observed(observed, rows, d, "made");
  out = torch::where(keep, out, torch::zeros_like(out));  // missing pixels never inform anything

  // The mask of each row. When the observed pixels come first in every
  // ordering, p_m(x_obs) is the product of their conditionals under m and
  // the mask is drawn from the posterior p(m | x_obs) ∝ p_m(x_obs): an exact
  // draw from the mixture's conditional. Otherwise p_m(x_obs) is a marginal
  // no single pass computes, and the mask is drawn from the prior, uniformly.
  torch::Tensor choice;  // [rows]
  if (n_masks > 1 && completion_is_exact(keep)) {
    auto log_w = torch::empty({rows, n_masks}, out.options());
    const auto kept = keep.to(out.dtype());
    for (int64_t m = 0; m < n_masks; ++m) {
      auto ll = -torch::binary_cross_entropy_with_logits(conditional_logits(out, m), out, {}, {},
                                                         at::Reduction::None);  // [rows, D]
      log_w.select(1, m).copy_((ll * kept).sum(1));
    }
    choice = torch::multinomial(torch::softmax(log_w, 1), 1).squeeze(1);
  } else {
    choice = torch::randint(n_masks, {rows}, torch::kInt64);
  }

  auto choice_acc = choice.accessor<int64_t, 1>();
  for (int64_t m = 0; m < n_masks; ++m) {
    std::vector<int64_t> idx;
    for (int64_t r = 0; r < rows; ++r)
      if (choice_acc[r] == m) idx.push_back(r);
    if (idx.empty()) continue;
    auto rows_m = torch::tensor(idx, torch::kInt64);
    auto xm = out.index_select(0, rows_m);   // [n_m, D]
    auto km = keep.index_select(0, rows_m);  // [n_m, D]
    auto order = generation_order(m);
    auto order_acc = order.accessor<int64_t, 1>();
    // The masked weights of mask m, built once rather than at every pixel,
    // and the first layer's pre-activations kept up to date as pixels are
    // drawn (a rank-one update, as in NADE): each pixel then costs the upper
    // layers and one output row, not a whole network pass.
    const MaskedWeights w = masked_weights(m);
    auto a1 = torch::linear(xm, w.hidden[0], hidden_layers[0]->bias);  // [n_m, H]
    for (int64_t k = 0; k < d; ++k) {
      const int64_t i = order_acc[k];
      auto ki = km.select(1, i);
      if (ki.all().item<bool>()) continue;  // observed in every row of this group
      auto h = torch::relu(a1);
      for (size_t l = 1; l < hidden_layers.size(); ++l)
        h = torch::relu(torch::linear(h, w.hidden[l], hidden_layers[l]->bias));
      // Output i depends on pixels before i only (the masks), whatever xm holds after it.
      auto logit = torch::mv(h, w.output[i]) + output->bias[i];  // [n_m]
      if (w.direct.defined()) logit = logit + torch::mv(xm, w.direct[i]);
      auto draw = torch::bernoulli(torch::sigmoid(logit));
      auto before = xm.select(1, i).clone();
      xm.select(1, i).copy_(torch::where(ki, xm.select(1, i), draw));
      a1 += torch::outer(xm.select(1, i) - before, w.hidden[0].select(1, i));
    }
    out.index_copy_(0, rows_m, xm);
  }
  return out.reshape(x.sizes());
}

bool MadeImpl::completion_is_exact(const torch::Tensor& observed) const {
  const int64_t d = orders.size(1);
  auto keep = flatten_observed(observed, observed.size(0), d, "made");
  for (int64_t m = 0; m < orders.size(0); ++m)
    if (!observed_first(keep, generation_order(m))) return false;
  return true;
}

ModelInfo made_model_info() {
  ModelInfo info = binary_density_info(
      "made", "masked autoencoder, mixture over N masks (exact log p)",
      {Capability::Sample, Capability::Density, Capability::Complete, Capability::Autoregressive});
  info.create = [](ModelContext& ctx) -> ModulePtr {
    Config& cfg = *ctx.config;
    const MadeOptions defaults;
    const int64_t mask_seed = cfg.get_int("model.mask_seed", static_cast<int64_t>(defaults.mask_seed()));
    TORCH_CHECK(mask_seed >= 0, "mask_seed must be >= 0, got ", mask_seed);
    Made model(MadeOptions()
                   .shape({ctx.data.channels, ctx.data.height, ctx.data.width})
                   .hidden(cfg.get_int("model.hidden", defaults.hidden()))
                   .layers(cfg.get_int("model.layers", defaults.layers()))
                   .masks(cfg.get_int("model.masks", defaults.masks()))
                   .ordering(cfg.get_enum("model.ordering", defaults.ordering(), made_ordering_names()))
                   .mask_seed(static_cast<uint64_t>(mask_seed))
                   .direct(cfg.get_bool("model.direct", defaults.direct())));
    if (ctx.train_data.defined()) {
      torch::NoGradGuard no_grad;
      model->output->bias.copy_(marginal_logits(ctx.train_data, model->dims()));
    }
    return model.ptr();
  };
  return info;
}

}  // namespace genzoo
