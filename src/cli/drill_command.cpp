// `rempart drill`: the 2026 breach replayed on a throwaway instance, and its
// scorecard (docs/drill.md). The drill itself is src/drill/.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/incident_command.hpp"
#include "drill/drill.hpp"

namespace rempart::cli {
namespace {

class Part final : public IncidentPart {
 public:
  explicit Part(CLI::App& app) {
    cmd_ = app.add_subcommand(
        "drill",
        "Replay the 2026 breach on a throwaway instance of synthetic supporters and print a scorecard "
        "(docs/drill.md); exit 0 when every attack stayed within its bound");
    cmd_->add_option("--supporters", supporters_, "Synthetic supporters (100..2000000)")->capture_default_str();
    cmd_->add_option("--phones", phones_, "How many of them have a phone (at most 50000)")->capture_default_str();
    cmd_->add_option("--keep", keep_,
                     "Build the instance in this new or empty directory and leave it there (synthetic data only)");
    cmd_->add_option("--format", format_, "text | json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
  }

  std::optional<int> run() const override {
    if (!*cmd_) return std::nullopt;
    drill::DrillOptions o;
    o.supporters = supporters_;
    o.phones = phones_;
    if (!keep_.empty()) o.keep = keep_;
    o.progress = [](std::string_view what) { std::cerr << "drill: " << what << std::endl; };
    auto card = drill::run_drill(o);
    if (!card) {
      std::cerr << "rempart: " << card.error().internal << "\n";
      return card.error().code == Errc::invalid_input ? 2 : 1;
    }
    if (format_ == "json") {
      std::cout << drill::render_json(*card).dump(2) << "\n";
    } else {
      std::cout << drill::render_text(*card);
    }
    return card->ok() ? 0 : 1;
  }

 private:
  CLI::App* cmd_ = nullptr;
  std::uint64_t supporters_ = 120000;
  std::uint64_t phones_ = 20000;
  std::filesystem::path keep_;
  std::string format_ = "text";
};

}  // namespace

std::unique_ptr<IncidentPart> add_drill(CLI::App& app) { return std::make_unique<Part>(app); }

}  // namespace rempart::cli
