#pragma once
// Alerts as JSON lines on a file descriptor: an append-only file that a log
// shipper can follow, and stderr for the service manager's journal. Internal
// to the guard layer.
#include <filesystem>
#include <memory>

#include "guard/alert_sink.hpp"

namespace rempart::guard {

class LineSink final : public AlertSink {
 public:
  // Opens (creating with mode 0600) `path` for appending; the descriptor is
  // held until the sink is destroyed. Errc::io when it cannot be opened,
  // Errc::config when it is not a regular file.
  static Result<std::unique_ptr<LineSink>> open_file(const std::filesystem::path& path);
  // Writes to the process's stderr (descriptor 2, not owned).
  static std::unique_ptr<LineSink> standard_error();

  LineSink(const LineSink&) = delete;
  LineSink& operator=(const LineSink&) = delete;
  ~LineSink() override;

  // Writes alert.line and a newline with as few write() calls as the kernel
  // allows (one, for lines under PIPE_BUF on a pipe), then fsyncs a file.
  // Not retried: a full disk will not empty itself in the next second.
  Result<void> deliver(const StampedAlert& alert, std::stop_token stop) override;

 private:
  LineSink(int fd, bool owned, bool sync) : fd_(fd), owned_(owned), sync_(sync) {}
  int fd_;
  bool owned_;
  bool sync_;
};

}  // namespace rempart::guard
