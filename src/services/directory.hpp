#pragma once
// The supporter directory as people see it through the console and the API:
// masked pages, exact search through the blind index, a masked record, the
// per-field reveal, and tags. Every read that shows anything about a record,
// even masked, commits an audit entry naming the records shown before the
// answer is returned; a reveal commits its `supporter.reveal` entry (record,
// fields, reason) before any value leaves this class, and if that write
// fails nothing is returned.
//
// Masked values keep just enough to tell two people apart at a glance
// (auth/mask.hpp); they are computed from records opened by the Vault
// (vault.hpp: `view` for masked pages, `reveal` for reveals) and never
// stored. A record that does not open (Errc::crypto) fails
// the whole call rather than being skipped: a damaged or tampered record
// must be seen.
//
// Tags live in the supporter_tags table only (they are not sealed with the
// record's fields), so tag changes touch no ciphertext.
//
// Audit entries name record ids, field kind names, tag names and the
// reveal reason, never a value; errors never carry personal data.
//
// Thread-compatible: a Directory uses one KeeperStore, which belongs to one
// thread at a time. Open one per worker thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "guard/budget.hpp"
#include "services/vault.hpp"
#include "store/store.hpp"

namespace rempart::services {

// Who asks, for the audit entry: actor ("account:<hex>", "token:<id>",
// "operator:<user>") and client address (may be empty).
struct Asker {
  std::string actor;
  std::string client;
  std::string session{};  // short non-secret label of the console session, or ""; recorded in details
  // Whose budgets the reads spend: a token spends the account that made it
  // ("account:<hex>"); "" means the actor's own. `role` picks the role's
  // limits (guard::Budgets::of); "" the base ones.
  std::string charged{};
  std::string role{};
  const std::string& budget_actor() const { return charged.empty() ? actor : charged; }
};

// What the services that answer people share about their budgets, inside
// the transaction that serves them:
// - lock_asker locks the asker's budget actor for `reason` and, when a token
//   acted for it, that token too (guard::lock_actor; `extra` in the entry);
// - charge_asker charges `n` of `what` to the budget actor; a crossing locks
//   it and the token acting for it; returns the verdict;
// - locked_error is the Errc::locked answer of a verdict: its reason, then
//   ":<record id>" when a honeytoken was touched.
Result<void> lock_asker(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const Asker& who,
                        std::string_view reason, const nlohmann::json& extra);
Result<guard::Verdict> charge_asker(store::KeeperTx& tx, const crypto::KeeperKeyring& keys,
                                    const guard::Budgets& budgets, const Asker& who, guard::Counted what,
                                    std::int64_t n);
Result<void> locked_error(const guard::Verdict& v, const std::string& record = {});

// A record as lists and search results show it. No field holds a full value.
struct MaskedSupporter {
  std::string id;           // record id, lower-case hex
  std::string name;         // initials, "J. D."; "" if no name
  std::string email;        // "j•••@e•••.org"; "" if none
  std::string phone;        // "+33 6•• •• •• 42"; "" if none
  std::string street;       // "•••" when the record has a street address, else ""
  std::string postal_code;  // first two characters (code points) then "•••"; "" if none
  std::string locality;     // first character (code point) then "•••"; "" if none
                            // (both keep fewer when the value is that short:
                            // at least one character is always hidden)
  std::string country;      // ISO code as stored (not identifying)
  std::vector<std::string> tags;
  bool consent_email = false;          // agreed
  bool consent_sms = false;
  bool consent_email_refused = false;  // refused or withdrawn (neither: never asked)
  bool consent_sms_refused = false;
  std::int64_t created_at = 0;  // unix seconds
  std::int64_t updated_at = 0;
};

struct ListQuery {
  std::string tag;     // only supporters with this tag (normalised as intake does); "" for all
  std::string cursor;  // "" for the first page, else next_cursor of a previous page
                       // (a cursor is a position, not bound to the tag)
  std::size_t limit = 50;  // 1..200
  // Only the members of this segment (services/segments.hpp; with `tag`
  // empty), named `segment_name` in the audit entry.
  const store::SegmentFilter* segment = nullptr;
  std::string segment_name{};
};

// Newest first (created_at, then id, both descending).
struct MaskedPage {
  std::vector<MaskedSupporter> items;
  std::string next_cursor;  // "" on the last page (never leads to an empty page); opaque to callers
  std::int64_t total = 0;   // supporters matching the query
  // A search's total stops at kMatchCountCap (search_tokens.hpp): true when
  // more match than `total` says.
  bool total_capped = false;
};

// A search by name and/or place (search_tokens.hpp): exact folded words,
// combined: every word of `name` and one reading of `place`.
struct FindQuery {
  std::string name{};    // "" for none
  std::string place{};   // postcode, département, region or locality; "" for none
  std::string cursor{};  // "" for the first page, else next_cursor of the previous page of the same query
  std::size_t limit = 50;  // 1..200
};

// What a reveal can show; one kind at a time is how budgets count them.
enum class FieldKind { name, email, phone, address };
// Why add_tags refused a record that holds store::kMaxTagsPerRecord tags.
inline constexpr std::string_view kTooManyTags = "add_tags: a record holds at most 200 tags";
static_assert(store::kMaxTagsPerRecord == 200, "kTooManyTags names the figure");

inline constexpr FieldKind kAllFieldKinds[] = {FieldKind::name, FieldKind::email, FieldKind::phone,
                                               FieldKind::address};
std::string_view field_kind_name(FieldKind k) noexcept;  // "name" | "email" | "phone" | "address"
std::optional<FieldKind> parse_field_kind(std::string_view s) noexcept;

// A revealed value. Personal data: show it, never log it.
struct RevealedField {
  FieldKind kind;
  std::string value;  // name: "given family"; address: "street lines, postal_code locality"
                      // (lines joined by ", "); "" if the record has none
};

// A tag as lists show it.
struct TagCount {
  std::string tag;
  std::int64_t supporters = 0;
};

class Directory {
 public:
  // `store` and `vault` must outlive the directory, and so must `budgets`
  // when given. With budgets, every view and reveal is charged to the
  // asker (guard/budget.hpp) and honeytokens are watched: a reveal of one,
  // or an exact search that finds one, locks the asker. A call that locks
  // commits the lock and its audit entry, serves nothing and returns
  // Errc::locked with the reason ("reveal_budget", "list_budget",
  // "search_misses", "honeytoken") as its message, followed by ":<record
  // id>" for a honeytoken. The budget actor (Asker::budget_actor) is locked;
  // a token acting for it is revoked as well. Without budgets (operator tools) nothing
  // is charged.
  Directory(store::KeeperStore& store, const Vault& vault, const guard::Budgets* budgets = nullptr);

  // One page of masked supporters, read from one snapshot, charged as as
  // many masked rows as it shows (at least one). Audit:
  // `supporter.list` with details {"records": [ids shown], "tag": tag if
  // any, "segment": its name if any} (written for an empty page too). Errc::invalid_input for a bad
  // cursor, tag or limit (nothing is written then).
  Result<MaskedPage> list(const Asker& who, const ListQuery& q);

  // Exact search by e-mail or phone (`kind` "email" | "phone"; `value` as
  // typed, normalised here the way intake does; a phone without a country
  // code is read in `default_region`). Zero or one result. Audit:
  // `supporter.list` {"records": [id], "by": kind}, subject = id, on a hit;
  // `supporter.lookup_miss` {"by": kind}, no subject, on a miss. Every
  // search is charged as one masked row, hit or miss; a miss is also
  // charged to the `miss` budget, whose crossing locks (a burst of
  // searches that find nobody is someone checking a list against ours).
  // Errc::invalid_input for another kind or when the value cannot be an
  // e-mail or phone (nothing is written then).
  Result<std::vector<MaskedSupporter>> search(const Asker& who, std::string_view kind, std::string_view value,
                                              std::string_view default_region);

  // Search by name and place without decrypting the directory: the
  // records holding every token of the query (search_tokens.hpp), newest
  // first, one page at a time (MaskedPage; `total` counts every match up
  // to kMatchCountCap, honeytokens included as the pages show them). Audit: `supporter.list` {"records": [ids
  // shown], "by": "name" | "place" | "name+place"} on a hit, never the
  // words searched; `supporter.lookup_miss` {"by": …} when nothing
  // matches. Charged as the rows shown (at least one), and a miss as one
  // `miss` too, as for `search`. A honeytoken among the results is shown
  // like any record (a name search finds decoys innocently; revealing one
  // is what locks). Errc::invalid_input, nothing written, when both name
  // and place are empty or either breaks search_tokens.hpp's rules, or
  // for a bad cursor or limit.
  Result<MaskedPage> find(const Asker& who, const FindQuery& q);

  // One record, masked. Audit: `supporter.list` {"records": [id], "view":
  // "record"}, subject = id. nullopt (and no entry) if there is no such
  // record; Errc::invalid_input for an id that is not 32 hex digits (either
  // case).
  Result<std::optional<MaskedSupporter>> record(const Asker& who, std::string_view id_hex);

  // Reveals `kinds` (1..4, no repeats) of one record, for `reason`
  // (1..200 bytes, no control characters; recorded as given, so it must
  // hold no personal data). Audit, committed before returning:
  // `supporter.reveal`, subject = id, details {"fields": [kind names],
  // "reason": reason, "by": "id"}, fields in the order asked; the values
  // come back in that order too. nullopt if no such record (no entry).
  // Errc::invalid_input for a bad id, kinds or reason (no entry).
  Result<std::optional<std::vector<RevealedField>>> reveal(const Asker& who, std::string_view id_hex,
                                                           const std::vector<FieldKind>& kinds,
                                                           std::string_view reason);

  // Adds or removes 1..20 tags (validated and normalised like intake tags;
  // repeats collapse). Audit, same transaction: `supporter.tag` subject =
  // id, details {"added": [...]} or {"removed": [...]} (normalised, sorted,
  // as asked). Errc::invalid_input for a bad id or tag list,
  // Errc::not_found if no such record (nothing written either way);
  // adding a tag the record has, or removing one it lacks, is not an error;
  // Errc::conflict (kTooManyTags) if the record would hold more than
  // store::kMaxTagsPerRecord.
  Result<void> add_tags(const Asker& who, std::string_view id_hex, const std::vector<std::string>& tags);
  Result<void> remove_tags(const Asker& who, std::string_view id_hex, const std::vector<std::string>& tags);

  // What the asker's budget actor has used of each limited window of each
  // budget, and its limits (guard::standing), for the asker to pace their
  // work. Empty without budgets. Reads only (in a transaction, for the
  // approved raises); not audited.
  Result<std::vector<guard::Standing>> standing(const Asker& who);

  // Every tag in use with its number of supporters, by tag. Not audited:
  // tag names and counts show nobody.
  Result<std::vector<TagCount>> tags();

 private:
  store::KeeperStore* store_;
  const Vault* vault_;
  const crypto::KeeperKeyring* keys_;  // the vault's: blind indexes and audit entries
  const guard::Budgets* budgets_;
};

}  // namespace rempart::services
