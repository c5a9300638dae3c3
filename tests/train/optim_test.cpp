#include "genzoo/train/optim.h"

#include <gtest/gtest.h>

#include "genzoo/core/error.h"
#include "genzoo/train/objective.h"

#include <sstream>

namespace genzoo {
namespace {

TEST(Optim, SchedulesArePureFunctionsOfTheEpoch) {
  Config c;
  c.set("optim.lr", 1.0);
  c.set("optim.schedule", std::string("step"));
  c.set("optim.gamma", 0.5);
  c.set("optim.step_epochs", int64_t{2});
  auto s = OptimizerSpec::from_config(c);
  EXPECT_DOUBLE_EQ(s.lr_at(0), 1.0);
  EXPECT_DOUBLE_EQ(s.lr_at(1), 1.0);
  EXPECT_DOUBLE_EQ(s.lr_at(2), 0.5);
  EXPECT_DOUBLE_EQ(s.lr_at(5), 0.25);
  Config e;
  e.set("optim.schedule", std::string("exponential"));
  e.set("optim.lr", 2.0);
  e.set("optim.gamma", 0.9);
  EXPECT_NEAR(OptimizerSpec::from_config(e).lr_at(3), 2.0 * 0.729, 1e-12);
}

TEST(Optim, InvalidSettingsAreErrors) {
  for (auto kv : std::vector<std::pair<std::string, std::string>>{
           {"optim.lr", "-1"}, {"optim.name", "nadam"}, {"optim.beta1", "1.5"},
           {"optim.schedule", "cosine"}, {"optim.weight_decay", "-0.1"}}) {
    Config c;
    c.set_from_string(kv.first + "=" + kv.second);
    EXPECT_THROW(OptimizerSpec::from_config(c), Error) << kv.first;
  }
}

}  // namespace
}  // namespace genzoo

namespace genzoo {
namespace {

// A checkpoint saved before a parameter had optimizer state (step 0) must
// not leave the later state in place when loaded: a rollback or resume to
// it continues as the run did from there.
TEST(Optim, LoadingAnEarlierStateDropsTheMomentsItDoesNotHave) {
  auto w = torch::ones({3}, torch::requires_grad());
  torch::optim::Adam fresh({w}, torch::optim::AdamOptions(0.1));
  torch::serialize::OutputArchive saved;
  save_optimizer(saved, "opt", fresh);  // no state yet
  std::ostringstream bytes;
  saved.save_to(bytes);

  torch::optim::Adam used({w}, torch::optim::AdamOptions(0.1));
  w.sum().backward();
  used.step();
  ASSERT_EQ(used.state().size(), 1u);
  torch::serialize::InputArchive in;
  std::istringstream from(bytes.str());
  in.load_from(from);
  load_optimizer(in, "opt", used);
  EXPECT_TRUE(used.state().empty()) << "the moments of a later step survived loading an earlier state";
}

}  // namespace
}  // namespace genzoo
