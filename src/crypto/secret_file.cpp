#include "crypto/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "core/fd.hpp"

namespace rempart::crypto {

namespace {

constexpr std::size_t kMaxSecret = 64 * 1024;

}  // namespace

Result<SecretBytes> read_secret_file(const std::filesystem::path& path, std::string_view what) {
  const std::string name = std::string(what) + " file " + path.string();
  if (path.empty()) return fail(Errc::config, std::string(what) + " file is not set");
  core::UniqueFd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (f.get() < 0) return fail(Errc::config, name + " cannot be opened (errno " + std::to_string(errno) + ")");
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) return fail(Errc::config, name + " cannot be examined");
  if (!S_ISREG(st.st_mode)) return fail(Errc::config, name + " is not a regular file");
  if ((st.st_mode & 077) != 0) return fail(Errc::config, name + " is open to group or others: chmod 600 it");
  if (static_cast<std::size_t>(st.st_size) > kMaxSecret) return fail(Errc::config, name + " is larger than 64 KiB");

  auto buf = SecretBytes::allocate(kMaxSecret + 1);
  if (!buf) return std::unexpected(buf.error());
  std::size_t len = 0;
  while (len < buf->size()) {
    ssize_t n = ::read(f.get(), buf->data() + len, buf->size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errc::config, name + " cannot be read");
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
  }
  if (len > kMaxSecret) return fail(Errc::config, name + " is larger than 64 KiB");
  while (len > 0 && (buf->data()[len - 1] == '\n' || buf->data()[len - 1] == '\r')) --len;
  if (len == 0) return fail(Errc::config, name + " is empty");
  return SecretBytes::copy_of(buf->span().first(len));
}

}  // namespace rempart::crypto
