#pragma once
// Call lists for phone-banking (docs/console.md, "Call lists").
//
// An organiser makes a list from a saved segment: its members who have a
// phone number (honeytokens left out), fixed when the list is made, shared
// out among the callers named, in turn, for a time window. A caller works
// through their own share one person at a time: `next` opens the name and
// phone of their current entry together, through the vault's one reveal
// point, and `outcome` records how the call went, as a contact in the
// record's history, before the next entry opens.
//
// What a caller can see is bounded by their share: an entry is opened once
// (showing it again, after a reload, shows the same person and is audited
// again but opens nobody new), and only the entry in hand can be shown.
// Those reveals are not charged to the hourly reveal budget: the list's
// size, chosen by an organiser and audited, is their bound. Honeytokens
// are left out when the list is made; should a record in a list be one,
// opening it locks the caller as a reveal would.
//
// Audit, each in the transaction of its change: `call_list.create`
// {name, segment, callers, entries, starts_at, ends_at}; every opening
// `supporter.reveal` subject = the record, {"fields": ["name", "phone"],
// "by": "call_list", "list", "entry", "reason"}; every outcome
// `supporter.note` (the contact, sealed) and `call.outcome` {list, entry,
// outcome}; `call_list.close` {name}. No entry carries a value.
//
// Thread-compatible, like Directory: one per worker thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "guard/budget.hpp"
#include "services/directory.hpp"
#include "services/vault.hpp"
#include "store/store.hpp"

namespace rempart::services {

// What a call can come to, recorded as a contact of the same kind.
inline constexpr std::string_view kCallOutcomes[] = {"called", "left_message", "rsvp", "no_answer", "wrong_number"};
bool call_outcome(std::string_view name) noexcept;

inline constexpr std::size_t kMaxCallListEntries = 10000;  // people in one list
inline constexpr std::size_t kMaxCallers = 50;             // callers of one list
inline constexpr std::int64_t kMaxCallWindow = 31 * 86400; // seconds from start to end
inline constexpr std::size_t kMaxScriptChars = 2000;       // code points

// A list as an organiser asks for it.
struct CallListSpec {
  std::string name;     // as a segment's name (valid_segment_name)
  std::string segment;  // a saved segment's name
  std::vector<std::string> callers;  // account names, 1..50, no repeats
  std::int64_t starts_at = 0, ends_at = 0;  // unix seconds; ends after starts, at most 31 days later, not past
  std::string script;   // what to say; 0..2000 code points, line breaks kept; not personal data
};

// One caller's share of a list.
struct CallShare {
  std::string caller;  // account name
  std::int64_t entries = 0, opened = 0, done = 0;
};

struct CallListView {
  std::string name, segment, script;
  std::string created_by;  // account name (or the audit actor when it is not an account)
  std::int64_t created_at = 0, starts_at = 0, ends_at = 0;
  std::optional<std::int64_t> closed_at;
  std::string state;  // "scheduled" | "open" | "ended" | "closed", at the time of reading
  std::int64_t entries = 0, opened = 0, done = 0;  // of the shares shown
  std::vector<CallShare> shares;  // every caller's (organisers) or one's own (callers)
  std::vector<std::pair<std::string, std::int64_t>> outcomes;  // by outcome; organisers only
};

// The person in hand. Personal data: show it, never log it.
struct CallPerson {
  std::string list;
  std::int64_t entry = 0;  // position in the list
  std::string record;      // record id (hex)
  std::string name;        // "given family"
  std::string phone;       // E.164
  std::int64_t left = 0;   // entries of the share not done, this one included
  std::int64_t share = 0;  // entries of the share
  std::string script;
  std::vector<std::string> tags;
};

class CallLists {
 public:
  // `store` and `vault` must outlive it, and so must `budgets` when given
  // (a honeytoken opened locks the caller, as Directory's reveals do).
  CallLists(store::KeeperStore& store, const Vault& vault, const guard::Budgets* budgets);

  // Makes the list: the segment's members with a phone, newest first,
  // dealt to the callers in turn. Errc::invalid_input for a bad spec (the
  // message names the part: "call_list: name", "segment", "callers",
  // "window", "script"), or for a caller that is not an active account
  // whose role may make calls ("call_list: caller"); Errc::not_found for no
  // such segment; Errc::conflict for a name in use; Errc::invalid_input
  // ("call_list: too_many") when the segment has more than
  // kMaxCallListEntries people with a phone, ("call_list: empty") when it
  // has none. Nothing is
  // written on any error.
  Result<CallListView> create(const Asker& who, const CallListSpec& spec);

  // Every list with every share and outcome counts, newest first.
  Result<std::vector<CallListView>> lists();
  // One list, as lists() shows it; nullopt if there is none.
  Result<std::optional<CallListView>> find(std::string_view name);
  // The lists the asker has a share in, with that share only.
  Result<std::vector<CallListView>> assignments(const Asker& who);

  // The asker's entry in hand, opened (name and phone) and audited, or the
  // first not opened of their share; nullopt when their share is done.
  // Errc::not_found when there is no such list or the asker has no share
  // in it (the same answer: a caller learns nothing of others' lists);
  // Errc::conflict ("call: not_open") outside the window or once closed;
  // Errc::locked for a honeytoken (the lock committed, nothing shown).
  Result<std::optional<CallPerson>> next(const Asker& who, std::string_view list);

  // Records the outcome of the asker's entry `entry` (opened, not done):
  // the contact (`outcome`, with `text`, 0..200 code points) written to the
  // record's history, the entry done; also after the window or once the
  // list is closed (the call was made). Errc::invalid_input for a bad
  // outcome or text, Errc::not_found for an entry that is not the asker's,
  // Errc::conflict ("call: not_in_hand") for an entry not opened or
  // already done.
  Result<void> outcome(const Asker& who, std::string_view list, std::int64_t entry, std::string_view outcome,
                       std::string_view text);

  // Closes the list: no entry opens any more. false if it was closed
  // already. Errc::not_found.
  Result<bool> close(const Asker& who, std::string_view list);

 private:
  store::KeeperStore* store_;
  const Vault* vault_;
  const crypto::KeeperKeyring* keys_;
  const guard::Budgets* budgets_;
};

}  // namespace rempart::services
