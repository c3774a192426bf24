#include "cli/keys_command.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "auth/totp.hpp"
#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/keeper_access.hpp"
#include "core/fd.hpp"
#include "crypto/key_shares.hpp"
#include "crypto/keyring.hpp"

namespace rempart::cli {
namespace {

namespace fs = std::filesystem;
using crypto::SecretBytes;

// Far more than 16 shares of a keyring of many versions, pasted with notes
// around them; anything larger is not a set of shares.
constexpr std::size_t kMaxShareInput = std::size_t{1} << 20;

using Fd = core::UniqueFd;

std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Everything `fd` gives until its end, in guarded memory: shares pasted or
// typed in are secrets as much as the keyring they rebuild.
Result<SecretBytes> read_secret_text(int fd, const std::string& what) {
  auto buf = SecretBytes::allocate(16 * 1024);
  if (!buf) return buf;
  std::size_t used = 0;
  while (true) {
    if (used == buf->size()) {
      if (buf->size() >= kMaxShareInput) return fail(Errc::invalid_input, what + " is too large to hold key shares");
      auto bigger = SecretBytes::allocate(buf->size() * 2);
      if (!bigger) return bigger;
      std::memcpy(bigger->data(), buf->data(), used);
      *buf = std::move(*bigger);
    }
    const ssize_t n = ::read(fd, buf->data() + used, buf->size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errc::io, "cannot read " + what + ": " + errno_text(errno));
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  return SecretBytes::copy_of(buf->span().first(used));
}

Result<void> write_all(int fd, std::span<const std::uint8_t> bytes, const fs::path& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(Errc::io, "cannot write " + path.string() + ": " + errno_text(errno));
    done += static_cast<std::size_t>(n);
  }
  return {};
}

std::string today_utc() {
  const std::time_t now = static_cast<std::time_t>(unix_now());
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::array<char, 16> day{};
  std::strftime(day.data(), day.size(), "%Y-%m-%d", &tm);
  return day.data();
}

std::string share_file_name(int number, int count) {
  return "share-" + std::to_string(number) + "-of-" + std::to_string(count) + ".txt";
}

std::string versions_text(const crypto::KeeperKeyring& keyring) {
  const auto sets = keyring.all();
  if (sets.size() == 1) return "1 (version " + std::to_string(sets.front().get().version) + ")";
  return std::to_string(sets.size()) + " (versions " + std::to_string(sets.front().get().version) + " to " +
         std::to_string(sets.back().get().version) + ")";
}

// What a trustee reads before the share itself: none of it is secret.
std::string share_header(int number, int count, int threshold, const std::string& fingerprint,
                         const std::string& versions) {
  const std::string n = std::to_string(count);
  const std::string k = std::to_string(threshold);
  std::string h;
  h += "rempart key share " + std::to_string(number) + " of " + n + " \u2014 any " + k + " of the " + n +
       " rebuild the keeper keyring\n\n";
  h += "Keyring fingerprint: " + fingerprint + "\n";
  h += "Made on:             " + today_utc() + " (UTC)\n";
  h += "Key versions:        " + versions + "\n\n";
  h += "Keep this share apart from the " + std::to_string(count - 1) +
       " others, and offline: on paper, in a place of\n"
       "your own (a safe, a sealed envelope), never in e-mail, a chat or a cloud\n"
       "drive. Alone it tells nothing; any " + k + " shares together open every supporter\n"
       "record this keyring protects.\n\n";
  h += "To rebuild the keyring, " + k + " trustees bring their shares to one machine and run\n"
       "  rempart keys restore --keys NEW_KEY_DIRECTORY SHARE_FILE...\n"
       "or paste the blocks (or what their QR codes read) into\n"
       "  rempart keys restore --keys NEW_KEY_DIRECTORY\n"
       "Typed back from paper, case, spaces and line breaks do not matter.\n\n";
  return h;
}

// The share files written so far, removed unless the backup completes: a
// partial set is of no use and one share fewer to account for.
class WrittenFiles {
 public:
  WrittenFiles() = default;
  WrittenFiles(const WrittenFiles&) = delete;
  WrittenFiles& operator=(const WrittenFiles&) = delete;
  ~WrittenFiles() {
    if (kept_) return;
    for (const fs::path& p : files_) ::unlink(p.c_str());
    if (!created_dir_.empty()) ::rmdir(created_dir_.c_str());
  }
  void created_dir(const fs::path& dir) { created_dir_ = dir; }
  void add(const fs::path& p) { files_.push_back(p); }
  void keep() noexcept { kept_ = true; }

 private:
  std::vector<fs::path> files_;
  fs::path created_dir_;
  bool kept_ = false;
};

Result<void> write_share_file(const fs::path& path, std::string_view header, const SecretBytes& block,
                              std::string_view qr, WrittenFiles& written) {
  // O_EXCL: an existing file is never replaced, whatever appeared since the
  // directory was found empty.
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return fail(Errc::io, "cannot create " + path.string() + ": " + errno_text(errno));
  written.add(path);
  if (::fchmod(fd.get(), 0600) != 0) return fail(Errc::io, "cannot set mode 0600 on " + path.string());
  for (std::span<const std::uint8_t> part : {as_bytes(header), block.span()})
    if (auto ok = write_all(fd.get(), part, path); !ok) return ok;
  const std::string_view qr_intro = qr.empty()
                                        ? "\n(The share is too long for a QR code: type it back from the text above.)\n"
                                        : "\nThe same text as a QR code:\n\n";
  if (auto ok = write_all(fd.get(), as_bytes(qr_intro), path); !ok) return ok;
  if (auto ok = write_all(fd.get(), as_bytes(qr), path); !ok) return ok;
  if (::fsync(fd.get()) != 0) return fail(Errc::io, "cannot fsync " + path.string() + ": " + errno_text(errno));
  if (::close(fd.release()) != 0) return fail(Errc::io, "cannot close " + path.string());
  return {};
}

// A new directory (0700), or an existing empty one: shares never go where
// something could be overwritten or mixed with them.
Result<bool> prepare_out_dir(const fs::path& dir) {
  std::error_code ec;
  const auto st = fs::status(dir, ec);
  if (st.type() == fs::file_type::not_found) return false;
  if (ec) return fail(Errc::io, "cannot look at " + dir.string() + ": " + ec.message());
  if (st.type() != fs::file_type::directory)
    return fail(Errc::conflict, dir.string() + " exists and is not a directory; give a new directory to --out");
  if (!fs::is_empty(dir, ec) || ec)
    return fail(Errc::conflict, dir.string() +
                                    " is not empty; give a new or empty directory to --out (nothing is overwritten)");
  return true;
}

Result<void> make_out_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0) return fail(Errc::io, "cannot create " + dir.string() + ": " + errno_text(errno));
  // mkdir's mode is filtered by the umask; state the intent.
  if (::chmod(dir.c_str(), 0700) != 0) return fail(Errc::io, "cannot set mode 0700 on " + dir.string());
  return {};
}

Result<void> fsync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0)
    return fail(Errc::io, "cannot fsync " + dir.string() + ": " + errno_text(errno));
  return {};
}

int refuse(const std::string& message) {
  std::cerr << "rempart: " << message << "\n";
  return 1;
}

}  // namespace

int run_keys_backup(const KeysBackupArgs& a) {
  ::umask(077);
  const int max = static_cast<int>(crypto::kMaxShareCount);
  if (a.shares < 3 || a.shares > max)
    return report(Error{Errc::invalid_input, "--shares must be from 3 to " + std::to_string(max) +
                                                 " (one share a trustee); nothing written"});
  if (a.threshold < static_cast<int>(crypto::kMinShareThreshold) || a.threshold >= a.shares)
    return report(Error{Errc::invalid_input,
                        "--threshold must be at least 2 and lower than --shares (e.g. --shares 5 --threshold 3: "
                        "any 3 of 5 trustees rebuild the keyring, 2 cannot); nothing written"});
  const fs::path out = fs::absolute(a.out_dir).lexically_normal();
  auto existed = prepare_out_dir(out);
  if (!existed) return report(existed.error());

  if (a.keys_dir.empty() == a.config.empty())
    return report(Error{Errc::invalid_input, "give either --keys DIR or --config FILE; nothing written"});
  KeySource source;
  fs::path keys_dir = a.keys_dir;
  if (!a.config.empty()) {
    auto c = load_config(a.config);
    if (!c) return report(c.error());
    auto s = open_key_source(*c);
    if (!s) return report(s.error());
    source = std::move(*s);
    keys_dir = c->keys_dir;
  }
  auto keyring = crypto::load_keeper_keyring(keys_dir, source.seal());
  if (!keyring) return report(keyring.error());
  auto shares = crypto::split_keeper_keyring(*keyring, static_cast<unsigned>(a.shares),
                                             static_cast<unsigned>(a.threshold));
  if (!shares) return report(shares.error());
  const std::string fingerprint = crypto::fingerprint_hex(shares->front().fingerprint);
  const std::string versions = versions_text(*keyring);

  // Every text is made before the first file is written.
  std::vector<SecretBytes> blocks;
  for (const crypto::KeyShare& s : *shares) {
    auto text = crypto::encode_key_share(s);
    if (!text) return report(text.error());
    blocks.push_back(std::move(*text));
  }
  shares->clear();

  WrittenFiles written;
  if (!*existed) {
    if (auto ok = make_out_dir(out); !ok) return report(ok.error());
    written.created_dir(out);
  }
  for (int i = 1; i <= a.shares; ++i) {
    const fs::path path = out / share_file_name(i, a.shares);
    const SecretBytes& block = blocks[static_cast<std::size_t>(i - 1)];
    // Dark modules drawn: the file is for printing, black on white.
    std::string qr = auth::qr_terminal(block.text(), auth::QrInk::dark);  // the share itself: wiped below
    auto ok =
        write_share_file(path, share_header(i, a.shares, a.threshold, fingerprint, versions), block, qr, written);
    crypto::wipe(qr);
    if (!ok) return report(ok.error());
  }
  if (auto ok = fsync_dir(out); !ok) return report(ok.error());
  written.keep();

  const std::string k = std::to_string(a.threshold);
  const std::string first = (out / share_file_name(1, a.shares)).string();
  std::cout << "rempart: the keeper keyring (fingerprint " << fingerprint << ", key versions: " << versions
            << ") is split into " << a.shares << " shares, any " << k << " of which rebuild it:\n";
  for (int i = 1; i <= a.shares; ++i) std::cout << "  " << (out / share_file_name(i, a.shares)).string() << "\n";
  std::cout << "Now, before anyone leaves with a share:\n"
            << "  1. Rehearse a restore with " << k << " of them into a new directory, compare, then remove it:\n"
            << "       rempart keys restore --keys " << (out / "restore-test").string();
  for (int i = 1; i <= a.threshold; ++i) std::cout << " " << (out / share_file_name(i, a.shares)).string();
  std::cout << "\n";
  if (source.seal() == nullptr) {
    std::cout << "       cmp " << (out / "restore-test" / crypto::kKeeperKeyringFile).string() << " "
              << (fs::absolute(keys_dir) / crypto::kKeeperKeyringFile).string() << "\n";
  } else {
    // The restored keyring is plain, the one in use sealed by the token: their bytes differ.
    std::cout << "       (it must print the fingerprint " << fingerprint << ")\n";
  }
  std::cout << "       shred -u " << (out / "restore-test").string() << "/*.keyring && rmdir "
            << (out / "restore-test").string() << "\n"
            << "  2. Give one file to each trustee, a different one to each; print it (or they print it) and\n"
            << "     they keep the paper offline, apart from the others.\n"
            << "  3. Delete the files from this machine and from whatever carried them to a printer:\n"
            << "       shred -u " << out.string() << "/share-*.txt && rmdir " << out.string() << "\n"
            << "  4. After each key rotation, make a new backup and have the old shares destroyed: these hold\n"
            << "     the key versions of today only.\n"
            << "  (" << first << " starts with what its trustee needs to know.)\n";
  return 0;
}

int run_keys_restore(const KeysRestoreArgs& a) {
  ::umask(077);
  if (auto ok = crypto::init(); !ok) return report(ok.error());
  // Before any share is asked for: a restore never replaces a key file.
  for (const char* name : {crypto::kKeeperKeyringFile, crypto::kIntakeKeyringFile}) {
    std::error_code ec;
    const fs::path p = a.keys_dir / name;
    if (fs::symlink_status(p, ec).type() != fs::file_type::not_found)
      return refuse(p.string() + " already exists; restore into a new key directory (nothing is overwritten)");
  }

  struct Source {
    std::string name;
    SecretBytes text;
  };
  std::vector<Source> sources;
  if (a.share_files.empty()) {
    if (::isatty(STDIN_FILENO) == 1)
      std::cerr << "Paste the shares, each from its BEGIN line to its END line, then press Ctrl-D:\n";
    auto text = read_secret_text(STDIN_FILENO, "standard input");
    if (!text) return refuse(text.error().internal);
    sources.push_back(Source{"standard input", std::move(*text)});
  } else {
    for (const fs::path& file : a.share_files) {
      Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
      if (fd.get() < 0) return refuse("cannot open share file " + file.string() + ": " + errno_text(errno));
      auto text = read_secret_text(fd.get(), file.string());
      if (!text) return refuse(text.error().internal);
      sources.push_back(Source{file.string(), std::move(*text)});
    }
  }

  std::vector<crypto::KeyShare> shares;
  std::vector<std::string> where_from;  // each share's file, to name it in a refusal
  for (const Source& src : sources) {
    auto blocks = crypto::find_key_share_blocks(src.text.text());
    if (!blocks) return refuse("share in " + src.name + " does not check out: " + blocks.error().internal);
    if (blocks->empty())
      return refuse("no key share in " + src.name + " (a share starts with the line " +
                    std::string(crypto::kShareBeginLine) + ")");
    for (std::size_t j = 0; j < blocks->size(); ++j) {
      const std::string where = blocks->size() == 1 ? "share in " + src.name
                                                    : "share " + std::to_string(j + 1) + " in " + src.name;
      auto share = crypto::decode_key_share((*blocks)[j]);
      if (!share) return refuse(where + " does not check out: " + share.error().internal);
      shares.push_back(std::move(*share));
      where_from.push_back(where);
    }
  }
  // A number given twice, named by where it came from; shares of different
  // keyrings or backups are combine_key_shares' to tell apart.
  const auto same_backup = [&](const crypto::KeyShare& s) {
    return s.fingerprint == shares.front().fingerprint && s.threshold == shares.front().threshold &&
           s.count == shares.front().count;
  };
  if (std::all_of(shares.begin(), shares.end(), same_backup)) {
    for (std::size_t i = 0; i < shares.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (shares[i].number == shares[j].number)
          return refuse("share " + std::to_string(shares[i].number) + " of the backup is given twice (" +
                        where_from[j] + ", " + where_from[i] + ")");
  }

  auto keyring = crypto::combine_key_shares(shares);
  if (!keyring) return refuse(keyring.error().internal);
  auto fingerprint = crypto::keyring_fingerprint(*keyring);
  if (!fingerprint) return report(fingerprint.error());
  if (auto ok = crypto::write_keyrings(a.keys_dir, *keyring); !ok) return refuse(ok.error().internal);
  std::cout << "rempart: the keeper keyring is rebuilt from " << shares.size()
            << " shares: key versions: " << versions_text(*keyring) << ", fingerprint "
            << crypto::fingerprint_hex(*fingerprint) << "\n"
            << "  written: " << (a.keys_dir / crypto::kKeeperKeyringFile).string() << " and "
            << (a.keys_dir / crypto::kIntakeKeyringFile).string() << " (mode 0600)\n";
  return 0;
}

}  // namespace rempart::cli
