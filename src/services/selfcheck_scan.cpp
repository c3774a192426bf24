#include "services/selfcheck_scan.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>

#include "i18n/i18n.hpp"

namespace rempart::services::selfcheck {

namespace fs = std::filesystem;

namespace {

// Bytes kept after each chunk: every anchor is examined with at least
// kLookahead bytes after it (an address is at most 64 + 1 + 253 bytes) and
// kKeep - kLookahead before it.
constexpr std::size_t kLookahead = 320;
constexpr std::size_t kKeep = 2 * kLookahead;
constexpr std::size_t kMaxLocal = 64;
constexpr std::size_t kMaxDomain = 253;

bool digit(std::uint8_t c) { return c >= '0' && c <= '9'; }
bool letter(std::uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool alnum(std::uint8_t c) { return digit(c) || letter(c); }
bool local_char(std::uint8_t c) {
  return alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool domain_char(std::uint8_t c) { return alnum(c) || c == '-' || c == '.'; }
std::uint8_t lower(std::uint8_t c) { return c >= 'A' && c <= 'Z' ? static_cast<std::uint8_t>(c + 32) : c; }

// The e-mail address around the '@' at `at`, lower-cased; "" when none.
std::string email_at(const std::uint8_t* b, std::size_t begin, std::size_t at, std::size_t end) {
  std::size_t s = at;
  while (s > begin && at - s < kMaxLocal + 1 && local_char(b[s - 1])) --s;
  if (s > begin && local_char(b[s - 1])) return {};  // longer than an address's local part
  if (at - s < 3 || b[s] == '.' || b[at - 1] == '.') return {};
  std::size_t e = at + 1;
  while (e < end && e - at <= kMaxDomain + 1 && domain_char(b[e])) ++e;
  if (e < end && domain_char(b[e])) return {};
  while (e > at + 1 && (b[e - 1] == '.' || b[e - 1] == '-')) --e;
  // Labels: not empty, the one before the last of 2 bytes at least, the
  // last one 2..24 letters.
  std::size_t last_dot = 0, labels = 0, label_start = at + 1, before_last = 0, last_len = 0;
  for (std::size_t i = at + 1; i <= e; ++i) {
    if (i == e || b[i] == '.') {
      if (i == label_start) return {};
      ++labels;
      before_last = last_len;
      last_len = i - label_start;
      if (i < e) last_dot = i;
      label_start = i + 1;
    }
  }
  if (labels < 2 || before_last < 2) return {};
  const std::size_t tld = e - last_dot - 1;
  if (tld < 2 || tld > 24) return {};
  for (std::size_t i = last_dot + 1; i < e; ++i) {
    if (!letter(b[i])) return {};
  }
  std::string v;
  v.reserve(e - s);
  for (std::size_t i = s; i < e; ++i) v.push_back(static_cast<char>(lower(b[i])));
  return v;
}

// An E.164 number from the '+' at `at`: "+" and its digits; "" when none.
std::string e164_at(const std::uint8_t* b, std::size_t begin, std::size_t at, std::size_t end) {
  if (at > begin && (alnum(b[at - 1]) || b[at - 1] == '+')) return {};
  std::size_t e = at + 1;
  if (e >= end || b[e] < '1' || b[e] > '9') return {};
  while (e < end && digit(b[e]) && e - at <= 16) ++e;
  const std::size_t digits = e - at - 1;
  if (digits < 8 || digits > 15 || (e < end && alnum(b[e]))) return {};
  return std::string(reinterpret_cast<const char*>(b + at), e - at);
}

// A national number from the '0' at `at`: 0[1-9] then four pairs of
// digits, each after at most one space, dot or dash; its digits, "" when
// none.
std::string national_at(const std::uint8_t* b, std::size_t begin, std::size_t at, std::size_t end) {
  if (at > begin) {
    const std::uint8_t p = b[at - 1];
    if (alnum(p) || p == '+' || p == '.' || p == ',' || p == '-' || p == '_') return {};
  }
  if (at + 1 >= end || b[at + 1] < '1' || b[at + 1] > '9') return {};
  std::string v = {'0', static_cast<char>(b[at + 1])};
  std::size_t i = at + 2;
  for (int pair = 0; pair < 4; ++pair) {
    if (i < end && (b[i] == ' ' || b[i] == '.' || b[i] == '-')) ++i;
    if (i + 1 >= end || !digit(b[i]) || !digit(b[i + 1])) return {};
    v.push_back(static_cast<char>(b[i]));
    v.push_back(static_cast<char>(b[i + 1]));
    i += 2;
  }
  if (i < end && (alnum(b[i]) || b[i] == '_')) return {};
  return v;
}

}  // namespace

void PlaintextCounter::count(std::string value, bool email) {
  const bool known = allowed_ != nullptr && allowed_->contains(value);
  if (email) {
    ++(known ? allowed_emails : emails);
  } else {
    ++(known ? allowed_phones : phones);
  }
  // The value goes now: nothing found is kept.
  std::fill(value.begin(), value.end(), '\0');
}

void PlaintextCounter::scan(std::size_t from, std::size_t to) {
  const std::uint8_t* b = buf_.data();
  const std::size_t end = buf_.size();
  for (std::size_t i = from; i < to; ++i) {
    const std::uint8_t c = b[i];
    if (c == '@') {
      if (auto v = email_at(b, 0, i, end); !v.empty()) count(std::move(v), true);
    } else if (c == '+') {
      if (auto v = e164_at(b, 0, i, end); !v.empty()) count(std::move(v), false);
    } else if (c == '0') {
      if (auto v = national_at(b, 0, i, end); !v.empty()) count(std::move(v), false);
    }
  }
}

void PlaintextCounter::feed(std::span<const std::uint8_t> chunk) {
  bytes += chunk.size();
  buf_.insert(buf_.end(), chunk.begin(), chunk.end());
  if (buf_.size() <= kLookahead) return;
  const std::size_t limit = buf_.size() - kLookahead;
  if (limit > examined_) scan(examined_, limit);
  examined_ = std::max(examined_, limit);
  if (buf_.size() > kKeep) {
    const std::size_t drop = buf_.size() - kKeep;
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(drop));
    examined_ -= drop;
  }
}

void PlaintextCounter::finish() {
  if (examined_ < buf_.size()) scan(examined_, buf_.size());
  std::fill(buf_.begin(), buf_.end(), 0);
  buf_.clear();
  examined_ = 0;
}

std::vector<std::string> plaintext_values(std::string_view text) {
  std::vector<std::string> out;
  const auto* b = reinterpret_cast<const std::uint8_t*>(text.data());
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::string v;
    if (b[i] == '@') {
      v = email_at(b, 0, i, text.size());
    } else if (b[i] == '+') {
      v = e164_at(b, 0, i, text.size());
    } else if (b[i] == '0') {
      v = national_at(b, 0, i, text.size());
    }
    if (!v.empty()) out.push_back(std::move(v));
  }
  return out;
}

namespace {

// The staff-written columns (documented in docs/incident.md): fixed,
// named statements, each run alone; a table an older schema lacks is
// skipped.
struct KnownColumn {
  const char* name;
  const char* sql;
};
constexpr KnownColumn kKnownPlaintext[] = {
    {"consent_wordings", "SELECT text FROM consent_wordings"},
    {"mailings", "SELECT name, subject, body FROM mailings"},
    {"call_lists", "SELECT script FROM call_lists"},
    {"segments", "SELECT definition FROM segments"},
    {"exports", "SELECT reason FROM exports"},
    {"breach_register", "SELECT nature, measures_note, contact FROM breach_register"},
};

using Db = std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)>;
using Stmt = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

}  // namespace

Result<std::unordered_set<std::string>> known_plaintext(const fs::path& db_file) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(db_file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  Db db(raw, &sqlite3_close_v2);
  if (rc != SQLITE_OK) return fail(Errc::io, "cannot open " + db_file.filename().string() + " read-only");
  sqlite3_busy_timeout(db.get(), 5000);
  std::unordered_set<std::string> out;
  for (const auto& k : kKnownPlaintext) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db.get(), k.sql, -1, &s, nullptr) != SQLITE_OK) {
      sqlite3_finalize(s);
      continue;  // not in this schema
    }
    Stmt stmt(s, &sqlite3_finalize);
    int step = SQLITE_ROW;
    while ((step = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(stmt.get()); ++c) {
        const auto* text = sqlite3_column_text(stmt.get(), c);
        if (text == nullptr) continue;
        const std::string_view v(reinterpret_cast<const char*>(text),
                                 static_cast<std::size_t>(sqlite3_column_bytes(stmt.get(), c)));
        for (auto& found : plaintext_values(v)) out.insert(std::move(found));
      }
    }
    if (step != SQLITE_DONE) return fail(Errc::io, std::string("cannot read ") + k.name + " in " +
                                                       db_file.filename().string());
  }
  return out;
}

namespace {

constexpr std::array<const char*, 6> kScanTexts = {
    N_("{}: {} e-mail-shaped and {} phone-shaped values in clear outside staff-written text"),
    N_("{}: nothing shaped like an e-mail address or a phone number in clear ({} in staff-written text)"),
    N_("find what wrote them in clear (tag names and imports are the usual suspects), correct it, then VACUUM the "
       "database with rempart stopped so that freed pages are overwritten"),
    N_("{}: cannot be read"),
    N_("run the self-check as the user rempart runs as"),
    N_("the database is on PostgreSQL: its files are not scanned here, only the exports"),
};

Finding make(std::string id, Level level, Text finding, Text fix = {}) {
  Finding f;
  f.id = std::move(id);
  f.level = level;
  f.finding = std::move(finding);
  f.fix = std::move(fix);
  return f;
}

// Streams `files` through one counter; false when one cannot be read.
bool scan_files(const std::vector<fs::path>& files, PlaintextCounter& counter) {
  std::vector<std::uint8_t> chunk(1 << 20);
  for (const auto& f : files) {
    std::unique_ptr<FILE, decltype(&std::fclose)> in(std::fopen(f.c_str(), "rb"), &std::fclose);
    if (!in) return false;
    std::size_t n = 0;
    while ((n = std::fread(chunk.data(), 1, chunk.size(), in.get())) > 0) {
      counter.feed(std::span<const std::uint8_t>(chunk.data(), n));
    }
    if (std::ferror(in.get()) != 0) return false;
    // Files are apart: nothing matches across their boundary.
    counter.finish();
  }
  return true;
}

// `names`: how the findings name the files ("" : their file names).
void scan_group(const std::string& id, const std::vector<fs::path>& files,
                const std::unordered_set<std::string>* allowed, ScanResult& out, std::string names = {}) {
  if (names.empty()) {
    for (const auto& f : files) names += (names.empty() ? "" : ", ") + f.filename().string();
  }
  PlaintextCounter counter(allowed);
  const bool ok = scan_files(files, counter);
  out.bytes += counter.bytes;
  if (!ok) {
    out.findings.push_back(make(id, Level::fail, {kScanTexts[3], {names}}, {kScanTexts[4], {}}));
    return;
  }
  const std::int64_t allowed_n = counter.allowed_emails + counter.allowed_phones;
  if (counter.emails + counter.phones != 0) {
    out.findings.push_back(make(id, Level::fail,
                                {kScanTexts[0], {names, std::to_string(counter.emails), std::to_string(counter.phones)}},
                                {kScanTexts[2], {}}));
  } else {
    out.findings.push_back(make(id, Level::ok, {kScanTexts[1], {names, std::to_string(allowed_n)}}));
  }
}

std::vector<fs::path> existing(const std::vector<fs::path>& files) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& f : files) {
    if (fs::is_regular_file(f, ec)) out.push_back(f);
  }
  return out;
}

}  // namespace

std::span<const char* const> scan_texts() noexcept { return kScanTexts; }

ScanResult scan_data_files(const Settings& s) {
  ScanResult out;
  const auto start = std::chrono::steady_clock::now();
  if (s.backend == "sqlite") {
    const fs::path db = s.data_dir / "rempart.db";
    std::unordered_set<std::string> allowed;
    if (auto k = known_plaintext(db); k) {
      allowed = std::move(*k);
    } else {
      out.findings.push_back(make("plaintext.rempart_db", Level::fail, {kScanTexts[3], {db.filename().string()}},
                                  {kScanTexts[4], {}}));
    }
    if (out.findings.empty()) {
      scan_group("plaintext.rempart_db", existing({db, s.data_dir / "rempart.db-wal"}), &allowed, out);
    }
    allowed.clear();
    const auto inbox = existing({s.data_dir / "inbox.db", s.data_dir / "inbox.db-wal"});
    if (!inbox.empty()) scan_group("plaintext.inbox_db", inbox, nullptr, out);
  } else {
    out.findings.push_back(make("plaintext.database", Level::ok, {kScanTexts[5], {}}));
  }
  std::vector<fs::path> exports;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(s.exports_dir, ec)) {
    if (e.is_regular_file(ec)) exports.push_back(e.path());
  }
  std::sort(exports.begin(), exports.end());
  if (!exports.empty()) {
    scan_group("plaintext.exports", exports, nullptr, out, s.exports_dir.filename().string() + "/");
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace rempart::services::selfcheck
