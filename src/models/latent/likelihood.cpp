#include "genzoo/models/latent/likelihood.h"

#include <cmath>

#include "genzoo/models/bernoulli.h"

namespace genzoo {

namespace {

constexpr double kLogTwoPi = 1.8378770664093453;

// The P parameters of each pixel: out [..., P * D] -> parameter p, [..., D].
torch::Tensor parameter(const torch::Tensor& out, int64_t p, int64_t outputs) {
  return out.chunk(outputs, -1)[p];
}

// The logistic's log-scale in level units, floored at -7 as in PixelCNN++
// (a scale of 1e-3 levels already puts a whole level's mass in one bin;
// below it the inverse scale overflows).
torch::Tensor logistic_log_scale(const torch::Tensor& out) { return parameter(out, 1, 2).clamp_min(-7); }

// A Gaussian's standard deviation is floored at 1/256, the width of one
// grey level: pixels at exactly 0 (background) would otherwise let a learned
// sigma shrink, and the density grow, without end.
torch::Tensor gaussian_log_sigma(const torch::Tensor& log_sigma, torch::ScalarType dtype) {
  return log_sigma.to(dtype).clamp_min(-std::log(256.0));
}

}  // namespace

const EnumNames<PixelLikelihood>& pixel_likelihood_names() {
  static const EnumNames<PixelLikelihood> names{{PixelLikelihood::Bernoulli, "bernoulli"},
                                                {PixelLikelihood::Gaussian, "gaussian"},
                                                {PixelLikelihood::Logistic, "logistic"}};
  return names;
}

int64_t likelihood_outputs(PixelLikelihood l) { return l == PixelLikelihood::Logistic ? 2 : 1; }

PixelLikelihood default_likelihood(PixelFormat f) {
  switch (f) {
    case PixelFormat::Binary: return PixelLikelihood::Bernoulli;
    case PixelFormat::Levels256: return PixelLikelihood::Logistic;
    default: return PixelLikelihood::Gaussian;
  }
}

std::string likelihood_mismatch(PixelLikelihood l, PixelFormat f) {
  const bool ok = (l == PixelLikelihood::Bernoulli && f == PixelFormat::Binary) ||
                  (l == PixelLikelihood::Logistic && f == PixelFormat::Levels256) ||
                  (l == PixelLikelihood::Gaussian && (f == PixelFormat::Unit || f == PixelFormat::Symmetric));
  if (ok) return "";
  return std::string("model.likelihood = ") + pixel_likelihood_names().name(l) + " does not model " +
         pixel_format_names().name(f) + " pixels (bernoulli: --binarize; gaussian: grey [0,1] or [-1,1]; "
         "logistic: --set data.levels=256)";
}

torch::Tensor discretized_logistic_log_prob(const torch::Tensor& x, const torch::Tensor& mean,
                                            const torch::Tensor& log_scale) {
  auto centred = x - mean;
  auto inv_s = (-log_scale).exp();
  auto plus = inv_s * (centred + 0.5), minus = inv_s * (centred - 0.5);
  auto log_cdf_plus = torch::log_sigmoid(plus);            // log F(x + 1/2): the lower edge takes it all
  auto log_sf_minus = torch::log_sigmoid(-minus);          // log(1 - F(x - 1/2)): the upper edge's tail
  // An interior bin, log(F(plus) - F(minus)), from the side where it does
  // not cancel: left of the mean log F(plus) + log(1 - e^d) with
  // d = log F(minus) - log F(plus), right of it the same with the survival
  // function 1 - F. When d rounds to 0 (a scale of 1e5 levels and more) the
  // bin is a sliver of the distribution and the density at its centre is
  // the better value. Every branch is computed on inputs where it is finite,
  // so the branches not taken give zero gradients, never NaN.
  auto left = centred <= 0;
  auto d = torch::where(left, torch::log_sigmoid(minus) - log_cdf_plus, torch::log_sigmoid(-plus) - log_sf_minus);
  auto resolved = d < -1e-5;
  auto d_safe = torch::where(resolved, d, torch::full_like(d, -1.0));
  // log(1 - e^d) for d < 0, stably on either side of -log 2.
  auto log1mexp = torch::where(d_safe > -0.6931, torch::log(-torch::expm1(d_safe)), torch::log1p(-torch::exp(d_safe)));
  auto log_bin = torch::where(left, log_cdf_plus, log_sf_minus) + log1mexp;
  auto mid = inv_s * centred;
  auto log_pdf_mid = mid - log_scale - 2 * torch::softplus(mid);  // the logistic density at x, times one level
  auto interior = torch::where(resolved, log_bin, log_pdf_mid);
  return torch::where(x < 0.5, log_cdf_plus, torch::where(x > 254.5, log_sf_minus, interior));
}

torch::Tensor PixelDistribution::log_prob(const torch::Tensor& x) const {
  switch (kind) {
    case PixelLikelihood::Bernoulli: return bernoulli_log_prob(out, x.expand_as(out));
    case PixelLikelihood::Gaussian: {
      auto mu = mean();
      auto ls = gaussian_log_sigma(log_sigma, mu.scalar_type());
      return (-0.5 * ((x - mu) * (-ls).exp()).pow(2) - ls - 0.5 * kLogTwoPi).sum(-1);
    }
    case PixelLikelihood::Logistic: {
      auto mu = 255 * torch::sigmoid(parameter(out, 0, 2));
      return discretized_logistic_log_prob(x, mu, logistic_log_scale(out)).sum(-1);
    }
  }
  return {};
}

torch::Tensor PixelDistribution::mean() const {
  switch (kind) {
    case PixelLikelihood::Bernoulli: return torch::sigmoid(out);
    case PixelLikelihood::Gaussian: return format == PixelFormat::Symmetric ? torch::tanh(out) : torch::sigmoid(out);
    case PixelLikelihood::Logistic: return 255 * torch::sigmoid(parameter(out, 0, 2));  // the logistic's location
  }
  return {};
}

torch::Tensor PixelDistribution::sample() const {
  torch::NoGradGuard no_grad;
  switch (kind) {
    case PixelLikelihood::Bernoulli: return torch::bernoulli(torch::sigmoid(out));
    case PixelLikelihood::Gaussian: {
      // Draws outside the data's range are clipped to it.
      auto x = mean() + gaussian_log_sigma(log_sigma, out.scalar_type()).exp() * torch::randn_like(out);
      return format == PixelFormat::Symmetric ? x.clamp(-1, 1) : x.clamp(0, 1);
    }
    case PixelLikelihood::Logistic: {
      // Inverse CDF, then the level whose bin holds the draw.
      auto u = torch::rand_like(parameter(out, 0, 2)).clamp(1e-6, 1 - 1e-6);
      auto x = mean() + logistic_log_scale(out).exp() * (u.log() - (-u).log1p());
      return x.round().clamp(0, 255);
    }
  }
  return {};
}

}  // namespace genzoo
