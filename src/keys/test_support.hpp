#pragma once
// A throwaway SoftHSM2 token for keys_tests and rempart_token_bench: a
// temporary directory with its own softhsm2.conf (SOFTHSM2_CONF, set for
// this process), a token initialised by softhsm2-util and its PIN file
// (mode 0600); all of it removed when the object goes.
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "keys/pkcs11_token.hpp"

extern char** environ;

namespace rempart::keys::test_support {

inline constexpr const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";

// Runs `argv` (argv[0] a full path) with its stdout discarded; its exit
// status, -1 if it could not run or did not exit.
inline int run_quietly(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class ThrowawayToken {
 public:
  // `ok()` says whether the token was made.
  ThrowawayToken(std::string label, std::string pin, std::string module = kSoftHsmModule)
      : label_(std::move(label)), module_(std::move(module)) {
    char tmpl[] = "/tmp/rempart-softhsm-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return;
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ / "tokens");
    std::ofstream(dir_ / "softhsm2.conf") << "directories.tokendir = " << (dir_ / "tokens").string()
                                          << "\nobjectstore.backend = file\nlog.level = ERROR\n";
    ::setenv("SOFTHSM2_CONF", (dir_ / "softhsm2.conf").c_str(), 1);
    write_pin(dir_ / "pin", pin, 0600);
    ok_ = run_quietly({"/usr/bin/softhsm2-util", "--init-token", "--free", "--label", label_, "--pin", pin,
                       "--so-pin", pin + "0"}) == 0;
  }
  ~ThrowawayToken() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  ThrowawayToken(const ThrowawayToken&) = delete;
  ThrowawayToken& operator=(const ThrowawayToken&) = delete;

  bool ok() const { return ok_; }
  const std::filesystem::path& dir() const { return dir_; }
  TokenOptions options() const { return TokenOptions{module_, label_, dir_ / "pin"}; }

  // A PIN file at `p` holding `pin`, with `mode`.
  static void write_pin(const std::filesystem::path& p, const std::string& pin, mode_t mode) {
    std::ofstream(p, std::ios::trunc) << pin << "\n";
    ::chmod(p.c_str(), mode);
  }

 private:
  std::string label_;
  std::string module_;
  std::filesystem::path dir_;
  bool ok_ = false;
};

}  // namespace rempart::keys::test_support
