#include "metric_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "genzoo/core/error.h"
#include "genzoo/core/files.h"
#include "genzoo/core/rng.h"
#include "genzoo/core/timer.h"
#include "genzoo/data/toy2d.h"
#include "genzoo/eval/auroc.h"
#include "genzoo/eval/robustness.h"
#include "genzoo/eval/likelihood.h"
#include "genzoo/eval/modes.h"
#include "genzoo/eval/ms_ssim.h"
#include "genzoo/eval/texture.h"
#include "genzoo/eval/parzen.h"
#include "genzoo/eval/image_quality.h"
#include "genzoo/models/adversarial/gan.h"
#include "genzoo/models/latent/autoencoder.h"
#include "genzoo/models/latent/vae.h"

namespace genzoo::cli {

namespace {

constexpr double kSampleMemoryBudget = 4e9;  // bytes of double samples Parzen may hold

void put(nlohmann::json& out, const NamedValues& values) {
  for (const auto& [k, v] : values) out[k] = v;
}

// The checks every sample metric shares: with a model, it must sample.
std::string needs_samples(const EvalContext& ctx) {
  if (ctx.model && !as<Sampler>(ctx.model)) return "needs samples, and '" + ctx.model_name + "' cannot sample";
  return "";
}

std::string needs_feature_net(const EvalContext& ctx) {
  if (auto why = needs_samples(ctx); !why.empty()) return why;
  if (!ctx.images) return "needs image data, not '" + ctx.dataset + "'";
  if (!file_exists(feature_net_info(ctx.dataset).path))
    return "needs a feature network (fashion-mnist or mnist-10k), not '" + ctx.dataset + "'";
  return "";
}

int64_t none(int64_t) { return 0; }
int64_t all(int64_t requested) { return requested; }

FeatureMetricsRequest feature_request(const EvalContext& ctx) {
  FeatureMetricsRequest r;
  r.seed = ctx.seed;
  return r;
}

// The keys every feature metric reports beside its own.
void put_feature_counts(EvalContext& ctx, const torch::Tensor& samples, nlohmann::json& out) {
  const FeatureSets& f = ctx.features(samples);
  out["feature_net"] = ctx.feature_net_id;
  if (std::getenv("GENZOO_FEATURE_CACHE"))
    out["reference_features"] = ctx.reference_features_cached ? "read from the feature cache" : "extracted";
  out["seconds_features"] = f.seconds;
  out["reference_count"] = ctx.reference_view.size(0);
  out["generated_count"] = samples.size(0);
}

MetricEntry feature_entry(const std::string& name,
                          std::function<NamedValues(const FeatureSets&, const FeatureMetricsRequest&)> values) {
  return {name, needs_feature_net, all, [values](EvalContext& ctx, const torch::Tensor& samples, nlohmann::json& out) {
            put_feature_counts(ctx, samples, out);
            put(out, values(ctx.features(samples), feature_request(ctx)));
          }};
}

MetricEntry nll_entry() {
  return {"nll",
          [](const EvalContext& ctx) -> std::string {
            if (!ctx.model) return "needs a trained run: images given with --images have no density";
            if (!as<Density>(ctx.model)) return "needs a density, and '" + ctx.model_name + "' has none";
            return "";
          },
          none,
          [](EvalContext& ctx, const torch::Tensor&, nlohmann::json& out) {
            auto density = as<Density>(ctx.model);
            LikelihoodResult r = evaluate_likelihood(*density, ctx.scored, 1000, ctx.dequantized);
            out["nll_nats"] = r.nll_nats;
            out["nll_stderr"] = r.nll_stderr;
            // A density over continuous pixels has discrete bits/dim only on
            // dequantised data.
            if (!density->continuous() || ctx.dequantized) out["bits_per_dim"] = r.bits_per_dim;
            out["nll_examples"] = r.examples;
            std::string is = r.bound ? "lower bound on log p in expectation (importance sampled; an upper bound on nll)"
                                     : "exact";
            if (density->continuous())
              is += ctx.dequantized ? ", a density over dequantised pixels"
                                    : ", a density over continuous pixels (not a discrete likelihood: train with "
                                      "--set data.dequantize=true for bits/dim)";
            out["nll_is"] = is;
            if (!ctx.images && toy2d_has_density(ctx.dataset))
              out["nll_true_density"] = -toy2d_log_density(ctx.dataset, ctx.scored).mean().item<double>();
          }};
}

// The negative ELBO, -L_1 = -E_q[log p(x|z)] + KL, an upper bound on the
// NLL, beside the importance-sampled estimate of `nll` (Burda et al. 2016
// report both). One draw of z per image. A class-conditional model bounds
// -log p(x | y) for the image's own label y; since log p(x) >= log p(y) +
// log p(x | y), -L_1(x, y) - log p(y) bounds the NLL of the marginal, and
// that is the number beside `nll` (neg_elbo_nats) for it.
MetricEntry elbo_entry() {
  return {"elbo",
          [](const EvalContext& ctx) -> std::string {
            if (!ctx.model) return "needs a trained run: images given with --images have no bound";
            if (!as<VariationalBound>(ctx.model))
              return "needs a latent-variable model with a variational bound, and '" + ctx.model_name + "' has none";
            return "";
          },
          none,
          [](EvalContext& ctx, const torch::Tensor&, nlohmann::json& out) {
            auto bound = as<VariationalBound>(ctx.model);
            torch::NoGradGuard no_grad;
            std::vector<torch::Tensor> parts;
            if (bound->needs_labels() && !ctx.scored_labels.defined())
              throw Error("the " + ctx.split + " split has no class labels, and '" + ctx.model_name +
                          "' bounds log p(x | label)");
            for (int64_t i = 0; i < ctx.scored.size(0); i += 1000) {
              const int64_t end = std::min(i + 1000, ctx.scored.size(0));
              auto labels = ctx.scored_labels.defined() ? ctx.scored_labels.slice(0, i, end) : torch::Tensor();
              parts.push_back(-bound->labelled_bound_terms(ctx.scored.slice(0, i, end), labels, 1).bound.to(torch::kFloat64));
            }
            auto neg = torch::cat(parts);  // [N] nats
            if (auto conditional = as<ClassConditional>(ctx.model); conditional && ctx.scored_labels.defined()) {
              out["neg_elbo_given_label_nats"] = neg.mean().item<double>();
              neg = neg - conditional->class_log_prior().index_select(0, ctx.scored_labels);  // [N]
              out["neg_elbo_of"] = "-log p(x): -L_1(x, y) - log p(y) with the image's own label y";
            } else {
              out["neg_elbo_of"] = "-log p(x)";
            }
            const double n = static_cast<double>(neg.size(0));
            out["neg_elbo_nats"] = neg.mean().item<double>();
            out["neg_elbo_stderr"] = n > 1 ? neg.std().item<double>() / std::sqrt(n) : 0.0;
            auto density = as<Density>(ctx.model);
            if (!density || !density->continuous() || ctx.dequantized)
              out["neg_elbo_bits_per_dim"] = bits_per_dim(neg.mean().item<double>(), ctx.dims, ctx.dequantized);
          }};
}

// An autoencoder's held-out reconstruction: -log p(x | z = h(x)) in nats
// and the PSNR of the decoder's mean against x, in the compared view.
MetricEntry reconstruction_entry() {
  return {"reconstruction",
          [](const EvalContext& ctx) -> std::string {
            if (!ctx.model) return "needs a trained run";
            if (!as<Reconstructor>(ctx.model)) return "needs an autoencoder (ae, dae), and '" + ctx.model_name + "' is not one";
            if (!ctx.images) return "needs image data";
            return "";
          },
          none,
          [](EvalContext& ctx, const torch::Tensor&, nlohmann::json& out) {
            auto model = as<Reconstructor>(ctx.model);
            torch::NoGradGuard no_grad;
            std::vector<torch::Tensor> nll, quality;
            for (int64_t i = 0; i < ctx.scored.size(0); i += 1000) {
              auto x = ctx.scored.slice(0, i, std::min(i + 1000, ctx.scored.size(0)));
              nll.push_back(-model->reconstruction_log_prob(x, x).to(torch::kFloat64));
              quality.push_back(psnr(ctx.to_view(model->reconstruct(x)), ctx.to_view(x)));
            }
            auto n = torch::cat(nll), q = torch::cat(quality);
            out["reconstruction_nats"] = n.mean().item<double>();
            out["reconstruction_stderr"] = n.size(0) > 1 ? n.std().item<double>() / std::sqrt(n.size(0)) : 0.0;
            out["reconstruction_psnr_db"] = q.mean().item<double>();
          }};
}

MetricEntry auroc_entry() {
  return {"auroc",
          [](const EvalContext& ctx) -> std::string {
            if (!ctx.model) return "needs a trained run: its density or energy scores the images";
            if (!as<Density>(ctx.model) && !as<Energy>(ctx.model))
              return "needs a density or an energy, and '" + ctx.model_name + "' has neither";
            if (ctx.ood.empty()) return "needs --ood DATASET";
            return "";
          },
          none,
          [](EvalContext& ctx, const torch::Tensor&, nlohmann::json& out) {
            auto out_x = ctx.ood_data(ctx.ood);
            // The model's own score, higher = more in-distribution: log p(x)
            // (or its bound) for density models, -E(x) for energy models.
            auto density = as<Density>(ctx.model);
            auto energy = as<Energy>(ctx.model);
            torch::NoGradGuard no_grad;
            auto score = [&](const torch::Tensor& x) {
              std::vector<torch::Tensor> parts;
              for (int64_t i = 0; i < x.size(0); i += 1000) {
                auto rows = x.slice(0, i, std::min(i + 1000, x.size(0)));
                parts.push_back(density ? density->log_prob(rows) : -energy->energy(rows));
              }
              return torch::cat(parts).to(torch::kFloat64);
            };
            RocResult r = roc_scores(score(ctx.scored), score(out_x));
            out["auroc"] = r.auroc;
            out["fpr_at_95_tpr"] = r.fpr_at_95_tpr;
            out["auroc_ood"] = ctx.ood;
            out["auroc_score"] =
                density ? (density->bound() == Bound::Exact ? "log p(x)" : "lower bound on log p(x)") : "-energy(x)";
            out["auroc_counts"] = {r.in_count, r.out_count};
          }};
}

MetricEntry parzen_entry() {
  return {"parzen",
          [](const EvalContext& ctx) -> std::string {
            if (auto why = needs_samples(ctx); !why.empty()) return why;
            // 2 rows to choose sigma from, and 2 to score (a standard
            // error) besides them when they come from the scored split.
            if (ctx.parzen_sigma_pool < 2) return "needs at least 2 held-out rows to choose sigma on";
            const int64_t scored = ctx.reference_view.defined() ? ctx.reference_view.size(0) : 0;
            const int64_t left = ctx.parzen_sigma_from_scored ? scored - std::min<int64_t>(1000, scored / 2) : scored;
            if (left < 2)
              return "needs at least 2 " + ctx.split + " examples to score" +
                     (ctx.parzen_sigma_from_scored ? " besides the rows sigma is chosen on" : "");
            // Samples and data are held in double.
            if (8.0 * static_cast<double>(ctx.requested) * static_cast<double>(ctx.dims) >= kSampleMemoryBudget)
              return "needs " + std::to_string(ctx.requested) + " samples of " + std::to_string(ctx.dims) +
                     " dimensions in memory: lower --samples";
            return "";
          },
          all,
          [](EvalContext& ctx, const torch::Tensor& samples, nlohmann::json& out) {
            // Goodfellow et al. 2014: the samples as centres, sigma chosen on
            // held-out rows, the mean log-density of the scored split.
            ctx.choose_parzen_rows(ctx);
            ParzenResult p = parzen_evaluate(samples.flatten(1), ctx.parzen_sigma_view.flatten(1),
                                             ctx.parzen_scored_view.flatten(1));
            out["parzen_mean"] = p.mean;
            out["parzen_stderr"] = p.stderr_mean;
            out["parzen_sigma"] = p.sigma;
            out["parzen_centres"] = p.centres;
            out["parzen_scored"] = p.test_count;
            out["parzen_sigma_rows"] = ctx.parzen_sigma_rows;
          }};
}

MetricEntry modes_entry() {
  return {"modes",
          [](const EvalContext& ctx) -> std::string {
            if (auto why = needs_samples(ctx); !why.empty()) return why;
            if (ctx.dataset != "ring8" && ctx.dataset != "grid25")
              return "needs ring8 or grid25, not '" + ctx.dataset + "'";
            return "";
          },
          [](int64_t requested) { return std::min<int64_t>(requested, 2500); },  // the mode-collapse protocol
          [](EvalContext& ctx, const torch::Tensor& samples, nlohmann::json& out) {
            ModeCoverage m = mode_coverage(samples, toy2d_modes(ctx.dataset), toy2d_sigma(ctx.dataset));
            out["modes_captured"] = m.modes_captured;
            out["modes_total"] = m.modes_total;
            out["high_quality_share"] = m.high_quality_share;
            out["mode_reverse_kl"] = std::isfinite(m.reverse_kl) ? nlohmann::json(m.reverse_kl) : nlohmann::json("inf");
            out["modes_samples"] = m.samples;
          }};
}

MetricEntry texture_entry() {
  return {"texture",
          [](const EvalContext& ctx) -> std::string {
            if (auto why = needs_samples(ctx); !why.empty()) return why;
            if (!ctx.images) return "needs image data, not '" + ctx.dataset + "'";
            if (ctx.reference_view.dim() != 4 || ctx.reference_view.size(0) != 1)
              return "compares syntheses with one source image: it needs a single-image dataset (texture:NAME, or a "
                     "folder: of one photograph)";
            return "";
          },
          [](int64_t requested) { return std::max<int64_t>(1, std::min<int64_t>(requested, 8)); },
          [](EvalContext& ctx, const torch::Tensor& samples, nlohmann::json& out) {
            auto t = texture_similarity(samples, ctx.reference_view[0], ctx.seed);
            out["texture_spectrum_distance"] = t.spectrum;
            out["texture_spectrum_distance_stderr"] = t.spectrum_stderr;
            out["texture_histogram_distance"] = t.histogram;
            out["texture_histogram_distance_stderr"] = t.histogram_stderr;
            out["texture_spectrum_distance_floor"] = t.spectrum_floor;
            out["texture_histogram_distance_floor"] = t.histogram_floor;
            out["texture_spectrum_distance_noise"] = t.spectrum_noise;
            out["texture_histogram_distance_noise"] = t.histogram_noise;
            out["texture_syntheses"] = t.syntheses;
            out["texture_compared_size"] = std::to_string(t.compared_height) + "x" + std::to_string(t.compared_width);
          }};
}

MetricEntry ms_ssim_entry() {
  return {"ms_ssim",
          [](const EvalContext& ctx) -> std::string {
            if (auto why = needs_samples(ctx); !why.empty()) return why;
            if (!ctx.images) return "needs image data, not '" + ctx.dataset + "'";
            if (ctx.reference_view.dim() != 4 ||
                std::min(ctx.reference_view.size(2), ctx.reference_view.size(3)) < MsSsimOptions{}.window)
              return "needs images of at least 7 x 7 pixels";
            return "";
          },
          [](int64_t requested) { return std::max<int64_t>(2, std::min<int64_t>(requested, 1000)); },
          [](EvalContext& ctx, const torch::Tensor& samples, nlohmann::json& out) {
            // Odena et al. 2017: the mean MS-SSIM of random pairs; the same
            // for pairs of real images of the scored split beside it.
            constexpr int64_t kPairs = 1000, kPerClass = 100, kClassPairs = 200;
            auto put_pairs = [&](const std::string& key, const PairwiseMsSsim& p) {
              out[key] = p.mean;
              out[key + "_stderr"] = p.stderr_mean;
            };
            put_pairs("ms_ssim_samples", random_pair_ms_ssim(samples, kPairs, ctx.seed));
            put_pairs("ms_ssim_data", random_pair_ms_ssim(ctx.reference_view, kPairs, ctx.seed));
            out["ms_ssim_pairs"] = kPairs;
            out["ms_ssim_scales"] = ms_ssim_scales(std::min(samples.size(2), samples.size(3)));
            // A class-conditional model: within each class, against the
            // real images of that class.
            auto conditional = ctx.model ? as<ClassConditional>(ctx.model) : nullptr;
            if (!conditional || !ctx.scored_labels.defined()) return;
            std::vector<double> gen, real;
            for (int64_t c = 0; c < conditional->classes(); ++c) {
              RngStateGuard guard;
              torch::manual_seed(mix_seed(ctx.seed, 0x55A2, static_cast<uint64_t>(c)));
              auto drawn = ctx.to_view(draw_given(*conditional, torch::full({kPerClass}, c, torch::kLong)));
              gen.push_back(random_pair_ms_ssim(drawn, kClassPairs, ctx.seed + c).mean);
              auto rows = (ctx.scored_labels == c).nonzero().flatten();
              real.push_back(rows.size(0) >= 2
                                 ? random_pair_ms_ssim(ctx.reference_view.index_select(0, rows), kClassPairs, ctx.seed + c).mean
                                 : std::nan(""));
            }
            out["ms_ssim_per_class_samples"] = gen;
            out["ms_ssim_per_class_data"] = real;
          }};
}

// The logits of a classifying model: the classifier's own, or the
// semi-supervised GAN's discriminator's; null when it has none.
std::function<torch::Tensor(const torch::Tensor&)> class_logits_of(const ModulePtr& model) {
  if (!model) return nullptr;
  if (auto c = as<Classifier>(model)) return [c](const torch::Tensor& x) { return c->class_logits(x); };
  if (auto s = as<SemiSupervised>(model)) return [s](const torch::Tensor& x) { return s->class_logits(x); };
  return nullptr;
}

// The classifier's logits restricted to eval --classes: the other classes'
// logits sink to -1e30, so argmax (and an attack's cross-entropy) choose
// among the scored classes only; unchanged when no classes are given.
std::function<torch::Tensor(const torch::Tensor&)> scored_class_logits(const EvalContext& ctx) {
  auto logits = class_logits_of(ctx.model);
  if (ctx.classes.empty()) return logits;
  return [logits, classes = ctx.classes](const torch::Tensor& x) {
    auto l = logits(x);
    auto candidate = torch::zeros({l.size(1)}, torch::kBool);
    for (int64_t c : classes)
      if (c < l.size(1)) candidate[c] = true;
    return l.masked_fill(~candidate, -1e30);
  };
}

MetricEntry accuracy_entry() {
  return {"accuracy",
          [](const EvalContext& ctx) -> std::string {
            if (!class_logits_of(ctx.model)) return "needs a classifying model (classifier, cigebm, ssgan)";
            if (!ctx.scored_labels.defined()) return "needs the class labels of the scored split";
            return "";
          },
          [](int64_t) { return int64_t{0}; },
          [](EvalContext& ctx, const torch::Tensor&, nlohmann::json& out) {
            auto logits = scored_class_logits(ctx);
            torch::NoGradGuard no_grad;
            ctx.model->eval();
            const int64_t n = ctx.scored.size(0);
            if (n == 0) throw Error("accuracy: no example of the scored classes in the " + ctx.split + " split");
            auto correct = torch::zeros({n}, torch::kFloat64);
            std::vector<std::vector<int64_t>> confusion;  // [true class][predicted class], counts
            for (int64_t i = 0; i < n; i += 1000) {
              const int64_t end = std::min(i + 1000, n);
              auto l = logits(ctx.scored.slice(0, i, end));
              auto pred = l.argmax(1);
              auto truth = ctx.scored_labels.slice(0, i, end).to(torch::kLong);
              correct.slice(0, i, end).copy_((pred == truth).to(torch::kFloat64));
              const auto k = static_cast<size_t>(l.size(1));
              if (confusion.empty()) confusion.assign(k, std::vector<int64_t>(k, 0));
              auto p = pred.accessor<int64_t, 1>();
              auto t = truth.accessor<int64_t, 1>();
              for (int64_t r = 0; r < p.size(0); ++r) {
                const auto truth_class = static_cast<size_t>(t[r]), predicted = static_cast<size_t>(p[r]);
                if (t[r] >= 0 && truth_class < k) ++confusion[truth_class][predicted];
              }
            }
            out["accuracy"] = correct.mean().item<double>();
            out["accuracy_confusion"] = confusion;
            out["accuracy_stderr"] = n > 1 ? correct.std().item<double>() / std::sqrt(static_cast<double>(n)) : 0.0;
            out["accuracy_rows"] = n;
            if (!ctx.classes.empty()) out["accuracy_classes"] = ctx.classes;
            if (auto s = as<SemiSupervised>(ctx.model)) out["labelled_examples"] = s->labelled_images().size(0);
          }};
}

// Accuracy under an L∞ PGD attack (eval/robustness.h) at several radii, on
// kRobustRows seeded random scored rows, kRobustSteps gradient-sign steps
// each, choosing among --classes as accuracy does.
MetricEntry robust_accuracy_entry() {
  static constexpr int64_t kRobustRows = 500, kRobustSteps = 10;
  return {"robust_accuracy",
          [](const EvalContext& ctx) -> std::string {
            if (!class_logits_of(ctx.model)) return "needs a classifying model (classifier, cigebm, ssgan)";
            if (!ctx.scored_labels.defined()) return "needs the class labels of the scored split";
            if (!ctx.images || !ctx.unit_range) return "needs images with grey values in [0, 1] (the attack's range)";
            return "";
          },
          [](int64_t) { return int64_t{0}; },
          [](EvalContext& ctx, const torch::Tensor&, nlohmann::json& out) {
            auto logits = scored_class_logits(ctx);
            ctx.model->eval();
            const int64_t n = std::min<int64_t>(kRobustRows, ctx.scored.size(0));
            if (n == 0) throw Error("robust_accuracy: the scored split is empty");
            // Seeded random rows: some splits are stored class by class.
            auto rows = torch::randperm(ctx.scored.size(0), derived_generator(ctx.seed, 0x726f62),
                                        torch::TensorOptions(torch::kLong))
                            .slice(0, 0, n);
            const std::vector<double> radii{0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3};
            auto r = robust_accuracy(logits, ctx.scored.index_select(0, rows), ctx.scored_labels.index_select(0, rows),
                                     radii, kRobustSteps);
            nlohmann::json table = nlohmann::json::array();
            for (const auto& e : r) table.push_back({{"epsilon", e.epsilon}, {"accuracy", e.accuracy}, {"stderr", e.stderr_}});
            out["robust_accuracy"] = table;
            out["robust_accuracy_rows"] = n;
            out["robust_accuracy_attack"] = "L-inf PGD, " + std::to_string(kRobustSteps) + " steps of 2.5 eps / steps, in [0, 1]";
          },
          /*on_request=*/true};
}

// Do a class-conditional model's samples look like their class to an
// independent judge? The shipped feature network classifies kSamplesPerClass
// samples drawn for each class; the share it puts in the class asked for.
MetricEntry sample_accuracy_entry() {
  constexpr int64_t kSamplesPerClass = 100;
  return {"sample_accuracy",
          [](const EvalContext& ctx) -> std::string {
            if (!ctx.model || !as<ClassConditional>(ctx.model))
              return "needs a class-conditional model (cvae, cgan, classifier)";
            if (!ctx.images) return "needs image data, not '" + ctx.dataset + "'";
            if (!file_exists(feature_net_info(ctx.dataset).path))
              return "needs a feature network (fashion-mnist or mnist-10k), not '" + ctx.dataset + "'";
            return "";
          },
          none,
          [](EvalContext& ctx, const torch::Tensor&, nlohmann::json& out) {
            auto conditional = as<ClassConditional>(ctx.model);
            FeatureNet net = load_feature_net(ctx.dataset);
            const int64_t k = conditional->classes();
            std::vector<double> per_class;
            auto correct = torch::zeros({k * kSamplesPerClass}, torch::kFloat64);
            for (int64_t c = 0; c < k; ++c) {
              RngStateGuard guard;
              torch::manual_seed(mix_seed(ctx.seed, 0x5a3c, static_cast<uint64_t>(c)));
              auto drawn = ctx.to_view(draw_given(*conditional, torch::full({kSamplesPerClass}, c, torch::kLong)));
              auto pred = class_probabilities(net, drawn.to(torch::kFloat32)).argmax(1);
              auto hit = (pred == c).to(torch::kFloat64);
              correct.slice(0, c * kSamplesPerClass, (c + 1) * kSamplesPerClass).copy_(hit);
              per_class.push_back(hit.mean().item<double>());
            }
            const double n = static_cast<double>(correct.size(0));
            out["sample_accuracy"] = correct.mean().item<double>();
            out["sample_accuracy_stderr"] = correct.std().item<double>() / std::sqrt(n);
            out["sample_accuracy_per_class"] = per_class;
            out["sample_accuracy_samples_per_class"] = int64_t{kSamplesPerClass};
            out["feature_net"] = feature_net_info(ctx.dataset).id;
          }};
}

MetricEntry neighbours_entry() {
  return {"neighbours",
          [](const EvalContext& ctx) -> std::string {
            if (auto why = needs_samples(ctx); !why.empty()) return why;
            if (!ctx.images) return "needs image data, not '" + ctx.dataset + "'";
            if (ctx.training_rows < 1) return "needs training images to compare with";
            return "";
          },
          [](int64_t requested) { return std::min<int64_t>(requested, 1000); },
          [](EvalContext& ctx, const torch::Tensor& samples, nlohmann::json& out) {
            auto training = ctx.training_view();
            std::string figure = ctx.figure_dir.empty() ? "" : ctx.figure_dir + "/neighbours.png";
            // Three neighbours in the figure, fewer when there are fewer images.
            put(out, memorisation(samples, training, std::min<int64_t>(3, training.size(0)), 16, figure));
            // The same statistic for as many real held-out images: what
            // "not a copy" looks like.
            out["nn_distance_mean_test_images"] =
                memorisation_reference(ctx.real_view, training, samples.size(0), ctx.seed);
            if (!figure.empty()) out["neighbours_figure"] = figure;
          }};
}

MetricEntry sharpness_entry() {
  return {"sharpness",
          [](const EvalContext& ctx) -> std::string {
            if (auto why = needs_samples(ctx); !why.empty()) return why;
            if (!ctx.images) return "needs image data, not '" + ctx.dataset + "'";
            return "";
          },
          [](int64_t requested) { return std::max<int64_t>(2, std::min<int64_t>(requested, 1000)); },
          [](EvalContext& ctx, const torch::Tensor& samples, nlohmann::json& out) {
            // Mean gradient energy (image_quality.h) of the samples and of
            // as many images of the scored split, both in [0, 1]; their
            // ratio < 1: blurrier than the data.
            auto put_mean = [&](const std::string& key, const torch::Tensor& g) {
              out[key] = g.mean().item<double>();
              out[key + "_stderr"] = g.std().item<double>() / std::sqrt(static_cast<double>(g.size(0)));
            };
            const int64_t n = std::min(samples.size(0), ctx.reference_view.size(0));
            auto gs = gradient_energy(samples), gd = gradient_energy(ctx.reference_view.slice(0, 0, n));
            put_mean("sharpness_samples", gs);
            put_mean("sharpness_data", gd);
            out["sharpness_ratio"] = gs.mean().item<double>() / gd.mean().item<double>();
          }};
}

MetricEntry speed_entry() {
  return {"speed",
          [](const EvalContext& ctx) -> std::string {
            if (!ctx.model) return "measures a model's sampling: needs a trained run";
            return needs_samples(ctx);
          },
          [](int64_t requested) { return std::min<int64_t>(requested, 1000); },
          [](EvalContext& ctx, const torch::Tensor&, nlohmann::json& out) {
            // Measured on the shared draw, however many samples it held.
            out["samples_per_second"] = static_cast<double>(ctx.samples_view.size(0)) / ctx.draw_seconds;
            // And the wall time of one draw of 64, the size of a sample grid.
            RngStateGuard guard;
            torch::manual_seed(mix_seed(ctx.seed, 0x64));
            const auto start = Clock::now();
            draw_samples(*as<Sampler>(ctx.model), 64);
            out["seconds_per_64_samples"] = seconds_since(start);
          }};
}

std::vector<MetricEntry> build_table() {
  return {nll_entry(),
          elbo_entry(),
          reconstruction_entry(),
          auroc_entry(),
          parzen_entry(),
          feature_entry("fid", [](const FeatureSets& f, const FeatureMetricsRequest&) { return fid_values(f); }),
          feature_entry("kid", kid_values),
          feature_entry("pr", precision_recall_values),
          feature_entry("cs", classifier_score_values),
          modes_entry(),
          ms_ssim_entry(),
          texture_entry(),
          accuracy_entry(),
          robust_accuracy_entry(),
          sample_accuracy_entry(),
          neighbours_entry(),
          sharpness_entry(),
          speed_entry()};
}

}  // namespace

const FeatureSets& EvalContext::features(const torch::Tensor& samples) {
  if (!feature_cache) {
    FeatureNet net = load_feature_net(dataset);
    feature_net_id = feature_net_info(dataset).id;
    // GENZOO_FEATURE_CACHE (genzoo compare sets it for its evaluations): the
    // reference's features kept in that folder between processes.
    const char* cache = std::getenv("GENZOO_FEATURE_CACHE");
    const auto start = Clock::now();
    feature_cache = feature_sets_with_reference(
        net,
        cached_reference_features(net, feature_net_id, reference_view, cache ? cache : "", &reference_features_cached),
        samples);
    feature_cache->seconds = seconds_since(start);
  }
  return *feature_cache;
}

const std::vector<MetricEntry>& metric_table() {
  static const std::vector<MetricEntry> table = build_table();
  return table;
}

std::vector<std::string> metric_names() {
  std::vector<std::string> names;
  for (const auto& m : metric_table()) names.push_back(m.name);
  return names;
}

namespace {

// The entries named in a comma-separated list, each once, in the list's
// order; an unknown name is an error listing the known ones.
std::vector<const MetricEntry*> named_metrics(const std::string& wanted) {
  std::vector<const MetricEntry*> named;
  std::stringstream list(wanted);
  for (std::string name; std::getline(list, name, ',');) {
    if (name.empty()) continue;
    auto it = std::find_if(metric_table().begin(), metric_table().end(),
                           [&](const MetricEntry& m) { return m.name == name; });
    if (it == metric_table().end())
      throw Error("unknown metric '" + name + "' (choose from " + join(metric_names()) + ")");
    if (std::find(named.begin(), named.end(), &*it) == named.end()) named.push_back(&*it);
  }
  return named;
}

}  // namespace

std::vector<const MetricEntry*> select_available_metrics(const EvalContext& ctx, const std::string& wanted,
                                                         nlohmann::json& skipped) {
  std::vector<const MetricEntry*> chosen;
  for (const MetricEntry* m : named_metrics(wanted)) {
    if (auto why = m->unavailable(ctx); !why.empty()) skipped[m->name] = why;
    else chosen.push_back(m);
  }
  return chosen;
}

std::vector<const MetricEntry*> select_metrics(const EvalContext& ctx, const std::string& wanted) {
  std::vector<const MetricEntry*> available;
  std::vector<std::string> available_names;
  for (const auto& m : metric_table())
    if (m.unavailable(ctx).empty()) {
      available.push_back(&m);
      available_names.push_back(m.name);
    }
  const std::string here =
      available_names.empty() ? "none is available here" : "available here: --metrics " + join(available_names, ",");
  if (wanted.empty()) {
    available.erase(std::remove_if(available.begin(), available.end(), [](const MetricEntry* m) { return m->on_request; }),
                    available.end());
    if (available.empty())
      throw Error("none of the metrics " + join(metric_names()) + " applies to " +
                  (ctx.model ? "model '" + ctx.model_name + "'" : "these images") + " on '" + ctx.dataset + "'");
    return available;
  }
  std::vector<const MetricEntry*> chosen = named_metrics(wanted);
  for (const MetricEntry* m : chosen)
    if (auto why = m->unavailable(ctx); !why.empty()) throw Error("metric '" + m->name + "' " + why + "; " + here);
  if (chosen.empty())
    throw Error("--metrics '" + wanted + "' names no metric (choose from " + join(metric_names()) + ")");
  // Table order, so results do not depend on the order of --metrics.
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

int64_t samples_needed(const std::vector<const MetricEntry*>& entries, int64_t requested) {
  int64_t n = 0;
  for (const auto* m : entries) n = std::max(n, m->samples(requested));
  return n;
}

void run_metrics(EvalContext& ctx, const std::vector<const MetricEntry*>& entries, nlohmann::json& out) {
  for (const auto* m : entries) {
    auto start = Clock::now();
    // Each uses a prefix of the one draw, so results do not depend on which
    // other metrics ran.
    const int64_t n = m->samples(ctx.requested);
    torch::Tensor samples = n > 0 ? ctx.samples_view.slice(0, 0, n) : torch::Tensor();
    nlohmann::json values = nlohmann::json::object();
    {
      // Metrics that draw (importance samples, one-sample bounds, the
      // corruption of a denoising score) draw from a stream of their own:
      // the same for a --seed whatever else runs, and not the draw's.
      RngStateGuard guard;
      uint64_t h = 0xcbf29ce484222325ULL;
      for (unsigned char c : m->name) h = (h ^ c) * 0x100000001b3ULL;
      torch::manual_seed(mix_seed(ctx.seed, h));
      m->compute(ctx, samples, values);
    }
    // The metric's own timing when it reports one (fid, kid, pr, cs: without
    // the shared features, which have seconds_features), else the entry's.
    if (!values.contains("seconds_" + m->name)) values["seconds_" + m->name] = seconds_since(start);
    out.update(values);
  }
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

void print_results(const nlohmann::json& results, bool json, const std::string& heading) {
  if (json) {
    std::printf("%s\n", json_text(results).c_str());
    return;
  }
  std::printf("%s\n", heading.c_str());
  for (const auto& [k, v] : results.items()) {
    if (v.is_number()) std::printf("  %-28s %s\n", k.c_str(), v.dump().c_str());
    // What a number is (a bound, of which density) is part of it.
    if (v.is_string() && (k == "nll_is" || k == "neg_elbo_of"))
      std::printf("  %-28s %s\n", k.c_str(), v.get<std::string>().c_str());
  }
}

}  // namespace genzoo::cli
