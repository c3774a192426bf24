#include "services/exports.hpp"

#include "core/hex.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "audit/chain.hpp"
#include "core/text.hpp"
#include "core/validate.hpp"
#include "crypto/blind_index.hpp"
#include "crypto/export_box.hpp"
#include "services/records.hpp"
#include "services/segments.hpp"
#include "services/synth.hpp"
#include "services/vault.hpp"

namespace rempart::services {
namespace {

using store::Bytes;

constexpr std::size_t kIdBytes = 16;
constexpr std::size_t kMaxReasonBytes = 200;
constexpr std::size_t kMaxCanaries = 100;
constexpr std::string_view kStatusPending = "pending";
constexpr std::string_view kStatusApproved = "approved";
constexpr std::string_view kStatusExpired = "expired";
constexpr std::string_view kStatusDownloaded = "downloaded";

// File format (docs/exports.md):
//   "RMPX1" | u8 format version (1) | u64 export id (LE)          = header
//   the body sealed by crypto::seal_export, bound to the header
constexpr std::string_view kMagic = "RMPX1";
constexpr std::uint8_t kFormatVersion = 1;
constexpr std::size_t kHeaderSize = 5 + 1 + 8;

// Canary phones: the fiction blocks synth uses (ARCEP's ranges reserved for
// audiovisual works), so a canary number rings nobody.
constexpr std::array<std::string_view, 5> kFictionBlocks = {"+3319900", "+3326191", "+3335320", "+3346571",
                                                             "+3353649"};

std::optional<Bytes> parse_id(std::string_view hex) { return core::from_hex(hex, kIdBytes); }

bool valid_reason(std::string_view r) { return core::text::is_plain_line(r, kMaxReasonBytes); }

Result<void> check_fields(const std::vector<FieldKind>& fields) {
  if (fields.empty() || fields.size() > std::size(kAllFieldKinds)) {
    return fail(Errc::invalid_input, "export: between 1 and 4 field kinds");
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (std::find(std::begin(kAllFieldKinds), std::end(kAllFieldKinds), fields[i]) == std::end(kAllFieldKinds)) {
      return fail(Errc::invalid_input, "export: unknown field kind");
    }
    if (std::find(fields.begin() + static_cast<std::ptrdiff_t>(i) + 1, fields.end(), fields[i]) != fields.end()) {
      return fail(Errc::invalid_input, "export: repeated field kind");
    }
  }
  return {};
}

std::string join_fields(const std::vector<FieldKind>& fields) {
  std::string out;
  for (FieldKind k : fields) {
    if (!out.empty()) out += ',';
    out += field_kind_name(k);
  }
  return out;
}

std::vector<FieldKind> split_fields(std::string_view s) {
  std::vector<FieldKind> out;
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    if (auto k = parse_field_kind(s.substr(0, comma))) out.push_back(*k);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

nlohmann::json field_names(const std::vector<FieldKind>& fields) {
  nlohmann::json a = nlohmann::json::array();
  for (FieldKind k : fields) a.push_back(field_kind_name(k));
  return a;
}

bool has(const std::vector<FieldKind>& fields, FieldKind k) {
  return std::find(fields.begin(), fields.end(), k) != fields.end();
}

// ---- CSV -----------------------------------------------------------------------

// Whether a spreadsheet would read `v` as a formula: it starts with = - @
// tab or CR, or with + not followed by digits only (an E.164 number such as
// +33612345678 stays as it is: a spreadsheet reads it as a number, no
// formula runs).
bool formula_like(std::string_view v) {
  if (v.empty()) return false;
  const char c = v.front();
  if (c == '=' || c == '-' || c == '@' || c == '\t' || c == '\r') return true;
  if (c == '+') return v.size() == 1 || v.find_first_not_of("0123456789", 1) != std::string_view::npos;
  return false;
}

void csv_field(std::string& out, std::string_view v) {
  // A leading apostrophe keeps a spreadsheet from running a formula a
  // supporter typed into a name (CSV injection).
  const std::string guarded = formula_like(v) ? "'" + std::string(v) : std::string();
  if (!guarded.empty()) v = guarded;
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void csv_header(std::string& out, const std::vector<FieldKind>& fields) {
  bool first = true;
  auto col = [&](std::string_view name) {
    if (!first) out += ',';
    first = false;
    out += name;
  };
  for (FieldKind k : fields) {
    switch (k) {
      case FieldKind::name: col("given_name"); col("family_name"); break;
      case FieldKind::email: col("email"); break;
      case FieldKind::phone: col("phone"); break;
      case FieldKind::address: col("street"); col("postal_code"); col("locality"); break;
    }
  }
  out += "\r\n";
}

void csv_row(std::string& out, const std::vector<FieldKind>& fields, const core::Person& p) {
  bool first = true;
  auto col = [&](std::string_view v) {
    if (!first) out += ',';
    first = false;
    csv_field(out, v);
  };
  for (FieldKind k : fields) {
    switch (k) {
      case FieldKind::name: col(p.given_name); col(p.family_name); break;
      case FieldKind::email: col(p.email); break;
      case FieldKind::phone: col(p.phone); break;
      case FieldKind::address: col(p.street); col(p.postal_code); col(p.locality); break;
    }
  }
  out += "\r\n";
}

void wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}


// ---- Sealing -----------------------------------------------------------------------

std::array<std::uint8_t, kHeaderSize> file_header(std::int64_t export_id) {
  std::array<std::uint8_t, kHeaderSize> h{};
  std::memcpy(h.data(), kMagic.data(), kMagic.size());
  h[5] = kFormatVersion;
  const auto id = static_cast<std::uint64_t>(export_id);
  for (int i = 0; i < 8; ++i) h[6 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(id >> (8 * i));
  return h;
}

Result<std::string> seal_file(std::string_view plain, std::span<const std::uint8_t> public_key, std::int64_t export_id) {
  const auto header = file_header(export_id);
  std::string out(reinterpret_cast<const char*>(header.data()), header.size());
  if (auto r = crypto::seal_export(out, plain, public_key, header); !r) return std::unexpected(r.error());
  return out;
}

// ---- Files ---------------------------------------------------------------------------

Result<void> ensure_dir(const std::filesystem::path& dir) {
  if (dir.empty()) return fail(Errc::config, "export directory is not configured");
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return fail(Errc::io, std::string("cannot stat the export directory: ") + std::strerror(errno));
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return fail(Errc::io, std::string("cannot create the export directory: ") + std::strerror(errno));
    }
    if (::stat(dir.c_str(), &st) != 0) {
      return fail(Errc::io, std::string("cannot stat the export directory: ") + std::strerror(errno));
    }
  }
  if (!S_ISDIR(st.st_mode)) return fail(Errc::io, "the export path is not a directory");
  if ((st.st_mode & 077) != 0) return fail(Errc::permission, "the export directory is open to group or others (chmod 700)");
  return {};
}

std::filesystem::path file_of(const std::filesystem::path& dir, std::int64_t id) {
  return dir / (std::to_string(id) + ".rmpx");
}

// Writes `bytes` to `path` through a temporary file in the same directory
// (0600, fsynced, renamed over, directory fsynced): readers see the whole
// file or none.
// Renames a written file to its final name, then syncs the directory.
Result<void> move_into_place(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return fail(Errc::io, std::string("cannot move the export file in place: ") + std::strerror(errno));
  }
  const int dfd = ::open(to.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<void> write_atomically(const std::filesystem::path& path, std::string_view bytes) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail(Errc::io, std::string("cannot create the export file: ") + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(Errc::io, std::string("cannot write the export file: ") + std::strerror(err));
    }
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return fail(Errc::io, "cannot flush the export file");
  }
  if (auto m = move_into_place(tmp, path); !m) {
    ::unlink(tmp.c_str());
    return m;
  }
  return {};
}

// `n` random bytes as hex, for names no other writer picks.
std::string random_hex(std::size_t n) {
  Bytes b(n);
  randombytes_buf(b.data(), b.size());
  return core::to_hex(b);
}

Result<std::string> read_whole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::io, "the export file is missing");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail(Errc::io, "cannot read the export file");
  return s;
}

// ---- Canaries ------------------------------------------------------------------------

std::uint32_t pick(std::size_t n) { return randombytes_uniform(static_cast<std::uint32_t>(n)); }

template <typename T>
const T& any_of(std::span<const T> list) {
  return list[pick(list.size())];
}

// A canary's stored index and, to check again at approval that its value
// is still free, the value's indexes under older blind-index keys.
struct Mark {
  store::CanaryRow row;
  std::vector<Bytes> older;
};

struct Canary {
  core::Person person;
  std::vector<Mark> marks;
};

// Whether a value, by its index under the current blind-index key (`index`)
// and under each older one (`older`, empty unless that key was renewed),
// names a record or a canary already, or one of this file. Records not yet
// indexed again and canaries of earlier exports keep the older key's index.
// `tx` reads the canaries and the supporters: a transaction, or the store
// inside a snapshot.
template <class Reads>
Result<bool> index_taken(Reads& tx, std::string_view kind, const Bytes& index, const std::vector<Bytes>& older,
                         const std::set<Bytes>& this_file) {
  if (this_file.contains(index)) return true;
  std::vector<const Bytes*> all{&index};
  for (const auto& o : older) all.push_back(&o);
  for (const Bytes* i : all) {
    auto c = tx.find_canary(*i);
    if (!c) return propagate(c);
    if (*c) return true;
    auto s = kind == crypto::kBlindIndexEmail ? tx.find_supporter_by_email_index(*i)
                                              : tx.find_supporter_by_phone_index(*i);
    if (!s) return propagate(s);
    if (s->has_value()) return true;
  }
  return false;
}

// The address of a real row of the file, for a canary to copy: postcode
// and town (shared by many), and whether it has a street line (the canary
// gets a made-up one).
struct Place {
  std::string postal_code, locality;
  bool street = false;
};

template <class Reads>
Result<Canary> make_canary(Reads& tx, const crypto::KeeperKeyring& keys, const ExportOptions& opt,
                           const std::vector<FieldKind>& fields, std::int64_t export_id,
                           const std::vector<Place>& places, std::set<Bytes>& taken) {
  const crypto::KeySet& ks = keys.current();
  Canary c;
  c.person.given_name = std::string(any_of(synth_given_names()));
  c.person.family_name = std::string(any_of(synth_family_names()));
  if (!places.empty()) {
    const Place& at = places[pick(places.size())];
    c.person.postal_code = at.postal_code;
    c.person.locality = at.locality;
    if (at.street) {
      std::uint64_t draw = 0;
      randombytes_buf(&draw, sizeof draw);
      c.person.street = synth_street(draw);
    }
  }
  constexpr int kAttempts = 50;
  if (has(fields, FieldKind::email)) {
    bool done = false;
    for (int attempt = 0; attempt < kAttempts && !done; ++attempt) {
      const std::uint32_t width = 2 + pick(3);  // 2..4 digits, like people's own
      std::string digits;
      for (std::uint32_t i = 0; i < width; ++i) digits.push_back(static_cast<char>('0' + pick(10)));
      const std::string raw = synth_ascii_fold(c.person.given_name) + "." + synth_ascii_fold(c.person.family_name) +
                              digits + "@" + opt.canary_domain;
      auto norm = core::normalize_email(raw);
      if (!norm) return fail(Errc::config, "the canary e-mail domain is not valid");
      const auto idx = crypto::blind_index(ks, crypto::kBlindIndexEmail, *norm);
      const Bytes index(idx.begin(), idx.end());
      auto older = RecordWriter(keys).older_indexes(crypto::kBlindIndexEmail, *norm);
      auto t = index_taken(tx, crypto::kBlindIndexEmail, index, older, taken);
      if (!t) return propagate(t);
      if (*t) continue;
      taken.insert(index);
      c.person.email = *norm;
      c.marks.push_back(
          Mark{store::CanaryRow{index, ks.version, std::string(crypto::kBlindIndexEmail), export_id}, std::move(older)});
      done = true;
    }
    if (!done) return fail(Errc::conflict, "no free canary e-mail address found");
  }
  if (has(fields, FieldKind::phone)) {
    bool done = false;
    for (int attempt = 0; attempt < kAttempts && !done; ++attempt) {
      std::string raw(kFictionBlocks[pick(kFictionBlocks.size())]);
      for (int i = 0; i < 4; ++i) raw.push_back(static_cast<char>('0' + pick(10)));
      auto norm = core::normalize_phone(raw, "FR");
      if (!norm) continue;
      const auto idx = crypto::blind_index(ks, crypto::kBlindIndexPhone, *norm);
      const Bytes index(idx.begin(), idx.end());
      auto older = RecordWriter(keys).older_indexes(crypto::kBlindIndexPhone, *norm);
      auto t = index_taken(tx, crypto::kBlindIndexPhone, index, older, taken);
      if (!t) return propagate(t);
      if (*t) continue;
      taken.insert(index);
      c.person.phone = *norm;
      c.marks.push_back(
          Mark{store::CanaryRow{index, ks.version, std::string(crypto::kBlindIndexPhone), export_id}, std::move(older)});
      done = true;
    }
    if (!done) return fail(Errc::conflict, "no free canary phone number found");
  }
  return c;
}

// ---- Requests ------------------------------------------------------------------------

// Account names by id, read once per call.
class Names {
 public:
  explicit Names(store::KeeperTx& tx) : tx_(&tx) {}
  Result<std::string> of(const Bytes& id) {
    if (auto it = cache_.find(id); it != cache_.end()) return it->second;
    auto a = tx_->find_account(id);
    if (!a) return propagate(a);
    std::string name = *a ? (*a)->name : std::string();
    cache_.emplace(id, name);
    return name;
  }

 private:
  store::KeeperTx* tx_;
  std::map<Bytes, std::string> cache_;
};

Result<ExportRequest> to_request(const store::ExportRow& row, Names& names) {
  ExportRequest r;
  r.id = row.id;
  r.requester_id = audit::to_hex(row.requester_id);
  auto rn = names.of(row.requester_id);
  if (!rn) return propagate(rn);
  r.requester = std::move(*rn);
  r.tag = row.tag;
  r.segment = row.segment;
  r.fields = split_fields(row.fields);
  r.reason = row.reason;
  r.status = row.status;
  r.created_at = row.created_at;
  r.expires_at = row.expires_at;
  if (row.approver_id) {
    auto an = names.of(*row.approver_id);
    if (!an) return propagate(an);
    r.approver = std::move(*an);
  }
  r.approved_at = row.approved_at;
  r.rows = row.rows;
  return r;
}

// Visits every real member of a saved segment (honeytokens left out), a
// page of kMemberPage at a time, as scan_real_supporters does for a tag;
// `visit` returns false to stop. Runs inside the caller's snapshot.
constexpr std::size_t kMemberPage = 500;
Result<void> scan_segment_members(store::KeeperStore& store, const store::SegmentFilter& filter,
                                  const std::function<bool(const store::SupporterRow&)>& visit) {
  auto decoys = store.honeytoken_ids();
  if (!decoys) return propagate(decoys);
  const std::set<Bytes> honey(decoys->begin(), decoys->end());
  store::SupporterPageQuery q;
  q.limit = kMemberPage;
  for (;;) {
    auto page = store.segment_page(filter, q, false);
    if (!page) return propagate(page);
    for (const auto& item : page->items) {
      if (honey.contains(item.row.id)) continue;
      if (!visit(item.row)) return {};
    }
    if (page->items.size() < kMemberPage) return {};
    const auto& tail = page->items.back().row;
    q.after = store::SupporterPosition{tail.created_at, tail.id};
  }
}

Result<std::int64_t> write_entry(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const std::string& actor,
                                 std::string_view act, nlohmann::json details, const std::string& client) {
  return audit::record(tx, keys, audit::Event{actor, std::string(act), "", std::move(details), client});
}

}  // namespace

Exports::Exports(store::KeeperStore& store, const Vault& vault, ExportOptions options)
    : store_(&store), vault_(&vault), keys_(&vault.keyring()), opt_(std::move(options)) {
  if (!opt_.clock) opt_.clock = auth::system_now;
}

Result<std::int64_t> Exports::request(const Asker& who, const std::string& requester_id_hex, std::string_view tag,
                                      const std::vector<FieldKind>& fields, std::string_view reason,
                                      std::string_view segment) {
  auto requester = parse_id(requester_id_hex);
  if (!requester) return fail(Errc::invalid_input, "export request: invalid account id");
  if (!tag.empty() && !segment.empty()) {
    return fail(Errc::invalid_input, "export request: a tag or a segment, not both");
  }
  std::string clean_tag;
  if (!tag.empty()) {
    auto t = core::normalize_tag(tag);
    if (!t) return fail(Errc::invalid_input, "export request: invalid tag");
    clean_tag = std::move(*t);
  }
  if (!segment.empty() && !valid_segment_name(segment)) {
    return fail(Errc::invalid_input, "export request: invalid segment");
  }
  if (auto f = check_fields(fields); !f) return std::unexpected(f.error());
  if (!valid_reason(reason)) return fail(Errc::invalid_input, "export request: invalid reason");
  std::optional<Segment> seg;
  if (!segment.empty()) {
    auto found = Segments(*store_, *keys_).find(segment);
    if (!found) return std::unexpected(found.error());
    if (!*found) return fail(Errc::not_found, "export request: no such segment");
    seg = std::move(**found);
  }
  const std::int64_t now = opt_.clock();
  std::int64_t id = 0;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto key = tx.export_public_key(*requester);
    if (!key) return propagate(key);
    if (!*key) {
      return fail(Errc::invalid_input, "export request: the requester has no export key (reset its MFA to make one)");
    }
    store::ExportRow row;
    row.requester_id = *requester;
    row.tag = clean_tag;
    if (seg) row.segment = seg->name;
    row.fields = join_fields(fields);
    row.reason = std::string(reason);
    row.status = std::string(kStatusPending);
    row.created_at = now;
    row.expires_at = now + opt_.ttl_seconds;
    auto n = tx.insert_export(row);
    if (!n) return propagate(n);
    id = *n;
    nlohmann::json details = {{"export", id},
                              {"requester", auth::account_actor(audit::to_hex(*requester))},
                              {"tag", clean_tag},
                              {"fields", field_names(fields)},
                              {"reason", reason}};
    if (seg) {
      details["segment"] = seg->name;
      details["definition"] = to_json(seg->definition);
    }
    auto w = write_entry(tx, *keys_, who.actor, audit::action::export_request, std::move(details), who.client);
    if (!w) return propagate(w);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return id;
}

Result<std::vector<ExportRequest>> Exports::list(const std::string& requester_id_hex) {
  std::optional<Bytes> requester;
  if (!requester_id_hex.empty()) {
    requester = parse_id(requester_id_hex);
    if (!requester) return fail(Errc::invalid_input, "export list: invalid account id");
  }
  std::vector<ExportRequest> out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto rows = tx.exports(requester);
    if (!rows) return propagate(rows);
    Names names(tx);
    for (const auto& row : *rows) {
      auto x = to_request(row, names);
      if (!x) return propagate(x);
      out.push_back(std::move(*x));
    }
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<ExportRequest> Exports::approve(const Asker& who, const std::string& approver_id_hex, std::int64_t id,
                                       auth::AccountService& accounts, std::string_view totp_code) {
  auto approver = parse_id(approver_id_hex);
  if (!approver) return fail(Errc::invalid_input, "export approve: invalid account id");
  if (opt_.canaries > kMaxCanaries) return fail(Errc::config, "export: at most 100 canaries per file");

  // 1. The request as it stands: cheap refusals before a code is spent.
  bool expired_now = false;
  auto first = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto row = tx.find_export(id);
    if (!row) return propagate(row);
    if (!*row) return fail(Errc::not_found, "export approve: no such request");
    if ((*row)->requester_id == *approver) return fail(Errc::permission, "export approve: the requester cannot approve");
    if ((*row)->status != kStatusPending) return fail(Errc::conflict, "export approve: the request is not pending");
    // The same second person as for privilege changes: an admin long
    // enough, whom the requester did not make or promote.
    if (auto c = accounts.check_approver(tx, *approver, (*row)->requester_id, (*row)->created_at); !c) return c;
    if (opt_.clock() >= (*row)->expires_at) {
      (*row)->status = std::string(kStatusExpired);
      if (auto u = tx.update_export(**row); !u) return u;
      auto w = write_entry(tx, *keys_, who.actor, audit::action::export_expire, {{"export", id}}, who.client);
      if (!w) return propagate(w);
      expired_now = true;
    }
    return {};
  });
  if (!first) return std::unexpected(first.error());
  if (expired_now) return fail(Errc::conflict, "export approve: the request has expired");

  // 2. The second factor, now: a stolen session alone approves nothing.
  auto ok = accounts.check_second_factor(audit::to_hex(*approver), totp_code);
  if (!ok) return std::unexpected(ok.error());
  if (*ok == auth::StepUp::replayed) {
    return fail(Errc::retry_later, "export approve: this code was already used; wait for the next one");
  }
  if (*ok != auth::StepUp::ok) {
    auto w = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto e = write_entry(tx, *keys_, who.actor, audit::action::export_approve_refused,
                           {{"export", id}, {"cause", "second_factor"}}, who.client);
      if (!e) return propagate(e);
      return {};
    });
    if (!w) return std::unexpected(w.error());
    if (*ok == auth::StepUp::locked) return fail(Errc::locked, "mfa_failures");
    return fail(Errc::permission, "export approve: the second factor was refused");
  }

  if (auto d = ensure_dir(opt_.dir); !d) return std::unexpected(d.error());
  const std::filesystem::path path = file_of(opt_.dir, id);

  // 3. Build and seal the file from one snapshot, outside the write lock:
  // the fold and the console's writes go on while every record is opened,
  // written out and sealed.
  store::ExportRow row;
  std::vector<FieldKind> fields;
  std::vector<Mark> marks;
  nlohmann::json ids = nlohmann::json::array();
  std::size_t real_rows = 0;
  std::string sealed;
  auto built = store_->snapshot([&]() -> Result<void> {
    auto found = store_->find_export(id);
    if (!found) return propagate(found);
    if (!*found) return fail(Errc::not_found, "export approve: no such request");
    row = std::move(**found);
    if (row.status != kStatusPending) return fail(Errc::conflict, "export approve: the request is not pending");
    if (row.requester_id == *approver) return fail(Errc::permission, "export approve: the requester cannot approve");
    if (opt_.clock() >= row.expires_at) return fail(Errc::conflict, "export approve: the request has expired");
    auto key = store_->export_public_key(row.requester_id);
    if (!key) return propagate(key);
    if (!*key) return fail(Errc::invalid_input, "export approve: the requester has no export key");
    fields = split_fields(row.fields);

    // Real rows first, in memory only.
    std::vector<std::string> lines;
    std::vector<Place> places;
    Result<void> opened;
    const auto visit = [&](const store::SupporterRow& s) {
      auto p = vault_->open_for_export(s);
      if (!p) {
        opened = std::unexpected(p.error());
        return false;
      }
      std::string line;
      csv_row(line, fields, *p);
      lines.push_back(std::move(line));
      if (has(fields, FieldKind::address) && (!p->postal_code.empty() || !p->street.empty())) {
        places.push_back(Place{p->postal_code, p->locality, !p->street.empty()});
      }
      ids.push_back(audit::to_hex(s.id));
      wipe_person(*p);
      return true;
    };
    Result<void> scan;
    if (row.segment.empty()) {
      scan = store_->scan_real_supporters(row.tag, visit);
    } else {
      // The members as the segment stands, if it still stands as it was
      // when the request was made.
      auto seg = Segments(*store_, *keys_).find(row.segment);
      if (!seg) return propagate(seg);
      if (!*seg) return fail(Errc::conflict, "export approve: the segment was deleted since the request");
      if ((*seg)->updated_at > row.created_at) {
        return fail(Errc::conflict, "export approve: the segment changed since the request");
      }
      auto filter = segment_filter((*seg)->definition, keys_->current());
      if (!filter) return propagate(filter);
      scan = scan_segment_members(*store_, *filter, visit);
    }
    auto clear_lines = [&] {
      for (auto& l : lines) wipe(l);
      for (auto& at : places) {
        wipe(at.postal_code);
        wipe(at.locality);
      }
    };
    if (!scan || !opened) {
      clear_lines();
      return !scan ? scan : opened;
    }
    real_rows = lines.size();

    // Canaries at random places among them.
    std::set<Bytes> taken;
    for (std::size_t i = 0; i < opt_.canaries; ++i) {
      auto c = make_canary(*store_, *keys_, opt_, fields, id, places, taken);
      if (!c) {
        clear_lines();
        return propagate(c);
      }
      std::string line;
      csv_row(line, fields, c->person);
      const std::size_t at = pick(lines.size() + 1);
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), std::move(line));
      marks.insert(marks.end(), c->marks.begin(), c->marks.end());
      wipe_person(c->person);
    }
    std::string csv;
    csv_header(csv, fields);
    for (const auto& l : lines) csv += l;
    clear_lines();
    auto s = seal_file(csv, **key, id);
    wipe(csv);
    if (!s) return propagate(s);
    sealed = std::move(*s);
    return {};
  });
  if (!built) return std::unexpected(built.error());

  // 4. The file, under a name of this approval's own: a concurrent approval
  // of the same request (which will fail to record) cannot touch it.
  const std::filesystem::path pending = path.string() + ".pending-" + random_hex(8);
  if (auto w = write_atomically(pending, sealed); !w) return std::unexpected(w.error());

  // 5. Record, in one short transaction: the request must still be pending
  // and no canary value may have been taken since the snapshot.
  ExportRequest result;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto found = tx.find_export(id);
    if (!found) return propagate(found);
    if (!*found) return fail(Errc::not_found, "export approve: no such request");
    if ((*found)->status != kStatusPending) return fail(Errc::conflict, "export approve: the request is not pending");
    const std::int64_t now = opt_.clock();
    if (now >= (*found)->expires_at) return fail(Errc::conflict, "export approve: the request has expired");
    for (const auto& m : marks) {
      auto t = index_taken(tx, m.row.kind, m.row.blind_index, m.older, {});
      if (!t) return propagate(t);
      if (*t) return fail(Errc::retry_later, "export approve: a canary value was taken meanwhile; approve again");
      if (auto i = tx.insert_canary(m.row); !i) return i;
    }
    row.status = std::string(kStatusApproved);
    row.approver_id = *approver;
    row.approved_at = now;
    row.rows = static_cast<std::int64_t>(real_rows);
    if (auto u = tx.update_export(row); !u) return u;

    auto log = audit::Appender::begin(tx, *keys_);
    if (!log) return propagate(log);
    const std::int64_t at_us = audit::now_us();
    const std::string requester_actor = auth::account_actor(audit::to_hex(row.requester_id));
    nlohmann::json approved = {{"export", id},
                               {"requester", requester_actor},
                               {"rows", real_rows},
                               {"canaries", opt_.canaries},
                               {"tag", row.tag},
                               {"fields", field_names(fields)}};
    if (!row.segment.empty()) approved["segment"] = row.segment;
    auto a = log->append(
        audit::Event{who.actor, std::string(audit::action::export_approve), "", std::move(approved), who.client},
        at_us);
    if (!a) return propagate(a);
    auto e = log->append(audit::Event{requester_actor, std::string(audit::action::supporter_export), "",
                                      {{"records", std::move(ids)},
                                       {"export", id},
                                       {"fields", field_names(fields)},
                                       {"approver", who.actor}},
                                      who.client},
                         at_us);
    if (!e) return propagate(e);
    Names names(tx);
    auto x = to_request(row, names);
    if (!x) return propagate(x);
    result = std::move(*x);
    return {};
  });
  if (!r) {
    ::unlink(pending.c_str());
    return std::unexpected(r.error());
  }
  // Recorded: the file takes its name. Should that fail, the approval
  // stands and the download reports the file missing.
  if (auto m = move_into_place(pending, path); !m) {
    spdlog::error("export {}: the sealed file could not take its name ({})", id, errc_name(m.error().code));
    ::unlink(pending.c_str());
    return std::unexpected(m.error());
  }
  return result;
}

Result<std::string> Exports::download(const Asker& who, const std::string& account_id_hex, std::int64_t id) {
  auto account = parse_id(account_id_hex);
  if (!account) return fail(Errc::invalid_input, "export download: invalid account id");
  std::string bytes;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto found = tx.find_export(id);
    if (!found) return propagate(found);
    if (!*found) return fail(Errc::not_found, "export download: no such request");
    store::ExportRow& row = **found;
    if (row.requester_id != *account) return fail(Errc::permission, "export download: only the requester may download");
    if (row.status != kStatusApproved && row.status != kStatusDownloaded) {
      return fail(Errc::conflict, "export download: the request is not approved");
    }
    auto file = read_whole(file_of(opt_.dir, id));
    if (!file) return propagate(file);
    bytes = std::move(*file);
    if (row.status != kStatusDownloaded) {
      row.status = std::string(kStatusDownloaded);
      if (auto u = tx.update_export(row); !u) return u;
    }
    auto w = write_entry(tx, *keys_, who.actor, audit::action::export_download,
                         {{"export", id}, {"bytes", bytes.size()}}, who.client);
    if (!w) return propagate(w);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return bytes;
}

Result<std::string> decrypt_export(std::span<const std::uint8_t> file, std::string_view secret_key_text) {
  auto opener = crypto::ExportOpener::from_text(secret_key_text);
  if (!opener) return std::unexpected(opener.error());
  if (file.size() < kHeaderSize + crypto::kExportSealPrefixSize ||
      std::memcmp(file.data(), kMagic.data(), kMagic.size()) != 0) {
    return fail(Errc::invalid_input, "not an export file");
  }
  if (file[5] != kFormatVersion) return fail(Errc::invalid_input, "unknown export file version");
  return opener->open(file.subspan(kHeaderSize), file.first(kHeaderSize));
}

Result<std::optional<CanaryTrace>> trace_canary(store::KeeperStore& store, const crypto::KeeperKeyring& keys,
                                                std::string_view value, std::string_view default_region) {
  std::string_view kind;
  std::expected<std::string, std::string> norm = std::unexpected(std::string());
  if (value.find('@') != std::string_view::npos) {
    kind = crypto::kBlindIndexEmail;
    norm = core::normalize_email(value);
  } else {
    kind = crypto::kBlindIndexPhone;
    norm = core::normalize_phone(value, default_region);
  }
  if (!norm) return std::optional<CanaryTrace>{};
  std::optional<CanaryTrace> out;
  auto r = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    // Every key version: a canary keeps the index it was made with.
    for (const crypto::KeySet& ks : keys.all()) {
      const auto idx = crypto::blind_index(ks, kind, *norm);
      auto c = tx.find_canary(Bytes(idx.begin(), idx.end()));
      if (!c) return propagate(c);
      if (!*c || (*c)->key_version != ks.version || (*c)->kind != kind) continue;
      auto e = tx.find_export((*c)->export_id);
      if (!e) return propagate(e);
      if (!*e) return fail(Errc::storage, "a canary names a missing export");
      Names names(tx);
      CanaryTrace t;
      t.export_id = (*e)->id;
      auto rn = names.of((*e)->requester_id);
      if (!rn) return propagate(rn);
      t.requester = std::move(*rn);
      if ((*e)->approver_id) {
        auto an = names.of(*(*e)->approver_id);
        if (!an) return propagate(an);
        t.approver = std::move(*an);
      }
      t.approved_at = (*e)->approved_at.value_or(0);
      t.kind = std::string(kind);
      out = std::move(t);
      return {};
    }
    return {};
  });
  wipe(*norm);
  if (!r) return std::unexpected(r.error());
  return out;
}

}  // namespace rempart::services
