#pragma once
// A run folder and everything built from its config: the dataset, the pixel
// transform, the model and the data as the model sees it.
//
// Config keys read here:
//   model.name             registered model
//   data.name              dataset name or idx:/folder: spec
//   data.binarize          none | threshold | static | dynamic   (none)
//   data.scale             unit | symmetric                      (unit)
//   data.dequantize        uniform dequantization of grey pixels (false)
//   data.levels            0 | 256: whole grey levels 0..255 for 256-way models (0)
//   train.validation       training rows held out as a validation split (0);
//                          the same rows for every model and seed, prepared
//                          like the test split (a fixed draw when binarized
//                          dynamically)
#include <torch/torch.h>

#include <memory>
#include <string>

#include "genzoo/core/config.h"
#include "genzoo/data/dataset.h"
#include "genzoo/data/transforms.h"
#include "genzoo/models/model.h"
#include "genzoo/train/registry.h"
#include "genzoo/train/trainer.h"

namespace genzoo {

struct Run {
  std::string dir;
  Config config;
  const ModelInfo* info = nullptr;  // the registry's entry
  const ObjectiveInfo* objective = nullptr;
  Dataset dataset;
  std::shared_ptr<ImageTransform> transform;  // null for points
  DataSpec spec;
  TrainData data;
  torch::Tensor train_rows;  // rows of dataset.train trained on; undefined: all
  ModulePtr model;
  TrainerState state;  // open_run: where the loaded checkpoint stands
  std::string checkpoint_file;  // open_run: the file loaded
};

/// Builds dataset, transform, data and a freshly initialised model from
/// `config` (which must name model.name and data.name). A model that does
/// not accept the data fails before the data are prepared, with the fix
/// (data_mismatch).
Run build_run(Config config, const std::string& dir);

/// Opens an existing run folder: its config.toml, and the model weights of
/// a checkpoint: `which` = "best" loads best.pt (the best validation score)
/// when the run has one and the last checkpoint otherwise; "last" always
/// loads the last. genzoo::Error when the folder is not a run.
/// `classes` (non-empty, "0,1,2"): the run's data re-selected to these
/// classes instead of its own data.class(es), to score a model on classes it
/// was not trained on (continual learning: every class seen so far).
/// `importance_samples` (> 0): the K of an importance-sampled density
/// (model.eval_samples of vae and cvae) instead of the run's; genzoo::Error
/// when the run's model has none.
Run open_run(const std::string& dir, const std::string& which = "best", const std::string& classes = "",
             int64_t importance_samples = 0);

/// The rows the run trained on (without those held out for validation) as
/// evaluation sees them: model space, for dynamic binarization the fixed
/// static draw of the whole split first, then the rows. [N, ...].
torch::Tensor training_rows_for_eval(const Run& run);
/// Their labels, int64 [N]; undefined when the dataset has none.
torch::Tensor training_labels(const Run& run);

/// The run's config file (RUN/config.toml).
std::string run_config_path(const std::string& dir);

}  // namespace genzoo
