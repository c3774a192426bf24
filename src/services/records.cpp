#include "services/records.hpp"

#include <spdlog/spdlog.h>

#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <chrono>
#include <tuple>

#include <sodium.h>

#include "audit/chain.hpp"
#include "crypto/blind_index.hpp"
#include "crypto/seal.hpp"
#include "services/search_tokens.hpp"

namespace rempart::services {
namespace {

store::Bytes index_of(const crypto::KeySet& ks, std::string_view kind, const std::string& value) {
  const auto idx = crypto::blind_index(ks, kind, value);
  return store::Bytes(idx.begin(), idx.end());
}

std::vector<store::Bytes> under_older_keys(const crypto::KeeperKeyring& keys, std::string_view kind,
                                           const std::string& value) {
  std::vector<store::Bytes> out;
  if (value.empty()) return out;
  for (const auto& idx : crypto::older_blind_indexes(keys, kind, value)) out.emplace_back(idx.begin(), idx.end());
  return out;
}

// Re-seals a known row's fields under the data key it has (a record keeps
// one data key for its life, so its notes stay openable: crypto::reseal_record).
Result<void> seal_into(const crypto::KeeperKeyring& keys, store::SupporterRow& row, const core::Person& p) {
  const auto fields = sealed_fields(p);
  auto sealed = crypto::reseal_record(keys, row.id, crypto::SealedRecord{row.key_version, row.wrapped_key, row.fields},
                                      fields);
  if (!sealed) return std::unexpected(sealed.error());
  row.key_version = sealed->key_version;
  row.wrapped_key = std::move(sealed->wrapped_key);
  row.fields = std::move(sealed->fields);
  return {};
}

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// For a new row: its id starts with `created_ms`; the rest is drawn in the
// same CSPRNG call as the seal's data key and nonces (the whole id is bound
// into the ciphertexts' AD).
Result<void> seal_new_into(const crypto::KeeperKeyring& keys, store::SupporterRow& row, const core::Person& p,
                           std::int64_t created_ms) {
  const auto fields = sealed_fields(p);
  constexpr std::int64_t kMaxMillis = (std::int64_t{1} << (8 * kRecordIdTimeBytes)) - 1;
  auto t = static_cast<std::uint64_t>(std::clamp<std::int64_t>(created_ms, 0, kMaxMillis));
  row.id.assign(kRecordIdBytes, 0);
  for (std::size_t i = kRecordIdTimeBytes; i-- > 0; t >>= 8) row.id[i] = static_cast<std::uint8_t>(t & 0xff);
  auto sealed = crypto::seal_new_record(keys, row.id, fields, kRecordIdTimeBytes);
  if (!sealed) return std::unexpected(sealed.error());
  row.key_version = sealed->key_version;
  row.wrapped_key = std::move(sealed->wrapped_key);
  row.fields = std::move(sealed->fields);
  return {};
}

}  // namespace

std::vector<core::Field> sealed_fields(const core::Person& p) {
  core::Person only = p;
  only.tags.clear();
  only.consent = {};
  auto fields = core::to_fields(only);
  std::erase_if(fields, [](const core::Field& f) {
    return f.name == core::field::consent_email || f.name == core::field::consent_sms;
  });
  return fields;
}

std::optional<std::int64_t> record_id_millis(std::span<const std::uint8_t> id) {
  if (id.size() != kRecordIdBytes) return std::nullopt;
  std::int64_t t = 0;
  for (std::size_t i = 0; i < kRecordIdTimeBytes; ++i) t = (t << 8) | id[i];
  return t;
}

void FoldCounts::add(Upsert u) {
  switch (u) {
    case Upsert::created: ++created; break;
    case Upsert::merged: ++merged; break;
    case Upsert::unchanged: ++unchanged; break;
    case Upsert::suppressed: ++suppressed; break;
  }
}


PreparedUpsert RecordWriter::prepare(const core::Person& p) const { return prepare(p, unix_now_ms()); }

PreparedUpsert RecordWriter::prepare(const core::Person& p, std::int64_t created_ms) const {
  const crypto::KeySet& ks = keys_.current();
  PreparedUpsert out;
  if (!p.email.empty()) out.email_index = index_of(ks, "email", p.email);
  if (!p.phone.empty()) out.phone_index = index_of(ks, "phone", p.phone);
  store::SupporterRow row;
  if (seal_new_into(keys_, row, p, created_ms)) out.fresh = std::move(row);
  out.search_tokens = search_tokens(ks, p);
  return out;
}

Result<Upsert> RecordWriter::upsert(store::KeeperTx& tx, const core::Person& p, std::int64_t now,
                                    store::Bytes* record_id) const {
  // Without a prepared record: only the indexes up front, the sealing where
  // it is needed.
  return upsert(tx, p, indexes(p), now, record_id);
}

PreparedUpsert RecordWriter::indexes(const core::Person& p) const {
  const crypto::KeySet& ks = keys_.current();
  PreparedUpsert out;
  if (!p.email.empty()) out.email_index = index_of(ks, "email", p.email);
  if (!p.phone.empty()) out.phone_index = index_of(ks, "phone", p.phone);
  return out;
}

store::Bytes RecordWriter::source_index(std::string_view key) const {
  return index_of(keys_.current(), "source", std::string(key));
}

std::vector<store::Bytes> RecordWriter::older_source_indexes(std::string_view key) const {
  return under_older_keys(keys_, "source", std::string(key));
}

std::vector<store::Bytes> RecordWriter::older_indexes(std::string_view kind, const std::string& value) const {
  return under_older_keys(keys_, kind, value);
}

Result<std::optional<store::SupporterRow>> RecordWriter::find_holder(store::KeeperTx& tx, std::string_view kind,
                                                                     const store::Bytes& idx,
                                                                     const std::string& value) const {
  const bool email = kind == crypto::kBlindIndexEmail;
  auto found = email ? tx.find_supporter_by_email_index(idx) : tx.find_supporter_by_phone_index(idx);
  if (!found || *found) return found;
  for (const auto& older : older_indexes(kind, value)) {
    found = email ? tx.find_supporter_by_email_index(older) : tx.find_supporter_by_phone_index(older);
    if (!found || *found) return found;
  }
  return found;
}

namespace {

// What one channel's statement changes in the row's consent columns: "yes",
// "no", or nullptr for nothing. A no always stands; a yes replaces a no only
// when the person gives it.
const char* change_consent(bool yes, bool refused, std::optional<std::int64_t>& given_at,
                           std::optional<std::int64_t>& refused_at, std::int64_t now, const Provenance& from) {
  if (refused) {
    if (refused_at) return nullptr;
    refused_at = now;
    given_at.reset();
    return "no";
  }
  if (!yes || given_at || (refused_at && !from.from_the_person)) return nullptr;
  refused_at.reset();
  given_at = now;
  return "yes";
}

// Appends to the consent log the changes change_consent made (null: none).
Result<void> log_consent(store::KeeperTx& tx, const store::Bytes& id, const char* email, const char* sms,
                         std::int64_t at, const Provenance& from) {
  for (const auto& [channel, choice] : {std::pair{"email", email}, std::pair{"sms", sms}}) {
    if (choice == nullptr) continue;
    const auto& wording = std::string_view(channel) == "email" ? from.email_wording : from.sms_wording;
    const bool yes = std::string_view(choice) == "yes";
    if (auto r = tx.append_consent_event(id, store::ConsentEventRow{channel, choice, at, std::string(from.consent_source),
                                                                   yes ? wording : std::nullopt});
        !r) {
      return r;
    }
  }
  return {};
}

}  // namespace

Result<Upsert> RecordWriter::upsert(store::KeeperTx& tx, const core::Person& p, const PreparedUpsert& prepared,
                                    std::int64_t now, store::Bytes* record_id, UpsertNote* note,
                                    const Provenance& from) const {
  const std::optional<store::Bytes>& email_idx = prepared.email_index;
  const std::optional<store::Bytes>& phone_idx = prepared.phone_index;

  // After `keys rotate --key blind-index`, a record not yet indexed again,
  // a source id and a suppression may be stored under an older key: each
  // lookup that misses under the current key tries those too.
  std::optional<store::SupporterRow> by_source;
  if (from.source_index) {
    auto found = tx.find_supporter_by_source_index(*from.source_index);
    for (std::size_t i = 0; found && !*found && i < from.older_source_indexes.size(); ++i) {
      found = tx.find_supporter_by_source_index(from.older_source_indexes[i]);
    }
    if (!found) return std::unexpected(found.error());
    by_source = std::move(*found);
  }
  std::optional<store::SupporterRow> email_owner;
  if (email_idx) {
    auto found = find_holder(tx, crypto::kBlindIndexEmail, *email_idx, p.email);
    if (!found) return std::unexpected(found.error());
    email_owner = std::move(*found);
  }
  std::optional<store::SupporterRow> phone_owner;
  if (phone_idx) {
    auto found = find_holder(tx, crypto::kBlindIndexPhone, *phone_idx, p.phone);
    if (!found) return std::unexpected(found.error());
    phone_owner = std::move(*found);
  }
  // The record found by its source id is the one its source system updates.
  const bool authoritative = by_source.has_value();
  std::optional<store::SupporterRow> existing = authoritative ? std::move(by_source)
                                                : email_owner  ? email_owner
                                                               : phone_owner;
  // An e-mail or phone already held by another record stays with it.
  const bool email_taken = email_owner && (!existing || email_owner->id != existing->id);
  const bool phone_taken = phone_owner && (!existing || phone_owner->id != existing->id);

  if (!existing) {
    // A person who asked to be erased comes back only by their own hand.
    for (const auto& [idx, kind, value] : {std::tuple{&email_idx, crypto::kBlindIndexEmail, &p.email},
                                           std::tuple{&phone_idx, crypto::kBlindIndexPhone, &p.phone}}) {
      if (!*idx) continue;
      auto under = older_indexes(kind, *value);
      under.insert(under.begin(), **idx);
      for (const store::Bytes& u : under) {
        if (from.from_the_person) {
          if (auto l = tx.lift_suppression(u); !l) return std::unexpected(l.error());
        } else {
          auto s = tx.suppressed(u);
          if (!s) return std::unexpected(s.error());
          if (*s) return Upsert::suppressed;
        }
      }
    }
    store::SupporterRow row;
    core::Person stored = p;
    if (phone_taken) stored.phone.clear();
    // The prepared record holds the phone: usable unless the phone stays
    // with another record. The record's times are the second its id names
    // (a prepared id was made a moment before `now`), so created_at and the
    // id agree; should the clock have stepped back since, `now` is kept.
    std::int64_t created = now;
    if (prepared.fresh && !phone_taken) {
      row = *prepared.fresh;
      created = std::min(now, record_id_millis(row.id).value_or(now * 1000) / 1000);
      // Sealed before this transaction. If a rotation was taken since, the
      // data key goes under the current version here, inside the write
      // lock: the rewrap's pass after a rotation reads under that lock too,
      // so a record sealed under the older version is either written
      // before the pass (which moves it) or moved here.
      if (row.key_version != keys_.current().version) {
        auto moved = crypto::rewrap_record(keys_, row.id, crypto::SealedRecord{row.key_version, row.wrapped_key, {}});
        if (!moved) return std::unexpected(moved.error());
        row.key_version = moved->key_version;
        row.wrapped_key = std::move(moved->wrapped_key);
      }
    } else if (auto r = seal_new_into(keys_, row, stored, now * 1000 + unix_now_ms() % 1000); !r) {
      return std::unexpected(r.error());
    }
    row.email_index = email_idx;
    if (!stored.phone.empty()) row.phone_index = phone_idx;
    row.created_at = created;
    row.updated_at = created;
    row.joined_at = from.joined_at;
    row.source_index = from.source_index;
    row.origin = from.origin;
    const char* email_choice = change_consent(p.consent.email, p.consent.email_refused, row.consent_email_at,
                                              row.consent_email_refused_at, created, from);
    const char* sms_choice = change_consent(p.consent.sms, p.consent.sms_refused, row.consent_sms_at,
                                            row.consent_sms_refused_at, created, from);
    if (auto r = tx.insert_supporter(row); !r) return std::unexpected(r.error());
    if (record_id != nullptr) *record_id = row.id;
    if (auto r = tx.add_search_tokens(row.id, prepared.search_tokens ? *prepared.search_tokens
                                                                     : search_tokens(keys_.current(), stored));
        !r) {
      return std::unexpected(r.error());
    }
    if (auto r = log_consent(tx, row.id, email_choice, sms_choice, created, from); !r) {
      return std::unexpected(r.error());
    }
    if (!p.tags.empty()) {
      if (auto r = tx.add_tags(row.id, p.tags, created); !r) return std::unexpected(r.error());
    }
    return Upsert::created;
  }

  store::SupporterRow row = std::move(*existing);
  if (record_id != nullptr) *record_id = row.id;
  auto current = vault_.open_for_merge(row);
  if (!current) return std::unexpected(current.error());
  core::Person merged = *current;
  if (note != nullptr && !authoritative) {
    // "JEAN" and "Jean" are one name; "Jean" and "Jeanne" are two people.
    auto differs = [](const std::string& have, const std::string& given) {
      return !have.empty() && !given.empty() &&
             icu::UnicodeString::fromUTF8(have).caseCompare(icu::UnicodeString::fromUTF8(given),
                                                            U_FOLD_CASE_DEFAULT) != 0;
    };
    note->name_differs = differs(current->given_name, p.given_name) || differs(current->family_name, p.family_name);
  }
  // Filled where empty; replaced when the record's own source says so.
  auto take = [&](std::string& have, const std::string& given) {
    if (!given.empty() && (have.empty() || authoritative)) have = given;
  };
  take(merged.given_name, p.given_name);
  take(merged.family_name, p.family_name);
  // A street goes with its postcode: one given for another postcode than
  // the record's is not mixed into the record's address.
  if (!p.street.empty() && (authoritative || (merged.street.empty() && (merged.postal_code.empty() ||
                                                                         merged.postal_code == p.postal_code)))) {
    merged.street = p.street;
  }
  take(merged.postal_code, p.postal_code);
  take(merged.locality, p.locality);
  take(merged.country, p.country);
  bool indexes_changed = false;
  if (!p.email.empty() && p.email != merged.email && !email_taken && (merged.email.empty() || authoritative)) {
    merged.email = p.email;
    row.email_index = email_idx;
    indexes_changed = true;
  }
  if (!p.phone.empty() && p.phone != merged.phone && !phone_taken && (merged.phone.empty() || authoritative)) {
    merged.phone = p.phone;
    row.phone_index = phone_idx;
    indexes_changed = true;
  }
  if (from.source_index && !row.source_index) {
    row.source_index = from.source_index;
    indexes_changed = true;
  }
  bool other_changed = false;
  if (from.joined_at && (!row.joined_at || *from.joined_at < *row.joined_at)) {
    row.joined_at = from.joined_at;  // the earliest sign-up any source knows of
    other_changed = true;
  }
  const char* email_choice = change_consent(p.consent.email, p.consent.email_refused, row.consent_email_at,
                                            row.consent_email_refused_at, now, from);
  const char* sms_choice =
      change_consent(p.consent.sms, p.consent.sms_refused, row.consent_sms_at, row.consent_sms_refused_at, now, from);
  if (auto r = log_consent(tx, row.id, email_choice, sms_choice, now, from); !r) return std::unexpected(r.error());
  const bool consent_changed = email_choice != nullptr || sms_choice != nullptr;
  bool tags_changed = false;
  if (!p.tags.empty()) {
    auto have = tx.tags(row.id);
    if (!have) return std::unexpected(have.error());
    // A record full of tags (store::kMaxTagsPerRecord) takes no new ones
    // from a sign-up: the store leaves them out.
    tags_changed = static_cast<std::int64_t>(have->size()) < store::kMaxTagsPerRecord &&
                   std::any_of(p.tags.begin(), p.tags.end(), [&](const std::string& t) {
                     return std::find(have->begin(), have->end(), t) == have->end();
                   });
    if (tags_changed) {
      if (auto r = tx.add_tags(row.id, p.tags, now); !r) return std::unexpected(r.error());
    }
  }
  const bool fields_changed = sealed_fields(merged) != sealed_fields(*current);
  if (!fields_changed && !indexes_changed && !consent_changed && !tags_changed && !other_changed) {
    return Upsert::unchanged;
  }
  if (fields_changed) {
    // The new contents under the record's own data key, with a fresh nonce.
    if (auto r = seal_into(keys_, row, merged); !r) return std::unexpected(r.error());
  }
  row.updated_at = now;
  if (auto r = tx.update_supporter(row); !r) return std::unexpected(r.error());
  if (fields_changed) {
    if (auto r = tx.put_search_tokens(row.id, search_tokens(keys_.current(), merged)); !r) {
      return std::unexpected(r.error());
    }
  }
  return Upsert::merged;
}

Result<std::size_t> RecordWriter::index_backlog(store::KeeperStore& store, std::size_t limit,
                                                std::size_t* moved_out) const {
  // A read first, so that an empty backlog (the usual case) takes no
  // write lock.
  auto waiting = store.search_backlog(1);
  if (!waiting) return std::unexpected(waiting.error());
  if (waiting->empty()) return 0;
  std::size_t done = 0, moved = 0;
  auto r = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    done = moved = 0;
    auto ids = tx.search_backlog(limit);
    if (!ids) return std::unexpected(ids.error());
    if (ids->empty()) return {};
    for (const auto& id : *ids) {
      auto row = tx.find_supporter(id);
      if (!row) return std::unexpected(row.error());
      if (!*row) continue;  // erased meanwhile: the backlog row went with it
      auto person = vault_.open_for_indexing(**row);
      if (!person) return std::unexpected(person.error());
      auto tokens = search_tokens(keys_.current(), *person);
      // An index the row has, under the current blind-index key (the same
      // bytes unless that key was rotated). None is added or dropped, and
      // the row's other columns, updated_at too, are written back as read.
      store::SupporterRow& stored = **row;
      bool changed = false;
      for (const auto& [idx, kind, value] :
           {std::tuple{&stored.email_index, crypto::kBlindIndexEmail, &person->email},
            std::tuple{&stored.phone_index, crypto::kBlindIndexPhone, &person->phone}}) {
        if (!*idx || value->empty()) continue;
        auto now_idx = index_of(keys_.current(), kind, *value);
        if (now_idx != **idx) {
          *idx = std::move(now_idx);
          changed = true;
        }
      }
      wipe_person(*person);
      if (changed) {
        if (auto u = tx.update_supporter(stored); !u) return u;
        ++moved;
      }
      if (auto put = tx.put_search_tokens(id, tokens); !put) return put;
      ++done;
    }
    nlohmann::json details{{"records", done}};
    if (moved > 0) details["indexes_moved"] = moved;
    auto e = audit::record(tx, keys_,
                           audit::Event{std::string(audit::kKeeperActor), std::string(audit::action::search_index), "",
                                        std::move(details), ""});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  if (!r) return std::unexpected(r.error());
  if (moved_out != nullptr) *moved_out += moved;
  return done;
}

Result<bool> erase_and_suppress(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const store::Bytes& id,
                                std::int64_t now) {
  auto row = tx.find_supporter(id);
  if (!row) return std::unexpected(row.error());
  if (!*row) return false;
  for (const auto* idx : {&(*row)->email_index, &(*row)->phone_index}) {
    if (!*idx) continue;
    if (auto s = tx.suppress(**idx, keys.current().version, now); !s) return std::unexpected(s.error());
  }
  return tx.erase_supporter(id);
}

void flush_after_erasure(store::KeeperStore& store) {
  auto f = store.flush_deleted();
  if (!f) {
    spdlog::error("keeper: the files still hold an erased record's pages until the next checkpoint ({})",
                  errc_name(f.error().code));
  } else if (!*f) {
    spdlog::warn("keeper: the store's files still hold part of what was erased (SQLite: a reader kept the log "
                 "back, the next checkpoint finishes it; PostgreSQL: until VACUUM, see docs/postgresql.md)");
  }
}

std::string_view audit_action(Upsert u) {
  switch (u) {
    case Upsert::created: return audit::action::supporter_create;
    case Upsert::merged: return audit::action::supporter_merge;
    case Upsert::unchanged: return audit::action::supporter_unchanged;
    case Upsert::suppressed: return audit::action::supporter_suppressed;
  }
  return audit::action::supporter_unchanged;
}

Result<void> RecordWriter::rewrite(store::KeeperTx& tx, store::SupporterRow& row, const core::Person& p,
                                  std::int64_t now) const {
  const crypto::KeySet& ks = keys_.current();
  row.email_index.reset();
  row.phone_index.reset();
  if (!p.email.empty()) row.email_index = index_of(ks, "email", p.email);
  if (!p.phone.empty()) row.phone_index = index_of(ks, "phone", p.phone);
  if (auto r = seal_into(keys_, row, p); !r) return r;
  row.updated_at = now;
  if (auto r = tx.update_supporter(row); !r) return r;
  // A corrected name or place changes what finds the record.
  return tx.put_search_tokens(row.id, search_tokens(ks, p));
}

}  // namespace rempart::services
