#include "audit/checkpoint.hpp"

#include "core/hex.hpp"

#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

#include "audit/chain.hpp"

namespace rempart::audit {
namespace {

constexpr std::string_view kSignDomain = "rempart/audit/checkpoint/v1";
constexpr std::string_view kLinePrefix = "rempart-audit-checkpoint v1 ";

std::string message(const Checkpoint& c) {
  std::string m(kSignDomain);
  auto put = [&](std::uint64_t v, int bytes) {
    for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) m.push_back(static_cast<char>((v >> shift) & 0xff));
  };
  put(static_cast<std::uint64_t>(c.seq), 8);
  put(c.head_hash.size(), 4);
  m.append(reinterpret_cast<const char*>(c.head_hash.data()), c.head_hash.size());
  put(static_cast<std::uint64_t>(c.at), 8);
  put(c.key_version, 4);
  return m;
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Result<store::Bytes> from_hex(std::string_view hex, std::size_t want) {
  auto out = core::from_hex(hex, want);
  if (!out) return fail(Errc::invalid_input, "hex field of the wrong length or not hex");
  return std::move(*out);
}

template <typename T>
Result<T> number(std::string_view s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return fail(Errc::invalid_input, "not a number");
  return v;
}

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Errc::io, std::string("cannot append to the checkpoint file: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

Result<Checkpoint> sign_checkpoint(const crypto::AuditSigner& signer, std::int64_t seq,
                                   std::span<const std::uint8_t> head_hash, std::int64_t at_us) {
  Checkpoint c;
  c.seq = seq;
  c.head_hash.assign(head_hash.begin(), head_hash.end());
  c.at = at_us;
  c.key_version = signer.version();
  const std::string m = message(c);
  auto sig = signer.sign(as_bytes(m));
  if (!sig) return std::unexpected(sig.error());
  c.signature.assign(sig->begin(), sig->end());
  return c;
}

bool checkpoint_valid(const crypto::KeeperKeyring& keys, const Checkpoint& c) {
  auto verifier = crypto::AuditVerifier::of(keys, c.key_version);
  if (!verifier || c.signature.size() != crypto::kSignatureSize) return false;
  return verifier->verify(as_bytes(message(c)), c.signature);
}

std::string format_checkpoint(const Checkpoint& c) {
  return std::string(kLinePrefix) + "seq=" + std::to_string(c.seq) + " head=" + to_hex(c.head_hash) +
         " at=" + std::to_string(c.at) + " key=" + std::to_string(c.key_version) + " sig=" + to_hex(c.signature);
}

Result<Checkpoint> parse_checkpoint(std::string_view line) {
  if (!line.starts_with(kLinePrefix)) return fail(Errc::invalid_input, "not a checkpoint line");
  line.remove_prefix(kLinePrefix.size());
  const std::string_view names[] = {"seq=", "head=", "at=", "key=", "sig="};
  std::string_view values[5];
  for (std::size_t i = 0; i < 5; ++i) {
    const auto sp = line.find(' ');
    std::string_view field = line.substr(0, sp);
    if (!field.starts_with(names[i])) return fail(Errc::invalid_input, "checkpoint line fields out of order");
    values[i] = field.substr(names[i].size());
    line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    if (i < 4 && sp == std::string_view::npos) return fail(Errc::invalid_input, "checkpoint line too short");
  }
  if (!line.empty()) return fail(Errc::invalid_input, "checkpoint line has trailing fields");
  Checkpoint c;
  auto seq = number<std::int64_t>(values[0]);
  auto head = from_hex(values[1], kDigestSize);
  auto at = number<std::int64_t>(values[2]);
  auto key = number<std::uint32_t>(values[3]);
  auto sig = from_hex(values[4], crypto::kSignatureSize);
  if (!seq || !head || !at || !key || !sig || *seq < 1) return fail(Errc::invalid_input, "malformed checkpoint line");
  c.seq = *seq;
  c.head_hash = std::move(*head);
  c.at = *at;
  c.key_version = *key;
  c.signature = std::move(*sig);
  return c;
}

Result<std::vector<Checkpoint>> read_checkpoint_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return fail(Errc::not_found, "checkpoint file " + file.string() + " does not exist");
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(Errc::io, "cannot read checkpoint file " + file.string());
  std::vector<Checkpoint> out;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    auto c = parse_checkpoint(line);
    if (!c) return fail(Errc::invalid_input, "checkpoint file line " + std::to_string(n) + " is malformed");
    out.push_back(std::move(*c));
  }
  if (in.bad()) return fail(Errc::io, "cannot read checkpoint file " + file.string());
  return out;
}

CheckpointSink::~CheckpointSink() = default;

Result<void> FileCheckpointSink::publish(const Checkpoint& c) {
  const bool existed = std::filesystem::exists(file_);
  const int fd = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Errc::io, "cannot open checkpoint file " + file_.string() + ": " + std::strerror(errno));
  auto r = write_all(fd, format_checkpoint(c) + "\n");
  if (r && ::fsync(fd) != 0) r = fail(Errc::io, std::string("cannot sync the checkpoint file: ") + std::strerror(errno));
  ::close(fd);
  if (r && !existed) {
    // A new file's directory entry must be durable too.
    const auto dir = file_.has_parent_path() ? file_.parent_path() : std::filesystem::path(".");
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
  }
  return r;
}

Result<void> SyslogCheckpointSink::publish(const Checkpoint& c) {
  ::syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s", format_checkpoint(c).c_str());
  return {};
}

Checkpointer::Checkpointer(const crypto::KeeperKeyring& keys, store::KeeperStore& store, CheckpointPolicy policy,
                           std::vector<std::unique_ptr<CheckpointSink>> sinks)
    : keys_(keys), store_(store), policy_(policy), sinks_(std::move(sinks)) {}

Result<std::optional<Checkpoint>> Checkpointer::maybe(std::int64_t now_us) { return sign(now_us, false); }
Result<std::optional<Checkpoint>> Checkpointer::force(std::int64_t now_us) { return sign(now_us, true); }

Result<std::optional<Checkpoint>> Checkpointer::sign(std::int64_t now_us, bool forced) {
  auto due = [&](const std::optional<store::AuditHead>& head,
                 const std::optional<store::AuditCheckpointRow>& last) {
    if (!head) return false;
    const std::int64_t covered = last ? last->seq : 0;
    const std::int64_t uncovered = head->seq - covered;
    if (uncovered <= 0) return false;
    if (forced || uncovered >= policy_.every_entries || !last) return true;
    return now_us - last->at >= policy_.every_seconds * 1'000'000;
  };
  // A read-only look first: the fold loop asks every pass, and most passes
  // find nothing due, so they must not take the write lock.
  {
    auto head = store_.audit_head();
    if (!head) return std::unexpected(head.error());
    auto last = store_.last_audit_checkpoint();
    if (!last) return std::unexpected(last.error());
    if (!due(*head, *last)) {
      if (auto p = publish_pending(); !p) return std::unexpected(p.error());
      return std::optional<Checkpoint>{};
    }
  }
  std::optional<Checkpoint> made;
  auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto head = tx.audit_head();
    if (!head) return std::unexpected(head.error());
    auto last = tx.last_audit_checkpoint();
    if (!last) return std::unexpected(last.error());
    if (!due(*head, *last)) return {};  // another process signed it meanwhile
    auto signer = crypto::AuditSigner::current(keys_);
    if (!signer) return std::unexpected(signer.error());
    auto c = sign_checkpoint(*signer, (*head)->seq, (*head)->hash, now_us);
    if (!c) return std::unexpected(c.error());
    if (auto w = tx.insert_audit_checkpoint(*c); !w) return w;
    made = std::move(*c);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  if (made) pending_.push_back(*made);
  if (auto p = publish_pending(); !p) return std::unexpected(p.error());
  return made;
}

Result<void> Checkpointer::publish_pending() {
  while (!pending_.empty()) {
    for (const auto& sink : sinks_) {
      if (auto r = sink->publish(pending_.front()); !r) return r;
    }
    pending_.erase(pending_.begin());
  }
  return {};
}

}  // namespace rempart::audit
