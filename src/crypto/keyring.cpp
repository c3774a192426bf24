#include "crypto/keyring.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>

#include "core/fd.hpp"
#include "crypto/byte_io.hpp"
#include "crypto/key_access.hpp"

namespace rempart::crypto {
namespace {

namespace fs = std::filesystem;
using detail::ByteReader;
using detail::FixedWriter;
using detail::KeyAccess;

// File formats, all integers little-endian:
//   keeper: "RMPKEEPR" u32 format=2 u32 count, count x KeySet record, checksum
//   intake: "RMPINTAK" u32 format=1 u32 key version, seal_public[32], checksum
//   KeySet record: u32 version, u8 state (0 in use, 1 retired, 2 in use
//     with the audit signing key in a token),
//     seal_secret[32], seal_public[32], blind_index[32], record_wrap[32],
//     audit_mac[32], audit_sign_secret[64], audit_sign_public[32]
//   A retired set's seal_secret, record_wrap and audit_sign_secret are zero
//   bytes: those keys are gone; so is a state 2 set's audit_sign_secret.
//   Keeper format 1 (no state byte, every set in use) is still read, never
//   written.
//   checksum: unkeyed BLAKE2b-256 of every preceding byte. It catches
//   truncation and corruption; authenticity comes from the file permissions.
constexpr std::array<std::uint8_t, 8> kKeeperMagic{'R', 'M', 'P', 'K', 'E', 'E', 'P', 'R'};
constexpr std::array<std::uint8_t, 8> kIntakeMagic{'R', 'M', 'P', 'I', 'N', 'T', 'A', 'K'};
constexpr std::uint32_t kFormatVersion = 1;        // intake file; keeper file format 1
constexpr std::uint32_t kKeeperFormatVersion = 2;  // keeper file, with a state byte a set
constexpr std::size_t kChecksumSize = 32;
constexpr std::size_t kHeaderSize = 8 + 4 + 4;
constexpr std::size_t kKeySetRecordSizeV1 = 4 + 5 * kKeySize + kSignSecretSize + 32;
constexpr std::size_t kKeySetRecordSize = kKeySetRecordSizeV1 + 1;
constexpr std::size_t kIntakeFileSize = kHeaderSize + 32 + kChecksumSize;
constexpr std::size_t kMaxKeySets = KeeperKeyring::kMaxVersions;  // far beyond any rotation schedule
constexpr std::size_t kMaxKeyFileSize = kHeaderSize + kMaxKeySets * kKeySetRecordSize + kChecksumSize;

using Fd = core::UniqueFd;

std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

void checksum(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) {
  crypto_generichash(out.data(), out.size(), in.data(), in.size(), nullptr, 0);
}

bool checksum_ok(std::span<const std::uint8_t> file) {
  if (file.size() < kChecksumSize) return false;
  auto body = file.first(file.size() - kChecksumSize);
  std::array<std::uint8_t, kChecksumSize> sum{};
  checksum(body, sum);
  return sodium_memcmp(sum.data(), file.data() + body.size(), kChecksumSize) == 0;
}

Result<void> check_keyset(const KeySet& s) {
  if (s.version == 0) return fail(Errc::invalid_input, "key set version 0 is not allowed");
  if (s.retired) {
    if (KeyAccess::blind_index(s).size() != kKeySize || KeyAccess::audit_mac(s).size() != kKeySize ||
        !KeyAccess::seal_secret(s).empty() || !KeyAccess::record_wrap(s).empty() ||
        !KeyAccess::audit_sign_secret(s).empty())
      return fail(Errc::invalid_input, "retired key set " + std::to_string(s.version) + " holds keys it must not");
    return {};
  }
  const SecretBytes& seal_secret = KeyAccess::seal_secret(s);
  const SecretBytes& sign_secret = KeyAccess::audit_sign_secret(s);
  if (seal_secret.size() != kKeySize || KeyAccess::blind_index(s).size() != kKeySize ||
      KeyAccess::record_wrap(s).size() != kKeySize || KeyAccess::audit_mac(s).size() != kKeySize ||
      sign_secret.size() != (s.sign_in_token ? 0 : kSignSecretSize))
    return fail(Errc::invalid_input, "key set " + std::to_string(s.version) + " has a key of the wrong size");
  std::array<std::uint8_t, 32> pub{};
  if (crypto_scalarmult_base(pub.data(), seal_secret.data()) != 0 ||
      sodium_memcmp(pub.data(), s.seal_public.data(), pub.size()) != 0)
    return fail(Errc::invalid_input,
                "key set " + std::to_string(s.version) + ": sealing public key does not match its secret");
  if (s.sign_in_token) return {};  // the token holds the secret the public half belongs to
  crypto_sign_ed25519_sk_to_pk(pub.data(), sign_secret.data());
  if (sodium_memcmp(pub.data(), s.audit_sign_public.data(), pub.size()) != 0)
    return fail(Errc::invalid_input,
                "key set " + std::to_string(s.version) + ": audit signing public key does not match its secret");
  return {};
}

// Opens and reads a key file into guarded memory after checking that only
// its owner can read it.
Result<SecretBytes> read_key_file(const fs::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    const int e = errno;
    if (e == ENOENT) return fail(Errc::not_found, "key file " + path.string() + " not found");
    if (e == EACCES) return fail(Errc::permission, "key file " + path.string() + " cannot be read: " + errno_text(e));
    return fail(Errc::io, "cannot open key file " + path.string() + ": " + errno_text(e));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(Errc::io, "cannot stat key file " + path.string());
  if (!S_ISREG(st.st_mode)) return fail(Errc::invalid_input, "key file " + path.string() + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(Errc::permission, "key file " + path.string() + " is accessible by group or others (mode " + mode +
                                      "); restrict it with: chmod 600 " + path.string());
  }
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > kMaxKeyFileSize)
    return fail(Errc::invalid_input, "key file " + path.string() + " is too large to be a keyring");
  auto buf = SecretBytes::allocate(static_cast<std::size_t>(st.st_size));
  if (!buf) return buf;
  std::size_t got = 0;
  while (got < buf->size()) {
    const ssize_t n = ::read(fd.get(), buf->data() + got, buf->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errc::io, "cannot read key file " + path.string() + ": " + errno_text(errno));
    if (n == 0) return fail(Errc::invalid_input, "key file " + path.string() + " shrank while being read");
    got += static_cast<std::size_t>(n);
  }
  return buf;
}

Result<SecretBytes> take_secret(ByteReader& r, std::size_t n) {
  auto s = r.take(n);
  if (!r.ok()) return fail(Errc::invalid_input, "keyring truncated");
  return SecretBytes::copy_of(s);
}

void take_array(ByteReader& r, std::array<std::uint8_t, 32>& out) {
  auto s = r.take(out.size());
  if (r.ok()) std::copy(s.begin(), s.end(), out.begin());
}

Result<KeeperKeyring> parse_keeper(std::span<const std::uint8_t> file, const fs::path& path) {
  // An empty path: bytes that come from no file (parse_keeper_keyring).
  const auto corrupt = [&](const char* what) {
    return fail(Errc::invalid_input,
                (path.empty() ? std::string("keeper keyring") : "keeper keyring " + path.string()) + " refused: " +
                    what);
  };
  if (file.size() < kHeaderSize + kChecksumSize) return corrupt("file is truncated");
  if (!std::equal(kKeeperMagic.begin(), kKeeperMagic.end(), file.begin())) return corrupt("not a keeper keyring");
  if (!checksum_ok(file)) return corrupt("checksum mismatch (truncated or corrupted)");
  ByteReader r(file.first(file.size() - kChecksumSize));
  r.take(kKeeperMagic.size());
  const std::uint32_t format = r.u32();
  if (format != 1 && format != kKeeperFormatVersion) return corrupt("unknown format version");
  const std::size_t record_size = format == 1 ? kKeySetRecordSizeV1 : kKeySetRecordSize;
  const std::uint32_t count = r.u32();
  if (count == 0 || count > kMaxKeySets || r.remaining() != std::size_t{count} * record_size)
    return corrupt("key set count does not match the file size");
  std::vector<KeySet> sets;
  sets.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    KeySet s;
    s.version = r.u32();
    if (format != 1) {
      const auto state = r.take(1);
      if (!r.ok() || state[0] > 2) return corrupt("unknown key set state");
      s.retired = state[0] == 1;
      s.sign_in_token = state[0] == 2;
    }
    // A retired set's gone keys are zero bytes in the file, left there.
    const auto secret = [&](SecretBytes& into, std::size_t n, bool gone) -> Result<void> {
      if (gone) {
        r.take(n);
        return r.ok() ? Result<void>{} : fail(Errc::invalid_input, "keyring truncated");
      }
      auto key = take_secret(r, n);
      if (!key) return std::unexpected(key.error());
      into = std::move(*key);
      return {};
    };
    if (auto ok = secret(KeyAccess::seal_secret(s), kKeySize, s.retired); !ok) return std::unexpected(ok.error());
    take_array(r, s.seal_public);
    if (auto ok = secret(KeyAccess::blind_index(s), kKeySize, false); !ok) return std::unexpected(ok.error());
    if (auto ok = secret(KeyAccess::record_wrap(s), kKeySize, s.retired); !ok) return std::unexpected(ok.error());
    if (auto ok = secret(KeyAccess::audit_mac(s), kKeySize, false); !ok) return std::unexpected(ok.error());
    if (auto ok = secret(KeyAccess::audit_sign_secret(s), kSignSecretSize, s.retired || s.sign_in_token); !ok)
      return std::unexpected(ok.error());
    take_array(r, s.audit_sign_public);
    if (!r.ok()) return corrupt("file is truncated");
    sets.push_back(std::move(s));
  }
  auto kr = KeeperKeyring::from_sets(std::move(sets));
  if (!kr) return corrupt(kr.error().internal.c_str());
  return kr;
}

Result<SecretBytes> serialise_keeper(const KeeperKeyring& kr) {
  const auto sets = kr.all();
  auto buf = SecretBytes::allocate(kHeaderSize + sets.size() * kKeySetRecordSize + kChecksumSize);
  if (!buf) return buf;
  FixedWriter w(buf->span());
  w.bytes(kKeeperMagic);
  w.u32(kKeeperFormatVersion);
  w.u32(static_cast<std::uint32_t>(sets.size()));
  static constexpr std::array<std::uint8_t, kSignSecretSize> kGone{};
  const auto secret = [&](const SecretBytes& k, std::size_t n) {
    if (k.empty()) {
      w.bytes(std::span(kGone).first(n));
    } else {
      w.bytes(k.span());
    }
  };
  for (const KeySet& s : sets) {
    w.u32(s.version);
    const std::array<std::uint8_t, 1> state{static_cast<std::uint8_t>(s.retired ? 1 : s.sign_in_token ? 2 : 0)};
    w.bytes(state);
    secret(KeyAccess::seal_secret(s), kKeySize);
    w.bytes(s.seal_public);
    w.bytes(KeyAccess::blind_index(s).span());
    secret(KeyAccess::record_wrap(s), kKeySize);
    w.bytes(KeyAccess::audit_mac(s).span());
    secret(KeyAccess::audit_sign_secret(s), kSignSecretSize);
    w.bytes(s.audit_sign_public);
  }
  if (!w.ok() || w.written() != buf->size() - kChecksumSize)
    return fail(Errc::internal, "keeper keyring serialisation size mismatch");
  checksum(buf->span().first(w.written()), buf->span().subspan(w.written()));
  return buf;
}

Bytes serialise_intake(const IntakeKeyring& ik) {
  Bytes out;
  out.reserve(kIntakeFileSize);
  detail::put_bytes(out, kIntakeMagic);
  detail::put_u32(out, kFormatVersion);
  detail::put_u32(out, ik.version);
  detail::put_bytes(out, ik.seal_public);
  out.resize(out.size() + kChecksumSize);
  checksum(std::span(out).first(out.size() - kChecksumSize), std::span(out).last(kChecksumSize));
  return out;
}

// A key file written under a temporary name, not yet visible under its
// final name. Removed on destruction unless published.
class StagedFile {
 public:
  StagedFile() = default;
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  ~StagedFile() {
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }

  Result<void> write(const fs::path& dir, const char* name, std::span<const std::uint8_t> content) {
    final_ = dir / name;
    // Built with += rather than "." + std::string: g++ 12 -O2 warns falsely (-Wrestrict) on the latter.
    std::string leaf = ".";
    leaf += name;
    leaf += ".tmp-XXXXXX";
    std::string tmpl = (dir / leaf).string();
    Fd fd(::mkstemp(tmpl.data()));  // creates the file with mode 0600
    if (fd.get() < 0) return fail(Errc::io, "cannot create a temporary key file in " + dir.string() + ": " + errno_text(errno));
    tmp_ = tmpl;
    if (::fchmod(fd.get(), 0600) != 0) return fail(Errc::io, "cannot set mode 0600 on " + tmp_.string());
    std::size_t done = 0;
    while (done < content.size()) {
      const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return fail(Errc::io, "cannot write " + tmp_.string() + ": " + errno_text(errno));
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return fail(Errc::io, "cannot fsync " + tmp_.string() + ": " + errno_text(errno));
    if (::close(fd.release()) != 0) return fail(Errc::io, "cannot close " + tmp_.string());
    return {};
  }

  // Moves the file to its final name, never replacing an existing file.
  Result<void> publish() {
    int rc = ::renameat2(AT_FDCWD, tmp_.c_str(), AT_FDCWD, final_.c_str(), RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
      // File systems without RENAME_NOREPLACE: link() also refuses to replace.
      rc = ::link(tmp_.c_str(), final_.c_str());
      if (rc == 0) ::unlink(tmp_.c_str());
    }
    if (rc != 0) {
      const int e = errno;
      if (e == EEXIST) return fail(Errc::conflict, "key file " + final_.string() + " already exists; refusing to overwrite it");
      return fail(Errc::io, "cannot move key file into place at " + final_.string() + ": " + errno_text(e));
    }
    tmp_.clear();
    return {};
  }

  // Moves the file to its final name, replacing the file there (atomic:
  // a reader sees the old file or the new one, never a mix).
  Result<void> replace() {
    if (::rename(tmp_.c_str(), final_.c_str()) != 0)
      return fail(Errc::io, "cannot move key file into place at " + final_.string() + ": " + errno_text(errno));
    tmp_.clear();
    return {};
  }

  const fs::path& final_path() const noexcept { return final_; }

 private:
  fs::path tmp_;
  fs::path final_;
};

Result<void> fsync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0)
    return fail(Errc::io, "cannot fsync key directory " + dir.string() + ": " + errno_text(errno));
  return {};
}

Result<void> ensure_key_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) return fail(Errc::io, "key directory " + dir.string() + " is not a directory");
    return {};
  }
  if (dir.has_parent_path()) {
    fs::create_directories(dir.parent_path(), ec);
    if (ec) return fail(Errc::io, "cannot create " + dir.parent_path().string() + ": " + ec.message());
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return fail(Errc::io, "cannot create key directory " + dir.string() + ": " + errno_text(errno));
  // mkdir's mode is filtered by the umask; state the intent explicitly.
  if (::chmod(dir.c_str(), 0700) != 0) return fail(Errc::io, "cannot set mode 0700 on " + dir.string());
  return {};
}

fs::path normalised(const fs::path& p) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(p, ec);
  if (ec) {
    out = fs::absolute(p, ec);
    if (ec) out = p;
  }
  out = out.lexically_normal();
  if (!out.has_filename() && out.has_relative_path()) out = out.parent_path();  // trailing '/'
  return out;
}

}  // namespace

Result<KeySet> KeySet::generate(std::uint32_t version) {
  if (version == 0) return fail(Errc::invalid_input, "key set version 0 is not allowed");
  KeySet s;
  s.version = version;
  auto seal = SecretBytes::random(kKeySize);
  auto blind = SecretBytes::random(kKeySize);
  auto wrap = SecretBytes::random(kKeySize);
  auto mac = SecretBytes::random(kKeySize);
  auto sign = SecretBytes::allocate(kSignSecretSize);
  for (auto* r : {&seal, &blind, &wrap, &mac, &sign})
    if (!*r) return std::unexpected(r->error());
  s.seal_secret_ = std::move(*seal);
  s.blind_index_ = std::move(*blind);
  s.record_wrap_ = std::move(*wrap);
  s.audit_mac_ = std::move(*mac);
  s.audit_sign_secret_ = std::move(*sign);
  if (crypto_scalarmult_base(s.seal_public.data(), s.seal_secret_.data()) != 0 ||
      crypto_sign_keypair(s.audit_sign_public.data(), s.audit_sign_secret_.data()) != 0)
    return fail(Errc::crypto, "key pair generation failed");
  return s;
}

// The key sets of a keyring: a fixed table of kMaxVersions pointers, filled
// from the front and never moved, so a reader finds version i at the same
// address for the keyring's life. Writers fill the next slot under `write`
// and then publish it by raising `count` (release); readers read `count`
// (acquire) and only the slots below it.
struct KeeperKeyring::Slots {
  Slots() : sets(kMaxVersions) {}
  std::vector<std::unique_ptr<KeySet>> sets;  // never resized
  std::atomic<std::size_t> count{0};
  std::mutex write;
  std::shared_ptr<const RecordKeyWrapper> wrapper;  // set before the keyring is shared
  std::shared_ptr<const AuditKeySigner> signer;     // set before the keyring is shared

  std::size_t published() const noexcept { return count.load(std::memory_order_acquire); }
  // Under `write` (or before the keyring is shared).
  Result<void> push(KeySet s) {
    const std::size_t n = count.load(std::memory_order_relaxed);
    if (n >= sets.size()) return fail(Errc::invalid_input, "a keyring holds at most 10000 key versions");
    sets[n] = std::make_unique<KeySet>(std::move(s));
    count.store(n + 1, std::memory_order_release);
    return {};
  }
};

KeeperKeyring::KeeperKeyring(std::unique_ptr<Slots> slots) noexcept : slots_(std::move(slots)) {}
KeeperKeyring::KeeperKeyring(KeeperKeyring&&) noexcept = default;
KeeperKeyring& KeeperKeyring::operator=(KeeperKeyring&&) noexcept = default;
KeeperKeyring::~KeeperKeyring() = default;

Result<KeeperKeyring> KeeperKeyring::generate(std::uint32_t first_version) {
  auto s = KeySet::generate(first_version);
  if (!s) return std::unexpected(s.error());
  auto slots = std::make_unique<Slots>();
  if (auto ok = slots->push(std::move(*s)); !ok) return std::unexpected(ok.error());
  return KeeperKeyring(std::move(slots));
}

Result<KeeperKeyring> KeeperKeyring::from_sets(std::vector<KeySet> sets) {
  if (auto ok = init(); !ok) return std::unexpected(ok.error());
  if (sets.empty()) return fail(Errc::invalid_input, "a keyring needs at least one key set");
  if (sets.size() > kMaxVersions) return fail(Errc::invalid_input, "a keyring holds at most 10000 key versions");
  for (std::size_t i = 0; i < sets.size(); ++i) {
    if (auto ok = check_keyset(sets[i]); !ok) return std::unexpected(ok.error());
    if (i > 0 && sets[i].version <= sets[i - 1].version)
      return fail(Errc::invalid_input, "key set versions are not strictly increasing");
  }
  auto slots = std::make_unique<Slots>();
  for (KeySet& s : sets) {
    if (auto ok = slots->push(std::move(s)); !ok) return std::unexpected(ok.error());
  }
  return KeeperKeyring(std::move(slots));
}

Result<void> KeeperKeyring::add_version(BlindIndexKey blind_key) {
  std::lock_guard lock(slots_->write);
  const KeySet& cur = current();
  if (cur.version == UINT32_MAX) return fail(Errc::invalid_input, "key version space exhausted");
  auto s = KeySet::generate(cur.version + 1);
  if (!s) return std::unexpected(s.error());
  if (blind_key == BlindIndexKey::renew) return slots_->push(std::move(*s));
  auto blind = SecretBytes::copy_of(KeyAccess::blind_index(cur).span());
  if (!blind) return std::unexpected(blind.error());
  KeyAccess::blind_index(*s) = std::move(*blind);
  return slots_->push(std::move(*s));
}

namespace {
// Whether `b` is `a`, or `a` retired (its gone keys not compared).
bool same_keys(const KeySet& a, const KeySet& b) {
  const auto same = [](const SecretBytes& x, const SecretBytes& y) {
    return x.size() == y.size() && (x.empty() || sodium_memcmp(x.data(), y.data(), x.size()) == 0);
  };
  const bool kept = a.version == b.version && a.seal_public == b.seal_public &&
                    a.audit_sign_public == b.audit_sign_public &&
                    same(KeyAccess::blind_index(a), KeyAccess::blind_index(b)) &&
                    same(KeyAccess::audit_mac(a), KeyAccess::audit_mac(b));
  if (b.retired || a.retired) return kept;
  return kept && a.sign_in_token == b.sign_in_token && same(KeyAccess::seal_secret(a), KeyAccess::seal_secret(b)) &&
         same(KeyAccess::blind_index(a), KeyAccess::blind_index(b)) &&
         same(KeyAccess::record_wrap(a), KeyAccess::record_wrap(b)) &&
         same(KeyAccess::audit_mac(a), KeyAccess::audit_mac(b)) &&
         same(KeyAccess::audit_sign_secret(a), KeyAccess::audit_sign_secret(b));
}
}  // namespace

Result<std::size_t> KeeperKeyring::adopt(KeeperKeyring&& newer) {
  std::lock_guard lock(slots_->write);
  const KeySet& cur = current();
  const KeySet* mine_in_newer = newer.version(cur.version);
  if (mine_in_newer == nullptr)
    return fail(Errc::conflict, "the new keyring lacks the current key version " + std::to_string(cur.version));
  for (const KeySet& theirs : newer.all()) {
    if (theirs.version > cur.version) break;
    const KeySet* mine = version(theirs.version);
    if (mine != nullptr && !same_keys(*mine, theirs))
      return fail(Errc::conflict, "the new keyring holds other keys under version " + std::to_string(theirs.version) +
                                      ": it is not this instance's keyring");
  }
  std::size_t added = 0;
  Slots& from = *newer.slots_;
  const std::size_t n = from.published();
  for (std::size_t i = 0; i < n; ++i) {
    if (from.sets[i]->version <= cur.version) continue;
    if (auto ok = slots_->push(std::move(*from.sets[i])); !ok) return std::unexpected(ok.error());
    ++added;
  }
  return added;
}

Result<KeeperKeyring> KeeperKeyring::copy_changing(std::uint32_t v,
                                                   const std::function<void(KeySet&)>& change) const {
  auto bytes = serialise_keeper(*this);
  if (!bytes) return std::unexpected(bytes.error());
  auto copy = parse_keeper(bytes->span(), fs::path());
  if (!copy) return copy;
  std::vector<KeySet> sets;
  Slots& from = *copy->slots_;
  for (std::size_t i = 0; i < from.published(); ++i) {
    KeySet s = std::move(*from.sets[i]);
    if (s.version == v) change(s);
    sets.push_back(std::move(s));
  }
  return from_sets(std::move(sets));
}

Result<KeeperKeyring> KeeperKeyring::with_retired(std::uint32_t v) const {
  if (v == current().version) return fail(Errc::conflict, "the current key version cannot be retired");
  const KeySet* set = version(v);
  if (set == nullptr) return fail(Errc::not_found, "the keyring has no key version " + std::to_string(v));
  if (set->retired) return fail(Errc::conflict, "key version " + std::to_string(v) + " is retired already");
  return copy_changing(v, [](KeySet& s) {
    s.retired = true;
    KeyAccess::seal_secret(s) = SecretBytes();
    KeyAccess::record_wrap(s) = SecretBytes();
    KeyAccess::audit_sign_secret(s) = SecretBytes();
  });
}

Result<KeeperKeyring> KeeperKeyring::with_token_signing(const std::array<std::uint8_t, 32>& public_key) const {
  const std::uint32_t v = current().version;
  if (current().sign_in_token)
    return fail(Errc::conflict, "the audit signing key of key version " + std::to_string(v) + " is in a token already");
  return copy_changing(v, [&public_key](KeySet& s) {
    s.sign_in_token = true;
    s.audit_sign_public = public_key;
    KeyAccess::audit_sign_secret(s) = SecretBytes();
  });
}

const KeySet& KeeperKeyring::current() const noexcept { return *slots_->sets[slots_->published() - 1]; }

std::uint32_t KeeperKeyring::first_version() const noexcept { return slots_->sets[0]->version; }

std::size_t KeeperKeyring::size() const noexcept { return slots_->published(); }

std::vector<std::reference_wrapper<const KeySet>> KeeperKeyring::all() const {
  const std::size_t n = slots_->published();
  std::vector<std::reference_wrapper<const KeySet>> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.emplace_back(*slots_->sets[i]);
  return out;
}

const KeySet* KeeperKeyring::version(std::uint32_t v) const noexcept {
  std::size_t lo = 0;
  std::size_t hi = slots_->published();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const std::uint32_t at = slots_->sets[mid]->version;
    if (at == v) return slots_->sets[mid].get();
    if (at < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return nullptr;
}

void KeeperKeyring::use_record_wrapper(std::shared_ptr<const RecordKeyWrapper> wrapper) noexcept {
  slots_->wrapper = std::move(wrapper);
}

const RecordKeyWrapper* KeeperKeyring::record_wrapper() const noexcept { return slots_->wrapper.get(); }

void KeeperKeyring::use_audit_signer(std::shared_ptr<const AuditKeySigner> signer) noexcept {
  slots_->signer = std::move(signer);
}

const AuditKeySigner* KeeperKeyring::audit_signer() const noexcept { return slots_->signer.get(); }

IntakeKeyring KeeperKeyring::intake() const noexcept {
  const KeySet& cur = current();
  return IntakeKeyring{cur.version, cur.seal_public};
}

Result<void> create_keyrings(const fs::path& key_dir) {
  auto kr = KeeperKeyring::generate(1);
  if (!kr) return std::unexpected(kr.error());
  return write_keyrings(key_dir, *kr);
}

// keeper.keyring's bytes: plain, or sealed by `seal`.
Result<SecretBytes> keeper_file_bytes(const KeeperKeyring& keyring, const KeyringSeal* seal) {
  auto plain = serialise_keeper(keyring);
  if (!plain || seal == nullptr) return plain;
  auto sealed = seal->seal(plain->span());
  if (!sealed) return std::unexpected(sealed.error());
  if (sealed->size() < kSealedKeeperMagic.size() ||
      !std::equal(kSealedKeeperMagic.begin(), kSealedKeeperMagic.end(), sealed->begin()))
    return fail(Errc::internal, "a sealed keyring must start with its magic");
  return SecretBytes::copy_of(*sealed);
}

// Both key files of `keyring`, written in full under temporary names (not
// yet visible), after checking what is at their final names: nothing for a
// first write, a regular file for a replacement.
struct StagedKeyrings {
  StagedFile keeper, intake;
};
Result<void> stage_keyrings(const fs::path& key_dir, const KeeperKeyring& keyring, const KeyringSeal* seal,
                            bool replacing, StagedKeyrings& out) {
  for (const char* name : {kKeeperKeyringFile, kIntakeKeyringFile}) {
    std::error_code ec;
    const fs::path p = key_dir / name;
    const auto type = fs::symlink_status(p, ec).type();
    if (!replacing && type != fs::file_type::not_found)
      return fail(Errc::conflict, "key file " + p.string() + " already exists; refusing to overwrite it");
    if (replacing && type != fs::file_type::regular)
      return fail(Errc::not_found, "key file " + p.string() + " is missing or not a regular file");
  }
  auto keeper_bytes = keeper_file_bytes(keyring, seal);
  if (!keeper_bytes) return std::unexpected(keeper_bytes.error());
  if (auto ok = out.keeper.write(key_dir, kKeeperKeyringFile, keeper_bytes->span()); !ok) return ok;
  return out.intake.write(key_dir, kIntakeKeyringFile, serialise_intake(keyring.intake()));
}

Result<void> write_keyrings(const fs::path& key_dir, const KeeperKeyring& keyring, const KeyringSeal* seal) {
  if (auto ok = ensure_key_dir(key_dir); !ok) return ok;
  // Both files are complete on disk before either becomes visible, so a
  // failure never leaves an intake keyring without its keeper keyring.
  StagedKeyrings staged;
  if (auto ok = stage_keyrings(key_dir, keyring, seal, false, staged); !ok) return ok;
  if (auto ok = staged.keeper.publish(); !ok) return ok;
  if (auto ok = staged.intake.publish(); !ok) {
    ::unlink(staged.keeper.final_path().c_str());
    return ok;
  }
  return fsync_dir(key_dir);
}

Result<void> replace_keyrings(const fs::path& key_dir, const KeeperKeyring& keyring, const KeyringSeal* seal) {
  StagedKeyrings staged;
  if (auto ok = stage_keyrings(key_dir, keyring, seal, true, staged); !ok) return ok;
  // The keeper's file first: an intake keyring never names a version its
  // keeper keyring lacks.
  if (auto ok = staged.keeper.replace(); !ok) return ok;
  if (auto ok = fsync_dir(key_dir); !ok) return ok;
  if (auto ok = staged.intake.replace(); !ok) return ok;
  return fsync_dir(key_dir);
}

Result<KeeperKeyring> load_keeper_keyring(const fs::path& key_dir, const KeyringSeal* seal) {
  if (auto ok = init(); !ok) return std::unexpected(ok.error());
  const fs::path path = key_dir / kKeeperKeyringFile;
  auto file = read_key_file(path);
  if (!file) return std::unexpected(file.error());
  const auto starts = [&](const std::array<std::uint8_t, 8>& magic) {
    return file->size() >= magic.size() && std::equal(magic.begin(), magic.end(), file->data());
  };
  if (starts(kSealedKeeperMagic)) {
    if (seal == nullptr)
      return fail(Errc::config, "keeper keyring " + path.string() +
                                    " is sealed by a PKCS#11 token, and the configuration names none "
                                    "([keys] provider = \"pkcs11\", module, token, pin_file)");
    auto plain = seal->open(file->span());
    if (!plain) return std::unexpected(plain.error());
    return parse_keeper(plain->span(), path);
  }
  if (seal != nullptr && starts(kKeeperMagic))
    return fail(Errc::config, "keeper keyring " + path.string() +
                                  " is not sealed by the token the configuration names: seal it with "
                                  "`rempart keys seal --config ...`");
  return parse_keeper(file->span(), path);
}

Result<IntakeKeyring> load_intake_keyring(const fs::path& key_dir) {
  if (auto ok = init(); !ok) return std::unexpected(ok.error());
  const fs::path path = key_dir / kIntakeKeyringFile;
  auto file = read_key_file(path);
  if (!file) return std::unexpected(file.error());
  const auto bytes = file->span();
  const auto corrupt = [&](const char* what) {
    return fail(Errc::invalid_input, "intake keyring " + path.string() + " refused: " + what);
  };
  if (bytes.size() != kIntakeFileSize) return corrupt("wrong size (truncated or corrupted)");
  if (!std::equal(kIntakeMagic.begin(), kIntakeMagic.end(), bytes.begin())) return corrupt("not an intake keyring");
  if (!checksum_ok(bytes)) return corrupt("checksum mismatch (truncated or corrupted)");
  ByteReader r(bytes.first(bytes.size() - kChecksumSize));
  r.take(kIntakeMagic.size());
  if (r.u32() != kFormatVersion) return corrupt("unknown format version");
  IntakeKeyring ik;
  ik.version = r.u32();
  take_array(r, ik.seal_public);
  if (!r.at_end()) return corrupt("file is truncated");
  if (ik.version == 0) return corrupt("key version 0");
  if (sodium_is_zero(ik.seal_public.data(), ik.seal_public.size()))
    return corrupt("sealing public key is all zero");
  return ik;
}

Result<SecretBytes> serialise_keeper_keyring(const KeeperKeyring& keyring) { return serialise_keeper(keyring); }

Result<KeeperKeyring> parse_keeper_keyring(std::span<const std::uint8_t> bytes) {
  if (auto ok = init(); !ok) return std::unexpected(ok.error());
  return parse_keeper(bytes, fs::path());
}

bool path_is_within(const fs::path& inner, const fs::path& outer) {
  const fs::path in = normalised(inner);
  const fs::path out = normalised(outer);
  auto i = in.begin();
  for (auto o = out.begin(); o != out.end(); ++o, ++i) {
    if (i == in.end() || *i != *o) return false;
  }
  return true;
}

}  // namespace rempart::crypto
