#pragma once
// The registry: every model genzoo can train, as its ModelInfo (models
// layer: what it is, what it can do, which data it takes, how to build it)
// beside the objective that trains it (train layer). It lives here, above
// both, so that neither the models nor the objectives reach up a layer; the
// list is written out in registry.cpp (static registration objects in a
// static library are dropped by the linker unless something references them).
#include <string>
#include <vector>

#include "genzoo/models/model.h"
#include "genzoo/train/objective.h"

namespace genzoo {

struct RegisteredModel {
  ModelInfo model;
  ObjectiveInfo objective;
};

const std::vector<RegisteredModel>& model_registry();
std::vector<std::string> model_names();
/// genzoo::Error listing the registered names when `name` is unknown.
const RegisteredModel& find_model(const std::string& name);

}  // namespace genzoo
