#include "genzoo/models/adversarial/gan.h"

#include <cmath>

#include "genzoo/core/error.h"

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
  net.conditions(options.classes()).d_outputs(1);
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
  auto y = labels.to(torch::kLong).flatten();
  TORCH_CHECK(y.min().item<int64_t>() >= 0 && y.max().item<int64_t>() < options.classes(),
              "cgan: training labels must be in [0, ", options.classes(), ")");
  auto counts = torch::bincount(y, {}, options.classes()).to(log_prior.scalar_type()) + 1;  // add-one
  log_prior.copy_((counts / counts.sum()).log());
}

template struct GanBase<GanImpl>;
template struct GanBase<CganImpl>;

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

}  // namespace genzoo
