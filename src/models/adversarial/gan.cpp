#include "genzoo/models/adversarial/gan.h"

#include <cmath>

#include "genzoo/core/error.h"
#include "genzoo/core/rng.h"

namespace genzoo {

namespace {

// Restores a module's training flag on scope exit.
class TrainingModeGuard {
 public:
  TrainingModeGuard(torch::nn::Module& m, bool training) : m_(m), was_(m.is_training()) { m_.train(training); }
  ~TrainingModeGuard() { m_.train(was_); }
  TrainingModeGuard(const TrainingModeGuard&) = delete;
  TrainingModeGuard& operator=(const TrainingModeGuard&) = delete;

 private:
  torch::nn::Module& m_;
  bool was_;
};

}  // namespace

template <typename Self>
GanBase<Self>::GanBase(GanOptions options) : options(std::move(options)) {
  reset();
}

template <typename Self>
void GanBase<Self>::reset() {
  TORCH_CHECK(options.classes() >= 0, "classes must be >= 0");
  auto net = options.net();
  TORCH_CHECK(options.d_outputs() >= 1, "the discriminator needs >= 1 output");
  net.conditions(options.classes()).d_outputs(options.d_outputs());
  options.net(net);
  generator = this->register_module("generator", Generator(net));
  discriminator = this->register_module("discriminator", Discriminator(net));
  if (options.classes() > 0)
    log_prior = this->register_buffer(
        "log_prior", torch::full({options.classes()}, -std::log(static_cast<double>(options.classes()))));
}

template <typename Self>
torch::Tensor GanBase<Self>::noise(int64_t n) {
  const int64_t z = options.net().noise_dims();
  if (options.net().noise() == GanNoise::Gaussian) return torch::randn({n, z});  // [n, Z]
  return (torch::rand({n, z}) * 2 - 1) * std::sqrt(3.0);                        // [n, Z], unit variance
}

template <typename Self>
torch::Tensor GanBase<Self>::condition(const torch::Tensor& labels, int64_t n) const {
  if (options.classes() == 0) {
    TORCH_CHECK(!labels.defined(), "an unconditional GAN takes no labels");
    return {};
  }
  TORCH_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == n, "cgan: ", n, " examples need as many labels");
  TORCH_CHECK(labels.numel() == 0 || (labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < options.classes()),
              "cgan: labels must be in [0, ", options.classes(), ")");
  return torch::one_hot(labels.to(torch::kLong), options.classes()).to(torch::kFloat);  // [n, classes]
}

template <typename Self>
torch::Tensor GanBase<Self>::generate(const torch::Tensor& z, const torch::Tensor& labels) {
  return generator(z, condition(labels, z.size(0)));
}

template <typename Self>
torch::Tensor GanBase<Self>::discriminate(const torch::Tensor& x, const torch::Tensor& labels) {
  return discriminator(x, condition(labels, x.size(0)));
}

template <typename Self>
torch::Tensor GanBase<Self>::draw_labels(int64_t n) {
  if (options.classes() == 0) return {};
  return torch::multinomial(log_prior.exp(), n, /*replacement=*/true);  // [n]
}

template <typename Self>
torch::Tensor GanBase<Self>::generate_eval(const torch::Tensor& labels, int64_t n) {
  torch::NoGradGuard no_grad;
  TrainingModeGuard mode(*generator, false);
  return generator(noise(n), condition(labels, n)).detach();
}

template <typename Self>
torch::Tensor GanBase<Self>::sample(int64_t n) {
  return generate_eval(draw_labels(n), n);
}

template <typename Self>
void GanBase<Self>::set_class_prior(const torch::Tensor& labels) {
  if (options.classes() == 0 || !labels.defined() || labels.numel() == 0) return;
  torch::NoGradGuard no_grad;
  log_prior.copy_(smoothed_log_class_frequencies(labels, options.classes(), log_prior.scalar_type(), "cgan"));
}

template struct GanBase<GanImpl>;
template struct GanBase<CganImpl>;
template struct GanBase<SsganImpl>;

SsganImpl::SsganImpl(GanOptions options, int64_t labelled_count)
    : GanBase<SsganImpl>(std::move(options)), labelled_count(labelled_count) {
  add_labelled_buffers();  // the base's constructor ran the base's reset()
}

void SsganImpl::reset() {
  GanBase<SsganImpl>::reset();
  add_labelled_buffers();
}

void SsganImpl::add_labelled_buffers() {
  const int64_t k = options.d_outputs();
  TORCH_CHECK(k >= 2, "ssgan: needs >= 2 classes");
  TORCH_CHECK(labelled_count >= k && labelled_count % k == 0, "ssgan: model.labelled must be a positive multiple of the ",
              k, " classes (the same number per class), got ", labelled_count);
  std::vector<int64_t> shape{labelled_count};
  for (auto d : options.net().shape()) shape.push_back(d);
  labelled_x = register_buffer("labelled_x", torch::zeros(shape));
  labelled_y = register_buffer("labelled_y", torch::arange(labelled_count, torch::kLong) % k);
}

void SsganImpl::choose_labelled(const torch::Tensor& data, const torch::Tensor& labels, uint64_t seed) {
  if (!data.defined() || !labels.defined()) return;
  torch::NoGradGuard no_grad;
  const int64_t k = options.d_outputs(), per_class = labelled_count / k;
  // A fixed permutation of the training rows, then the first per_class
  // rows of each class in it: balanced, and the same for every run of a seed.
  auto order = torch::randperm(data.size(0), derived_generator(seed, 0x55A3), torch::kLong);
  auto y = labels.index_select(0, order);
  std::vector<torch::Tensor> rows;
  for (int64_t c = 0; c < k; ++c) {
    auto of_class = order.index_select(0, (y == c).nonzero().flatten());
    if (of_class.size(0) < per_class)
      throw Error("ssgan: model.labelled = " + std::to_string(labelled_count) + " needs " + std::to_string(per_class) +
                  " training images of class " + std::to_string(c) + ", and there are " +
                  std::to_string(of_class.size(0)));
    rows.push_back(of_class.slice(0, 0, per_class));
  }
  auto chosen = torch::cat(rows);  // [L], class-major
  labelled_x.copy_(data.index_select(0, chosen).reshape(labelled_x.sizes()));
  labelled_y.copy_(labels.index_select(0, chosen));
}

namespace {

const std::vector<PixelFormat>& gan_formats() {
  static const std::vector<PixelFormat> f{PixelFormat::Unit, PixelFormat::Symmetric, PixelFormat::Points};
  return f;
}

template <typename Module>
ModulePtr build_gan(ModelContext& ctx, AdversarialNetOptions defaults, bool arch_key, int64_t classes) {
  GanOptions o;
  o.net(read_adversarial_net_options(*ctx.config, ctx.data, std::move(defaults), arch_key)).classes(classes);
  Module model(o);
  model->generator->init_from_marginals(ctx.train_data);
  model->set_class_prior(ctx.train_labels);
  return model.ptr();
}

}  // namespace

ModelInfo gan_model_info() {
  ModelInfo info;
  info.name = "gan";
  info.family = "adversarial";
  info.description = "generative adversarial net (Goodfellow et al. 2014): MLP generator, maxout discriminator";
  info.capabilities = {Capability::Sample};
  info.accepts.formats = gan_formats();
  info.create = [](ModelContext& ctx) -> ModulePtr { return build_gan<Gan>(ctx, {}, true, 0); };
  return info;
}

ModelInfo dcgan_model_info() {
  ModelInfo info;
  info.name = "dcgan";
  info.family = "adversarial";
  info.description = "DCGAN for 28x28 images (Radford et al. 2016): transposed convolutions, BatchNorm";
  info.capabilities = {Capability::Sample};
  info.accepts.formats = {PixelFormat::Symmetric, PixelFormat::Unit};
  info.accepts.sizes = {{28, 28}};
  info.create = [](ModelContext& ctx) -> ModulePtr {
    return build_gan<Gan>(ctx, AdversarialNetOptions{}.arch(GanArch::Conv).noise(GanNoise::Gaussian), false, 0);
  };
  return info;
}

ModelInfo cgan_model_info() {
  ModelInfo info;
  info.name = "cgan";
  info.family = "adversarial";
  info.description = "conditional GAN of p(x|y) (Mirza & Osindero 2014): the label fed to G and D (mlp|conv)";
  info.capabilities = {Capability::Sample, Capability::Conditional};
  info.accepts.formats = gan_formats();
  info.accepts.labels = true;
  info.create = [](ModelContext& ctx) -> ModulePtr { return build_gan<Cgan>(ctx, {}, true, ctx.data.classes); };
  return info;
}

ModelInfo ssgan_model_info() {
  ModelInfo info;
  info.name = "ssgan";
  info.family = "adversarial";
  info.description = "semi-supervised GAN (Salimans et al. 2016): a K-class discriminator learning from few labels";
  info.capabilities = {Capability::Sample};
  info.accepts.formats = {PixelFormat::Unit, PixelFormat::Symmetric};
  info.accepts.labels = true;
  info.create = [](ModelContext& ctx) -> ModulePtr {
    Config& cfg = *ctx.config;
    auto defaults = AdversarialNetOptions{}.g_hidden(500).d_unit(DiscriminatorUnit::Relu).d_hidden(500).d_layers(3);
    GanOptions o;
    o.net(read_adversarial_net_options(cfg, ctx.data, defaults, true)).d_outputs(ctx.data.classes);
    if (o.net().pack() != 1) throw Error("ssgan classifies one image at a time: model.pack must be 1");
    const int64_t labelled = cfg.get_int("model.labelled", 100);
    if (ctx.data.classes < 2) throw Error("ssgan needs labelled data with >= 2 classes");
    if (labelled < ctx.data.classes || labelled % ctx.data.classes != 0)
      throw Error("config key 'model.labelled' must be a positive multiple of the " + std::to_string(ctx.data.classes) +
                  " classes (the same number per class), got " + std::to_string(labelled));
    Ssgan model(o, labelled);
    model->generator->init_from_marginals(ctx.train_data);
    model->choose_labelled(ctx.train_data, ctx.train_labels, static_cast<uint64_t>(cfg.get_int("model.labelled_seed", 0)));
    return model.ptr();
  };
  return info;
}

}  // namespace genzoo
