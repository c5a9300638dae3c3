// The contract every registered model keeps, checked for each one built from
// a Config through the registry at a tiny size. A new model joins with one
// line in contract_cases(); a registered model without a line fails
// EveryRegisteredModelIsInTheSuite.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "explicit/autoregressive_checks.h"
#include "genzoo/core/config.h"
#include "genzoo/core/rng.h"
#include "genzoo/sampling/energy.h"
#include "genzoo/models/adversarial/gan.h"
#include "genzoo/train/checkpoint.h"
#include "genzoo/train/objectives/likelihood.h"
#include "genzoo/train/registry.h"
#include "test_support.h"

namespace genzoo {
namespace {

struct ContractCase {
  std::string model;
  /// A model that is not in the registry (a toy that exercises checks no
  /// registered model reaches yet); null for registered ones.
  const RegisteredModel* toy = nullptr;
  /// What it must implement (pinned here, so that a model that stops
  /// declaring and implementing a capability cannot skip its checks).
  std::string capabilities;
  /// Keys that make the model tiny (every one must be read by the factory).
  std::vector<std::pair<std::string, ConfigValue>> config;
};

// A toy energy model over grey [0, 1] images, so that the Energy and
// grey-pixel branches of the suite run before an energy-based family
// lands: p(x) = N(x; m, s^2 I) with E(x) = |x - m|^2 / (2 s^2); sampling
// descends dE/dx from uniform noise (input gradients, as Langevin dynamics will)
// and clamps to [0, 1]. Not registered: it is a fixture.
struct ToyEnergyImpl : torch::nn::Cloneable<ToyEnergyImpl>, Sampler, Density, Energy {
  explicit ToyEnergyImpl(int64_t dims = 9) : dims(dims) { reset(); }
  void reset() override {
    mean = register_parameter("mean", torch::full({dims}, 0.5));
    log_scale = register_parameter("log_scale", torch::zeros({1}));
  }
  torch::Tensor energy(const torch::Tensor& x) override {
    return (x.flatten(1) - mean).pow(2).sum(1) / (2 * (2 * log_scale).exp());
  }
  torch::Tensor log_prob(const torch::Tensor& x) override {
    const double d = static_cast<double>(dims);
    return -energy(x) - d * log_scale - 0.5 * d * std::log(2 * testing::kPi);
  }
  torch::Tensor sample(int64_t n) override {
    auto x = torch::rand({n, 1, 3, 3});  // [n, 1, 3, 3]
    auto e = [this](const torch::Tensor& v) { return energy(v); };
    // Steps of 0.1 s^2: x moves a tenth of the way to m each step, whatever s.
    const double step = 0.1 * (2 * log_scale).exp().item<double>();
    for (int t = 0; t < 10; ++t) x = x - step * input_gradient(e, x);
    return x.clamp(0, 1);
  }
  int64_t dims;
  torch::Tensor mean, log_scale;
};
TORCH_MODULE(ToyEnergy);

const RegisteredModel& toy_energy() {
  static const RegisteredModel entry = [] {
    RegisteredModel r;
    r.model.name = "toy_energy";
    r.model.family = "energy";
    r.model.description = "test fixture: a Gaussian energy on grey 3x3 images";
    r.model.capabilities = {Capability::Sample, Capability::Density, Capability::Energy};
    r.model.accepts.formats = {PixelFormat::Unit};
    r.model.accepts.sizes = {{3, 3}};
    r.model.create = [](ModelContext& ctx) -> ModulePtr { return ToyEnergy(ctx.data.dims()).ptr(); };
    r.objective = likelihood_objective();
    return r;
  }();
  return entry;
}

// One line per registered model (and the toy).
const std::vector<ContractCase>& contract_cases() {
  static const std::vector<ContractCase> cases{
      {"toy_energy", &toy_energy(), "sample,density,energy", {}},
      {"independent", nullptr, "sample,density,complete", {{"model.init", std::string("marginals")}}},
      {"arn", nullptr, "sample,density,complete,autoregressive", {{"model.order", int64_t{2}}}},
      {"fvsbn", nullptr, "sample,density,complete,autoregressive", {}},
      {"nade", nullptr, "sample,density,complete,autoregressive", {{"model.hidden", int64_t{6}}}},
      {"made", nullptr, "sample,density,complete,autoregressive",
       {{"model.hidden", int64_t{12}},
        {"model.layers", int64_t{2}},
        {"model.masks", int64_t{2}},
        {"model.ordering", std::string("random")},
        {"model.direct", true}}},
      {"rnade", nullptr, "sample,density,complete,autoregressive",
       {{"model.hidden", int64_t{5}}, {"model.components", int64_t{3}}}},
      {"pixelcnn", nullptr, "sample,density,complete,autoregressive",
       {{"model.channels", int64_t{3}}, {"model.blocks", int64_t{1}}, {"model.first_kernel", int64_t{3}},
        {"model.output_channels", int64_t{5}}}},
      // Widths where the suite's random weights leave some ReLU of the
      // output layers alive (with 3 and 5 units one draw killed them all,
      // and the causality check's guard saw no gradient at all).
      {"gated-pixelcnn", nullptr, "sample,density,complete,autoregressive",
       {{"model.channels", int64_t{4}}, {"model.layers", int64_t{2}}, {"model.first_kernel", int64_t{3}},
        {"model.output_channels", int64_t{8}}}},
      {"pixelrnn", nullptr, "sample,density,complete,autoregressive",
       {{"model.channels", int64_t{3}}, {"model.layers", int64_t{1}}, {"model.first_kernel", int64_t{3}},
        {"model.output_channels", int64_t{5}}}},
      {"ae", nullptr, "latent", {{"model.hidden", int64_t{8}}, {"model.layers", int64_t{1}}, {"model.latent", int64_t{3}}}},
      {"dae", nullptr, "latent",
       {{"model.hidden", int64_t{8}},
        {"model.layers", int64_t{1}},
        {"model.latent", int64_t{3}},
        {"model.noise", std::string("salt_and_pepper")},
        {"model.noise_level", 0.3}}},
      {"vae", nullptr, "sample,density,latent",
       {{"model.hidden", int64_t{8}},
        {"model.layers", int64_t{1}},
        {"model.latent", int64_t{2}},
        {"model.activation", std::string("relu")},
        {"model.eval_samples", int64_t{200}}}},
      {"cvae", nullptr, "sample,density,conditional",
       {{"model.hidden", int64_t{8}},
        {"model.layers", int64_t{1}},
        {"model.latent", int64_t{2}},
        {"model.eval_samples", int64_t{100}}}},
      {"gan", nullptr, "sample",
       {{"model.g_hidden", int64_t{8}},
        {"model.d_hidden", int64_t{6}},
        {"model.d_pieces", int64_t{2}},
        // Without dropout's noise in D's gradient, so that one step moves
        // the samples measurably toward the batch.
        {"model.d_input_dropout", 0.0},
        {"model.d_dropout", 0.0},
        {"model.noise_dims", int64_t{4}}}},
      {"dcgan", nullptr, "sample", {{"model.noise_dims", int64_t{8}}}},
      {"cgan", nullptr, "sample,conditional",
       {{"model.g_hidden", int64_t{8}},
        {"model.d_hidden", int64_t{6}},
        {"model.d_unit", std::string("relu")},
        {"model.noise_dims", int64_t{4}}}},
      {"ssgan", nullptr, "sample",
       {{"model.g_hidden", int64_t{8}},
        {"model.d_hidden", int64_t{6}},
        {"model.labelled", int64_t{6}},  // 2 of each of the 3 classes
        {"model.d_input_dropout", 0.0},
        {"model.d_dropout", 0.0},
        {"model.noise_dims", int64_t{4}}}},
      {"genconvnet", nullptr, "sample,energy",
       {{"model.layers", std::string("4x3s1p1,3x3s2p0")}, {"model.sample_steps", int64_t{3}}}},
      {"classifier", nullptr, "sample,energy,conditional",
       {{"model.layers", std::string("4x3s1p1")}, {"model.hidden", int64_t{5}}, {"model.sample_steps", int64_t{3}}}},
      {"igebm", nullptr, "sample,complete,energy",
       {{"model.filters", int64_t{4}}, {"model.sample_steps", int64_t{3}},
        {"objective.buffer_size", int64_t{40}}}},
      {"cigebm", nullptr, "sample,complete,energy,conditional",
       {{"model.filters", int64_t{4}}, {"model.arch", std::string("resnet")}, {"model.sample_steps", int64_t{3}},
        {"objective.buffer_size", int64_t{40}}}},
  };
  return cases;
}

// gtest names a failing case by this, not by its bytes.
void PrintTo(const ContractCase& c, std::ostream* os) { *os << c.model; }

constexpr int64_t kH = 3, kW = 3;  // 9 pixels: 512 binary images to enumerate
constexpr int64_t kClasses = 3;    // of the data of class-conditional models

class Contract : public ::testing::TestWithParam<ContractCase> {
 protected:
  const RegisteredModel& entry() const { return GetParam().toy ? *GetParam().toy : find_model(GetParam().model); }
  const ModelInfo& info() const { return entry().model; }

  Config config() const {
    Config c;
    for (const auto& [k, v] : GetParam().config) c.set(k, v);
    return c;
  }

  DataSpec spec() const {
    DataSpec s;
    s.format = info().accepts.formats.front();
    s.channels = info().accepts.channels.empty() ? 1 : info().accepts.channels.front();
    if (!info().accepts.sizes.empty()) std::tie(s.height, s.width) = info().accepts.sizes.front();
    else s.height = kH, s.width = kW;
    if (info().accepts.labels) s.classes = kClasses;
    return s;
  }

  /// Class labels of n examples, int64 [n] in [0, kClasses), for models
  /// that need them; undefined for the others.
  torch::Tensor labels(int64_t n, uint64_t seed) const {
    if (!info().accepts.labels) return {};
    return torch::randint(kClasses, {n}, derived_generator(seed, 0xC2), torch::kLong);
  }

  /// n examples of the data the model takes: [n, C, H, W] (or [n, 2]).
  torch::Tensor data(int64_t n, uint64_t seed) const {
    const DataSpec s = spec();
    auto gen = derived_generator(seed, 0xC0);
    if (s.points()) return torch::randn({n, 2}, gen);
    auto u = torch::rand({n, s.channels, s.height, s.width}, gen);
    switch (s.format) {
      case PixelFormat::Binary: return (u < 0.4).to(torch::kFloat);
      case PixelFormat::Levels256: return (u * 256).floor().clamp_max(255);
      case PixelFormat::Unit: return u;
      case PixelFormat::Symmetric: return u * 2 - 1;
      case PixelFormat::Points: break;
    }
    return u;
  }

  /// A model built through the registry from the case's config, with
  /// training data for data-dependent initialisation.
  ModulePtr build(uint64_t seed, Config& c) const {
    torch::manual_seed(seed);
    ModelContext ctx;
    ctx.config = &c;
    ctx.data = spec();
    ctx.train_data = data(20, 99);
    // Other labels for every seed: a class prior estimated from them (the
    // cvae's) must come back from a checkpoint, not from the build.
    ctx.train_labels = labels(20, 99 + seed);
    return create_model(info(), ctx);
  }

  /// Parameters moved off their initial values (zero weights would make
  /// causality and round trips pass vacuously).
  static void randomise(const ModulePtr& m, uint64_t seed) {
    torch::NoGradGuard g;
    auto gen = derived_generator(seed, 0xC1);
    for (auto& p : m->parameters()) p.copy_(torch::randn(p.sizes(), gen) * 0.5);
  }

  void expect_in_range(const torch::Tensor& x) const {
    ASSERT_TRUE(torch::isfinite(x).all().item<bool>());
    switch (spec().format) {
      case PixelFormat::Binary: EXPECT_TRUE(((x == 0) | (x == 1)).all().item<bool>()); break;
      case PixelFormat::Levels256:
        EXPECT_TRUE((x == x.round()).all().item<bool>());
        EXPECT_GE(x.min().item<double>(), 0);
        EXPECT_LE(x.max().item<double>(), 255);
        break;
      case PixelFormat::Unit:
        EXPECT_GE(x.min().item<double>(), 0);
        EXPECT_LE(x.max().item<double>(), 1);
        break;
      case PixelFormat::Symmetric:
        EXPECT_GE(x.min().item<double>(), -1);
        EXPECT_LE(x.max().item<double>(), 1);
        break;
      case PixelFormat::Points: break;
    }
  }
};

TEST(ContractSuite, EveryRegisteredModelIsInTheSuite) {
  for (const auto& name : model_names()) {
    auto it = std::find_if(contract_cases().begin(), contract_cases().end(),
                           [&](const ContractCase& c) { return c.model == name; });
    EXPECT_NE(it, contract_cases().end()) << "model '" << name
                                          << "' is registered but has no line in contract_cases()";
  }
  for (const auto& c : contract_cases()) {
    if (!c.toy) {
      EXPECT_NO_THROW(find_model(c.model)) << c.model;
    }
  }
}

TEST_P(Contract, BuildsFromItsConfigAndImplementsWhatItDeclares) {
  Config c = config();
  auto model = build(1, c);
  ASSERT_TRUE(model);
  EXPECT_NO_THROW(c.check_all_used()) << "a key of the case is not read by the factory";
  EXPECT_EQ(capability_list(implemented_capabilities(model)), capability_list(info().capabilities));
  EXPECT_EQ(capability_list(info().capabilities), GetParam().capabilities);
  EXPECT_FALSE(info().accepts.formats.empty());
  EXPECT_EQ(data_mismatch(info(), spec()), "");
  // Another format than the ones it declares is refused with a fix.
  for (auto f : {PixelFormat::Binary, PixelFormat::Levels256, PixelFormat::Unit, PixelFormat::Symmetric, PixelFormat::Points}) {
    auto& formats = info().accepts.formats;
    if (std::find(formats.begin(), formats.end(), f) != formats.end()) continue;
    DataSpec other = spec();
    other.format = f;
    EXPECT_NE(data_mismatch(info(), other), "") << pixel_format_names().name(f);
  }
  // A class-conditional model refuses data without labels, with the fix.
  if (info().accepts.labels) {
    DataSpec unlabelled = spec();
    unlabelled.classes = 0;
    EXPECT_NE(data_mismatch(info(), unlabelled).find("class labels"), std::string::npos);
  }
}

TEST_P(Contract, CheckpointRoundTripGivesIdenticalOutputs) {
  testing::TempDir dir;
  Config ca = config();
  auto a = build(1, ca);
  randomise(a, 1);
  auto objective = entry().objective.create(a, ca);
  FixedBatch batch(data(8, 2), labels(8, 2));
  objective->step(batch);  // optimizer state and buffers (MADE's mask cycle) move on
  TrainerState state;
  state.global_step = 1;
  save_checkpoint(dir.path(), *a, objective.get(), state, ca.to_toml());

  Config cb = config();
  auto b = build(2, cb);  // another initialisation: what matches comes from the file
  auto objective_b = entry().objective.create(b, cb);
  load_checkpoint(checkpoint_path(dir.path()), *b, objective_b.get());
  a->eval();
  b->eval();
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  auto ba = a->named_buffers(), bb = b->named_buffers();
  for (const auto& p : ba) EXPECT_TRUE(torch::equal(p.value(), bb[p.key()])) << p.key();
  auto x = data(6, 3);
  torch::NoGradGuard no_grad;
  // Seeded before each call: an estimated density (importance sampling) draws.
  auto seeded = [](auto f) {
    torch::manual_seed(11);
    return f();
  };
  if (auto da = as<Density>(a)) {
    auto db = as<Density>(b);
    EXPECT_TRUE(torch::equal(seeded([&] { return da->log_prob(x); }), seeded([&] { return db->log_prob(x); })));
  }
  if (auto ea = as<Energy>(a)) {
    EXPECT_TRUE(torch::equal(ea->energy(x), as<Energy>(b)->energy(x)));
  }
  if (auto la = as<Latent>(a)) {
    auto lb = as<Latent>(b);
    EXPECT_TRUE(torch::equal(la->encode(x), lb->encode(x)));
    auto z = la->encode(x);
    EXPECT_TRUE(torch::equal(la->decode(z), lb->decode(z)));
  }
  if (auto sa = as<Sampler>(a)) {
    torch::manual_seed(5);
    auto s1 = draw_samples(*sa, 5);
    torch::manual_seed(5);
    auto s2 = draw_samples(*as<Sampler>(b), 5);
    EXPECT_TRUE(torch::equal(s1, s2));
  }
}

TEST_P(Contract, OneOptimisationStepOnAFixedBatchLowersTheLoss) {
  Config c = config();
  auto model = build(3, c);
  auto objective = entry().objective.create(model, c);
  auto x = data(16, 4), y = labels(16, 4);
  // A semi-supervised model learns its labels from the few labelled
  // examples it keeps, not from the batch (whose labels it ignores): it is
  // scored on those.
  Examples scored(x, y);
  if (auto ss = as<SemiSupervised>(model)) scored = Examples(ss->labelled_images(), ss->labelled_labels());
  const auto held_out = objective->held_out_metrics();
  ASSERT_FALSE(held_out.empty());
  auto score = [&] {
    RngStateGuard guard;
    auto m = objective->evaluate(scored, 16);
    auto it = std::find_if(m.begin(), m.end(), [&](const auto& kv) { return kv.first == held_out.front(); });
    EXPECT_NE(it, m.end()) << "evaluate() does not return its first held-out metric " << held_out.front();
    return it == m.end() ? 0.0 : it->second;
  };
  const double before = score();
  FixedBatch batch(x, y);
  Metrics m = objective->step(batch);
  EXPECT_GE(batch.taken(), 1);
  for (const auto& name : objective->progress_metrics())
    EXPECT_TRUE(std::any_of(m.begin(), m.end(), [&](const auto& kv) { return kv.first == name; }))
        << "step() does not report its progress metric " << name;
  const double after = score();
  EXPECT_LT(after, before) << held_out.front() << " before " << before << ", after one step " << after;
}

TEST_P(Contract, SamplesHaveTheDeclaredShapeAndRange) {
  auto sampler_caps = info().capabilities;
  if (!has_capability(sampler_caps, Capability::Sample)) GTEST_SKIP() << "does not sample";
  Config c = config();
  auto model = build(4, c);
  randomise(model, 4);
  model->eval();
  torch::manual_seed(6);
  auto s = draw_samples(*as<Sampler>(model), 7);
  const DataSpec sp = spec();
  const std::vector<int64_t> want = sp.points() ? std::vector<int64_t>{7, 2}
                                                : std::vector<int64_t>{7, sp.channels, sp.height, sp.width};
  EXPECT_EQ(s.sizes().vec(), want);
  EXPECT_FALSE(s.requires_grad());
  expect_in_range(s);
}

TEST_P(Contract, ClassConditionalSamplesFollowTheirLabels) {
  if (!has_capability(info().capabilities, Capability::Conditional)) GTEST_SKIP() << "not class-conditional";
  Config c = config();
  auto model = build(10, c);
  randomise(model, 10);
  model->eval();
  auto conditional = as<ClassConditional>(model);
  ASSERT_EQ(conditional->classes(), kClasses);
  torch::manual_seed(13);
  auto rows = draw_class_rows(*conditional, 4);  // [kClasses * 4, ...]
  const DataSpec sp = spec();
  EXPECT_EQ(rows.sizes().vec(), (std::vector<int64_t>{kClasses * 4, sp.channels, sp.height, sp.width}));
  EXPECT_FALSE(rows.requires_grad());
  expect_in_range(rows);
  // The label reaches the samples: the same noise under another label gives another image.
  torch::manual_seed(14);
  auto a = draw_given(*conditional, torch::zeros({64}, torch::kLong));
  torch::manual_seed(14);
  auto b = draw_given(*conditional, torch::ones({64}, torch::kLong));
  EXPECT_FALSE(torch::equal(a, b));
  torch::NoGradGuard no_grad;
  EXPECT_ANY_THROW(conditional->sample_given(torch::full({2}, kClasses, torch::kLong)));
}

TEST_P(Contract, ADensityOfBinaryImagesSumsToOneOverEveryImage) {
  if (!has_capability(info().capabilities, Capability::Density) || spec().format != PixelFormat::Binary)
    GTEST_SKIP() << "no density over binary images";
  Config c = config();
  auto model = build(5, c);
  randomise(model, 5);
  model->eval();
  auto density = as<Density>(model);
  auto total = [&] { return testing::total_probability([&](const torch::Tensor& x) { return density->log_prob(x); }, kH, kW); };
  if (density->bound() == Bound::Exact) {
    EXPECT_NEAR(total(), 1.0, 1e-4);
    return;
  }
  // An estimate whose log is a lower bound in expectation (importance
  // sampling): its exp is unbiased for p(x), but its weights are heavy-tailed,
  // so a typical total falls below 1 (0.8 for the tiny VAE here) and the
  // check is one-sided: over repeated draws the totals do not exceed 1 by
  // more than their standard error allows. (tests/models/latent/vae_test.cpp
  // checks the VAE's normalisation exactly, by quadrature over z.)
  torch::manual_seed(12);
  std::vector<double> totals;
  for (int r = 0; r < 20; ++r) totals.push_back(total());
  auto t = torch::tensor(totals, torch::kFloat64);
  const double mean = t.mean().item<double>(), se = t.std().item<double>() / std::sqrt(20.0);
  EXPECT_LE(mean, 1.0 + std::max(4 * se, 1e-3)) << "se " << se;
  EXPECT_GT(mean, 0.0);
}

TEST_P(Contract, AutoregressiveConditionalsSeeOnlyEarlierPixels) {
  if (!has_capability(info().capabilities, Capability::Autoregressive)) GTEST_SKIP() << "not autoregressive";
  Config c = config();
  auto model = build(6, c);
  randomise(model, 6);
  model->eval();
  auto ar = as<Autoregressive>(model);
  ASSERT_GE(ar->orderings(), 1);
  for (int64_t k = 0; k < ar->orderings(); ++k) {
    auto projection = torch::randn({256});
    testing::expect_autoregressive(
        [&](const torch::Tensor& x) {
          auto out = ar->conditionals(x, k);  // [N, D] or [N, D, K]
          if (out.dim() == 3) out = (out * projection.slice(0, 0, out.size(2))).sum(2);
          return out;
        },
        ar->generation_rank(k), kH, kW);
  }
}

TEST_P(Contract, CompletionKeepsEveryObservedPixel) {
  if (!has_capability(info().capabilities, Capability::Complete)) GTEST_SKIP() << "does not complete";
  Config c = config();
  auto model = build(7, c);
  randomise(model, 7);
  model->eval();
  auto completer = as<Completer>(model);
  auto x = data(32, 8);
  auto observed = torch::rand(x.sizes(), derived_generator(8, 1)) < 0.5;
  torch::NoGradGuard no_grad;
  auto y = completer->complete(x, observed);
  ASSERT_EQ(y.sizes(), x.sizes());
  EXPECT_TRUE(torch::equal(y.masked_select(observed), x.masked_select(observed)));
  expect_in_range(y);
  EXPECT_FALSE(torch::equal(y, x)) << "nothing was sampled";
}

TEST_P(Contract, AnEnergyIsFiniteAndDifferentiableInX) {
  if (!has_capability(info().capabilities, Capability::Energy)) GTEST_SKIP() << "no energy";
  Config c = config();
  auto model = build(8, c);
  randomise(model, 8);
  auto energy = as<Energy>(model);
  auto x = data(5, 9);
  auto [e, grad] = energy_and_input_gradient([&](const torch::Tensor& v) { return energy->energy(v); }, x);
  EXPECT_EQ(e.sizes().vec(), std::vector<int64_t>{5});
  EXPECT_TRUE(torch::isfinite(e).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(grad).all().item<bool>());
  EXPECT_GT(grad.abs().max().item<double>(), 0.0);
}

TEST_P(Contract, ALatentModelEncodesAndDecodesInItsShapes) {
  if (!has_capability(info().capabilities, Capability::Latent)) GTEST_SKIP() << "no latent";
  Config c = config();
  auto model = build(9, c);
  randomise(model, 9);
  model->eval();
  auto latent = as<Latent>(model);
  auto x = data(5, 10);
  torch::NoGradGuard no_grad;
  auto z = latent->encode(x);
  ASSERT_EQ(z.dim(), 2);
  EXPECT_EQ(z.size(0), 5);
  EXPECT_TRUE(torch::isfinite(z).all().item<bool>());
  auto y = latent->decode(z);  // the decoder's mean
  EXPECT_EQ(y.sizes(), x.sizes());
  ASSERT_TRUE(torch::isfinite(y).all().item<bool>());
  const auto f = spec().format;
  const double lo = f == PixelFormat::Symmetric ? -1 : 0, hi = f == PixelFormat::Levels256 ? 255 : 1;
  EXPECT_GE(y.min().item<double>(), lo);
  EXPECT_LE(y.max().item<double>(), hi);
}

INSTANTIATE_TEST_SUITE_P(Registered, Contract, ::testing::ValuesIn(contract_cases()),
                         [](const ::testing::TestParamInfo<ContractCase>& p) {
                           // gtest names allow letters, digits and '_' only (gated-pixelcnn).
                           std::string name = p.param.model;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace genzoo
