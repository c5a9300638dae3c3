#include "genzoo/train/registry.h"

#include "genzoo/core/error.h"
#include "genzoo/models/adversarial/gan.h"
#include "genzoo/models/energy/classifier.h"
#include "genzoo/models/energy/igebm.h"
#include "genzoo/models/energy/generative_convnet.h"
#include "genzoo/models/explicit/arn.h"
#include "genzoo/models/explicit/fvsbn.h"
#include "genzoo/models/explicit/gated_pixelcnn.h"
#include "genzoo/models/explicit/independent.h"
#include "genzoo/models/explicit/made.h"
#include "genzoo/models/explicit/nade.h"
#include "genzoo/models/explicit/pixelcnn.h"
#include "genzoo/models/explicit/pixelrnn.h"
#include "genzoo/models/explicit/rnade.h"
#include "genzoo/models/latent/autoencoder.h"
#include "genzoo/models/latent/cvae.h"
#include "genzoo/models/latent/vae.h"
#include "genzoo/train/objectives/adversarial.h"
#include "genzoo/train/objectives/classification.h"
#include "genzoo/train/objectives/contrastive.h"
#include "genzoo/train/objectives/elbo.h"
#include "genzoo/train/objectives/reconstruction.h"
#include "genzoo/train/objectives/semi_supervised.h"
#include "genzoo/train/objectives/likelihood.h"

namespace genzoo {

const std::vector<RegisteredModel>& model_registry() {
  static const std::vector<RegisteredModel> registry{
      {independent_model_info(), likelihood_objective()},
      {arn_model_info(), likelihood_objective()},
      {fvsbn_model_info(), likelihood_objective()},
      {nade_model_info(), likelihood_objective()},
      {made_model_info(), likelihood_objective()},
      {rnade_model_info(), likelihood_objective()},
      {pixelcnn_model_info(), likelihood_objective()},
      {gated_pixelcnn_model_info(), likelihood_objective()},
      {pixelrnn_model_info(), likelihood_objective()},
      {autoencoder_model_info(), reconstruction_objective()},
      {denoising_autoencoder_model_info(), reconstruction_objective()},
      {vae_model_info(), elbo_objective()},
      {cvae_model_info(), elbo_objective()},
      {gan_model_info(), adversarial_objective()},
      {dcgan_model_info(), adversarial_objective()},
      {cgan_model_info(), adversarial_objective()},
      {ssgan_model_info(), semi_supervised_objective()},
      {genconvnet_model_info(), contrastive_divergence_objective()},
      {classifier_model_info(), classification_objective()},
      {igebm_model_info(), ebm_contrastive_objective()},
      {cigebm_model_info(), ebm_contrastive_objective()},
  };
  return registry;
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& m : model_registry()) names.push_back(m.model.name);
  return names;
}

const RegisteredModel& find_model(const std::string& name) {
  for (const auto& m : model_registry())
    if (m.model.name == name) return m;
  throw Error("unknown model '" + name + "' (choose from " + join(model_names()) + ")");
}

}  // namespace genzoo
