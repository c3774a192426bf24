#include "services/directory.hpp"

#include <algorithm>
#include <charconv>
#include <span>
#include <utility>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "audit/chain.hpp"
#include "guard/budget.hpp"
#include "auth/mask.hpp"
#include "core/hex.hpp"
#include "core/text.hpp"
#include "core/validate.hpp"
#include "crypto/blind_index.hpp"
#include "services/records.hpp"
#include "services/search_tokens.hpp"
#include "services/vault.hpp"

namespace rempart::services {
namespace {

constexpr std::size_t kMaxLimit = 200;
constexpr std::size_t kMaxTagsPerCall = 20;
constexpr std::size_t kMaxReasonBytes = 200;
constexpr std::size_t kIdBytes = 16;
constexpr std::string_view kHidden = "\u2022\u2022\u2022";  // "•••"
// A version label, so the format can change without old cursors being
// misread: they are then refused, and the console starts from the top.
constexpr std::string_view kCursorLabel = "v1.";
constexpr std::string_view kFindCursorLabel = "f1.";

// 32 hex digits (either case) -> 16 bytes; nullopt for anything else.
std::optional<store::Bytes> parse_id(std::string_view hex) { return core::from_hex(hex, kIdBytes); }

// "v1.<created_at>.<id as 32 lower-case hex digits>". The cursor shows
// nothing the page did not (both values are in MaskedSupporter), so it
// needs no MAC: a forged one only moves the start of a list the caller may
// read anyway.
std::string encode_cursor(const store::SupporterRow& row) {
  return std::string(kCursorLabel) + std::to_string(row.created_at) + "." + audit::to_hex(row.id);
}

// Accepts exactly what encode_cursor writes: canonical decimal (no sign
// other than '-', no leading zero, no "-0"), lower-case hex, nothing else.
std::optional<store::SupporterPosition> parse_cursor(std::string_view c) {
  if (!c.starts_with(kCursorLabel)) return std::nullopt;
  c.remove_prefix(kCursorLabel.size());
  const std::size_t dot = c.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view number = c.substr(0, dot), hex = c.substr(dot + 1);
  std::int64_t at = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), at);
  if (ec != std::errc{} || end != number.data() + number.size() || std::to_string(at) != number) {
    return std::nullopt;
  }
  if (std::any_of(hex.begin(), hex.end(), [](char ch) { return ch >= 'A' && ch <= 'F'; })) return std::nullopt;
  auto id = parse_id(hex);
  if (!id) return std::nullopt;
  return store::SupporterPosition{at, std::move(*id)};
}

// `a` and `b` joined by one space, either may be empty.
std::string join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + " " + b;
}

// The first `keep` code points of `s` then "•••", keeping fewer when `s`
// is that short so at least one code point is always hidden ("" stays "").
std::string keep_prefix(std::string_view s, std::size_t keep) {
  if (s.empty()) return {};
  const std::size_t total = core::text::count_code_points(s);
  keep = std::min(keep, total > 0 ? total - 1 : 0);
  std::size_t i = 0;
  for (std::size_t n = 0; n < keep; ++n) {
    // Stored text is well-formed UTF-8; should it not be, show less.
    if (!core::text::decode_one(s, i)) break;
  }
  return std::string(s.substr(0, i)) + std::string(kHidden);
}

MaskedSupporter mask(const store::SupporterRow& row, const core::Person& p, std::vector<std::string> tags) {
  MaskedSupporter m;
  m.id = audit::to_hex(row.id);
  const std::string name = join(p.given_name, p.family_name);
  if (!name.empty()) m.name = auth::initials(name);
  if (!p.email.empty()) m.email = auth::mask_email(p.email);
  if (!p.phone.empty()) m.phone = auth::mask_phone(p.phone);
  if (!p.street.empty()) m.street = std::string(kHidden);
  m.postal_code = keep_prefix(p.postal_code, 2);
  m.locality = keep_prefix(p.locality, 1);
  m.country = p.country;
  m.tags = std::move(tags);
  m.consent_email = row.consent_email_at.has_value();
  m.consent_sms = row.consent_sms_at.has_value();
  m.consent_email_refused = row.consent_email_refused_at.has_value();
  m.consent_sms_refused = row.consent_sms_refused_at.has_value();
  m.created_at = row.created_at;
  m.updated_at = row.updated_at;
  return m;
}

// Validates and normalises a tag list for add/remove: 1..20 tags, each as
// intake accepts them; returns them sorted and unique.
Result<std::vector<std::string>> normalise_tags(const std::vector<std::string>& tags, std::string_view op) {
  if (tags.empty()) return fail(Errc::invalid_input, std::string(op) + ": no tag given");
  if (tags.size() > kMaxTagsPerCall) return fail(Errc::invalid_input, std::string(op) + ": more than 20 tags");
  std::vector<std::string> out;
  out.reserve(tags.size());
  for (const std::string& t : tags) {
    auto n = core::normalize_tag(t);
    if (!n) return fail(Errc::invalid_input, std::string(op) + ": invalid tag");
    out.push_back(std::move(*n));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool valid_reason(std::string_view r) { return core::text::is_plain_line(r, kMaxReasonBytes); }

std::string revealed_value(FieldKind k, const core::Person& p) {
  switch (k) {
    case FieldKind::name: return join(p.given_name, p.family_name);
    case FieldKind::email: return p.email;
    case FieldKind::phone: return p.phone;
    case FieldKind::address: {
      std::string out;
      std::string_view rest = p.street;  // lines, '\n'-joined
      while (!rest.empty()) {
        const auto nl = rest.find('\n');
        out.append(rest.substr(0, nl)).append(", ");
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      }
      out += join(p.postal_code, p.locality);
      if (out.ends_with(", ")) out.resize(out.size() - 2);
      return out;
    }
  }
  return {};
}

}  // namespace

std::string_view field_kind_name(FieldKind k) noexcept {
  switch (k) {
    case FieldKind::name: return "name";
    case FieldKind::email: return "email";
    case FieldKind::phone: return "phone";
    case FieldKind::address: return "address";
  }
  return "name";
}

std::optional<FieldKind> parse_field_kind(std::string_view s) noexcept {
  for (FieldKind k : kAllFieldKinds) {
    if (field_kind_name(k) == s) return k;
  }
  return std::nullopt;
}

Directory::Directory(store::KeeperStore& store, const Vault& vault, const guard::Budgets* budgets)
    : store_(&store), vault_(&vault), keys_(&vault.keyring()), budgets_(budgets) {}

namespace {

guard::Counted counted(FieldKind k) {
  switch (k) {
    case FieldKind::name: return guard::Counted::name;
    case FieldKind::email: return guard::Counted::email;
    case FieldKind::phone: return guard::Counted::phone;
    case FieldKind::address: return guard::Counted::address;
  }
  return guard::Counted::name;
}

}  // namespace

// Locks the asker's budget actor for `reason` and, when a token acted for
// it, revokes that token too.
Result<void> lock_asker(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const Asker& who,
                        std::string_view reason, const nlohmann::json& extra) {
  if (auto r = guard::lock_actor(tx, keys, who.budget_actor(), reason, who.client, extra); !r) return r;
  if (who.budget_actor() != who.actor) return guard::lock_actor(tx, keys, who.actor, reason, who.client, extra);
  return {};
}

// Charges `n` of `what` to the asker's budget actor; a crossing locks it
// (and the token acting for it). Returns the verdict.
Result<guard::Verdict> charge_asker(store::KeeperTx& tx, const crypto::KeeperKeyring& keys,
                                    const guard::Budgets& budgets, const Asker& who, guard::Counted what,
                                    std::int64_t n) {
  auto v = guard::charge(tx, keys, budgets, who.budget_actor(), what, n, unix_now(), who.client, who.role);
  if (!v) return v;
  if (v->locked && who.budget_actor() != who.actor) {
    if (auto r = guard::lock_actor(tx, keys, who.actor, v->reason, who.client, {{"for", who.budget_actor()}}); !r) {
      return std::unexpected(r.error());
    }
  }
  return v;
}

Result<void> locked_error(const guard::Verdict& v, const std::string& record) {
  return fail(Errc::locked, record.empty() ? v.reason : v.reason + ":" + record);
}

namespace {

// The audit entry of a read (`act`: supporter.list or supporter.lookup_miss).
audit::Event read_entry(const Asker& who, std::string_view act, std::string_view subject, nlohmann::json details) {
  if (!who.session.empty()) details["session"] = who.session;
  return audit::Event{who.actor, std::string(act), std::string(subject), std::move(details), who.client};
}

// What a read costs, in the transaction of its audit entry: `rows` masked
// rows (at least one), and one `miss` when nothing was found (`act`
// supporter.lookup_miss). With `honeytoken_id` set (an exact search hit),
// touching a honeytoken locks the asker. Sets `verdict` (and `record`, the
// honeytoken's id) when the view must not be served.
Result<void> charge_read(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const guard::Budgets* budgets,
                         const Asker& who, std::int64_t rows, const store::Bytes* honeytoken_id,
                         std::string_view act, guard::Verdict& verdict, std::string& record) {
  if (!budgets) return {};
  if (honeytoken_id) {
    auto h = tx.is_honeytoken(*honeytoken_id);
    if (!h) return std::unexpected(h.error());
    if (*h) {
      verdict = {true, std::string(guard::kReasonHoneytoken)};
      record = audit::to_hex(*honeytoken_id);
      return lock_asker(tx, keys, who, verdict.reason, {{"record", record}, {"by", "search"}});
    }
  }
  auto v = charge_asker(tx, keys, *budgets, who, guard::Counted::masked, std::max<std::int64_t>(rows, 1));
  if (!v) return std::unexpected(v.error());
  verdict = std::move(*v);
  if (!verdict.locked && act == audit::action::supporter_lookup_miss) {
    auto m = charge_asker(tx, keys, *budgets, who, guard::Counted::miss, 1);
    if (!m) return std::unexpected(m.error());
    verdict = std::move(*m);
  }
  return {};
}

// Commits the `supporter.lookup_miss` entry of a search that found nobody,
// and charges it. Returns Errc::locked (after committing the lock) when the
// asker crossed a budget.
Result<void> record_miss(store::KeeperStore& store, const crypto::KeeperKeyring& keys, const guard::Budgets* budgets,
                         const Asker& who, nlohmann::json details) {
  guard::Verdict verdict;
  std::string record;
  const auto act = audit::action::supporter_lookup_miss;
  auto r = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto e = audit::record(tx, keys, read_entry(who, act, "", std::move(details)));
    if (!e) return std::unexpected(e.error());
    return charge_read(tx, keys, budgets, who, 1, nullptr, act, verdict, record);
  });
  if (!r) return r;
  if (verdict.locked) return locked_error(verdict, record);
  return {};
}

// Opens `rows` through the vault for a masked view and commits one
// `supporter.list` entry (details: `details` plus the session) with the
// read's charges; see charge_read for `honeytoken_id`. Returns the opened
// records, or Errc::locked (after committing the lock) when the view must
// not be served.
Result<std::vector<core::Person>> open_shown(const Vault& vault, store::KeeperStore& store,
                                             const guard::Budgets* budgets, const Asker& who,
                                             std::span<const store::SupporterRow* const> rows,
                                             std::string_view subject, nlohmann::json details,
                                             const store::Bytes* honeytoken_id = nullptr) {
  guard::Verdict verdict;
  std::string record;
  const auto act = audit::action::supporter_list;
  const auto n = static_cast<std::int64_t>(rows.size());
  auto opened = vault.view(store, rows, read_entry(who, act, subject, std::move(details)),
                           [&](store::KeeperTx& tx) -> Result<void> {
                             return charge_read(tx, vault.keyring(), budgets, who, n, honeytoken_id, act, verdict,
                                                record);
                           });
  if (!opened) return opened;
  if (verdict.locked) {
    for (auto& p : *opened) wipe_person(p);
    return std::unexpected(locked_error(verdict, record).error());
  }
  return opened;
}

// Adds (`add`) or removes tags and commits the `supporter.tag` entry in the
// same transaction.
Result<void> change_tags(store::KeeperStore& store, const crypto::KeeperKeyring& keys, const Asker& who,
                         std::string_view id_hex, const std::vector<std::string>& tags, bool add) {
  const std::string_view op = add ? "add_tags" : "remove_tags";
  auto id = parse_id(id_hex);
  if (!id) return fail(Errc::invalid_input, std::string(op) + ": invalid id");
  auto clean = normalise_tags(tags, op);
  if (!clean) return std::unexpected(clean.error());
  return store.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto row = tx.find_supporter(*id);
    if (!row) return std::unexpected(row.error());
    if (!*row) return fail(Errc::not_found, std::string(op) + ": no such record");
    if (add) {
      auto have = tx.tags(*id);
      if (!have) return std::unexpected(have.error());
      const auto fresh = std::count_if(clean->begin(), clean->end(), [&](const std::string& t) {
        return std::find(have->begin(), have->end(), t) == have->end();
      });
      if (static_cast<std::int64_t>(have->size()) + fresh > store::kMaxTagsPerRecord) {
        return fail(Errc::conflict, std::string(kTooManyTags));
      }
    }
    // The supporter_tags table is the only copy of a record's tags: they
    // are not sealed with its fields (records.cpp, record_fields), so there
    // is no ciphertext to keep in step.
    auto changed = add ? tx.add_tags(*id, *clean, unix_now()) : tx.remove_tags(*id, *clean);
    if (!changed) return changed;
    nlohmann::json details = {{add ? "added" : "removed", *clean}};
    auto e = audit::record(tx, keys,
                           audit::Event{who.actor, std::string(audit::action::supporter_tag), audit::to_hex(*id),
                                        std::move(details), who.client});
    if (!e) return std::unexpected(e.error());
    return {};
  });
}

}  // namespace

Result<MaskedPage> Directory::list(const Asker& who, const ListQuery& q) {
  if (q.limit < 1 || q.limit > kMaxLimit) return fail(Errc::invalid_input, "list: limit out of 1..200");
  store::SupporterPageQuery sq;
  if (!q.tag.empty()) {
    auto t = core::normalize_tag(q.tag);
    if (!t) return fail(Errc::invalid_input, "list: invalid tag");
    sq.tag = std::move(*t);
  }
  if (!q.cursor.empty()) {
    auto pos = parse_cursor(q.cursor);
    if (!pos) return fail(Errc::invalid_input, "list: invalid cursor");
    sq.after = std::move(*pos);
  }
  // One row more than shown tells whether a next page exists, so the last
  // page has no cursor and never leads to an empty one.
  sq.limit = q.limit + 1;
  if (q.segment != nullptr && !sq.tag.empty()) return fail(Errc::invalid_input, "list: a tag and a segment");
  auto page = q.segment != nullptr ? store_->segment_page(*q.segment, sq, true) : store_->supporter_page(sq);
  if (!page) return std::unexpected(page.error());

  MaskedPage out;
  out.total = page->total;
  const bool more = page->items.size() > q.limit;
  if (more) page->items.resize(q.limit);
  std::vector<const store::SupporterRow*> rows;
  rows.reserve(page->items.size());
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& item : page->items) {
    rows.push_back(&item.row);
    ids.push_back(audit::to_hex(item.row.id));
  }
  nlohmann::json details = {{"records", std::move(ids)}};
  if (!sq.tag.empty()) details["tag"] = sq.tag;
  if (q.segment != nullptr) details["segment"] = q.segment_name;
  auto opened = open_shown(*vault_, *store_, budgets_, who, rows, "", std::move(details));
  if (!opened) return std::unexpected(opened.error());
  out.items.reserve(page->items.size());
  for (std::size_t i = 0; i < page->items.size(); ++i) {
    out.items.push_back(mask(page->items[i].row, (*opened)[i], std::move(page->items[i].tags)));
    wipe_person((*opened)[i]);
  }
  if (more) out.next_cursor = encode_cursor(page->items.back().row);
  return out;
}

Result<std::vector<MaskedSupporter>> Directory::search(const Asker& who, std::string_view kind,
                                                       std::string_view value, std::string_view default_region) {
  std::expected<std::string, std::string> normalised = std::unexpected(std::string());
  if (kind == crypto::kBlindIndexEmail) {
    normalised = core::normalize_email(value);
  } else if (kind == crypto::kBlindIndexPhone) {
    normalised = core::normalize_phone(value, default_region);
  } else {
    return fail(Errc::invalid_input, "search: unknown kind");
  }
  if (!normalised) return fail(Errc::invalid_input, "search: the value is not a valid " + std::string(kind));
  // Under the current blind-index key, then under older ones (a record not
  // yet indexed again after `keys rotate --key blind-index`).
  auto indexes = crypto::older_blind_indexes(*keys_, kind, *normalised);
  indexes.insert(indexes.begin(), crypto::blind_index(keys_->current(), kind, *normalised));
  Result<std::optional<store::SupporterListing>> listed = std::optional<store::SupporterListing>();
  for (const auto& idx : indexes) {
    const store::Bytes index(idx.begin(), idx.end());
    // The supporter and its tags in one statement (one snapshot).
    listed = kind == crypto::kBlindIndexEmail ? store_->find_listing_by_email_index(index)
                                              : store_->find_listing_by_phone_index(index);
    if (!listed) return std::unexpected(listed.error());
    if (*listed) break;
  }
  std::vector<MaskedSupporter> found;
  if (!*listed) {
    // Asking whether someone is a supporter is itself worth recording, and
    // it costs what a hit costs: otherwise checking a leaked list against
    // the directory would be free.
    if (auto r = record_miss(*store_, *keys_, budgets_, who, nlohmann::json{{"by", kind}}); !r) {
      return std::unexpected(r.error());
    }
    return found;
  }
  store::SupporterListing& hit = **listed;
  const std::string id = audit::to_hex(hit.row.id);
  const store::SupporterRow* rows[] = {&hit.row};
  nlohmann::json details = {{"records", nlohmann::json::array({id})}, {"by", kind}};
  auto opened = open_shown(*vault_, *store_, budgets_, who, rows, id, std::move(details), &hit.row.id);
  if (!opened) return std::unexpected(opened.error());
  found.push_back(mask(hit.row, opened->front(), std::move(hit.tags)));
  wipe_person(opened->front());
  return found;
}

Result<MaskedPage> Directory::find(const Asker& who, const FindQuery& q) {
  if (q.limit < 1 || q.limit > kMaxLimit) return fail(Errc::invalid_input, "find: limit out of 1..200");
  const bool by_name = !core::text::trim_unicode(q.name).empty();
  const bool by_place = !core::text::trim_unicode(q.place).empty();
  if (!by_name && !by_place) return fail(Errc::invalid_input, "find: a name or a place is required");
  std::optional<store::Bytes> after;
  if (!q.cursor.empty()) {
    // "f1.<id>": the last record of the previous page. Like the list's
    // cursor, it shows nothing that page did not.
    if (!q.cursor.starts_with(kFindCursorLabel)) return fail(Errc::invalid_input, "find: invalid cursor");
    const std::string_view hex = std::string_view(q.cursor).substr(kFindCursorLabel.size());
    if (std::any_of(hex.begin(), hex.end(), [](char ch) { return ch >= 'A' && ch <= 'F'; })) {
      return fail(Errc::invalid_input, "find: invalid cursor");
    }
    after = parse_id(hex);
    if (!after) return fail(Errc::invalid_input, "find: invalid cursor");
  }
  TokenGroups groups;
  if (by_name) {
    auto g = name_query(keys_->current(), q.name);
    if (!g) return std::unexpected(g.error());
    groups = std::move(*g);
  }
  if (by_place) {
    auto g = place_query(keys_->current(), q.place);
    if (!g) return std::unexpected(g.error());
    for (auto& group : *g) groups.push_back(std::move(group));
  }
  const std::string by = by_name && by_place ? "name+place" : by_name ? "name" : "place";

  // The matches, their rows and tags from one snapshot.
  MaskedPage out;
  std::vector<store::SupporterListing> shown;
  bool more = false;
  auto read = store_->snapshot([&]() -> Result<void> {
    auto page = match_page(*store_, groups, after, q.limit);
    if (!page) return std::unexpected(page.error());
    out.total = page->total;
    out.total_capped = page->total_capped;
    more = page->more;
    for (const auto& id : page->ids) {
      auto listed = store_->find_listing(id);
      if (!listed) return std::unexpected(listed.error());
      if (*listed) shown.push_back(std::move(**listed));
    }
    return {};
  });
  if (!read) return std::unexpected(read.error());
  if (shown.empty()) {
    if (auto r = record_miss(*store_, *keys_, budgets_, who, nlohmann::json{{"by", by}}); !r) {
      return std::unexpected(r.error());
    }
    return out;
  }
  std::vector<const store::SupporterRow*> rows;
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& item : shown) {
    rows.push_back(&item.row);
    ids.push_back(audit::to_hex(item.row.id));
  }
  nlohmann::json details = {{"records", std::move(ids)}, {"by", by}};
  auto opened = open_shown(*vault_, *store_, budgets_, who, rows, "", std::move(details));
  if (!opened) return std::unexpected(opened.error());
  out.items.reserve(shown.size());
  for (std::size_t i = 0; i < shown.size(); ++i) {
    out.items.push_back(mask(shown[i].row, (*opened)[i], std::move(shown[i].tags)));
    wipe_person((*opened)[i]);
  }
  if (more) out.next_cursor = std::string(kFindCursorLabel) + audit::to_hex(shown.back().row.id);
  return out;
}

Result<std::vector<guard::Standing>> Directory::standing(const Asker& who) {
  std::vector<guard::Standing> out;
  if (!budgets_) return out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto s = guard::standing(tx, *budgets_, who.budget_actor(), unix_now(), who.role);
    if (!s) return std::unexpected(s.error());
    out = std::move(*s);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::optional<MaskedSupporter>> Directory::record(const Asker& who, std::string_view id_hex) {
  auto id = parse_id(id_hex);
  if (!id) return fail(Errc::invalid_input, "record: invalid id");
  auto listed = store_->find_listing(*id);
  if (!listed) return std::unexpected(listed.error());
  if (!*listed) return std::optional<MaskedSupporter>{};
  const store::SupporterRow& row = (*listed)->row;
  const std::string hex = audit::to_hex(row.id);
  const store::SupporterRow* rows[] = {&row};
  nlohmann::json details = {{"records", nlohmann::json::array({hex})}, {"view", "record"}};
  auto opened = open_shown(*vault_, *store_, budgets_, who, rows, hex, std::move(details));
  if (!opened) return std::unexpected(opened.error());
  std::optional<MaskedSupporter> m = mask(row, opened->front(), std::move((*listed)->tags));
  wipe_person(opened->front());
  return m;
}

Result<std::optional<std::vector<RevealedField>>> Directory::reveal(const Asker& who, std::string_view id_hex,
                                                                    const std::vector<FieldKind>& kinds,
                                                                    std::string_view reason) {
  auto id = parse_id(id_hex);
  if (!id) return fail(Errc::invalid_input, "reveal: invalid id");
  if (kinds.empty() || kinds.size() > std::size(kAllFieldKinds)) {
    return fail(Errc::invalid_input, "reveal: between 1 and 4 field kinds");
  }
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    if (std::find(std::begin(kAllFieldKinds), std::end(kAllFieldKinds), kinds[i]) == std::end(kAllFieldKinds)) {
      return fail(Errc::invalid_input, "reveal: unknown field kind");
    }
    if (std::find(kinds.begin() + static_cast<std::ptrdiff_t>(i) + 1, kinds.end(), kinds[i]) != kinds.end()) {
      return fail(Errc::invalid_input, "reveal: repeated field kind");
    }
  }
  if (!valid_reason(reason)) return fail(Errc::invalid_input, "reveal: invalid reason");

  std::optional<std::vector<RevealedField>> shown;
  guard::Verdict verdict;
  std::string honey;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto row = tx.find_supporter(*id);
    if (!row) return std::unexpected(row.error());
    if (!*row) return {};  // nothing to show, nothing to record
    if (budgets_) {
      // The guard first, in this transaction: a honeytoken or a crossed
      // budget locks the asker, the lock is committed, nothing is opened.
      auto h = tx.is_honeytoken(*id);
      if (!h) return std::unexpected(h.error());
      if (*h) {
        verdict = {true, std::string(guard::kReasonHoneytoken)};
        honey = audit::to_hex(*id);
        return lock_asker(tx, *keys_, who, verdict.reason, {{"record", honey}, {"by", "reveal"}});
      }
      for (FieldKind k : kinds) {
        auto v = charge_asker(tx, *keys_, *budgets_, who, counted(k), 1);
        if (!v) return std::unexpected(v.error());
        if (v->locked) {
          verdict = std::move(*v);
          return {};
        }
      }
    }
    std::vector<std::string> names;
    names.reserve(kinds.size());
    for (FieldKind k : kinds) names.emplace_back(field_kind_name(k));
    nlohmann::json details = {{"reason", reason}, {"by", "id"}};
    if (!who.session.empty()) details["session"] = who.session;
    auto person = vault_->reveal(tx, **row, RevealEntry{who.actor, who.client, std::move(details), std::move(names)});
    if (!person) return std::unexpected(person.error());
    std::vector<RevealedField> values;
    values.reserve(kinds.size());
    for (FieldKind k : kinds) values.push_back(RevealedField{k, revealed_value(k, *person)});
    wipe_person(*person);
    shown = std::move(values);
    return {};
  });
  // Only after the commit: if the entry cannot be written, nothing is shown.
  if (!r) return std::unexpected(r.error());
  if (verdict.locked) return std::unexpected(locked_error(verdict, honey).error());
  return shown;
}

Result<void> Directory::add_tags(const Asker& who, std::string_view id_hex, const std::vector<std::string>& tags) {
  return change_tags(*store_, *keys_, who, id_hex, tags, true);
}

Result<void> Directory::remove_tags(const Asker& who, std::string_view id_hex, const std::vector<std::string>& tags) {
  return change_tags(*store_, *keys_, who, id_hex, tags, false);
}

Result<std::vector<TagCount>> Directory::tags() {
  auto rows = store_->tag_counts();
  if (!rows) return std::unexpected(rows.error());
  std::vector<TagCount> out;
  out.reserve(rows->size());
  for (auto& r : *rows) out.push_back(TagCount{std::move(r.tag), r.supporters});
  return out;
}

}  // namespace rempart::services
