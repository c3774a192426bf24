#pragma once
// The drill runs rempart's own commands as child processes of the same
// binary (posix_spawn, never a shell), as an operator would type them.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace rempart::drill {

struct ChildResult {
  int exit_code = -1;   // -1: killed by a signal or at the deadline
  std::string out;      // standard output, whole (held in memory only: it may hold secrets)
  std::string err;      // standard error, at most the last 64 KiB
  double seconds = 0;   // wall time
};

// Runs `exe args...` to completion with `input` on its standard input and
// the drill's environment; SIGKILL at `timeout`. Errc::io if it cannot start.
Result<ChildResult> run_child(const std::filesystem::path& exe, const std::vector<std::string>& args,
                              std::chrono::seconds timeout, const std::string& input = "");

// A `rempart serve` in the background, its standard error (the log) to
// `log`. Killed (SIGKILL) at destruction if still running.
class ServeProcess {
 public:
  static Result<ServeProcess> start(const std::filesystem::path& exe, const std::vector<std::string>& args,
                                    const std::filesystem::path& log);
  ServeProcess(ServeProcess&& o) noexcept;
  ServeProcess& operator=(ServeProcess&&) = delete;
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;
  ~ServeProcess();

  // The port of "<listener> listening on HOST:PORT" in the log ("intake"
  // or "console"); Errc::io if it exited or `timeout` passed first.
  Result<std::uint16_t> port(const std::string& listener, std::chrono::seconds timeout);
  // SIGTERM, then waits (SIGKILL at `timeout`); its exit code, -1 on a signal.
  int stop(std::chrono::seconds timeout);
  bool running();

 private:
  ServeProcess(pid_t pid, std::filesystem::path log) : pid_(pid), log_(std::move(log)) {}
  pid_t pid_ = -1;
  std::filesystem::path log_;
};

}  // namespace rempart::drill
