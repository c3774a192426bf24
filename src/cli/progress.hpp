#pragma once
// A progress bar on stderr for long CLI commands (import, synth), drawn only
// when stderr is a terminal.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace rempart::cli {

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO) == 1) {}
  void draw(double fraction, const std::string& suffix) {
    if (!enabled_) return;
    constexpr int width = 30;
    const int filled = static_cast<int>(fraction * width);
    std::string bar(static_cast<std::size_t>(std::clamp(filled, 0, width)), '#');
    bar.resize(width, ' ');
    std::fprintf(stderr, "\r[%s] %3d%% %s", bar.c_str(), static_cast<int>(fraction * 100), suffix.c_str());
    std::fflush(stderr);
  }
  void finish() {
    if (enabled_) std::fprintf(stderr, "\n");
  }

 private:
  bool enabled_;
};

}  // namespace rempart::cli
