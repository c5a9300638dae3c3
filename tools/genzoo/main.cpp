// genzoo: train, sample, evaluate and compare generative models.
#include <torch/torch.h>

#include <algorithm>
#include <iostream>

#include "commands.h"
#include "genzoo/core/error.h"
#include "genzoo/train/trainer.h"


int main(int argc, char** argv) {
  genzoo::cli::set_command_line(argc, argv);
  CLI::App app{"genzoo: train, sample, evaluate and compare deep generative models", "genzoo"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "genzoo 0.1.0");
  genzoo::cli::add_data_command(app);
  genzoo::cli::add_models_command(app);
  genzoo::cli::add_train_command(app);
  genzoo::cli::add_sample_command(app);
  genzoo::cli::add_inpaint_command(app);
  genzoo::cli::add_compose_command(app);
  genzoo::cli::add_eval_command(app);
  genzoo::cli::add_compare_command(app);
  genzoo::cli::add_denoise_command(app);
  genzoo::cli::add_latent_command(app);
  genzoo::cli::add_featurenet_command(app);
  genzoo::cli::add_explain_command(app);
  genzoo::cli::add_report_command(app);

  // CLI11 would only say "a subcommand is required"; name the unknown one.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const auto* sub : app.get_subcommands({})) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      std::cerr << "genzoo: unknown command '" << argv[1] << "' (choose from "
                << genzoo::join(names) << ")\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "genzoo: " << genzoo::one_line(e.what()) << " (see genzoo --help)\n";
    return 2;
  } catch (const genzoo::Error& e) {
    std::cerr << "genzoo: " << genzoo::one_line(e.what()) << "\n";
    return 2;
  } catch (const genzoo::WorkerLost& e) {
    std::cerr << "genzoo: " << genzoo::one_line(e.what()) << "\n";
    return genzoo::cli::kExitWorkerLost;
  } catch (const genzoo::TrainingDiverged& e) {
    std::cerr << "genzoo: training diverged: " << genzoo::one_line(e.what()) << "\n";
    return genzoo::cli::kExitDiverged;
  } catch (const c10::Error& e) {
    std::cerr << "genzoo: internal error: " << genzoo::one_line(e.what_without_backtrace()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "genzoo: internal error: " << genzoo::one_line(e.what()) << "\n";
    return 1;
  }
  return 0;
}
