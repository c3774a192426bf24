#include "services/call_lists.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "audit/chain.hpp"
#include "auth/roles.hpp"
#include "core/hex.hpp"
#include "services/casework.hpp"
#include "services/segments.hpp"

namespace rempart::services {
namespace {

constexpr std::size_t kMembersPage = 1000;
constexpr std::string_view kCallReason = "call list";

template <std::size_t N>
bool one_of(const std::string_view (&set)[N], std::string_view v) {
  return std::find(std::begin(set), std::end(set), v) != std::end(set);
}

// "account:<hex>" -> the account's name, for pages; other actors as they are.
Result<std::string> actor_name(store::KeeperTx& tx, const std::string& actor,
                               std::map<std::string, std::string>& seen) {
  if (auto it = seen.find(actor); it != seen.end()) return it->second;
  std::string name = actor;
  constexpr std::string_view kAccount = "account:";
  if (actor.starts_with(kAccount)) {
    if (auto id = core::from_hex(std::string_view(actor).substr(kAccount.size()), 16)) {
      auto row = tx.find_account(*id);
      if (!row) return std::unexpected(row.error());
      if (*row) name = (*row)->name;
    }
  }
  seen.emplace(actor, name);
  return name;
}

std::string state_of(const store::CallListRow& l, std::int64_t now) {
  if (l.closed_at) return "closed";
  if (now < l.starts_at) return "scheduled";
  if (now >= l.ends_at) return "ended";
  return "open";
}

// The list as pages show it, with the shares in `shares` (already of this
// list) and, when `with_outcomes`, its outcome counts.
Result<CallListView> view_of(store::KeeperTx& tx, const store::CallListRow& l,
                             const std::vector<store::CallShareRow>& shares, bool with_outcomes,
                             std::map<std::string, std::string>& names) {
  CallListView v;
  v.name = l.name;
  v.segment = l.segment;
  v.script = l.script;
  auto by = actor_name(tx, l.created_by, names);
  if (!by) return std::unexpected(by.error());
  v.created_by = std::move(*by);
  v.created_at = l.created_at;
  v.starts_at = l.starts_at;
  v.ends_at = l.ends_at;
  v.closed_at = l.closed_at;
  v.state = state_of(l, unix_now());
  for (const auto& s : shares) {
    auto caller = actor_name(tx, s.caller, names);
    if (!caller) return std::unexpected(caller.error());
    v.shares.push_back(CallShare{std::move(*caller), s.entries, s.opened, s.done});
    v.entries += s.entries;
    v.opened += s.opened;
    v.done += s.done;
  }
  if (with_outcomes) {
    auto o = tx.call_outcomes(l.id);
    if (!o) return std::unexpected(o.error());
    v.outcomes = std::move(*o);
  }
  return v;
}

Result<void> record(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const Asker& who, std::string_view act,
                    const std::string& subject, nlohmann::json details) {
  if (!who.session.empty()) details["session"] = who.session;
  auto e = audit::record(tx, keys, audit::Event{who.actor, std::string(act), subject, std::move(details), who.client});
  if (!e) return std::unexpected(e.error());
  return {};
}

// A list and the asker's share of it.
struct CallerList {
  store::CallListRow list;
  store::CallShareRow share;
};

// The asker's list and share: nullopt (one answer for both) when there is
// no such list or the asker has no entry in it.
Result<std::optional<CallerList>> list_of_caller(store::KeeperTx& tx, std::string_view name,
                                                 const std::string& caller) {
  if (!valid_segment_name(name)) return std::optional<CallerList>{};
  auto l = tx.find_call_list(std::string(name));
  if (!l) return std::unexpected(l.error());
  if (!*l) return std::optional<CallerList>{};
  auto shares = tx.call_shares_of(caller);
  if (!shares) return std::unexpected(shares.error());
  for (auto& s : *shares) {
    if (s.list_id == (*l)->id) return std::optional<CallerList>{CallerList{std::move(**l), std::move(s)}};
  }
  return std::optional<CallerList>{};
}

}  // namespace

bool call_outcome(std::string_view name) noexcept { return one_of(kCallOutcomes, name); }

CallLists::CallLists(store::KeeperStore& store, const Vault& vault, const guard::Budgets* budgets)
    : store_(&store), vault_(&vault), keys_(&vault.keyring()), budgets_(budgets) {}

Result<CallListView> CallLists::create(const Asker& who, const CallListSpec& spec) {
  if (!valid_segment_name(spec.name)) return fail(Errc::invalid_input, "call_list: name");
  if (!valid_segment_name(spec.segment)) return fail(Errc::invalid_input, "call_list: segment");
  if (spec.callers.empty() || spec.callers.size() > kMaxCallers) return fail(Errc::invalid_input, "call_list: callers");
  for (std::size_t i = 0; i < spec.callers.size(); ++i) {
    if (std::find(spec.callers.begin() + static_cast<std::ptrdiff_t>(i) + 1, spec.callers.end(), spec.callers[i]) !=
        spec.callers.end()) {
      return fail(Errc::invalid_input, "call_list: callers");
    }
  }
  const std::int64_t now = unix_now();
  if (spec.ends_at <= spec.starts_at || spec.ends_at - spec.starts_at > kMaxCallWindow || spec.ends_at <= now) {
    return fail(Errc::invalid_input, "call_list: window");
  }
  std::string script;
  if (!spec.script.empty()) {
    auto s = checked_note_text("note", spec.script);
    if (!s) return fail(Errc::invalid_input, "call_list: script");
    script = std::move(*s);
  }
  auto seg = Segments(*store_, *keys_).find(spec.segment);
  if (!seg) return std::unexpected(seg.error());
  if (!*seg) return fail(Errc::not_found, "call_list: no such segment");
  auto made_filter = segment_filter((*seg)->definition, keys_->current());
  if (!made_filter) return std::unexpected(made_filter.error());
  const store::SegmentFilter& filter = *made_filter;

  CallListView out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    std::vector<std::string> callers;
    for (const std::string& name : spec.callers) {
      auto a = tx.find_account_by_name(name);
      if (!a) return std::unexpected(a.error());
      const auto role = *a ? auth::parse_role((*a)->role) : std::nullopt;
      if (!*a || (*a)->disabled || (*a)->state != "active" || !role || !auth::permits(*role, auth::Action::make_calls)) {
        return fail(Errc::invalid_input, "call_list: caller");
      }
      callers.push_back("account:" + audit::to_hex((*a)->id));
    }
    auto honey = tx.honeytoken_ids();
    if (!honey) return std::unexpected(honey.error());
    std::vector<store::Bytes> members;
    store::SupporterPageQuery q;
    q.limit = kMembersPage;
    for (;;) {
      auto page = tx.segment_page(filter, q, false);
      if (!page) return std::unexpected(page.error());
      for (const auto& item : page->items) {
        if (!item.row.phone_index) continue;
        if (std::binary_search(honey->begin(), honey->end(), item.row.id)) continue;
        if (members.size() == kMaxCallListEntries) return fail(Errc::invalid_input, "call_list: too_many");
        members.push_back(item.row.id);
      }
      if (page->items.size() < kMembersPage) break;
      q.after = store::SupporterPosition{page->items.back().row.created_at, page->items.back().row.id};
    }
    if (members.empty()) return fail(Errc::invalid_input, "call_list: empty");
    store::CallListRow row{0, spec.name, spec.segment, script, who.actor, now, spec.starts_at, spec.ends_at, {}};
    auto id = tx.insert_call_list(row);
    if (!id) return std::unexpected(id.error());
    row.id = *id;
    std::vector<store::CallEntryRow> entries;
    entries.reserve(members.size());
    for (std::size_t i = 0; i < members.size(); ++i) {
      entries.push_back(store::CallEntryRow{*id, static_cast<std::int64_t>(i + 1), std::move(members[i]),
                                            callers[i % callers.size()], {}, {}, {}});
    }
    if (auto ins = tx.insert_call_entries(entries); !ins) return ins;
    nlohmann::json details = {{"name", spec.name},         {"segment", spec.segment},
                              {"callers", spec.callers},   {"entries", entries.size()},
                              {"starts_at", spec.starts_at}, {"ends_at", spec.ends_at}};
    if (auto a = record(tx, *keys_, who, audit::action::call_list_create, "", std::move(details)); !a) return a;
    auto shares = tx.call_shares(*id);
    if (!shares) return std::unexpected(shares.error());
    std::map<std::string, std::string> names;
    auto v = view_of(tx, row, *shares, true, names);
    if (!v) return std::unexpected(v.error());
    out = std::move(*v);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::vector<CallListView>> CallLists::lists() {
  std::vector<CallListView> out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto all = tx.call_lists();
    if (!all) return std::unexpected(all.error());
    auto shares = tx.call_shares(0);
    if (!shares) return std::unexpected(shares.error());
    std::map<std::string, std::string> names;
    for (const auto& l : *all) {
      std::vector<store::CallShareRow> mine;
      for (const auto& s : *shares) {
        if (s.list_id == l.id) mine.push_back(s);
      }
      auto v = view_of(tx, l, mine, true, names);
      if (!v) return std::unexpected(v.error());
      out.push_back(std::move(*v));
    }
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::optional<CallListView>> CallLists::find(std::string_view name) {
  if (!valid_segment_name(name)) return fail(Errc::invalid_input, "call_list: name");
  std::optional<CallListView> out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto l = tx.find_call_list(std::string(name));
    if (!l) return std::unexpected(l.error());
    if (!*l) return {};
    auto shares = tx.call_shares((*l)->id);
    if (!shares) return std::unexpected(shares.error());
    std::map<std::string, std::string> names;
    auto v = view_of(tx, **l, *shares, true, names);
    if (!v) return std::unexpected(v.error());
    out = std::move(*v);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::vector<CallListView>> CallLists::assignments(const Asker& who) {
  std::vector<CallListView> out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto mine = tx.call_shares_of(who.actor);
    if (!mine) return std::unexpected(mine.error());
    if (mine->empty()) return {};
    auto all = tx.call_lists();
    if (!all) return std::unexpected(all.error());
    std::map<std::string, std::string> names;
    for (const auto& l : *all) {
      for (const auto& s : *mine) {
        if (s.list_id != l.id) continue;
        auto v = view_of(tx, l, {s}, false, names);
        if (!v) return std::unexpected(v.error());
        out.push_back(std::move(*v));
      }
    }
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::optional<CallPerson>> CallLists::next(const Asker& who, std::string_view list) {
  std::optional<CallPerson> out;
  bool known = false;
  guard::Verdict verdict;
  std::string honey;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto l = list_of_caller(tx, list, who.actor);
    if (!l) return std::unexpected(l.error());
    if (!*l) return {};
    known = true;
    const store::CallListRow& l_row = (*l)->list;
    if (state_of(l_row, unix_now()) != "open") return fail(Errc::conflict, "call: not_open");
    auto entry = tx.next_call_entry(l_row.id, who.actor);
    if (!entry) return std::unexpected(entry.error());
    if (!*entry) return {};  // the share is done
    auto row = tx.find_listing((*entry)->supporter_id);
    if (!row) return std::unexpected(row.error());
    // An entry goes with its record (erasure), so the row is there.
    if (!*row) return fail(Errc::internal, "call: entry without record");
    const std::string id_hex = audit::to_hex((*row)->row.id);
    if (budgets_) {
      auto h = tx.is_honeytoken((*row)->row.id);
      if (!h) return std::unexpected(h.error());
      if (*h) {
        verdict = {true, std::string(guard::kReasonHoneytoken)};
        honey = id_hex;
        return lock_asker(tx, *keys_, who, verdict.reason, {{"record", honey}, {"by", "call_list"}});
      }
    }
    nlohmann::json details = {{"reason", kCallReason}, {"by", "call_list"}, {"list", l_row.name},
                              {"entry", (*entry)->position}};
    if ((*entry)->opened_at) details["again"] = true;
    if (!who.session.empty()) details["session"] = who.session;
    auto person = vault_->reveal(tx, (*row)->row,
                                 RevealEntry{who.actor, who.client, std::move(details), {{"name", "phone"}}});
    if (!person) return std::unexpected(person.error());
    if (auto o = tx.open_call_entry(l_row.id, (*entry)->position, unix_now()); !o) {
      wipe_person(*person);
      return o;
    }
    CallPerson p;
    p.list = l_row.name;
    p.entry = (*entry)->position;
    p.record = id_hex;
    p.name = person->given_name.empty() || person->family_name.empty()
                 ? person->given_name + person->family_name
                 : person->given_name + " " + person->family_name;
    p.phone = person->phone;
    wipe_person(*person);
    // Read before the opening, which changes no entry's done.
    p.share = (*l)->share.entries;
    p.left = (*l)->share.entries - (*l)->share.done;
    p.script = l_row.script;
    p.tags = std::move((*row)->tags);
    out = std::move(p);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  if (verdict.locked) return std::unexpected(locked_error(verdict, honey).error());
  if (!known) return fail(Errc::not_found, "call: no such list");
  return out;
}

Result<void> CallLists::outcome(const Asker& who, std::string_view list, std::int64_t entry, std::string_view outcome,
                                std::string_view text) {
  if (!call_outcome(outcome)) return fail(Errc::invalid_input, "call: outcome");
  auto clean = checked_note_text(outcome, text);
  if (!clean) return fail(Errc::invalid_input, "call: text");
  bool known = false;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto l = list_of_caller(tx, list, who.actor);
    if (!l) return std::unexpected(l.error());
    if (!*l) return {};
    auto e = tx.find_call_entry((*l)->list.id, entry);
    if (!e) return std::unexpected(e.error());
    if (!*e || (*e)->caller != who.actor) return {};
    known = true;
    // The call in hand is recorded even once the window has ended or the
    // list was closed: recording it opens nobody.
    if (!(*e)->opened_at || (*e)->done_at) return fail(Errc::conflict, "call: not_in_hand");
    auto row = tx.find_supporter((*e)->supporter_id);
    if (!row) return std::unexpected(row.error());
    if (!*row) return fail(Errc::internal, "call: entry without record");
    const nlohmann::json where = {{"list", (*l)->list.name}, {"entry", entry}};
    auto note = write_note(tx, *keys_, who, **row, outcome, *clean, where);
    if (!note) return std::unexpected(note.error());
    auto done = tx.finish_call_entry((*l)->list.id, entry, std::string(outcome), unix_now());
    if (!done) return std::unexpected(done.error());
    if (!*done) return fail(Errc::conflict, "call: not_in_hand");
    nlohmann::json details = where;
    details["outcome"] = outcome;
    return record(tx, *keys_, who, audit::action::call_outcome, audit::to_hex((*row)->id), std::move(details));
  });
  sodium_memzero(clean->data(), clean->size());
  if (!r) return std::unexpected(r.error());
  if (!known) return fail(Errc::not_found, "call: no such entry");
  return {};
}

Result<bool> CallLists::close(const Asker& who, std::string_view list) {
  if (!valid_segment_name(list)) return fail(Errc::invalid_input, "call_list: name");
  bool found = false, closed = false;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto l = tx.find_call_list(std::string(list));
    if (!l) return std::unexpected(l.error());
    if (!*l) return {};
    found = true;
    auto c = tx.close_call_list((*l)->id, unix_now());
    if (!c) return std::unexpected(c.error());
    closed = *c;
    if (!closed) return {};
    return record(tx, *keys_, who, audit::action::call_list_close, "", {{"name", (*l)->name}});
  });
  if (!r) return std::unexpected(r.error());
  if (!found) return fail(Errc::not_found, "call_list: no such list");
  return closed;
}

}  // namespace rempart::services
