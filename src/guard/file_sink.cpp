#include "guard/file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace rempart::guard {

Result<std::unique_ptr<LineSink>> LineSink::open_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0) {
    return fail(Errc::io, "alert file " + path.string() + " cannot be opened (errno " + std::to_string(errno) + ")");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(Errc::config, "alert file " + path.string() + " is not a regular file");
  }
  return std::unique_ptr<LineSink>(new LineSink(fd, true, true));
}

std::unique_ptr<LineSink> LineSink::standard_error() {
  return std::unique_ptr<LineSink>(new LineSink(STDERR_FILENO, false, false));
}

LineSink::~LineSink() {
  if (owned_) ::close(fd_);
}

Result<void> LineSink::deliver(const StampedAlert& alert, std::stop_token) {
  std::string out;
  out.reserve(alert.line.size() + 1);
  out.append(alert.line);
  out.push_back('\n');
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::write(fd_, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(Errc::io, "alert line could not be written (errno " + std::to_string(errno) + ")");
    done += static_cast<std::size_t>(n);
  }
  if (sync_ && ::fsync(fd_) != 0) {
    return fail(Errc::io, "alert file could not be synced (errno " + std::to_string(errno) + ")");
  }
  return {};
}

}  // namespace rempart::guard
