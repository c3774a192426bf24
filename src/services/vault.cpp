#include "services/vault.hpp"

#include <sodium.h>

#include <utility>

#include "core/metrics.hpp"
#include "crypto/blind_index.hpp"
#include "crypto/record_notes.hpp"
#include "crypto/seal.hpp"
#include "services/records.hpp"

namespace rempart::services {
void wipe_person(core::Person& p) noexcept {
  for (std::string* s :
       {&p.given_name, &p.family_name, &p.email, &p.phone, &p.street, &p.postal_code, &p.locality, &p.country}) {
    if (!s->empty()) sodium_memzero(s->data(), s->size());
    s->clear();
  }
}

Result<core::Person> Vault::open(const store::SupporterRow& row) const {
  crypto::SealedRecord sealed{row.key_version, row.wrapped_key, row.fields};
  auto fields = crypto::open_record(*keys_, row.id, sealed);
  if (!fields) return std::unexpected(fields.error());
  return core::to_person(*fields);
}

Result<core::Person> Vault::reveal(store::KeeperTx& tx, const store::SupporterRow& row, RevealEntry entry) const {
  auto person = open(row);
  if (!person) return person;
  // The names of the fields shown, never their values.
  nlohmann::json fields = nlohmann::json::array();
  if (entry.fields) {
    for (auto& f : *entry.fields) fields.push_back(std::move(f));
  } else {
    for (const auto& f : sealed_fields(*person)) {
      if (!f.value.empty()) fields.push_back(f.name);
    }
  }
  entry.details["fields"] = std::move(fields);
  auto e = audit::record(tx, *keys_,
                         audit::Event{std::move(entry.actor), std::string(audit::action::supporter_reveal),
                                      audit::to_hex(row.id), std::move(entry.details), std::move(entry.client)});
  if (!e) {
    wipe_person(*person);
    return std::unexpected(e.error());
  }
  auto& counted = core::metrics::process_registry();  // its entry written: /metrics counts it
  counted.reveals.add();
  counted.revealed_fields.add(entry.details["fields"].size());
  return person;
}

Result<std::optional<Supporter>> Vault::reveal_by_contact(store::KeeperStore& store, const std::string& actor,
                                                          std::string_view kind, std::string_view normalised,
                                                          const std::string& reason) const {
  if (kind != crypto::kBlindIndexEmail && kind != crypto::kBlindIndexPhone) {
    return fail(Errc::invalid_input, "reveal: unknown lookup kind");
  }
  // Under the current blind-index key, then under older ones (a record not
  // yet indexed again after `keys rotate --key blind-index`).
  auto indexes = crypto::older_blind_indexes(*keys_, kind, normalised);
  indexes.insert(indexes.begin(), crypto::blind_index(keys_->current(), kind, normalised));
  std::optional<Supporter> found;
  auto r = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    Result<std::optional<store::SupporterRow>> row = std::optional<store::SupporterRow>();
    for (const auto& index : indexes) {
      const store::Bytes idx(index.begin(), index.end());
      row = kind == crypto::kBlindIndexEmail ? tx.find_supporter_by_email_index(idx)
                                             : tx.find_supporter_by_phone_index(idx);
      if (!row) return std::unexpected(row.error());
      if (*row) break;
    }
    nlohmann::json details = {{"by", kind}};
    if (!reason.empty()) details["reason"] = reason;
    if (!*row) {
      auto e = audit::record(tx, *keys_,
                             audit::Event{actor, std::string(audit::action::supporter_lookup_miss), "",
                                          std::move(details), ""});
      if (!e) return std::unexpected(e.error());
      return {};
    }
    auto person = reveal(tx, **row, RevealEntry{actor, "", std::move(details), std::nullopt});
    if (!person) return std::unexpected(person.error());
    auto tags = tx.tags((*row)->id);
    if (!tags) {
      wipe_person(*person);
      return std::unexpected(tags.error());
    }
    found = Supporter{(*row)->id, std::move(*person), (*row)->created_at, (*row)->updated_at};
    found->person.tags = std::move(*tags);
    found->person.consent.email = (*row)->consent_email_at.has_value();
    found->person.consent.sms = (*row)->consent_sms_at.has_value();
    found->person.consent.email_refused = (*row)->consent_email_refused_at.has_value();
    found->person.consent.sms_refused = (*row)->consent_sms_refused_at.has_value();
    return {};
  });
  // Only after the commit: if the entry cannot be written, nothing is shown.
  if (!r) {
    if (found) wipe_person(found->person);
    return std::unexpected(r.error());
  }
  return found;
}

Result<std::vector<core::Person>> Vault::view(store::KeeperStore& store,
                                              std::span<const store::SupporterRow* const> rows,
                                              const audit::Event& entry,
                                              const std::function<Result<void>(store::KeeperTx&)>& also) const {
  std::vector<core::Person> opened;
  opened.reserve(rows.size());
  auto wipe_all = [&] {
    for (auto& p : opened) wipe_person(p);
  };
  for (const store::SupporterRow* row : rows) {
    auto p = open(*row);
    if (!p) {
      wipe_all();
      return std::unexpected(p.error());
    }
    opened.push_back(std::move(*p));
  }
  auto r = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto e = audit::record(tx, *keys_, entry);
    if (!e) return std::unexpected(e.error());
    if (also) return also(tx);
    return {};
  });
  // Only after the commit: if the entry cannot be written, nothing is shown.
  if (!r) {
    wipe_all();
    return std::unexpected(r.error());
  }
  return opened;
}

Result<core::Person> Vault::open_for_merge(const store::SupporterRow& row) const { return open(row); }

Result<core::Person> Vault::open_for_export(const store::SupporterRow& row) const { return open(row); }

Result<core::Person> Vault::open_for_honeytoken_shape(const store::SupporterRow& row) const { return open(row); }

Result<core::Person> Vault::open_for_indexing(const store::SupporterRow& row) const { return open(row); }

Result<core::Person> Vault::open_for_edit(const store::SupporterRow& row) const { return open(row); }

Result<core::Person> Vault::open_for_retention(const store::SupporterRow& row) const { return open(row); }

namespace {
constexpr std::string_view kPhraseKind = "phrase";
constexpr const char* kPhraseField = "phrase";
}  // namespace

Result<MailOpen> Vault::open_for_mail(const store::SupporterRow& row, const std::optional<store::PhraseRow>& phrase,
                                      std::span<const store::NoteRow> notes) const {
  auto person = open(row);
  if (!person) return std::unexpected(person.error());
  MailOpen out{std::move(*person), "", {}};
  if (!notes.empty()) {
    std::vector<crypto::SealedNoteView> views;
    views.reserve(notes.size());
    for (const auto& n : notes) views.push_back(crypto::SealedNoteView{n.id, n.kind, n.sealed});
    auto opened = crypto::open_record_notes(*keys_, row.id,
                                            crypto::SealedRecord{row.key_version, row.wrapped_key, row.fields}, views);
    if (!opened) {
      wipe_person(out.person);
      return std::unexpected(opened.error());
    }
    for (auto& fields : *opened) {
      std::string text;
      for (auto& f : fields) {
        if (f.name == "text") text = std::move(f.value);
        if (!f.value.empty()) sodium_memzero(f.value.data(), f.value.size());
      }
      out.notes.push_back(std::move(text));
    }
  }
  if (phrase) {
    const crypto::SealedNoteView view{phrase->phrase_id, kPhraseKind, phrase->sealed};
    auto opened = crypto::open_record_notes(*keys_, row.id,
                                            crypto::SealedRecord{row.key_version, row.wrapped_key, row.fields},
                                            std::span(&view, 1));
    if (!opened) {
      wipe_person(out.person);
      return std::unexpected(opened.error());
    }
    for (auto& f : opened->front()) {
      if (f.name == kPhraseField) out.phrase = std::move(f.value);
    }
  }
  return out;
}

Result<store::PhraseRow> Vault::seal_phrase(const store::SupporterRow& row, std::string_view phrase,
                                            std::int64_t now) const {
  crypto::NoteId id{};
  const core::Field field{kPhraseField, std::string(phrase)};
  auto sealed = crypto::seal_record_note(*keys_, row.id,
                                         crypto::SealedRecord{row.key_version, row.wrapped_key, row.fields},
                                         kPhraseKind, std::span(&field, 1), id);
  if (!sealed) return std::unexpected(sealed.error());
  return store::PhraseRow{row.id, store::Bytes(id.begin(), id.end()), std::move(*sealed), now};
}

Result<std::vector<std::string>> Vault::read_notes(store::KeeperTx& tx, const store::SupporterRow& row,
                                                   std::span<const store::NoteRow> notes, const std::string& actor,
                                                   const std::string& client, nlohmann::json details) const {
  std::vector<std::string> texts;
  if (notes.empty()) return texts;
  std::vector<crypto::SealedNoteView> views;
  views.reserve(notes.size());
  for (const auto& n : notes) views.push_back(crypto::SealedNoteView{n.id, n.kind, n.sealed});
  auto opened = crypto::open_record_notes(*keys_, row.id, crypto::SealedRecord{row.key_version, row.wrapped_key, row.fields},
                                          views);
  if (!opened) return std::unexpected(opened.error());
  texts.reserve(opened->size());
  for (auto& fields : *opened) {
    std::string text;
    for (auto& f : fields) {
      if (f.name == "text") text = std::move(f.value);
      if (!f.value.empty()) sodium_memzero(f.value.data(), f.value.size());
    }
    texts.push_back(std::move(text));
  }
  details["notes"] = notes.size();
  details["fields"] = nlohmann::json::array({"notes"});  // what the blast radius names as revealed
  auto e = audit::record(tx, *keys_,
                         audit::Event{actor, std::string(audit::action::supporter_notes_read), audit::to_hex(row.id),
                                      std::move(details), client});
  if (!e) {
    for (auto& t : texts) {
      if (!t.empty()) sodium_memzero(t.data(), t.size());
    }
    return std::unexpected(e.error());
  }
  return texts;
}

}  // namespace rempart::services
