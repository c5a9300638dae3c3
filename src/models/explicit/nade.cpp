#include "genzoo/models/explicit/nade.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>
#include <set>
#include <thread>

#include "genzoo/models/explicit/autoregressive.h"
#include "nade_kernel.h"

namespace genzoo {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows are split into one chunk per thread; every chunk accumulates its own
// parameter gradients, summed afterwards (no atomics, deterministic for a
// fixed thread count).
int64_t row_chunks(int64_t rows) {
  return std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), (rows + 15) / 16));
}

struct RowRange {
  int64_t begin, end;
};
RowRange chunk_rows(int64_t chunk, int64_t chunks, int64_t rows) {
  return {rows * chunk / chunks, rows * (chunk + 1) / chunks};
}

class NadeRecurrence : public torch::autograd::Function<NadeRecurrence> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x_in, const torch::Tensor& w,
                               const torch::Tensor& c, const torch::Tensor& v, const torch::Tensor& b,
                               bool relu, bool need_dx) {
    auto x = x_in.contiguous();
    auto wt = w.t().contiguous();  // [D, H]: column i of W as a contiguous row
    auto vc = v.contiguous(), cc = c.contiguous(), bc = b.contiguous();
    const int64_t n = x.size(0), d = x.size(1), h = w.size(0);
    auto logits = torch::empty({n, d}, x.options());
    auto a_end = torch::empty({n, h}, x.options());
    const int64_t chunks = row_chunks(n);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "nade_forward", [&] {
      at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t ch = c0; ch < c1; ++ch) {
          auto r = chunk_rows(ch, chunks, n);
          if (r.end == r.begin) continue;
          detail::nade_forward<scalar_t>(x.data_ptr<scalar_t>() + r.begin * d, wt.data_ptr<scalar_t>(),
                                         cc.data_ptr<scalar_t>(), vc.data_ptr<scalar_t>(),
                                         bc.data_ptr<scalar_t>(), r.end - r.begin, d, h, relu,
                                         logits.data_ptr<scalar_t>() + r.begin * d,
                                         a_end.data_ptr<scalar_t>() + r.begin * h);
        }
      });
    });
    ctx->save_for_backward({x, wt, vc, a_end});
    ctx->saved_data["relu"] = relu;
    ctx->saved_data["need_dx"] = need_dx;
    return logits;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& wt = saved[1];
    const auto& v = saved[2];
    const auto& a_end = saved[3];
    const bool relu = ctx->saved_data["relu"].toBool();
    const bool need_dx = ctx->saved_data["need_dx"].toBool();
    auto g = grads[0].contiguous();
    const int64_t n = x.size(0), d = x.size(1), h = wt.size(1);
    const int64_t chunks = row_chunks(n);
    auto dwt = torch::zeros({chunks, d, h}, x.options());
    auto dv = torch::zeros({chunks, d, h}, x.options());
    auto dc = torch::zeros({chunks, h}, x.options());
    auto db = torch::zeros({chunks, d}, x.options());
    torch::Tensor dx = need_dx ? torch::empty({n, d}, x.options()) : torch::Tensor();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "nade_backward", [&] {
      at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t ch = c0; ch < c1; ++ch) {
          auto r = chunk_rows(ch, chunks, n);
          if (r.end == r.begin) continue;
          detail::nade_backward<scalar_t>(
              x.data_ptr<scalar_t>() + r.begin * d, wt.data_ptr<scalar_t>(), v.data_ptr<scalar_t>(),
              g.data_ptr<scalar_t>() + r.begin * d, a_end.data_ptr<scalar_t>() + r.begin * h, r.end - r.begin, d,
              h, relu, dwt[ch].data_ptr<scalar_t>(), dc[ch].data_ptr<scalar_t>(), dv[ch].data_ptr<scalar_t>(),
              db[ch].data_ptr<scalar_t>(), need_dx ? dx.data_ptr<scalar_t>() + r.begin * d : nullptr);
        }
      });
    });
    return {dx, dwt.sum(0).t(), dc.sum(0), dv.sum(0), db.sum(0), torch::Tensor(), torch::Tensor()};
  }
};

torch::Tensor activate(const torch::Tensor& a, bool relu) { return relu ? torch::relu(a) : torch::sigmoid(a); }

}  // namespace

torch::Tensor nade_fused_logits(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& c,
                                const torch::Tensor& v, const torch::Tensor& b, bool relu) {
  TORCH_CHECK(x.dim() == 2 && w.dim() == 2 && w.size(1) == x.size(1) && c.size(0) == w.size(0) &&
                  v.size(0) == x.size(1) && v.size(1) == w.size(0) && b.size(0) == x.size(1),
              "nade: shapes do not fit x [N, D], W [H, D], c [H], V [D, H], b [D]");
  TORCH_CHECK(x.scalar_type() == w.scalar_type() && w.scalar_type() == v.scalar_type(),
              "nade: x and the parameters must share a dtype");
  TORCH_CHECK(x.device().is_cpu(), "nade: the fused recurrence runs on the CPU");
  return NadeRecurrence::apply(x, w, c, v, b, relu, x.requires_grad());
}

int nade_fused_threads(int64_t rows) {
  const int64_t chunks = row_chunks(rows);
  std::mutex mutex;
  std::set<std::thread::id> seen;
  at::parallel_for(0, chunks, 1, [&](int64_t, int64_t) {
    std::lock_guard<std::mutex> lock(mutex);
    seen.insert(std::this_thread::get_id());
  });
  return static_cast<int>(seen.size());
}

bool nade_built_with_openmp() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

const EnumNames<NadeActivation>& nade_activation_names() {
  static const EnumNames<NadeActivation> names{{NadeActivation::Sigmoid, "sigmoid"}, {NadeActivation::Relu, "relu"}};
  return names;
}

const EnumNames<NadeImplementation>& nade_implementation_names() {
  static const EnumNames<NadeImplementation> names{{NadeImplementation::Fused, "fused"},
                                                   {NadeImplementation::Naive, "naive"}};
  return names;
}

NadeImpl::NadeImpl(NadeOptions options_) : options(std::move(options_)) { reset(); }

void NadeImpl::reset() {
  TORCH_CHECK(options.shape().size() == 3, "nade: shape must be {C, H, W}");
  TORCH_CHECK(options.hidden() > 0, "nade: hidden must be > 0, got ", options.hidden());
  const int64_t d = shape_numel(options.shape()), h = options.hidden();
  // Uniform with the fan-in scale of each layer: a_i sums up to D inputs,
  // the output dot product H hidden units.
  const double sw = 1.0 / std::sqrt(static_cast<double>(d)), sv = 1.0 / std::sqrt(static_cast<double>(h));
  w = register_parameter("w", torch::empty({h, d}).uniform_(-sw, sw));
  c = register_parameter("c", torch::zeros({h}));
  v = register_parameter("v", torch::empty({d, h}).uniform_(-sv, sv));
  b = register_parameter("b", torch::zeros({d}));
}

torch::Tensor NadeImpl::conditional_logits(const torch::Tensor& x) {
  auto flat = flatten_pixels(x, dims(), "nade").to(w.dtype());  // [N, D]
  const bool relu = options.activation() == NadeActivation::Relu;
  if (options.impl() == NadeImplementation::Fused) return nade_fused_logits(flat, w, c, v, b, relu);
  // a_i = c + sum_{j<i} W_:j x_j for all i at once: an exclusive cumulative
  // sum over pixels of the [N, H, D] contributions.
  auto contrib = flat.unsqueeze(1) * w.unsqueeze(0);                  // [N, H, D]
  auto a = c.view({1, -1, 1}) + contrib.cumsum(2) - contrib;          // [N, H, D]
  return b + torch::einsum("nhd,dh->nd", {activate(a, relu), v});     // [N, D]
}

torch::Tensor NadeImpl::log_prob(const torch::Tensor& x) {
  return bernoulli_log_prob(conditional_logits(x), flatten_pixels(x, dims(), "nade").to(w.dtype()));
}

torch::Tensor NadeImpl::sample(int64_t n) {
  TORCH_CHECK(n >= 0, "nade: sample count must be >= 0");
  return complete(torch::zeros(batch_shape(n, options.shape()), w.options()), nothing_observed(dims()));
}

torch::Tensor NadeImpl::complete(const torch::Tensor& x, const torch::Tensor& observed) {
  torch::NoGradGuard no_grad;
  const int64_t d = dims();
  auto out = flatten_pixels(x, d, "nade").to(w.dtype()).clone();  // [N, D]
  auto keep = flatten_observed(observed, out.size(0), d, "nade");
  const bool relu = options.activation() == NadeActivation::Relu;
  auto wt = w.t().contiguous();                                     // [D, H]
  auto a = c.unsqueeze(0).expand({out.size(0), c.size(0)}).clone();  // [N, H]
  for (int64_t i = 0; i < d; ++i) {
    auto logit = torch::mv(activate(a, relu), v[i]) + b[i];  // [N]
    auto draw = torch::bernoulli(torch::sigmoid(logit));
    auto xi = torch::where(keep.select(1, i), out.select(1, i), draw);
    out.select(1, i).copy_(xi);
    a.addr_(xi, wt[i]);  // a_{i+1} = a_i + W_:i x_i
  }
  return out.reshape(x.sizes());
}

torch::Tensor NadeImpl::conditionals(const torch::Tensor& x, int64_t ordering) {
  check_one_ordering(ordering, "nade");
  return conditional_logits(x);
}

torch::Tensor NadeImpl::generation_rank(int64_t ordering) const { return raster_rank(b.size(0), ordering, "nade"); }

bool NadeImpl::completion_is_exact(const torch::Tensor& observed) const {
  const int64_t d = b.size(0);
  return observed_first(flatten_observed(observed, observed.size(0), d, "nade"), torch::arange(d));
}

ModelInfo nade_model_info() {
  ModelInfo info = binary_density_info(
      "nade", "neural autoregressive density estimator, O(HD) fused recurrence (exact log p)",
      {Capability::Sample, Capability::Density, Capability::Complete, Capability::Autoregressive});
  info.create = [](ModelContext& ctx) -> ModulePtr {
    Config& cfg = *ctx.config;
    const NadeOptions defaults;
    Nade model(NadeOptions()
                   .shape({ctx.data.channels, ctx.data.height, ctx.data.width})
                   .hidden(cfg.get_int("model.hidden", defaults.hidden()))
                   .activation(cfg.get_enum("model.activation", defaults.activation(), nade_activation_names()))
                   .impl(cfg.get_enum("model.impl", defaults.impl(), nade_implementation_names())));
    if (ctx.train_data.defined()) {
      torch::NoGradGuard no_grad;
      model->b.copy_(marginal_logits(ctx.train_data, model->dims()));
    }
    return model.ptr();
  };
  return info;
}

}  // namespace genzoo
