#include "audit/backup_manifest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "core/fd.hpp"
#include "audit/encoding.hpp"
#include "core/hex.hpp"

namespace rempart::audit {
namespace {

constexpr std::string_view kManifestDomain = "rempart/backup/manifest/v1";

using detail::put_lp;
using detail::put_u32;
using detail::put_u64;

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string errno_text(int e) { return std::strerror(e); }

// A name of the data directory: letters, digits, '.', '_', '-', not only
// dots, at most 255 bytes. What a manifest names is joined to a directory,
// so nothing may climb out of it.
bool plain_file_name(std::string_view n) {
  if (n.empty() || n.size() > 255 || n.find_first_not_of('.') == std::string_view::npos) return false;
  for (const char c : n) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<void> write_all(int fd, const std::uint8_t* data, std::size_t size, const std::filesystem::path& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(Errc::io, "cannot write " + path.string() + ": " + errno_text(errno));
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

using Json = nlohmann::json;

// The members of `j` must be exactly `names`.
bool has_exactly(const Json& j, std::initializer_list<std::string_view> names) {
  if (!j.is_object() || j.size() != names.size()) return false;
  for (const auto n : names) {
    if (!j.contains(std::string(n))) return false;
  }
  return true;
}

template <typename T>
bool unsigned_member(const Json& j, const char* name, T& out) {
  const Json& v = j.at(name);
  if (!v.is_number_unsigned()) return false;
  const auto n = v.get<std::uint64_t>();
  if (n > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
  out = static_cast<T>(n);
  return true;
}

bool hex_member(const Json& j, const char* name, std::size_t bytes, store::Bytes& out) {
  const Json& v = j.at(name);
  if (!v.is_string()) return false;
  auto b = core::from_hex(v.get_ref<const std::string&>(), bytes);
  if (!b) return false;
  out = std::move(*b);
  return true;
}

}  // namespace

std::string encode_manifest(const BackupManifest& m) {
  std::string out;
  put_lp(out, kManifestDomain);
  put_u32(out, m.format);
  put_lp(out, m.rempart_version);
  put_u64(out, static_cast<std::uint64_t>(m.created_at_us));
  put_lp(out, m.engine);
  put_u32(out, static_cast<std::uint32_t>(m.files.size()));
  for (const auto& f : m.files) {
    put_lp(out, f.name);
    put_u64(out, f.bytes);
    put_lp(out, f.blake2b);
  }
  put_u64(out, static_cast<std::uint64_t>(m.head_seq));
  put_lp(out, m.head_hash);
  put_u32(out, m.key_version);
  return out;
}

Digest manifest_digest(const BackupManifest& m) {
  const std::string e = encode_manifest(m);
  Digest d{};
  crypto_generichash(d.data(), d.size(), reinterpret_cast<const unsigned char*>(e.data()), e.size(), nullptr, 0);
  return d;
}

Result<void> sign_manifest(const crypto::AuditSigner& signer, BackupManifest& m) {
  m.key_version = signer.version();
  auto sig = signer.sign(as_bytes(encode_manifest(m)));
  if (!sig) return std::unexpected(sig.error());
  m.signature.assign(sig->begin(), sig->end());
  return {};
}

bool manifest_valid(const crypto::KeeperKeyring& keys, const BackupManifest& m) {
  auto verifier = crypto::AuditVerifier::of(keys, m.key_version);
  if (!verifier || m.signature.size() != crypto::kSignatureSize) return false;
  return verifier->verify(as_bytes(encode_manifest(m)), m.signature);
}

std::string format_manifest(const BackupManifest& m) {
  Json files = Json::array();
  for (const auto& f : m.files) {
    files.push_back({{"name", f.name}, {"bytes", f.bytes}, {"blake2b", core::to_hex(f.blake2b)}});
  }
  Json j = {{"format", m.format},
            {"rempart_version", m.rempart_version},
            {"created_at_us", m.created_at_us},
            {"engine", m.engine},
            {"files", files},
            {"audit_head", {{"seq", m.head_seq}, {"hash", core::to_hex(m.head_hash)}}},
            {"key_version", m.key_version},
            {"signature", core::to_hex(m.signature)}};
  return j.dump(2) + "\n";
}

Result<BackupManifest> parse_manifest(std::string_view text) {
  auto bad = [](const std::string& what) { return fail(Errc::invalid_input, "the manifest " + what); };
  if (text.size() > 1 << 20) return bad("is too large");
  const Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return bad("is not JSON");
  if (!has_exactly(j, {"format", "rempart_version", "created_at_us", "engine", "files", "audit_head", "key_version",
                       "signature"})) {
    return bad("does not have exactly the members of a rempart backup manifest");
  }
  BackupManifest m;
  if (!unsigned_member(j, "format", m.format)) return bad("has a malformed format");
  if (m.format != kBackupFormat) {
    return bad("is of format " + std::to_string(m.format) + "; this rempart reads format " +
               std::to_string(kBackupFormat));
  }
  if (!j.at("rempart_version").is_string() || !j.at("engine").is_string()) return bad("has a malformed version or engine");
  m.rempart_version = j.at("rempart_version").get<std::string>();
  m.engine = j.at("engine").get<std::string>();
  if (m.rempart_version.size() > 64 || m.engine.size() > 32) return bad("has a malformed version or engine");
  if (!unsigned_member(j, "created_at_us", m.created_at_us)) return bad("has a malformed creation time");
  if (!unsigned_member(j, "key_version", m.key_version)) return bad("has a malformed key version");
  if (!hex_member(j, "signature", crypto::kSignatureSize, m.signature)) return bad("has a malformed signature");

  const Json& head = j.at("audit_head");
  if (!has_exactly(head, {"seq", "hash"}) || !unsigned_member(head, "seq", m.head_seq) ||
      !hex_member(head, "hash", m.head_seq == 0 ? 0 : kDigestSize, m.head_hash)) {
    return bad("has a malformed audit head");
  }

  const Json& files = j.at("files");
  if (!files.is_array() || files.empty() || files.size() > 64) return bad("has a malformed file list");
  std::set<std::string> seen;
  for (const Json& f : files) {
    BackupFile bf;
    store::Bytes digest;
    if (!has_exactly(f, {"name", "bytes", "blake2b"}) || !f.at("name").is_string() ||
        !unsigned_member(f, "bytes", bf.bytes) || !hex_member(f, "blake2b", kDigestSize, digest)) {
      return bad("has a malformed file entry");
    }
    bf.name = f.at("name").get<std::string>();
    if (!plain_file_name(bf.name) || bf.name == kManifestFile) return bad("names a file that is not a plain file name");
    if (!seen.insert(bf.name).second) return bad("names a file twice");
    std::copy(digest.begin(), digest.end(), bf.blake2b.begin());
    m.files.push_back(std::move(bf));
  }
  return m;
}

Result<BackupFile> hash_file(const std::filesystem::path& file, const std::filesystem::path* copy_to) {
  core::UniqueFd in(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (in.get() < 0) {
    if (errno == ENOENT) return fail(Errc::not_found, file.string() + " is missing");
    return fail(Errc::io, "cannot read " + file.string() + ": " + errno_text(errno));
  }
  struct stat st {};
  if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode)) return fail(Errc::io, file.string() + " is not a regular file");

  core::UniqueFd out(copy_to == nullptr
                         ? -1
                         : ::open(copy_to->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (copy_to != nullptr && out.get() < 0) {
    if (errno == EEXIST) return fail(Errc::conflict, copy_to->string() + " exists already");
    return fail(Errc::io, "cannot create " + copy_to->string() + ": " + errno_text(errno));
  }
  // The copy goes unless it was made whole.
  struct Unfinished {
    const std::filesystem::path* path;
    bool done = false;
    ~Unfinished() {
      if (path != nullptr && !done) ::unlink(path->c_str());
    }
  } unfinished{copy_to};
  if (copy_to != nullptr && ::fchmod(out.get(), 0600) != 0) {
    return fail(Errc::io, "cannot set mode 0600 on " + copy_to->string() + ": " + errno_text(errno));
  }

  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kDigestSize);
  std::array<std::uint8_t, 64 * 1024> buf{};
  BackupFile f;
  f.name = file.filename().string();
  for (;;) {
    const ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errc::io, "cannot read " + file.string() + ": " + errno_text(errno));
    if (n == 0) break;
    crypto_generichash_update(&state, buf.data(), static_cast<unsigned long long>(n));
    f.bytes += static_cast<std::uint64_t>(n);
    if (copy_to != nullptr) {
      if (auto w = write_all(out.get(), buf.data(), static_cast<std::size_t>(n), *copy_to); !w) {
        return std::unexpected(w.error());
      }
    }
  }
  crypto_generichash_final(&state, f.blake2b.data(), f.blake2b.size());
  if (copy_to != nullptr) {
    if (::fsync(out.get()) != 0) return fail(Errc::io, "cannot sync " + copy_to->string() + ": " + errno_text(errno));
    if (::close(out.release()) != 0) return fail(Errc::io, "cannot close " + copy_to->string());
    unfinished.done = true;
  }
  return f;
}

Result<std::int64_t> record_restore(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const std::string& actor,
                                    const BackupManifest& m, std::int64_t file_seq, std::int64_t at_us) {
  auto a = Appender::begin(tx, keys);
  if (!a) return std::unexpected(a.error());
  auto head = tx.audit_head();
  if (!head) return std::unexpected(head.error());
  const std::int64_t seq = *head ? (*head)->seq : 0;
  const bool same = seq == m.head_seq && (seq == 0 || (*head)->hash == m.head_hash);
  if (!same) return fail(Errc::conflict, "the restored audit log does not end at the backup's head");
  Event e;
  e.actor = actor;
  e.action = std::string(action::backup_restore);
  e.details = {{"backup_seq", m.head_seq},
               {"backup_head", core::to_hex(m.head_hash)},
               {"backup_taken_at", m.created_at_us},
               {"file_seq", file_seq},
               {"manifest", core::to_hex(manifest_digest(m))}};
  return a->append(e, at_us);
}

}  // namespace rempart::audit
