#pragma once
// The CLI's commands. main.cpp only parses arguments and calls these; each
// returns the process exit code and prints its own messages (never personal
// data to logs; `supporters show` prints a record to stdout by design).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace rempart::cli {

struct InitArgs {
  std::filesystem::path data_dir;
  std::filesystem::path keys_dir;
  std::filesystem::path config = "rempart.toml";
  std::string region = "FR";
  std::string listen = "127.0.0.1:8080";
};
int run_init(const InitArgs& a);

enum class Role { all, intake, keeper };
struct ServeArgs {
  std::filesystem::path config = "rempart.toml";
  Role role = Role::all;
  std::optional<std::string> listen;  // overrides [intake].listen
};
int run_serve(const ServeArgs& a);

struct ShowArgs {
  std::filesystem::path config = "rempart.toml";
  std::string email;
  std::string phone;
  bool json = false;
};
int run_count(const std::filesystem::path& config);
int run_show(const ShowArgs& a);

struct ImportArgs {
  std::filesystem::path config = "rempart.toml";
  std::filesystem::path file;
  std::string map;
  bool progress = true;
};
int run_import(const ImportArgs& a);

struct SynthArgs {
  std::filesystem::path config = "rempart.toml";
  std::uint64_t count = 120000;
  std::uint64_t phones = 20000;
  std::uint64_t seed = 2026;
};
int run_synth(const SynthArgs& a);

void setup_logging(const std::string& level);

}  // namespace rempart::cli
