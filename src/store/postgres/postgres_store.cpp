#include "store/postgres/postgres_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "store/postgres/connection.hpp"
#include "store/postgres/migrations.hpp"
#include "store/postgres/statements.hpp"
#include "store/tag_list.hpp"

namespace rempart::store {

namespace {

using postgres::Connection;
using postgres::in_transaction;
using postgres::Query;
namespace sql = postgres::sql;

Result<std::uint32_t> key_version_of(const Query& q, int col) {
  const std::int64_t v = q.int64(col);
  if (v < 0 || v > std::numeric_limits<std::uint32_t>::max()) {
    return fail(Errc::storage, "postgresql " + std::string(q.sql().name) + ": key_version out of range");
  }
  return static_cast<std::uint32_t>(v);
}

// Column order of kSelectSupporterBy*.
Result<SupporterRow> read_supporter(const Query& q) {
  auto kv = key_version_of(q, 1);
  if (!kv) return propagate(kv);
  SupporterRow row;
  row.id = q.blob(0);
  row.key_version = *kv;
  row.wrapped_key = q.blob(2);
  row.fields = q.blob(3);
  row.email_index = q.optional_blob(4);
  row.phone_index = q.optional_blob(5);
  row.consent_email_at = q.optional_int(6);
  row.consent_sms_at = q.optional_int(7);
  row.created_at = q.int64(8);
  row.updated_at = q.int64(9);
  row.consent_email_refused_at = q.optional_int(10);
  row.consent_sms_refused_at = q.optional_int(11);
  row.joined_at = q.optional_int(12);
  row.source_index = q.optional_blob(13);
  row.origin = q.text(14);  // NULL (a record older than the column) reads as ""
  return row;
}

Result<std::optional<SupporterRow>> select_supporter(Connection& conn, const postgres::Sql& stmt, const Bytes& key) {
  auto q = conn.query(stmt);
  if (!q) return propagate(q);
  q->bind_blob(1, key);
  auto row = q->step();
  if (!row) return propagate(row);
  if (!*row) return std::optional<SupporterRow>{};
  auto s = read_supporter(*q);
  if (!s) return propagate(s);
  return std::optional<SupporterRow>{std::move(*s)};
}

// The first column of every row, as bytes.
Result<std::vector<Bytes>> read_blobs(Query& q) {
  std::vector<Bytes> out;
  for (;;) {
    auto more = q.step();
    if (!more) return propagate(more);
    if (!*more) return out;
    out.push_back(q.blob(0));
  }
}

Result<std::vector<std::string>> select_tags(Connection& conn, const Bytes& supporter_id) {
  auto q = conn.query(sql::kSelectTags);
  if (!q) return propagate(q);
  q->bind_blob(1, supporter_id);
  std::vector<std::string> tags;
  for (;;) {
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return tags;
    tags.push_back(q->text(0));
  }
}

// Runs `body` inside one read transaction, so its reads share a snapshot.
// Inside an open transaction (a transact callback) it runs there: that
// transaction is already one snapshot.
template <typename Body>
auto in_read_snapshot(Connection& conn, Body&& body) -> decltype(body()) {
  if (conn.in_transaction()) return std::forward<Body>(body)();
  if (auto r = conn.exec(sql::kBeginReadOnlySnapshot); !r) return std::unexpected(std::move(r.error()));
  decltype(body()) result;
  try {
    result = std::forward<Body>(body)();
  } catch (...) {
    conn.rollback_if_open();
    throw;
  }
  // Ending a read transaction writes nothing; a failure here still means the
  // reads themselves were consistent, but report it rather than guess.
  if (result) {
    if (auto c = conn.exec(sql::kCommit); !c) result = std::unexpected(std::move(c.error()));
  }
  conn.rollback_if_open();
  return result;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The tags column of kSelectSupporterPage*: comma-joined hex of each tag.
Result<std::vector<std::string>> decode_hex_tags(std::string_view joined, std::string_view stmt) {
  std::vector<std::string> tags;
  if (joined.empty()) return tags;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = joined.find(',', start);
    const std::string_view h = joined.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (h.size() % 2 != 0) return fail(Errc::storage, "postgresql " + std::string(stmt) + ": malformed tag list");
    std::string tag;
    tag.reserve(h.size() / 2);
    for (std::size_t i = 0; i < h.size(); i += 2) {
      const int hi = hex_value(h[i]), lo = hex_value(h[i + 1]);
      if (hi < 0 || lo < 0) return fail(Errc::storage, "postgresql " + std::string(stmt) + ": malformed tag list");
      tag.push_back(static_cast<char>(hi * 16 + lo));
    }
    tags.push_back(std::move(tag));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  // group_concat's order is unspecified; callers get them sorted.
  std::sort(tags.begin(), tags.end());
  return tags;
}

// Every row of a page statement (REMPART_PAGE_COLUMNS: a supporter, then
// its tags), appended to `out`.
Result<void> read_listings(Query& q, std::string_view stmt_name, std::vector<SupporterListing>& out) {
  for (;;) {
    auto more = q.step();
    if (!more) return propagate(more);
    if (!*more) return {};
    auto row = read_supporter(q);
    if (!row) return propagate(row);
    auto tags = decode_hex_tags(q.text_view(15), stmt_name);
    if (!tags) return propagate(tags);
    out.push_back(SupporterListing{std::move(*row), std::move(*tags)});
  }
}


// A supporter and its tags from one of the kSelectListing* statements.
Result<std::optional<SupporterListing>> select_listing(Connection& conn, const postgres::Sql& stmt, const Bytes& key) {
  auto q = conn.query(stmt);
  if (!q) return propagate(q);
  q->bind_blob(1, key);
  auto more = q->step();
  if (!more) return propagate(more);
  if (!*more) return std::optional<SupporterListing>{};
  auto row = read_supporter(*q);
  if (!row) return propagate(row);
  auto tags = decode_hex_tags(q->text_view(15), stmt.name);
  if (!tags) return propagate(tags);
  return std::optional<SupporterListing>{SupporterListing{std::move(*row), std::move(*tags)}};
}

Result<std::int64_t> count(Connection& conn, const postgres::Sql& stmt) {
  auto q = conn.query(stmt);
  if (!q) return propagate(q);
  auto row = q->step();
  if (!row) return propagate(row);
  if (!*row) return fail(Errc::storage, "postgresql " + std::string(stmt.name) + " returned no row");
  return q->int64(0);
}

Result<bool> select_is_honeytoken(Connection& conn, const Bytes& id) {
  auto q = conn.query(sql::kSelectIsHoneytoken);
  if (!q) return propagate(q);
  q->bind_blob(1, id);
  auto row = q->step();
  if (!row) return propagate(row);
  if (!*row) return fail(Errc::storage, "postgresql kSelectIsHoneytoken returned no row");
  return q->int64(0) != 0;
}

// Binds ?1..?15 of kInsertSupporter, or ?1..?13 of kUpdateSupporter.
void bind_supporter(Query& q, const SupporterRow& row, bool for_insert) {
  q.bind_blob(1, row.id)
      .bind_int(2, row.key_version)
      .bind_blob(3, row.wrapped_key)
      .bind_blob(4, row.fields)
      .bind_optional_blob(5, row.email_index)
      .bind_optional_blob(6, row.phone_index)
      .bind_optional_int(7, row.consent_email_at)
      .bind_optional_int(8, row.consent_sms_at);
  if (for_insert) {
    q.bind_int(9, row.created_at)
        .bind_int(10, row.updated_at)
        .bind_optional_int(11, row.consent_email_refused_at)
        .bind_optional_int(12, row.consent_sms_refused_at)
        .bind_optional_int(13, row.joined_at)
        .bind_optional_blob(14, row.source_index);
    if (row.origin.empty()) {
      q.bind_null(15);
    } else {
      q.bind_text(15, row.origin);
    }
  } else {
    q.bind_int(9, row.updated_at)
        .bind_optional_int(10, row.consent_email_refused_at)
        .bind_optional_int(11, row.consent_sms_refused_at)
        .bind_optional_int(12, row.joined_at)
        .bind_optional_blob(13, row.source_index);
  }
}

// ---- Audit ---------------------------------------------------------------------

// Column order of REMPART_AUDIT_COLUMNS. Assigns into `row` so a scan reuses
// the row's buffers instead of allocating per entry.
Result<void> read_audit_entry(const Query& q, AuditEntryRow& row) {
  auto kv = key_version_of(q, 7);
  if (!kv) return propagate(kv);
  row.seq = q.int64(0);
  row.at = q.int64(1);
  row.actor.assign(q.text_view(2));
  row.action.assign(q.text_view(3));
  row.client.assign(q.text_view(4));
  row.subject.assign(q.text_view(5));
  row.details.assign(q.text_view(6));
  row.key_version = *kv;
  const auto prev = q.blob_view(8), hash = q.blob_view(9), mac = q.blob_view(10);
  row.prev_hash.assign(prev.begin(), prev.end());
  row.hash.assign(hash.begin(), hash.end());
  row.mac.assign(mac.begin(), mac.end());
  return {};
}

Result<void> stream_audit(Query& q, const AuditVisitor& visit) {
  AuditEntryRow row;
  for (;;) {
    auto more = q.step();
    if (!more) return propagate(more);
    if (!*more) return {};
    if (auto r = read_audit_entry(q, row); !r) return r;
    if (!visit(row)) return {};
  }
}

Result<std::optional<AuditHead>> select_audit_head(Connection& conn) {
  auto q = conn.query(sql::kSelectAuditHead);
  if (!q) return propagate(q);
  auto row = q->step();
  if (!row) return propagate(row);
  if (!*row) return std::optional<AuditHead>{};
  return std::optional<AuditHead>{AuditHead{q->int64(0), q->blob(1)}};
}

Result<AuditCheckpointRow> read_checkpoint(const Query& q) {
  auto kv = key_version_of(q, 3);
  if (!kv) return propagate(kv);
  return AuditCheckpointRow{q.int64(0), q.blob(1), q.int64(2), *kv, q.blob(4)};
}

Result<std::optional<AuditCheckpointRow>> select_last_checkpoint(Connection& conn) {
  auto q = conn.query(sql::kSelectLastAuditCheckpoint);
  if (!q) return propagate(q);
  auto row = q->step();
  if (!row) return propagate(row);
  if (!*row) return std::optional<AuditCheckpointRow>{};
  auto c = read_checkpoint(*q);
  if (!c) return propagate(c);
  return std::optional<AuditCheckpointRow>{std::move(*c)};
}

// Binds the five filter parameters shared by kScanAuditBy*.
void bind_audit_filter(Query& q, const std::string& actor, const std::string& action, const std::string& subject,
                       std::int64_t since, std::int64_t until) {
  q.bind_text(1, actor).bind_text(2, action).bind_text(3, subject).bind_int(4, since).bind_int(5, until);
}

// ---- Accounts, sessions, API tokens ------------------------------------------------

// Column order of REMPART_ACCOUNT_COLUMNS.
AccountRow read_account(const Query& q) {
  AccountRow a;
  a.id = q.blob(0);
  a.name = q.text(1);
  a.role = q.text(2);
  a.password_hash = q.text(3);
  a.totp_sealed = q.blob(4);
  a.totp_last_step = q.int64(5);
  a.disabled = q.int64(6) != 0;
  a.locked = q.int64(7) != 0;
  a.lock_reason = q.text(8);
  a.failures = q.int64(9);
  a.last_failure_at = q.int64(10);
  a.created_at = q.int64(11);
  a.updated_at = q.int64(12);
  a.state = q.text(13);
  a.created_by = q.text(14);
  a.admin_since = q.optional_int(15);
  a.enrol_hash = q.optional_blob(16);
  a.enrol_expires_at = q.int64(17);
  a.locked_at = q.optional_int(18);
  a.lock_detail = q.text(19);
  return a;
}

void bind_account(Query& q, const AccountRow& a) {
  q.bind_blob(1, a.id)
      .bind_text(2, a.name)
      .bind_text(3, a.role)
      .bind_text(4, a.password_hash)
      .bind_blob(5, a.totp_sealed)
      .bind_int(6, a.totp_last_step)
      .bind_int(7, a.disabled ? 1 : 0)
      .bind_int(8, a.locked ? 1 : 0)
      .bind_text(9, a.lock_reason)
      .bind_int(10, a.failures)
      .bind_int(11, a.last_failure_at)
      .bind_int(12, a.created_at)
      .bind_int(13, a.updated_at)
      .bind_text(14, a.state)
      .bind_text(15, a.created_by)
      .bind_optional_int(16, a.admin_since)
      .bind_optional_blob(17, a.enrol_hash)
      .bind_int(18, a.enrol_expires_at)
      .bind_optional_int(19, a.locked_at)
      .bind_text(20, a.lock_detail);
}

// Column order of REMPART_PRIVILEGE_COLUMNS.
PrivilegeRequestRow read_privilege_request(const Query& q) {
  PrivilegeRequestRow r;
  r.id = q.int64(0);
  r.kind = q.text(1);
  r.requester_id = q.blob(2);
  r.target = q.text(3);
  r.params = q.text(4);
  r.secret_hash = q.optional_blob(5);
  r.status = q.text(6);
  r.created_at = q.int64(7);
  r.expires_at = q.int64(8);
  r.decided_by = q.optional_blob(9);
  r.decided_at = q.optional_int(10);
  return r;
}

Result<std::optional<AccountRow>> select_account(Connection& conn, const postgres::Sql& stmt, auto&& bind) {
  auto q = conn.query(stmt);
  if (!q) return propagate(q);
  bind(*q);
  auto row = q->step();
  if (!row) return propagate(row);
  if (!*row) return std::optional<AccountRow>{};
  return std::optional<AccountRow>{read_account(*q)};
}

// Column order of REMPART_TOKEN_COLUMNS.
ApiTokenRow read_api_token(const Query& q) {
  ApiTokenRow t;
  t.id = q.int64(0);
  t.label = q.text(1);
  t.scope = q.text(2);
  t.prefix = q.text(3);
  t.token_hash = q.blob(4);
  t.created_by = q.text(5);
  t.created_at = q.int64(6);
  t.expires_at = q.int64(7);
  t.revoked_at = q.optional_int(8);
  return t;
}

// Reads the (state, count) rows of `q` into the counter each state names in
// `slots`; a state not named there is ignored.
Result<void> read_state_counts(Query& q, std::initializer_list<std::pair<std::string_view, std::int64_t*>> slots) {
  for (;;) {
    auto more = q.step();
    if (!more) return std::unexpected(more.error());
    if (!*more) return {};
    const std::string_view state = q.text_view(0);
    for (const auto& [name, slot] : slots) {
      if (state == name) *slot = q.int64(1);
    }
  }
}

Result<std::int64_t> run_counting(Connection& conn, const postgres::Sql& stmt, auto&& bind) {
  auto q = conn.query(stmt);
  if (!q) return propagate(q);
  bind(*q);
  if (auto r = q->run(); !r) return propagate(r);
  return q->changes();
}

// Runs an INSERT … RETURNING id and returns the id.
Result<std::int64_t> insert_returning_id(Connection& conn, const postgres::Sql& stmt, auto&& bind) {
  auto q = conn.query(stmt);
  if (!q) return propagate(q);
  bind(*q);
  auto step = q->step();
  if (!step) return propagate(step);
  if (!*step) return fail(Errc::storage, "postgresql " + std::string(stmt.name) + " returned no id");
  const std::int64_t id = q->int64(0);
  if (auto r = q->run(); !r) return propagate(r);  // finish the statement
  return id;
}

// ---- Exports ---------------------------------------------------------------------

// Column order of REMPART_EXPORT_COLUMNS.
ExportRow read_export(const Query& q) {
  ExportRow e;
  e.id = q.int64(0);
  e.requester_id = q.blob(1);
  e.tag = q.text(2);
  e.fields = q.text(3);
  e.reason = q.text(4);
  e.status = q.text(5);
  e.created_at = q.int64(6);
  e.expires_at = q.int64(7);
  e.approver_id = q.optional_blob(8);
  e.approved_at = q.optional_int(9);
  e.rows = q.int64(10);
  e.segment = q.text(11);
  return e;
}

// ---- Segments ----------------------------------------------------------------------

// The most tags of each list of a segment (SegmentReads).
constexpr std::size_t kSegmentTagSlots = 10;
// The most search tokens of a place (REMPART_SEGMENT_PLACE).
constexpr std::size_t kSegmentPlaceSlots = 4;

// Binds ?4..?10, ?14, ?20..?23 and ?50..?53 of the segment statements
// (statements.hpp, REMPART_SEGMENT_WHERE); Errc::invalid_input for a tag
// list of more than 10, a tag that holds the list separator '|' (a
// normalised tag never does), or more than 4 place tokens.
Result<void> bind_segment(Query& q, const SegmentFilter& f) {
  if (f.place_tokens.size() > kSegmentPlaceSlots) return fail(Errc::invalid_input, "segment: more than 4 place tokens");
  for (std::size_t i = 0; i < kSegmentPlaceSlots; ++i) {
    if (i < f.place_tokens.size()) {
      q.bind_blob(50 + static_cast<int>(i), f.place_tokens[i]);
    } else {
      q.bind_null(50 + static_cast<int>(i));
    }
  }
  int slot = 20;
  for (const auto* tags : {&f.tags_all, &f.tags_any, &f.tags_none}) {
    if (tags->size() > kSegmentTagSlots) return fail(Errc::invalid_input, "segment: more than 10 tags in a list");
    auto list = tag_list(*tags);
    if (!list) return fail(Errc::invalid_input, "segment: a tag holds '|'");
    q.bind_text(slot++, *list);
  }
  q.bind_int(23, f.tags_all.empty() && f.tags_any.empty() && f.tags_none.empty() ? 0 : 1);
  q.bind_text(4, f.email)
      .bind_text(5, f.sms)
      .bind_optional_int(6, f.signed_from)
      .bind_optional_int(7, f.signed_before)
      .bind_optional_int(8, f.updated_from)
      .bind_optional_int(9, f.updated_before)
      .bind_text(10, f.origin)
      .bind_int(14, static_cast<std::int64_t>(f.place_tokens.size()));
  return {};
}

// Column order of REMPART_SEGMENT_COLUMNS.
SegmentRow read_segment(const Query& q) {
  return SegmentRow{q.int64(0), q.text(1), q.text(2), q.text(3), q.int64(4), q.int64(5)};
}

// Column order of REMPART_CALL_LIST_COLUMNS and REMPART_CALL_ENTRY_COLUMNS.
CallListRow read_call_list(const Query& q) {
  return CallListRow{q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4),
                     q.int64(5), q.int64(6), q.int64(7), q.optional_int(8)};
}
CallEntryRow read_call_entry(const Query& q) {
  return CallEntryRow{q.int64(0), q.int64(1), q.blob(2), q.text(3), q.optional_int(4), q.text(5), q.optional_int(6)};
}

Result<std::vector<CallShareRow>> read_call_shares(Query& q) {
  std::vector<CallShareRow> out;
  for (;;) {
    auto row = q.step();
    if (!row) return propagate(row);
    if (!*row) return out;
    out.push_back(CallShareRow{q.int64(0), q.text(1), q.int64(2), q.int64(3), q.int64(4)});
  }
}

// ---- Intake ------------------------------------------------------------------

Result<std::vector<InboxRow>> read_inbox_rows(Query& q) {
  std::vector<InboxRow> rows;
  for (;;) {
    auto row = q.step();
    if (!row) return propagate(row);
    if (!*row) return rows;
    rows.push_back(InboxRow{q.int64(0), q.blob(1), q.blob(2), q.blob(3), q.blob(4), q.int64(5)});
  }
}

Result<std::optional<BatchRow>> select_batch(Connection& conn, const Bytes& uid) {
  auto q = conn.query(sql::kSelectBatch);
  if (!q) return propagate(q);
  q->bind_blob(1, uid);
  auto row = q->step();
  if (!row) return propagate(row);
  if (!*row) return std::optional<BatchRow>{};
  auto kv = key_version_of(*q, 1);
  if (!kv) return propagate(kv);
  return std::optional<BatchRow>{BatchRow{q->blob(0), *kv, q->blob(2), q->int64(3)}};
}

// Deletes folded inbox items by id, then the batches among `batches` no item
// refers to any more; once the inbox is empty, every batch left.
Result<std::int64_t> delete_inbox_items(Connection& conn, std::span<const std::int64_t> ids,
                                        std::span<const Bytes> batches) {
  std::int64_t removed = 0;
  for (const std::int64_t id : ids) {
    auto q = conn.query(sql::kDeleteInboxItem);
    if (!q) return propagate(q);
    q->bind_int(1, id);
    if (auto d = q->run(); !d) return propagate(d);
    removed += q->changes();
  }
  for (const Bytes& uid : batches) {
    auto q = conn.query(sql::kDeleteBatchIfUnreferenced);
    if (!q) return propagate(q);
    q->bind_blob(1, uid);
    if (auto d = q->run(); !d) return propagate(d);
  }
  auto is_empty = count(conn, sql::kInboxIsEmpty);
  if (!is_empty) return propagate(is_empty);
  if (*is_empty != 0) {
    auto q = conn.query(sql::kDeleteUnreferencedBatches);
    if (!q) return propagate(q);
    if (auto d = q->run(); !d) return propagate(d);
  }
  return removed;
}

std::int64_t sql_limit(std::size_t limit) {
  const auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(limit < max ? limit : max);
}

// ---- Keeper --------------------------------------------------------------------

// Every read port, over the connection of a store or of its open
// transaction: each read is written once for both.
template <class Base>
class PgReads : public Base {
 public:
  Result<std::optional<SupporterRow>> find_supporter_by_email_index(const Bytes& index) override {
    return select_supporter(conn(), sql::kSelectSupporterByEmailIndex, index);
  }
  Result<std::optional<SupporterRow>> find_supporter_by_phone_index(const Bytes& index) override {
    return select_supporter(conn(), sql::kSelectSupporterByPhoneIndex, index);
  }
  Result<std::optional<SupporterRow>> find_supporter(const Bytes& id) override {
    return select_supporter(conn(), sql::kSelectSupporterById, id);
  }
  Result<std::optional<SupporterRow>> find_supporter_by_source_index(const Bytes& index) override {
    return select_supporter(conn(), sql::kSelectSupporterBySourceIndex, index);
  }
  Result<bool> suppressed(const Bytes& blind_index) override {
    auto q = conn().query(sql::kSelectSuppressed);
    if (!q) return propagate(q);
    q->bind_blob(1, blind_index);
    auto more = q->step();
    if (!more) return propagate(more);
    return *more;
  }
  Result<std::vector<Bytes>> retention_candidates(std::string_view policy, std::int64_t cutoff, const Bytes& after,
                                                  std::size_t limit) override {
    const postgres::Sql* stmt = policy == "inactive"      ? &sql::kRetentionInactive
                              : policy == "phone"       ? &sql::kRetentionPhone
                              : policy == "unconfirmed" ? &sql::kRetentionUnconfirmed
                                                        : nullptr;
    if (stmt == nullptr) return fail(Errc::invalid_input, "retention: unknown policy");
    auto q = conn().query(*stmt);
    if (!q) return propagate(q);
    q->bind_int(1, cutoff).bind_blob(2, after).bind_int(3, sql_limit(limit));
    std::vector<Bytes> out;
    for (;;) {
      auto more = q->step();
      if (!more) return propagate(more);
      if (!*more) return out;
      out.push_back(q->blob(0));
    }
  }
  Result<std::int64_t> count_suppressions() override {
    auto q = conn().query(sql::kCountSuppressions);
    if (!q) return propagate(q);
    auto more = q->step();
    if (!more) return propagate(more);
    return *more ? q->int64(0) : 0;
  }
  Result<std::vector<ConsentEventRow>> consent_events(const Bytes& supporter_id) override {
    auto q = conn().query(sql::kSelectConsentEvents);
    if (!q) return propagate(q);
    q->bind_blob(1, supporter_id);
    std::vector<ConsentEventRow> out;
    for (;;) {
      auto more = q->step();
      if (!more) return propagate(more);
      if (!*more) break;
      out.push_back(ConsentEventRow{q->text(0), q->text(1), q->int64(2), q->text(3), q->optional_blob(4)});
    }
    return out;
  }
  Result<std::optional<std::string>> consent_wording(const Bytes& hash) override {
    auto q = conn().query(sql::kSelectConsentWording);
    if (!q) return propagate(q);
    q->bind_blob(1, hash);
    auto more = q->step();
    if (!more) return propagate(more);
    if (!*more) return std::optional<std::string>{};
    return std::optional<std::string>{q->text(0)};
  }
  Result<std::vector<std::string>> tags(const Bytes& supporter_id) override {
    return select_tags(conn(), supporter_id);
  }
  Result<std::vector<Bytes>> ids_by_search_token(const Bytes& token) override {
    auto q = conn().query(sql::kSelectIdsBySearchToken);
    if (!q) return propagate(q);
    q->bind_blob(1, token);
    return read_blobs(*q);
  }
  Result<std::vector<Bytes>> search_token_page(const Bytes& token, const std::optional<Bytes>& before,
                                               std::size_t limit) override {
    auto q = conn().query(before ? sql::kSelectSearchTokenPageBefore : sql::kSelectSearchTokenPage);
    if (!q) return propagate(q);
    q->bind_blob(1, token);
    if (before) {
      q->bind_blob(2, *before).bind_int(3, sql_limit(limit));
    } else {
      q->bind_int(2, sql_limit(limit));
    }
    return read_blobs(*q);
  }
  Result<std::int64_t> count_search_token(const Bytes& token, std::int64_t cap) override {
    auto q = conn().query(sql::kCountSearchTokenCapped);
    if (!q) return propagate(q);
    q->bind_blob(1, token).bind_int(2, std::max<std::int64_t>(cap, 0));
    auto row = q->step();
    if (!row) return propagate(row);
    return q->int64(0);
  }
  Result<std::vector<std::pair<std::int64_t, std::int64_t>>> added_per_day(std::int64_t since) override {
    auto q = conn().query(sql::kSelectAddedPerDay);
    if (!q) return propagate(q);
    q->bind_int(1, since);
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    for (;;) {
      auto more = q->step();
      if (!more) return propagate(more);
      if (!*more) return out;
      out.emplace_back(q->int64(0), q->int64(1));
    }
  }
  Result<std::vector<TagCountRow>> tag_counts_since(std::int64_t since, std::size_t limit) override {
    auto q = conn().query(sql::kSelectTagCountsSince);
    if (!q) return propagate(q);
    q->bind_int(1, since).bind_int(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, 1000)));
    std::vector<TagCountRow> out;
    for (;;) {
      auto more = q->step();
      if (!more) return propagate(more);
      if (!*more) return out;
      out.push_back(TagCountRow{q->text(0), q->int64(1)});
    }
  }
  Result<std::vector<OriginCountRow>> added_by_origin(std::int64_t since) override {
    auto q = conn().query(sql::kSelectAddedByOrigin);
    if (!q) return propagate(q);
    q->bind_int(1, since);
    std::vector<OriginCountRow> out;
    for (;;) {
      auto more = q->step();
      if (!more) return propagate(more);
      if (!*more) return out;
      out.push_back(OriginCountRow{q->text(0), q->int64(1)});
    }
  }
  Result<std::vector<Bytes>> honeytoken_ids() override {
    auto q = conn().query(sql::kSelectHoneytokenIds);
    if (!q) return propagate(q);
    return read_blobs(*q);
  }
  Result<std::vector<Bytes>> search_backlog(std::size_t limit) override {
    auto q = conn().query(sql::kSelectSearchBacklog);
    if (!q) return propagate(q);
    q->bind_int(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, 1'000'000)));
    return read_blobs(*q);
  }
  Result<std::optional<SupporterListing>> find_listing_by_email_index(const Bytes& index) override {
    return select_listing(conn(), sql::kSelectListingByEmailIndex, index);
  }
  Result<std::optional<SupporterListing>> find_listing_by_phone_index(const Bytes& index) override {
    return select_listing(conn(), sql::kSelectListingByPhoneIndex, index);
  }
  Result<std::optional<SupporterListing>> find_listing(const Bytes& id) override {
    return select_listing(conn(), sql::kSelectListingById, id);
  }
  Result<SupporterPage> supporter_page(const SupporterPageQuery& pq) override {
    return in_read_snapshot(conn(), [&]() -> Result<SupporterPage> {
      SupporterPage page;
      auto total = pq.tag.empty() ? count(conn(), sql::kCountVisibleSupporters) : count_with_tag(pq.tag);
      if (!total) return propagate(total);
      page.total = *total;
      if (pq.limit == 0) return page;

      const bool tagged = !pq.tag.empty();
      const postgres::Sql& stmt =
          pq.after ? (tagged ? sql::kSelectSupporterPageTaggedAfter : sql::kSelectSupporterPageAfter)
                   : (tagged ? sql::kSelectSupporterPageTagged : sql::kSelectSupporterPage);
      auto q = conn().query(stmt);
      if (!q) return propagate(q);
      const auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
      q->bind_int(1, static_cast<std::int64_t>(pq.limit < max ? pq.limit : max));
      if (pq.after) q->bind_int(2, pq.after->created_at).bind_blob(3, pq.after->id);
      if (tagged) q->bind_text(4, pq.tag);
      if (auto r = read_listings(*q, stmt.name, page.items); !r) return propagate(r);
      return page;
    });
  }
  Result<std::vector<TagCountRow>> tag_counts() override {
    auto q = conn().query(sql::kSelectTagCounts);
    if (!q) return propagate(q);
    std::vector<TagCountRow> out;
    for (;;) {
      auto row = q->step();
      if (!row) return propagate(row);
      if (!*row) return out;
      out.push_back(TagCountRow{q->text(0), q->int64(1)});
    }
  }
  Result<void> scan_real_supporters(const std::string& tag, const SupporterVisitor& visit) override {
    auto q = conn().query(sql::kScanRealSupporters);
    if (!q) return propagate(q);
    q->bind_text(1, tag);
    for (;;) {
      auto more = q->step();
      if (!more) return propagate(more);
      if (!*more) return {};
      auto row = read_supporter(*q);
      if (!row) return propagate(row);
      if (!visit(*row)) return {};
    }
  }
  Result<std::int64_t> count_segment(const SegmentFilter& f) override {
    // Seeded by the holders of the place if there is one, else every record.
    const postgres::Sql& stmt = f.place_tokens.empty() ? sql::kCountSegment : sql::kCountSegmentPlaced;
    auto q = conn().query(stmt);
    if (!q) return propagate(q);
    if (auto b = bind_segment(*q, f); !b) return std::unexpected(std::move(b.error()));
    // The seed holds the place already: the WHERE need not ask each record again.
    if (!f.place_tokens.empty()) q->bind_int(14, 0);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return fail(Errc::storage, "postgresql " + std::string(stmt.name) + " returned no row");
    return q->int64(0);
  }
  Result<SupporterPage> segment_page(const SegmentFilter& f, const SupporterPageQuery& pq, bool with_total) override {
    if (!pq.tag.empty()) return fail(Errc::invalid_input, "segment_page: a tag is not part of a page query here");
    return in_read_snapshot(conn(), [&]() -> Result<SupporterPage> {
      SupporterPage page;
      if (with_total) {
        auto total = count_segment(f);
        if (!total) return propagate(total);
        page.total = *total;
      }
      if (pq.limit == 0) return page;
      const postgres::Sql& stmt = pq.after ? sql::kSelectSegmentPageAfter : sql::kSelectSegmentPage;
      auto q = conn().query(stmt);
      if (!q) return propagate(q);
      if (auto b = bind_segment(*q, f); !b) return std::unexpected(std::move(b.error()));
      if (pq.after) q->bind_int(11, pq.after->created_at).bind_blob(12, pq.after->id);
      q->bind_int(13, sql_limit(pq.limit));
      if (auto r = read_listings(*q, stmt.name, page.items); !r) return propagate(r);
      return page;
    });
  }
  Result<std::optional<SegmentRow>> find_segment(const std::string& name) override {
    auto q = conn().query(sql::kSelectSegmentByName);
    if (!q) return propagate(q);
    q->bind_text(1, name);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return std::optional<SegmentRow>{};
    return std::optional<SegmentRow>{read_segment(*q)};
  }
  Result<std::vector<SegmentRow>> segments() override {
    auto q = conn().query(sql::kSelectSegments);
    if (!q) return propagate(q);
    std::vector<SegmentRow> out;
    for (;;) {
      auto row = q->step();
      if (!row) return propagate(row);
      if (!*row) return out;
      out.push_back(read_segment(*q));
    }
  }
  Result<std::int64_t> count_supporters() override { return count(conn(), sql::kCountSupporters); }
  Result<std::int64_t> count_honeytokens() override { return count(conn(), sql::kCountHoneytokens); }
  Result<bool> is_honeytoken(const Bytes& supporter_id) override { return select_is_honeytoken(conn(), supporter_id); }
  Result<std::optional<AuditHead>> audit_head() override { return select_audit_head(conn()); }
  Result<std::optional<AuditCheckpointRow>> last_audit_checkpoint() override { return select_last_checkpoint(conn()); }
  Result<std::vector<AuditCheckpointRow>> audit_checkpoints() override {
    auto q = conn().query(sql::kSelectAuditCheckpoints);
    if (!q) return propagate(q);
    std::vector<AuditCheckpointRow> out;
    for (;;) {
      auto row = q->step();
      if (!row) return propagate(row);
      if (!*row) return out;
      auto c = read_checkpoint(*q);
      if (!c) return propagate(c);
      out.push_back(std::move(*c));
    }
  }
  Result<void> scan_audit(std::int64_t from_seq, const AuditVisitor& visit) override {
    auto q = conn().query(sql::kScanAudit);
    if (!q) return propagate(q);
    q->bind_int(1, from_seq);
    return stream_audit(*q, visit);
  }
  Result<void> scan_audit_filtered(const AuditFilter& f, const AuditVisitor& visit) override {
    const postgres::Sql& stmt = !f.actor.empty()     ? sql::kScanAuditByActor
                              : !f.subject.empty() ? sql::kScanAuditBySubject
                              : !f.action.empty()  ? sql::kScanAuditByAction
                                                   : sql::kScanAuditByTime;
    auto q = conn().query(stmt);
    if (!q) return propagate(q);
    bind_audit_filter(*q, f.actor, f.action, f.subject, f.since, f.until);
    return stream_audit(*q, visit);
  }
  Result<void> scan_audit_newest(const AuditFilter& f, std::size_t limit, const AuditVisitor& visit) override {
    const postgres::Sql& stmt = !f.actor.empty()     ? sql::kNewestAuditByActor
                              : !f.subject.empty() ? sql::kNewestAuditBySubject
                              : !f.action.empty()  ? sql::kNewestAuditByAction
                                                   : sql::kNewestAuditByTime;
    auto q = conn().query(stmt);
    if (!q) return propagate(q);
    bind_audit_filter(*q, f.actor, f.action, f.subject, f.since, f.until);
    q->bind_int(6, static_cast<std::int64_t>(std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
    return stream_audit(*q, visit);
  }
  Result<void> scan_audit_actions(std::span<const std::string> actions, const std::string& actor,
                                  std::int64_t since, std::int64_t until, const AuditVisitor& visit) override {
    if (actions.size() > 8) return fail(Errc::invalid_input, "scan_audit_actions: at most 8 actions");
    if (!actor.empty()) {
      // One pass over the actor's window; the actions are picked here.
      auto q = conn().query(sql::kScanAuditByActor);
      if (!q) return propagate(q);
      bind_audit_filter(*q, actor, "", "", since, until);
      bool stopped = false;
      auto r = stream_audit(*q, [&](const AuditEntryRow& row) {
        if (std::find(actions.begin(), actions.end(), row.action) == actions.end()) return true;
        if (!visit(row)) stopped = true;
        return !stopped;
      });
      return r;
    }
    // Every actor: one index range per action.
    for (const std::string& action : actions) {
      auto q = conn().query(sql::kScanAuditByAction);
      if (!q) return propagate(q);
      bind_audit_filter(*q, "", action, "", since, until);
      bool stopped = false;
      auto r = stream_audit(*q, [&](const AuditEntryRow& row) {
        if (!visit(row)) stopped = true;
        return !stopped;
      });
      if (!r || stopped) return r;
    }
    return {};
  }
  Result<std::int64_t> counter(const std::string& actor, const std::string& kind, std::int64_t window_start) override {
    auto q = conn().query(sql::kSelectGuardCounter);
    if (!q) return propagate(q);
    q->bind_text(1, actor).bind_text(2, kind).bind_int(3, window_start);
    auto row = q->step();
    if (!row) return propagate(row);
    return *row ? q->int64(0) : 0;
  }
  Result<std::optional<Bytes>> export_public_key(const Bytes& account_id) override {
    auto q = conn().query(sql::kSelectAccountExportKey);
    if (!q) return propagate(q);
    q->bind_blob(1, account_id);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return fail(Errc::not_found, "export_public_key: no such account");
    return q->optional_blob(0);
  }
  Result<std::optional<ExportRow>> find_export(std::int64_t id) override {
    auto q = conn().query(sql::kSelectExport);
    if (!q) return propagate(q);
    q->bind_int(1, id);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return std::optional<ExportRow>{};
    return std::optional<ExportRow>{read_export(*q)};
  }
  Result<std::vector<ExportRow>> exports(const std::optional<Bytes>& requester_id) override {
    auto q = conn().query(requester_id ? sql::kSelectExportsOf : sql::kSelectExports);
    if (!q) return propagate(q);
    if (requester_id) q->bind_blob(1, *requester_id);
    std::vector<ExportRow> out;
    for (;;) {
      auto row = q->step();
      if (!row) return propagate(row);
      if (!*row) return out;
      out.push_back(read_export(*q));
    }
  }
  Result<std::optional<CanaryRow>> find_canary(const Bytes& blind_index) override {
    auto q = conn().query(sql::kSelectCanary);
    if (!q) return propagate(q);
    q->bind_blob(1, blind_index);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return std::optional<CanaryRow>{};
    auto kv = key_version_of(*q, 1);
    if (!kv) return propagate(kv);
    return std::optional<CanaryRow>{CanaryRow{q->blob(0), *kv, q->text(2), q->int64(3)}};
  }
 protected:
  explicit PgReads(Connection& conn) : conn_(conn) {}
  Connection& conn() const noexcept { return conn_; }

 private:
  Result<std::int64_t> count_with_tag(const std::string& tag) {
    auto q = conn().query(sql::kCountSupportersWithTag);
    if (!q) return propagate(q);
    q->bind_text(1, tag);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return fail(Errc::storage, "postgresql kCountSupportersWithTag returned no row");
    return q->int64(0);
  }

  Connection& conn_;
};

class PgKeeperTx final : public PgReads<KeeperTx> {
 public:
  explicit PgKeeperTx(Connection& conn) : PgReads<KeeperTx>(conn), conn_(conn) {}

  // Another connection of this process waits to start a write transaction
  // on the same file (it waits for this one to end).
  bool claims_inbox() const override { return true; }
  Result<std::vector<InboxRow>> claim_inbox(std::size_t limit) override {
    auto q = conn_.query(sql::kClaimInbox);
    if (!q) return propagate(q);
    q->bind_int(1, sql_limit(limit));
    return read_inbox_rows(*q);
  }
  Result<std::optional<BatchRow>> inbox_batch(const Bytes& uid) override { return select_batch(conn_, uid); }
  Result<std::int64_t> delete_inbox(std::span<const std::int64_t> ids, std::span<const Bytes> batches) override {
    return delete_inbox_items(conn_, ids, batches);
  }

  // Keepers do not queue behind one write lock here: each transaction locks
  // the rows it writes, and the audit chain's tail (audit_head).
  bool yield_requested() const override { return false; }

  // The chain's tail is read to append after it: the transaction takes the
  // chain's lock first (held to its end), so appends by several keepers
  // queue and each sees the head the one before committed (READ COMMITTED
  // reads the latest committed rows at each statement).
  Result<std::optional<AuditHead>> audit_head() override {
    if (auto l = lock_writers(); !l) return std::unexpected(std::move(l.error()));
    return PgReads<KeeperTx>::audit_head();
  }

  // Takes the writers' lock once (held to the transaction's end).
  Result<void> lock_writers() {
    if (chain_locked_) return {};
    if (auto l = conn_.exec(sql::kAuditAppendLock); !l) return l;
    chain_locked_ = true;
    return {};
  }

  // ---- Fold ledger.

  Result<bool> record_folded(const Bytes& item_uid, std::int64_t now) override {
    auto n = run_counting(conn_, sql::kInsertFoldedItem, [&](Query& q) { q.bind_blob(1, item_uid).bind_int(2, now); });
    if (!n) return propagate(n);
    return *n == 1;
  }
  Result<void> forget_folded(std::span<const Bytes> item_uids) override {
    for (const Bytes& uid : item_uids) {
      auto n = run_counting(conn_, sql::kDeleteFoldedItem, [&](Query& q) { q.bind_blob(1, uid); });
      if (!n) return propagate(n);
    }
    return {};
  }
  Result<std::vector<Bytes>> folded_items(std::size_t limit) override {
    auto q = conn_.query(sql::kSelectFoldedItems);
    if (!q) return propagate(q);
    q->bind_int(1, sql_limit(limit));
    std::vector<Bytes> out;
    for (;;) {
      auto row = q->step();
      if (!row) return propagate(row);
      if (!*row) return out;
      out.push_back(q->blob(0));
    }
  }



  Result<void> insert_supporter(const SupporterRow& row) override {
    auto q = conn_.query(sql::kInsertSupporter);
    if (!q) return propagate(q);
    bind_supporter(*q, row, true);
    return q->run();
  }

  Result<void> append_consent_event(const Bytes& supporter_id, const ConsentEventRow& e) override {
    auto q = conn_.query(sql::kInsertConsentEvent);
    if (!q) return propagate(q);
    q->bind_blob(1, supporter_id)
        .bind_text(2, e.channel)
        .bind_text(3, e.choice)
        .bind_int(4, e.at)
        .bind_text(5, e.source)
        .bind_optional_blob(6, e.wording);
    return q->run();
  }
  Result<void> put_consent_wording(const Bytes& hash, std::string_view text, std::int64_t now) override {
    auto q = conn_.query(sql::kInsertConsentWording);
    if (!q) return propagate(q);
    q->bind_blob(1, hash).bind_text(2, text).bind_int(3, now);
    return q->run();
  }

  Result<void> update_supporter(const SupporterRow& row) override {
    auto q = conn_.query(sql::kUpdateSupporter);
    if (!q) return propagate(q);
    bind_supporter(*q, row, false);
    if (auto r = q->run(); !r) return r;
    if (q->changes() == 0) return fail(Errc::not_found, "update_supporter: no such supporter");
    return {};
  }

  Result<void> add_tags(const Bytes& supporter_id, std::span<const std::string> tags, std::int64_t now) override {
    for (const std::string& tag : tags) {
      auto q = conn_.query(sql::kInsertTag);
      if (!q) return propagate(q);
      q->bind_blob(1, supporter_id).bind_text(2, tag).bind_int(3, now);
      if (auto r = q->run(); !r) {
        // The only constraint a well-formed tag can break is the reference.
        if (r.error().code == Errc::invalid_input) return fail(Errc::not_found, "add_tags: no such supporter");
        return r;
      }
    }
    return tags.empty() ? Result<void>{} : refresh_tag_list(supporter_id);
  }

  // The record's tag list (migration 0019) after its tags changed.
  Result<void> refresh_tag_list(const Bytes& supporter_id) {
    auto q = conn_.query(sql::kRefreshTagList);
    if (!q) return propagate(q);
    q->bind_blob(1, supporter_id);
    return q->run();
  }

  Result<void> put_search_tokens(const Bytes& supporter_id, std::span<const Bytes> tokens) override {
    for (const postgres::Sql* stmt : {&sql::kDeleteSearchTokensOf, &sql::kDeleteFromSearchBacklog}) {
      auto q = conn_.query(*stmt);
      if (!q) return propagate(q);
      q->bind_blob(1, supporter_id);
      if (auto r = q->run(); !r) return r;
    }
    return add_search_tokens(supporter_id, tokens);
  }

  Result<void> add_search_tokens(const Bytes& supporter_id, std::span<const Bytes> tokens) override {
    for (const Bytes& token : tokens) {
      auto q = conn_.query(sql::kInsertSearchToken);
      if (!q) return propagate(q);
      q->bind_blob(1, token).bind_blob(2, supporter_id);
      if (auto r = q->run(); !r) return r;
    }
    return {};
  }

  Result<std::int64_t> queue_all_for_search_tokens() override {
    return run_counting(conn_, sql::kInsertIntoSearchBacklog, [](Query&) {});
  }

  Result<void> remove_tags(const Bytes& supporter_id, std::span<const std::string> tags) override {
    for (const std::string& tag : tags) {
      auto q = conn_.query(sql::kDeleteTag);
      if (!q) return propagate(q);
      q->bind_blob(1, supporter_id).bind_text(2, tag);
      if (auto r = q->run(); !r) return r;
    }
    return tags.empty() ? Result<void>{} : refresh_tag_list(supporter_id);
  }







  // ---- Supporter mail.

  static OutboxRow outbox_row(const Query& q) {
    return OutboxRow{q.int64(0), q.blob(1), q.text(2), q.text(3), static_cast<int>(q.int64(4)), q.int64(5),
                     q.int64(6), q.optional_int(7), static_cast<int>(q.int64(8)), q.text(9)};
  }
  Result<void> known_supporter(const Bytes& id, const char* what) {
    auto known = select_supporter(conn_, sql::kSelectSupporterById, id);
    if (!known) return propagate(known);
    if (!*known) return fail(Errc::not_found, std::string(what) + ": no such supporter");
    return {};
  }
  Result<std::int64_t> enqueue_mail(const Bytes& supporter_id, const std::string& kind, std::int64_t now,
                                    const std::string& lang) override {
    // Asked first: a failed insert would end the transaction (no query
    // after it could tell a missing record from another refusal).
    if (auto k = known_supporter(supporter_id, "enqueue_mail"); !k) return std::unexpected(k.error());
    return insert_returning_id(conn_, sql::kInsertOutbox, [&](Query& q) {
      q.bind_blob(1, supporter_id).bind_text(2, kind).bind_int(3, now).bind_text(4, lang);
    });
  }
  Result<std::int64_t> mail_queued_since(const Bytes& supporter_id, const std::string& kind,
                                         std::int64_t since) override {
    auto q = conn_.query(sql::kCountOutboxSince);
    if (!q) return propagate(q);
    q->bind_blob(1, supporter_id).bind_text(2, kind).bind_int(3, since);
    auto more = q->step();
    if (!more) return propagate(more);
    return *more ? q->int64(0) : 0;
  }
  static MailingRow mailing_row(Query& q) {
    MailingRow m;
    m.id = q.int64(0);
    m.name = q.text(1);
    m.subject = q.text(2);
    m.body = q.text(3);
    m.segment = q.text(4);
    m.state = q.text(5);
    m.recipients = q.int64(6);
    m.created_by = q.text(7);
    m.created_at = q.int64(8);
    m.updated_at = q.int64(9);
    m.drawn_at = q.optional_int(10);
    m.approved_by = q.optional_text(11);
    m.approved_at = q.optional_int(12);
    m.started_at = q.optional_int(13);
    m.finished_at = q.optional_int(14);
    m.audience = q.text(15);
    m.lang = q.text(16);
    return m;
  }
  static void bind_mailing_tail(Query& q, const MailingRow& m, int first) {
    q.bind_optional_int(first, m.drawn_at)
        .bind_optional_text(first + 1, m.approved_by)
        .bind_optional_int(first + 2, m.approved_at)
        .bind_optional_int(first + 3, m.started_at)
        .bind_optional_int(first + 4, m.finished_at);
  }
  Result<std::int64_t> insert_mailing(const MailingRow& m) override {
    return insert_returning_id(conn_, sql::kInsertMailing, [&](Query& q) {
      q.bind_text(1, m.name)
          .bind_text(2, m.subject)
          .bind_text(3, m.body)
          .bind_text(4, m.segment)
          .bind_text(5, m.state)
          .bind_int(6, m.recipients)
          .bind_text(7, m.created_by)
          .bind_int(8, m.created_at)
          .bind_int(9, m.updated_at);
      bind_mailing_tail(q, m, 10);
      q.bind_text(15, m.audience).bind_text(16, m.lang);
    });
  }
  Result<std::optional<MailingRow>> mailing(std::int64_t id) override {
    auto q = conn_.query(sql::kSelectMailing);
    if (!q) return propagate(q);
    q->bind_int(1, id);
    return one_mailing(*q);
  }
  Result<std::optional<MailingRow>> oldest_sending_mailing() override {
    auto q = conn_.query(sql::kSelectOldestSendingMailing);
    if (!q) return propagate(q);
    return one_mailing(*q);
  }
  static Result<std::optional<MailingRow>> one_mailing(Query& q) {
    auto more = q.step();
    if (!more) return std::unexpected(more.error());
    if (!*more) return std::optional<MailingRow>{};
    return std::optional<MailingRow>{mailing_row(q)};
  }
  Result<std::vector<MailingRow>> mailings(std::size_t limit) override {
    auto q = conn_.query(sql::kSelectMailings);
    if (!q) return propagate(q);
    q->bind_int(1, sql_limit(limit));
    std::vector<MailingRow> out;
    for (;;) {
      auto more = q->step();
      if (!more) return propagate(more);
      if (!*more) return out;
      out.push_back(mailing_row(*q));
    }
  }
  Result<void> update_mailing(const MailingRow& m) override {
    auto n = run_counting(conn_, sql::kUpdateMailing, [&](Query& q) {
      q.bind_int(1, m.id)
          .bind_text(2, m.name)
          .bind_text(3, m.subject)
          .bind_text(4, m.body)
          .bind_text(5, m.segment)
          .bind_text(6, m.state)
          .bind_int(7, m.recipients)
          .bind_int(8, m.updated_at);
      bind_mailing_tail(q, m, 9);
      q.bind_text(14, m.audience).bind_text(15, m.lang);
    });
    if (!n) return propagate(n);
    if (*n != 1) return fail(Errc::not_found, "update_mailing: no such mailing");
    return {};
  }
  Result<bool> add_mailing_recipient(std::int64_t mailing_id, const Bytes& supporter_id,
                                     const std::string& audience) override {
    auto n = run_counting(conn_, sql::kInsertMailingRecipient, [&](Query& q) {
      q.bind_int(1, mailing_id).bind_blob(2, supporter_id).bind_text(3, audience);
    });
    if (!n) return propagate(n);
    return *n == 1;
  }
  Result<std::vector<Bytes>> mailing_recipients(std::int64_t mailing_id, const std::string& state,
                                                std::size_t limit) override {
    auto q = conn_.query(sql::kSelectMailingRecipients);
    if (!q) return propagate(q);
    q->bind_int(1, mailing_id).bind_text(2, state).bind_int(3, sql_limit(limit));
    std::vector<Bytes> out;
    for (;;) {
      auto more = q->step();
      if (!more) return propagate(more);
      if (!*more) return out;
      out.push_back(q->blob(0));
    }
  }
  Result<bool> mark_mailing_recipient(std::int64_t mailing_id, const Bytes& supporter_id, const std::string& state,
                                      std::int64_t batch, std::optional<std::int64_t> done_at,
                                      int last_reply) override {
    auto n = run_counting(conn_, sql::kUpdateMailingRecipient, [&](Query& q) {
      q.bind_int(1, mailing_id)
          .bind_blob(2, supporter_id)
          .bind_text(3, state)
          .bind_int(4, batch)
          .bind_optional_int(5, done_at)
          .bind_int(6, last_reply);
    });
    if (!n) return propagate(n);
    return *n == 1;
  }
  Result<std::int64_t> delete_mailing_recipients(std::int64_t mailing_id) override {
    auto n = run_counting(conn_, sql::kDeleteMailingRecipients, [&](Query& q) { q.bind_int(1, mailing_id); });
    if (!n) return propagate(n);
    return *n;
  }
  Result<std::int64_t> move_mailing_recipients(std::int64_t mailing_id, const std::string& from,
                                               const std::string& to) override {
    auto n = run_counting(conn_, sql::kMoveMailingRecipients,
                          [&](Query& q) { q.bind_int(1, mailing_id).bind_text(2, from).bind_text(3, to); });
    if (!n) return propagate(n);
    return *n;
  }
  Result<MailingCounts> mailing_counts(std::int64_t mailing_id) override {
    auto q = conn_.query(sql::kCountMailingRecipients);
    if (!q) return propagate(q);
    q->bind_int(1, mailing_id);
    MailingCounts c;
    auto r = read_state_counts(*q, {{"queued", &c.queued}, {"sending", &c.sending}, {"sent", &c.sent},
                                    {"failed", &c.failed}, {"skipped", &c.skipped}});
    if (!r) return std::unexpected(r.error());
    auto o = conn_.query(sql::kCountMailingOutcomes);
    if (!o) return propagate(o);
    o->bind_int(1, mailing_id);
    auto more = o->step();
    if (!more) return propagate(more);
    if (*more) {
      c.bounced = o->int64(0);
      c.complained = o->int64(1);
      c.unsubscribed = o->int64(2);
    }
    return c;
  }
  Result<bool> mailable(const Bytes& supporter_id, const std::string& audience) override {
    auto q = conn_.query(sql::kSelectMailable);
    if (!q) return propagate(q);
    q->bind_blob(1, supporter_id).bind_text(2, audience);
    auto more = q->step();
    if (!more) return propagate(more);
    return *more;
  }
  Result<bool> mark_email_bouncing(const Bytes& supporter_id, std::int64_t at) override {
    auto n = run_counting(conn_, sql::kMarkEmailBouncing,
                          [&](Query& q) { q.bind_blob(1, supporter_id).bind_int(2, at); });
    if (!n) return propagate(n);
    return *n == 1;
  }
  Result<std::optional<Bytes>> account_test_address(const Bytes& account_id) override {
    auto q = conn_.query(sql::kSelectAccountTestAddress);
    if (!q) return propagate(q);
    q->bind_blob(1, account_id);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return fail(Errc::not_found, "account_test_address: no such account");
    return q->optional_blob(0);
  }
  Result<void> set_account_test_address(const Bytes& account_id, const std::optional<Bytes>& sealed) override {
    auto n = run_counting(conn_, sql::kUpdateAccountTestAddress,
                          [&](Query& q) { q.bind_blob(1, account_id).bind_optional_blob(2, sealed); });
    if (!n) return propagate(n);
    if (*n == 0) return fail(Errc::not_found, "set_account_test_address: no such account");
    return {};
  }
  Result<bool> add_mail_event(const MailEventRow& row) override {
    auto n = run_counting(conn_, sql::kInsertMailEvent, [&](Query& q) {
      q.bind_blob(1, row.supporter_id)
          .bind_text(2, row.kind)
          .bind_int(3, row.at)
          .bind_optional_int(4, row.mailing_id)
          .bind_blob(5, row.report);
    });
    if (!n) return propagate(n);
    return *n == 1;
  }
  Result<std::int64_t> count_mail_events(const Bytes& supporter_id, const std::string& kind,
                                         std::int64_t since) override {
    auto q = conn_.query(sql::kCountMailEvents);
    if (!q) return propagate(q);
    q->bind_blob(1, supporter_id).bind_text(2, kind).bind_int(3, since);
    auto more = q->step();
    if (!more) return propagate(more);
    return *more ? q->int64(0) : 0;
  }
  Result<std::optional<std::int64_t>> note_mailing_outcome(const Bytes& supporter_id,
                                                           std::optional<std::int64_t> mailing_id,
                                                           const std::string& outcome, std::int64_t at) override {
    const postgres::Sql* stmt = outcome == "bounced"      ? &sql::kMailingBounced
                              : outcome == "complained" ? &sql::kMailingComplained
                              : outcome == "unsubscribed" ? &sql::kMailingUnsubscribed
                                                          : nullptr;
    if (stmt == nullptr) return fail(Errc::invalid_input, "note_mailing_outcome: unknown outcome");
    auto q = conn_.query(*stmt);
    if (!q) return propagate(q);
    q->bind_blob(1, supporter_id).bind_optional_int(2, mailing_id).bind_int(3, at);
    auto more = q->step();
    if (!more) return propagate(more);
    if (!*more) return std::optional<std::int64_t>{};
    const std::int64_t id = q->int64(0);
    auto rest = q->step();  // finishes the statement (one row at most)
    if (!rest) return propagate(rest);
    return std::optional<std::int64_t>{id};
  }
  Result<std::vector<OutboxRow>> due_mail(std::int64_t now, std::size_t limit) override {
    auto q = conn_.query(sql::kSelectDueOutbox);
    if (!q) return propagate(q);
    q->bind_int(1, now).bind_int(2, sql_limit(limit));
    std::vector<OutboxRow> out;
    for (;;) {
      auto more = q->step();
      if (!more) return propagate(more);
      if (!*more) return out;
      out.push_back(outbox_row(*q));
    }
  }
  Result<std::optional<OutboxRow>> mail_by_id(std::int64_t id) override {
    auto q = conn_.query(sql::kSelectOutboxById);
    if (!q) return propagate(q);
    q->bind_int(1, id);
    auto more = q->step();
    if (!more) return propagate(more);
    if (!*more) return std::optional<OutboxRow>{};
    return std::optional<OutboxRow>{outbox_row(*q)};
  }
  Result<void> update_mail(const OutboxRow& row) override {
    auto n = run_counting(conn_, sql::kUpdateOutbox, [&](Query& q) {
      q.bind_int(1, row.id)
          .bind_text(2, row.state)
          .bind_int(3, row.attempts)
          .bind_int(4, row.next_at)
          .bind_optional_int(5, row.done_at)
          .bind_int(6, row.last_reply);
    });
    if (!n) return propagate(n);
    if (*n != 1) return fail(Errc::not_found, "update_mail: no such message");
    return {};
  }
  Result<OutboxCounts> outbox_counts() override {
    auto q = conn_.query(sql::kCountOutboxByState);
    if (!q) return propagate(q);
    OutboxCounts c;
    auto r = read_state_counts(*q, {{"queued", &c.queued}, {"sending", &c.sending}, {"sent", &c.sent},
                                    {"failed", &c.failed}, {"dropped", &c.dropped}});
    if (!r) return std::unexpected(r.error());
    return c;
  }
  Result<std::int64_t> outbox_pending() override {
    auto q = conn_.query(sql::kCountOutboxPending);
    if (!q) return propagate(q);
    auto more = q->step();
    if (!more) return propagate(more);
    return *more ? q->int64(0) : 0;
  }
  Result<void> insert_link_token(const LinkTokenRow& row) override {
    auto q = conn_.query(sql::kInsertLinkToken);
    if (!q) return propagate(q);
    q->bind_blob(1, row.hash)
        .bind_blob(2, row.supporter_id)
        .bind_text(3, row.purpose)
        .bind_int(4, row.created_at)
        .bind_int(5, row.expires_at);
    if (auto r = q->run(); !r) {
      if (q->state() == "23503") return fail(Errc::not_found, "insert_link_token: no such supporter");
      return r;
    }
    return {};
  }
  Result<std::optional<LinkTokenRow>> link_token(const Bytes& hash) override {
    auto q = conn_.query(sql::kSelectLinkToken);
    if (!q) return propagate(q);
    q->bind_blob(1, hash);
    auto more = q->step();
    if (!more) return propagate(more);
    if (!*more) return std::optional<LinkTokenRow>{};
    return std::optional<LinkTokenRow>{
        LinkTokenRow{q->blob(0), q->blob(1), q->text(2), q->int64(3), q->int64(4), q->optional_int(5)}};
  }
  Result<bool> use_link_token(const Bytes& hash, std::int64_t now) override {
    auto n = run_counting(conn_, sql::kUseLinkToken, [&](Query& q) { q.bind_blob(1, hash).bind_int(2, now); });
    if (!n) return propagate(n);
    return *n == 1;
  }
  Result<std::int64_t> delete_expired_link_tokens(std::int64_t now) override {
    return run_counting(conn_, sql::kDeleteExpiredLinkTokens, [&](Query& q) { q.bind_int(1, now); });
  }
  Result<bool> confirm_email_consent(const Bytes& supporter_id, std::int64_t at) override {
    auto n = run_counting(conn_, sql::kConfirmEmailConsent,
                          [&](Query& q) { q.bind_blob(1, supporter_id).bind_int(2, at); });
    if (!n) return propagate(n);
    return *n == 1;
  }
  Result<std::optional<std::int64_t>> email_confirmed_at(const Bytes& supporter_id) override {
    auto q = conn_.query(sql::kSelectEmailConfirmed);
    if (!q) return propagate(q);
    q->bind_blob(1, supporter_id);
    auto more = q->step();
    if (!more) return propagate(more);
    if (!*more) return std::optional<std::int64_t>{};
    return q->optional_int(0);
  }
  Result<std::optional<PhraseRow>> phrase_of(const Bytes& supporter_id) override {
    auto q = conn_.query(sql::kSelectPhrase);
    if (!q) return propagate(q);
    q->bind_blob(1, supporter_id);
    auto more = q->step();
    if (!more) return propagate(more);
    if (!*more) return std::optional<PhraseRow>{};
    return std::optional<PhraseRow>{PhraseRow{q->blob(0), q->blob(1), q->blob(2), q->int64(3)}};
  }
  Result<void> insert_phrase(const PhraseRow& row) override {
    auto q = conn_.query(sql::kInsertPhrase);
    if (!q) return propagate(q);
    q->bind_blob(1, row.supporter_id).bind_blob(2, row.phrase_id).bind_blob(3, row.sealed).bind_int(4, row.created_at);
    if (auto r = q->run(); !r) {
      if (q->state() == "23503") return fail(Errc::not_found, "insert_phrase: no such supporter");
      return r;
    }
    return {};
  }

  // ---- Notes and erasure.

  Result<void> insert_note(const NoteRow& row) override {
    auto q = conn_.query(sql::kInsertNote);
    if (!q) return propagate(q);
    q->bind_blob(1, row.id)
        .bind_blob(2, row.supporter_id)
        .bind_text(3, row.kind)
        .bind_blob(4, row.sealed)
        .bind_text(5, row.author)
        .bind_int(6, row.created_at);
    if (auto r = q->run(); !r) {
      // Past the unique id (conflict), a constraint is the reference to the
      // supporter or the kind's CHECK.
      if (q->state() == "23503") return fail(Errc::not_found, "insert_note: no such supporter");
      return r;
    }
    return {};
  }
  Result<std::vector<NoteRow>> notes_of(const Bytes& supporter_id, std::size_t limit) override {
    auto q = conn_.query(sql::kSelectNotes);
    if (!q) return propagate(q);
    q->bind_blob(1, supporter_id).bind_int(2, sql_limit(limit));
    std::vector<NoteRow> out;
    for (;;) {
      auto more = q->step();
      if (!more) return propagate(more);
      if (!*more) return out;
      out.push_back(NoteRow{q->blob(0), q->blob(1), q->text(2), q->blob(3), q->text(4), q->int64(5)});
    }
  }
  Result<bool> erase_supporter(const Bytes& id) override {
    for (const postgres::Sql* stmt : {&sql::kDeleteNotesOf, &sql::kDeleteConsentEventsOf, &sql::kDeleteTagsOf,
                                    &sql::kDeleteHoneytokenOf, &sql::kDeleteCallEntriesOf, &sql::kDeleteOutboxOf,
                                    &sql::kDeleteLinkTokensOf, &sql::kDeletePhraseOf, &sql::kDeleteMailEventsOf,
                                    &sql::kDeleteMailingRecipientsOf}) {
      auto n = run_counting(conn_, *stmt, [&](Query& q) { q.bind_blob(1, id); });
      if (!n) return propagate(n);
    }
    auto n = run_counting(conn_, sql::kDeleteSupporter, [&](Query& q) { q.bind_blob(1, id); });
    if (!n) return propagate(n);
    return *n == 1;
  }

  Result<void> suppress(const Bytes& blind_index, std::uint32_t key_version, std::int64_t at) override {
    auto q = conn_.query(sql::kInsertSuppression);
    if (!q) return propagate(q);
    q->bind_blob(1, blind_index).bind_int(2, key_version).bind_int(3, at);
    return q->run();
  }
  Result<bool> lift_suppression(const Bytes& blind_index) override {
    auto n = run_counting(conn_, sql::kDeleteSuppression, [&](Query& q) { q.bind_blob(1, blind_index); });
    if (!n) return propagate(n);
    return *n == 1;
  }

  Result<void> append_audit_entry(const AuditEntryRow& row) override {
    auto q = conn_.query(sql::kInsertAuditEntry);
    if (!q) return propagate(q);
    q->bind_int(1, row.seq)
        .bind_int(2, row.at)
        .bind_text(3, row.actor)
        .bind_text(4, row.action)
        .bind_text(5, row.client)
        .bind_text(6, row.subject)
        .bind_text(7, row.details)
        .bind_int(8, row.key_version)
        .bind_blob(9, row.prev_hash)
        .bind_blob(10, row.hash)
        .bind_blob(11, row.mac);
    return q->run();
  }


  Result<void> insert_audit_checkpoint(const AuditCheckpointRow& row) override {
    auto q = conn_.query(sql::kInsertAuditCheckpoint);
    if (!q) return propagate(q);
    q->bind_int(1, row.seq)
        .bind_blob(2, row.head_hash)
        .bind_int(3, row.at)
        .bind_int(4, row.key_version)
        .bind_blob(5, row.signature);
    return q->run();
  }

  // ---- Accounts, sessions, API tokens.

  Result<void> insert_account(const AccountRow& row) override {
    auto q = conn_.query(sql::kInsertAccount);
    if (!q) return propagate(q);
    bind_account(*q, row);
    return q->run();
  }
  Result<std::optional<AccountRow>> find_account(const Bytes& id) override {
    return select_account(conn_, sql::kSelectAccountById, [&](Query& q) { q.bind_blob(1, id); });
  }
  Result<std::optional<AccountRow>> find_account_by_name(const std::string& name) override {
    return select_account(conn_, sql::kSelectAccountByName, [&](Query& q) { q.bind_text(1, name); });
  }
  Result<std::vector<AccountRow>> accounts() override {
    auto q = conn_.query(sql::kSelectAccounts);
    if (!q) return propagate(q);
    std::vector<AccountRow> out;
    for (;;) {
      auto row = q->step();
      if (!row) return propagate(row);
      if (!*row) return out;
      out.push_back(read_account(*q));
    }
  }
  Result<void> update_account(const AccountRow& row) override {
    auto n = run_counting(conn_, sql::kUpdateAccount, [&](Query& q) { bind_account(q, row); });
    if (!n) return propagate(n);
    if (*n == 0) return fail(Errc::not_found, "update_account: no such account");
    return {};
  }

  Result<void> insert_recovery_codes(const Bytes& account_id, std::span<const Bytes> code_hashes) override {
    for (const Bytes& h : code_hashes) {
      auto q = conn_.query(sql::kInsertRecoveryCode);
      if (!q) return propagate(q);
      q->bind_blob(1, account_id).bind_blob(2, h);
      if (auto r = q->run(); !r) return r;
    }
    return {};
  }
  Result<void> delete_recovery_codes(const Bytes& account_id) override {
    auto n = run_counting(conn_, sql::kDeleteRecoveryCodes, [&](Query& q) { q.bind_blob(1, account_id); });
    if (!n) return propagate(n);
    return {};
  }
  Result<bool> use_recovery_code(const Bytes& account_id, const Bytes& code_hash, std::int64_t now) override {
    auto n = run_counting(conn_, sql::kUseRecoveryCode,
                          [&](Query& q) { q.bind_blob(1, account_id).bind_blob(2, code_hash).bind_int(3, now); });
    if (!n) return propagate(n);
    return *n == 1;
  }
  Result<std::int64_t> count_unused_recovery_codes(const Bytes& account_id) override {
    auto q = conn_.query(sql::kCountUnusedRecoveryCodes);
    if (!q) return propagate(q);
    q->bind_blob(1, account_id);
    auto row = q->step();
    if (!row) return propagate(row);
    return *row ? q->int64(0) : 0;
  }

  Result<void> insert_session(const SessionRow& row) override {
    auto q = conn_.query(sql::kInsertSession);
    if (!q) return propagate(q);
    q->bind_blob(1, row.token_hash)
        .bind_blob(2, row.account_id)
        .bind_int(3, row.created_at)
        .bind_int(4, row.last_seen_at)
        .bind_text(5, row.client);
    return q->run();
  }
  Result<std::optional<SessionRow>> find_session(const Bytes& token_hash) override {
    auto q = conn_.query(sql::kSelectSession);
    if (!q) return propagate(q);
    q->bind_blob(1, token_hash);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return std::optional<SessionRow>{};
    return std::optional<SessionRow>{SessionRow{q->blob(0), q->blob(1), q->int64(2), q->int64(3), q->text(4)}};
  }
  Result<std::vector<SessionRow>> sessions_of(const Bytes& account_id) override {
    auto q = conn_.query(sql::kSelectSessionsOfAccount);
    if (!q) return propagate(q);
    q->bind_blob(1, account_id);
    std::vector<SessionRow> out;
    for (;;) {
      auto row = q->step();
      if (!row) return propagate(row);
      if (!*row) return out;
      out.push_back(SessionRow{q->blob(0), q->blob(1), q->int64(2), q->int64(3), q->text(4)});
    }
  }
  Result<void> touch_session(const Bytes& token_hash, std::int64_t now) override {
    auto n = run_counting(conn_, sql::kTouchSession, [&](Query& q) { q.bind_blob(1, token_hash).bind_int(2, now); });
    if (!n) return propagate(n);
    return {};
  }
  Result<std::int64_t> delete_session(const Bytes& token_hash) override {
    return run_counting(conn_, sql::kDeleteSession, [&](Query& q) { q.bind_blob(1, token_hash); });
  }
  Result<std::int64_t> delete_sessions_of(const Bytes& account_id) override {
    return run_counting(conn_, sql::kDeleteSessionsOfAccount, [&](Query& q) { q.bind_blob(1, account_id); });
  }

  Result<std::int64_t> insert_api_token(const ApiTokenRow& row) override {
    return insert_returning_id(conn_, sql::kInsertApiToken, [&](Query& q) {
      q.bind_text(1, row.label)
          .bind_text(2, row.scope)
          .bind_text(3, row.prefix)
          .bind_blob(4, row.token_hash)
          .bind_text(5, row.created_by)
          .bind_int(6, row.created_at)
          .bind_int(7, row.expires_at);
    });
  }
  Result<std::optional<ApiTokenRow>> find_api_token(const Bytes& token_hash) override {
    auto q = conn_.query(sql::kSelectApiTokenByHash);
    if (!q) return propagate(q);
    q->bind_blob(1, token_hash);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return std::optional<ApiTokenRow>{};
    return std::optional<ApiTokenRow>{read_api_token(*q)};
  }
  Result<std::vector<ApiTokenRow>> api_tokens() override {
    auto q = conn_.query(sql::kSelectApiTokens);
    if (!q) return propagate(q);
    std::vector<ApiTokenRow> out;
    for (;;) {
      auto row = q->step();
      if (!row) return propagate(row);
      if (!*row) return out;
      out.push_back(read_api_token(*q));
    }
  }
  Result<bool> revoke_api_token(std::int64_t id, std::int64_t now) override {
    auto n = run_counting(conn_, sql::kRevokeApiToken, [&](Query& q) { q.bind_int(1, id).bind_int(2, now); });
    if (!n) return propagate(n);
    return *n == 1;
  }
  Result<std::int64_t> revoke_api_tokens_of(const std::string& created_by, std::int64_t now) override {
    return run_counting(conn_, sql::kRevokeApiTokensOf,
                        [&](Query& q) { q.bind_text(1, created_by).bind_int(2, now); });
  }

  Result<std::optional<AccountRow>> find_account_by_enrol_hash(const Bytes& enrol_hash) override {
    return select_account(conn_, sql::kSelectAccountByEnrolHash, [&](Query& q) { q.bind_blob(1, enrol_hash); });
  }
  Result<void> insert_sponsor(const Bytes& account_id, const Bytes& sponsor_id) override {
    auto q = conn_.query(sql::kInsertSponsor);
    if (!q) return propagate(q);
    q->bind_blob(1, account_id).bind_blob(2, sponsor_id);
    return q->run();
  }
  Result<bool> is_sponsor(const Bytes& account_id, const Bytes& sponsor_id) override {
    auto q = conn_.query(sql::kSelectSponsor);
    if (!q) return propagate(q);
    q->bind_blob(1, account_id).bind_blob(2, sponsor_id);
    auto row = q->step();
    if (!row) return propagate(row);
    return *row;
  }

  Result<std::int64_t> insert_privilege_request(const PrivilegeRequestRow& row) override {
    return insert_returning_id(conn_, sql::kInsertPrivilegeRequest, [&](Query& q) {
      q.bind_text(1, row.kind)
          .bind_blob(2, row.requester_id)
          .bind_text(3, row.target)
          .bind_text(4, row.params)
          .bind_optional_blob(5, row.secret_hash)
          .bind_text(6, row.status)
          .bind_int(7, row.created_at)
          .bind_int(8, row.expires_at)
          .bind_optional_blob(9, row.decided_by)
          .bind_optional_int(10, row.decided_at);
    });
  }
  Result<std::optional<PrivilegeRequestRow>> find_privilege_request(std::int64_t id) override {
    auto q = conn_.query(sql::kSelectPrivilegeRequest);
    if (!q) return propagate(q);
    q->bind_int(1, id);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return std::optional<PrivilegeRequestRow>{};
    return std::optional<PrivilegeRequestRow>{read_privilege_request(*q)};
  }
  Result<std::vector<PrivilegeRequestRow>> privilege_requests(std::size_t limit) override {
    auto q = conn_.query(sql::kSelectPrivilegeRequests);
    if (!q) return propagate(q);
    q->bind_int(1, sql_limit(limit));
    std::vector<PrivilegeRequestRow> out;
    for (;;) {
      auto row = q->step();
      if (!row) return propagate(row);
      if (!*row) return out;
      out.push_back(read_privilege_request(*q));
    }
  }
  Result<void> update_privilege_request(const PrivilegeRequestRow& row) override {
    auto n = run_counting(conn_, sql::kUpdatePrivilegeRequest, [&](Query& q) {
      q.bind_int(1, row.id).bind_text(2, row.status).bind_optional_blob(3, row.decided_by).bind_optional_int(4, row.decided_at);
    });
    if (!n) return propagate(n);
    if (*n == 0) return fail(Errc::not_found, "update_privilege_request: no such request");
    return {};
  }
  Result<void> put_account_budget(const AccountBudgetRow& row) override {
    auto q = conn_.query(sql::kUpsertAccountBudget);
    if (!q) return propagate(q);
    q->bind_blob(1, row.account_id)
        .bind_text(2, row.counted)
        .bind_int(3, row.per_minute)
        .bind_int(4, row.per_hour)
        .bind_int(5, row.per_day)
        .bind_int(6, row.expires_at);
    return q->run();
  }
  Result<std::optional<AccountBudgetRow>> account_budget(const Bytes& account_id, const std::string& counted) override {
    auto q = conn_.query(sql::kSelectAccountBudget);
    if (!q) return propagate(q);
    q->bind_blob(1, account_id).bind_text(2, counted);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return std::optional<AccountBudgetRow>{};
    return std::optional<AccountBudgetRow>{
        AccountBudgetRow{q->blob(0), q->text(1), q->int64(2), q->int64(3), q->int64(4), q->int64(5)}};
  }

  Result<std::optional<LoginThrottleRow>> login_throttle(const std::string& client) override {
    auto q = conn_.query(sql::kSelectLoginThrottle);
    if (!q) return propagate(q);
    q->bind_text(1, client);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return std::optional<LoginThrottleRow>{};
    return std::optional<LoginThrottleRow>{LoginThrottleRow{q->int64(0), q->int64(1)}};
  }
  Result<void> put_login_throttle(const std::string& client, const LoginThrottleRow& row) override {
    auto n = run_counting(conn_, sql::kUpsertLoginThrottle, [&](Query& q) {
      q.bind_text(1, client).bind_int(2, row.failures).bind_int(3, row.last_failure_at);
    });
    if (!n) return propagate(n);
    return {};
  }
  Result<void> clear_login_throttle(const std::string& client) override {
    auto n = run_counting(conn_, sql::kDeleteLoginThrottle, [&](Query& q) { q.bind_text(1, client); });
    if (!n) return propagate(n);
    return {};
  }

  // ---- Saved segments, tags across records.

  Result<std::int64_t> insert_call_list(const CallListRow& row) override {
    return insert_returning_id(conn_, sql::kInsertCallList, [&](Query& q) {
      q.bind_text(1, row.name).bind_text(2, row.segment).bind_text(3, row.script).bind_text(4, row.created_by)
          .bind_int(5, row.created_at).bind_int(6, row.starts_at).bind_int(7, row.ends_at);
    });
  }
  Result<void> insert_call_entries(std::span<const CallEntryRow> rows) override {
    for (const CallEntryRow& e : rows) {
      auto q = conn_.query(sql::kInsertCallEntry);
      if (!q) return propagate(q);
      q->bind_int(1, e.list_id).bind_int(2, e.position).bind_blob(3, e.supporter_id).bind_text(4, e.caller);
      if (auto r = q->run(); !r) {
        // Past a position taken (conflict), a constraint is a reference.
        if (r.error().code == Errc::invalid_input) return fail(Errc::not_found, "insert_call_entries: no such list or record");
        return r;
      }
    }
    return {};
  }
  Result<std::optional<CallListRow>> find_call_list(const std::string& name) override {
    auto q = conn_.query(sql::kSelectCallListByName);
    if (!q) return propagate(q);
    q->bind_text(1, name);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return std::optional<CallListRow>{};
    return std::optional<CallListRow>{read_call_list(*q)};
  }
  Result<std::vector<CallListRow>> call_lists() override {
    auto q = conn_.query(sql::kSelectCallLists);
    if (!q) return propagate(q);
    std::vector<CallListRow> out;
    for (;;) {
      auto row = q->step();
      if (!row) return propagate(row);
      if (!*row) return out;
      out.push_back(read_call_list(*q));
    }
  }
  Result<std::vector<CallShareRow>> call_shares(std::int64_t list_id) override {
    auto q = conn_.query(sql::kSelectCallShares);
    if (!q) return propagate(q);
    q->bind_int(1, list_id);
    return read_call_shares(*q);
  }
  Result<std::vector<CallShareRow>> call_shares_of(const std::string& caller) override {
    auto q = conn_.query(sql::kSelectCallSharesOf);
    if (!q) return propagate(q);
    q->bind_text(1, caller);
    return read_call_shares(*q);
  }
  Result<std::vector<std::pair<std::string, std::int64_t>>> call_outcomes(std::int64_t list_id) override {
    auto q = conn_.query(sql::kSelectCallOutcomes);
    if (!q) return propagate(q);
    q->bind_int(1, list_id);
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (;;) {
      auto row = q->step();
      if (!row) return propagate(row);
      if (!*row) return out;
      out.emplace_back(q->text(0), q->int64(1));
    }
  }
  Result<std::optional<CallEntryRow>> next_call_entry(std::int64_t list_id, const std::string& caller) override {
    auto q = conn_.query(sql::kSelectNextCallEntry);
    if (!q) return propagate(q);
    q->bind_int(1, list_id).bind_text(2, caller);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return std::optional<CallEntryRow>{};
    return std::optional<CallEntryRow>{read_call_entry(*q)};
  }
  Result<std::optional<CallEntryRow>> find_call_entry(std::int64_t list_id, std::int64_t position) override {
    auto q = conn_.query(sql::kSelectCallEntry);
    if (!q) return propagate(q);
    q->bind_int(1, list_id).bind_int(2, position);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return std::optional<CallEntryRow>{};
    return std::optional<CallEntryRow>{read_call_entry(*q)};
  }
  Result<void> open_call_entry(std::int64_t list_id, std::int64_t position, std::int64_t now) override {
    auto n = run_counting(conn_, sql::kOpenCallEntry,
                          [&](Query& q) { q.bind_int(1, list_id).bind_int(2, position).bind_int(3, now); });
    if (!n) return propagate(n);
    return {};
  }
  Result<bool> finish_call_entry(std::int64_t list_id, std::int64_t position, const std::string& outcome,
                                 std::int64_t now) override {
    auto n = run_counting(conn_, sql::kFinishCallEntry, [&](Query& q) {
      q.bind_int(1, list_id).bind_int(2, position).bind_text(3, outcome).bind_int(4, now);
    });
    if (!n) return propagate(n);
    return *n == 1;
  }
  Result<bool> close_call_list(std::int64_t list_id, std::int64_t now) override {
    auto n = run_counting(conn_, sql::kCloseCallList, [&](Query& q) { q.bind_int(1, list_id).bind_int(2, now); });
    if (!n) return propagate(n);
    return *n == 1;
  }
  Result<std::int64_t> insert_segment(const SegmentRow& row) override {
    return insert_returning_id(conn_, sql::kInsertSegment, [&](Query& q) {
      q.bind_text(1, row.name).bind_text(2, row.definition).bind_text(3, row.created_by).bind_int(4, row.created_at)
          .bind_int(5, row.updated_at);
    });
  }
  Result<void> update_segment(const SegmentRow& row) override {
    auto n = run_counting(conn_, sql::kUpdateSegment,
                          [&](Query& q) { q.bind_text(1, row.name).bind_text(2, row.definition).bind_int(3, row.updated_at); });
    if (!n) return propagate(n);
    if (*n == 0) return fail(Errc::not_found, "update_segment: no such segment");
    return {};
  }
  Result<bool> delete_segment(const std::string& name) override {
    auto n = run_counting(conn_, sql::kDeleteSegment, [&](Query& q) { q.bind_text(1, name); });
    if (!n) return propagate(n);
    return *n > 0;
  }
  Result<std::int64_t> move_tag(const std::string& from, const std::string& to, std::int64_t now) override {
    if (from == to) return fail(Errc::invalid_input, "move_tag: the same tag");
    auto copied = run_counting(conn_, sql::kCopyTag,
                               [&](Query& q) { q.bind_text(1, from).bind_text(2, to).bind_int(3, now); });
    if (!copied) return propagate(copied);
    auto moved = run_counting(conn_, sql::kDeleteTagEverywhere, [&](Query& q) { q.bind_text(1, from); });
    if (!moved) return propagate(moved);
    auto lists = run_counting(conn_, sql::kRefreshTagListsOfTag, [&](Query& q) { q.bind_text(1, to); });
    if (!lists) return propagate(lists);
    return moved;
  }

  // ---- Exfiltration guard.

  Result<void> insert_honeytoken(const Bytes& supporter_id, std::int64_t now, const std::string& planted_by) override {
    auto q = conn_.query(sql::kInsertHoneytoken);
    if (!q) return propagate(q);
    q->bind_blob(1, supporter_id).bind_int(2, now).bind_text(3, planted_by);
    if (auto r = q->run(); !r) {
      // Past the primary key (conflict), the only constraint left is the
      // reference to the supporter.
      if (r.error().code == Errc::invalid_input) return fail(Errc::not_found, "insert_honeytoken: no such supporter");
      return r;
    }
    return {};
  }
  Result<std::int64_t> add_to_counter(const std::string& actor, const std::string& kind, std::int64_t window_start,
                                      std::int64_t delta) override {
    auto q = conn_.query(sql::kAddToGuardCounter);
    if (!q) return propagate(q);
    q->bind_text(1, actor).bind_text(2, kind).bind_int(3, window_start).bind_int(4, delta);
    auto step = q->step();
    if (!step) return propagate(step);
    if (!*step) return fail(Errc::storage, "postgresql kAddToGuardCounter returned no count");
    const std::int64_t n = q->int64(0);
    if (auto r = q->run(); !r) return propagate(r);  // finish the statement
    return n;
  }
  Result<std::int64_t> delete_counters_before(std::int64_t window_start) override {
    return run_counting(conn_, sql::kDeleteGuardCountersBefore, [&](Query& q) { q.bind_int(1, window_start); });
  }
  Result<std::int64_t> delete_counters_of(const std::string& actor) override {
    return run_counting(conn_, sql::kDeleteGuardCountersOf, [&](Query& q) { q.bind_text(1, actor); });
  }

  // ---- Exports.

  Result<void> set_export_public_key(const Bytes& account_id, const std::optional<Bytes>& public_key) override {
    auto n = run_counting(conn_, sql::kUpdateAccountExportKey,
                          [&](Query& q) { q.bind_blob(1, account_id).bind_optional_blob(2, public_key); });
    if (!n) return propagate(n);
    if (*n == 0) return fail(Errc::not_found, "set_export_public_key: no such account");
    return {};
  }
  Result<std::int64_t> insert_export(const ExportRow& row) override {
    return insert_returning_id(conn_, sql::kInsertExport, [&](Query& q) {
      q.bind_blob(1, row.requester_id)
          .bind_text(2, row.tag)
          .bind_text(3, row.fields)
          .bind_text(4, row.reason)
          .bind_text(5, row.status)
          .bind_int(6, row.created_at)
          .bind_int(7, row.expires_at)
          .bind_optional_blob(8, row.approver_id)
          .bind_optional_int(9, row.approved_at)
          .bind_int(10, row.rows)
          .bind_text(11, row.segment);
    });
  }
  Result<void> update_export(const ExportRow& row) override {
    auto n = run_counting(conn_, sql::kUpdateExport, [&](Query& q) {
      q.bind_int(1, row.id)
          .bind_text(2, row.status)
          .bind_optional_blob(3, row.approver_id)
          .bind_optional_int(4, row.approved_at)
          .bind_int(5, row.rows);
    });
    if (!n) return propagate(n);
    if (*n == 0) return fail(Errc::not_found, "update_export: no such export");
    return {};
  }
  Result<void> insert_canary(const CanaryRow& row) override {
    auto q = conn_.query(sql::kInsertCanary);
    if (!q) return propagate(q);
    q->bind_blob(1, row.blind_index).bind_int(2, row.key_version).bind_text(3, row.kind).bind_int(4, row.export_id);
    return q->run();
  }

 private:
  Connection& conn_;
  bool chain_locked_ = false;
};

// ---- Intake --------------------------------------------------------------------

std::optional<std::string> as_text(std::span<const std::uint8_t> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

class PgIntakeStore final : public IntakeStore {
 public:
  explicit PgIntakeStore(Connection conn) : conn_(std::move(conn)) {}

  // One round trip: every insert pipelined, committed by the sync. A retry
  // after a lost commit inserts nothing twice (ON CONFLICT DO NOTHING on the
  // batch's and the item's uid: the intake may not read to find out).
  Result<void> append(std::span<const BatchRow> batches, std::span<const InboxRow> items) override {
    if (batches.empty() && items.empty()) return {};
    std::vector<Connection::Piped> piped;
    piped.reserve(batches.size() + items.size());
    for (const BatchRow& b : batches) {
      piped.push_back(Connection::Piped{&sql::kInsertBatch,
                                        {as_text(b.uid), std::to_string(b.key_version), as_text(b.ephemeral_public),
                                         std::to_string(b.created_at)},
                                        {true, false, true, false}});
    }
    for (const InboxRow& item : items) {
      piped.push_back(Connection::Piped{&sql::kInsertInboxItem,
                                        {as_text(item.batch_uid), as_text(item.item_uid), as_text(item.wrapped_key),
                                         as_text(item.fields), std::to_string(item.received_at)},
                                        {true, true, true, true, false}});
    }
    auto r = conn_.pipeline_transaction(piped);
    // A batch sent again with more of its items may meet the keeper
    // deleting it (every item of it folded) between the two inserts: its
    // items then lack their batch. Once more, the batch goes in again.
    if (!r && r.error().internal.find("SQLSTATE 23503") != std::string::npos) r = conn_.pipeline_transaction(piped);
    return r;
  }

  PGconn* raw() const noexcept { return conn_.handle(); }

 private:
  Connection conn_;
};

class PgSignupLimiter final : public SignupLimiter {
 public:
  explicit PgSignupLimiter(Connection conn) : conn_(std::move(conn)) {}

  // Outside any transaction (the bucket's row is locked for the statement
  // only); the server's clock, which every intake node shares.
  Result<double> take(std::string_view key, double rate, double burst) override {
    if (auto ok = conn_.ensure_open(); !ok) return propagate(ok);
    auto q = conn_.query(sql::kTakeSignupToken);
    if (!q) return propagate(q);
    q->bind_text(1, key).bind_double(2, rate).bind_double(3, burst).bind_null(4);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return fail(Errc::storage, "postgresql kTakeSignupToken returned no row");
    return q->float64(0);
  }

 private:
  Connection conn_;
};

// ---- Keeper's side of the inbox ---------------------------------------------------

Result<std::vector<InboxRow>> read_inbox(Query& q) { return read_inbox_rows(q); }

class PgInboxStore final : public InboxStore {
 public:
  explicit PgInboxStore(Connection conn) : conn_(std::move(conn)) {}

  Result<std::vector<InboxRow>> peek(std::size_t limit, std::int64_t after) override {
    if (auto ok = conn_.ensure_open(); !ok) return propagate(ok);
    auto q = conn_.query(sql::kPeekInboxAfter);
    if (!q) return propagate(q);
    q->bind_int(1, sql_limit(limit)).bind_int(2, after);
    return read_inbox(*q);
  }

  Result<std::optional<BatchRow>> batch(const Bytes& uid) override { return select_batch(conn_, uid); }

  Result<std::int64_t> count() override { return rempart::store::count(conn_, sql::kCountInbox); }

  Result<std::int64_t> remove(std::span<const std::int64_t> ids, std::span<const Bytes> batches) override {
    std::int64_t removed = 0;
    auto r = in_transaction(conn_, [&]() -> Result<void> {
      auto d = delete_inbox_items(conn_, ids, batches);
      if (!d) return propagate(d);
      removed = *d;
      return {};
    });
    if (!r) return propagate(r);
    return removed;
  }

  Result<std::int64_t> remove_by_uid(std::span<const Bytes> item_uids) override {
    std::int64_t removed = 0;
    auto r = in_transaction(conn_, [&]() -> Result<void> {
      for (const Bytes& uid : item_uids) {
        auto q = conn_.query(sql::kDeleteInboxItemByUid);
        if (!q) return propagate(q);
        q->bind_blob(1, uid);
        if (auto d = q->run(); !d) return d;
        removed += q->changes();
      }
      auto q = conn_.query(sql::kDeleteUnreferencedBatches);
      if (!q) return propagate(q);
      return q->run();
    });
    if (!r) return propagate(r);
    return removed;
  }

  PGconn* raw() const noexcept { return conn_.handle(); }

 private:
  Connection conn_;
};

// ---- Keeper --------------------------------------------------------------------

struct KeeperConnection {
  explicit KeeperConnection(Connection c) : db_(std::move(c)) {}
  Connection db_;
};

class PgKeeperStore final : private KeeperConnection, public PgReads<KeeperStore> {
 public:
  explicit PgKeeperStore(Connection c) : KeeperConnection(std::move(c)), PgReads<KeeperStore>(db_) {}

  // Every write transaction takes the writers' lock (the audit chain's) at
  // its start, as SQLite's one writer at a time: the day counts and the
  // chain's tail are rows every writer touches, and taken in any order they
  // would deadlock. Reads (snapshot) take none.
  Result<void> transact(const std::function<Result<void>(KeeperTx&)>& fn) override {
    return in_transaction(db_, [&]() -> Result<void> {
      PgKeeperTx tx(db_);
      if (auto l = tx.lock_writers(); !l) return l;
      return fn(tx);
    });
  }

  // A fold's transaction claims and opens its items before it writes: the
  // lock is taken at its first audit_head (write_items), so several
  // keepers claim and open in parallel and queue for the writes only.
  Result<void> transact_fold(const std::function<Result<void>(KeeperTx&)>& fn) override {
    return in_transaction(db_, [&]() -> Result<void> {
      PgKeeperTx tx(db_);
      return fn(tx);
    });
  }

  // Writers do not queue behind one lock: nothing to wait for.
  void make_way() override {}

  Result<void> snapshot(const std::function<Result<void>()>& fn) override {
    if (!db_.in_transaction()) {
      if (auto ok = db_.ensure_open(); !ok) return ok;
    }
    return in_read_snapshot(db_, fn);
  }

  // PostgreSQL keeps a deleted row's old version in the table until VACUUM
  // (autovacuum, soon after) reuses its space, and in the WAL until its
  // segments are recycled, and in archives, standbys and backups for as
  // long as they are kept: the keeper's role can force none of this (it
  // owns no table). Says so: false (docs/postgresql.md, "Erasure").
  Result<bool> flush_deleted() override { return false; }

  bool claims_inbox() const override { return true; }

  PGconn* raw() const noexcept { return db_.handle(); }
};

// The statements each role prepares at connect time: a schema or grant
// mismatch shows at start-up, not on the first request.
constexpr const postgres::Sql* kIntakeStatements[] = {&sql::kInsertBatch, &sql::kInsertInboxItem};
constexpr const postgres::Sql* kLimiterStatements[] = {&sql::kTakeSignupToken};
constexpr const postgres::Sql* kInboxStatements[] = {&sql::kPeekInboxAfter, &sql::kSelectBatch,
                                                     &sql::kDeleteInboxItem, &sql::kDeleteBatchIfUnreferenced,
                                                     &sql::kInboxIsEmpty, &sql::kDeleteUnreferencedBatches,
                                                     &sql::kCountInbox};
constexpr const postgres::Sql* kKeeperStatements[] = {&sql::kInsertSupporter, &sql::kUpdateSupporter,
                                                      &sql::kSelectAuditHead, &sql::kInsertAuditEntry,
                                                      &sql::kInsertAuditCheckpoint, &sql::kInsertHoneytoken,
                                                      &sql::kSelectIsHoneytoken, &sql::kAddToGuardCounter,
                                                      &sql::kInsertFoldedItem, &sql::kDeleteFoldedItem,
                                                      &sql::kAuditAppendLock, &sql::kClaimInbox};

Result<Connection> open_role_connection(const postgres::ConnectOptions& o, std::span<const postgres::Sql* const> warm,
                                        bool check_version) {
  auto conn = Connection::open(o);
  if (!conn) return conn;
  if (check_version) {
    if (auto v = postgres::check_schema_version(*conn); !v) return propagate(v);
  }
  if (auto p = conn->prepare_all(warm); !p) return propagate(p);
  return conn;
}

}  // namespace

Result<std::unique_ptr<IntakeStore>> open_postgres_intake(const postgres::ConnectOptions& o) {
  // The intake cannot read schema_migrations: preparing its inserts checks
  // the tables it writes exist and that it may write them.
  auto conn = open_role_connection(o, kIntakeStatements, false);
  if (!conn) return propagate(conn);
  return std::make_unique<PgIntakeStore>(std::move(*conn));
}

Result<std::unique_ptr<InboxStore>> open_postgres_inbox(const postgres::ConnectOptions& o) {
  auto conn = open_role_connection(o, kInboxStatements, true);
  if (!conn) return propagate(conn);
  return std::make_unique<PgInboxStore>(std::move(*conn));
}

Result<std::unique_ptr<KeeperStore>> open_postgres_keeper(const postgres::ConnectOptions& o) {
  auto conn = open_role_connection(o, kKeeperStatements, true);
  if (!conn) return propagate(conn);
  return std::make_unique<PgKeeperStore>(std::move(*conn));
}

namespace {

class PgBackend final : public Backend {
 public:
  explicit PgBackend(StorageOptions o) : o_(std::move(o)) {}

  Result<std::unique_ptr<IntakeStore>> open_intake() override {
    auto c = connect(o_.intake_user, o_.intake_password_file, "rempart-intake");
    if (!c) return propagate(c);
    return open_postgres_intake(*c);
  }
  Result<std::unique_ptr<InboxStore>> open_inbox() override {
    auto c = connect(o_.keeper_user, o_.keeper_password_file, "rempart-keeper");
    if (!c) return propagate(c);
    return open_postgres_inbox(*c);
  }
  Result<std::unique_ptr<SignupLimiter>> open_signup_limiter() override {
    auto c = connect(o_.intake_user, o_.intake_password_file, "rempart-intake");
    if (!c) return propagate(c);
    auto conn = open_role_connection(*c, kLimiterStatements, false);
    if (!conn) return propagate(conn);
    return std::make_unique<PgSignupLimiter>(std::move(*conn));
  }
  Result<std::unique_ptr<KeeperStore>> open_keeper(KeeperUse, std::size_t* upgraded) override {
    if (upgraded != nullptr) *upgraded = 0;
    auto c = connect(o_.keeper_user, o_.keeper_password_file, "rempart-keeper");
    if (!c) return propagate(c);
    return open_postgres_keeper(*c);
  }

 private:
  Result<postgres::ConnectOptions> connect(const std::string& user, const std::filesystem::path& password_file,
                                           const char* application) const {
    postgres::ConnectOptions c;
    c.dsn = o_.dsn;
    c.user = user;
    c.application_name = application;
    if (!password_file.empty()) {
      auto pw = postgres::read_password_file(password_file);
      if (!pw) return propagate(pw);
      c.password = std::move(*pw);
    }
    return c;
  }

  const StorageOptions o_;
};

}  // namespace

Result<std::unique_ptr<Backend>> open_postgres_backend(const StorageOptions& o) {
  if (o.dsn.empty()) return fail(Errc::config, "[storage].dsn is required by the postgresql backend");
  return std::make_unique<PgBackend>(o);
}

namespace postgres::test_hooks {

PGconn* raw_handle(IntakeStore& store) noexcept {
  auto* s = dynamic_cast<PgIntakeStore*>(&store);
  return s != nullptr ? s->raw() : nullptr;
}
PGconn* raw_handle(InboxStore& store) noexcept {
  auto* s = dynamic_cast<PgInboxStore*>(&store);
  return s != nullptr ? s->raw() : nullptr;
}
PGconn* raw_handle(KeeperStore& store) noexcept {
  auto* s = dynamic_cast<PgKeeperStore*>(&store);
  return s != nullptr ? s->raw() : nullptr;
}

}  // namespace postgres::test_hooks

}  // namespace rempart::store
