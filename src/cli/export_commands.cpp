#include "cli/export_commands.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <span>

#include "audit/chain.hpp"
#include "cli/commands.hpp"
#include "cli/keeper_access.hpp"
#include "cli/config.hpp"
#include "crypto/keyring.hpp"
#include "services/exports.hpp"

namespace rempart::cli {
namespace {

Result<std::string> read_file(const std::filesystem::path& p, const char* what) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return fail(Errc::invalid_input, std::string("cannot open the ") + what);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail(Errc::io, std::string("cannot read the ") + what);
  return s;
}

// The key file, read straight into guarded memory (`size` from its stat).
Result<crypto::SecretBytes> read_key_file(const std::filesystem::path& p, std::size_t size) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(Errc::invalid_input, "cannot open the key file");
  auto key = crypto::SecretBytes::allocate(size);
  if (!key) {
    ::close(fd);
    return key;
  }
  std::size_t got = 0;
  while (got < key->size()) {
    const ssize_t n = ::read(fd, key->data() + got, key->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return fail(Errc::io, "cannot read the key file");
    }
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return key;
}

void wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

Result<void> write_private(const std::filesystem::path& p, const std::string& bytes) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return fail(errno == EEXIST ? Errc::invalid_input : Errc::io,
                std::string("cannot create the output file: ") + std::strerror(errno));
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return fail(Errc::io, std::string("cannot write the output file: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return fail(Errc::io, "cannot flush the output file");
  return {};
}

}  // namespace

int run_export_decrypt(const ExportDecryptArgs& a) {
  struct stat st {};
  if (::stat(a.key.c_str(), &st) != 0) return report(Error{Errc::invalid_input, "cannot open the key file"});
  if (!S_ISREG(st.st_mode)) return report(Error{Errc::invalid_input, "the key file is not a regular file"});
  if ((st.st_mode & 077) != 0) {
    (void)report(Error{Errc::permission, "the key file is readable by group or others: chmod 600 it"});
    return 2;
  }
  auto key = read_key_file(a.key, static_cast<std::size_t>(st.st_size));
  if (!key) return report(key.error());
  auto file = read_file(a.file, "export file");
  if (!file) return report(file.error());
  auto csv = services::decrypt_export(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(file->data()), file->size()), key->text());
  key = crypto::SecretBytes{};
  if (!csv) {
    // A wrong key and an altered file are one failure, exit 1.
    if (csv.error().code == Errc::crypto) {
      std::cerr << "rempart: " << csv.error().internal << "\n";
      return 1;
    }
    return report(csv.error());
  }
  int rc = 0;
  if (a.out.empty()) {
    std::cout.write(csv->data(), static_cast<std::streamsize>(csv->size()));
    std::cout.flush();
    if (!std::cout) rc = 1;
  } else if (auto w = write_private(a.out, *csv); !w) {
    rc = report(w.error());
  }
  wipe(*csv);
  return rc;
}

int run_canary_trace(const CanaryTraceArgs& a) {
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  auto t = services::trace_canary(*k->store, k->keys, a.value, k->config.intake.default_region);
  if (!t) return report(t.error());
  const std::string kind = a.value.find('@') != std::string::npos ? "email" : "phone";
  nlohmann::json details = {{"kind", kind}, {"found", t->has_value()}};
  if (*t) details["export"] = (*t)->export_id;
  auto w = k->store->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto e = audit::record(tx, k->keys, audit::Event{operator_actor(), std::string(audit::action::canary_trace), "",
                                                   std::move(details), ""});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  if (!w) return report(w.error());
  if (!*t) {
    std::cout << "not a canary of any export\n";
    return 1;
  }
  const auto& x = **t;
  std::cout << "export    " << x.export_id << "\n"
            << "requester " << x.requester << "\n"
            << "approver  " << x.approver << "\n"
            << "approved  " << format_time(x.approved_at * 1'000'000).substr(0, 19) << "Z\n"
            << "kind      " << x.kind << "\n";
  return 0;
}

}  // namespace rempart::cli
