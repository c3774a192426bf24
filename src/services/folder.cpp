#include "services/folder.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <thread>

#include <spdlog/spdlog.h>

#include "audit/chain.hpp"
#include "core/metrics.hpp"
#include "crypto/seal.hpp"
#include "services/casework.hpp"
#include "services/prepare_pipeline.hpp"
#include "services/supporter_mail.hpp"

namespace rempart::services {

Result<void> Folder::start() {
  // What a stop left between a pass's commit and its inbox delete: folded,
  // maybe still in the inbox. Deleted there (by a scan of the inbox), then
  // forgotten; a chunk at a time, as few as a pass folds.
  constexpr std::size_t kChunk = 10'000;
  for (;;) {
    std::vector<store::Bytes> uids;
    auto read = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
      auto u = tx.folded_items(kChunk);
      if (!u) return std::unexpected(u.error());
      uids = std::move(*u);
      return {};
    });
    if (!read) return read;
    if (uids.empty()) break;
    if (auto r = inbox_.remove_by_uid(uids); !r) return std::unexpected(r.error());
    auto gone = store_.transact([&](store::KeeperTx& tx) { return tx.forget_folded(uids); });
    if (!gone) return gone;
    if (uids.size() < kChunk) break;
  }
  started_ = true;
  return {};
}

struct Folder::Opened {
  const store::InboxRow* item;
  std::optional<core::Person> person;  // nullopt: rejected, or a link
  bool authentic = false;
  PreparedUpsert prepared;  // blind indexes and sealed record, made here
  std::optional<core::LinkAction> link;  // a mailed link followed (supporter_mail.hpp)
  std::vector<core::Field> link_fields;  // the link's item as opened (a correction's values)
  bool autoresponse = true;  // false: the sign-up asked for no confirmation mail (OSDI)
  // The consent wordings the form showed beside the boxes ticked, and
  // their hashes (consent_wording_hash), made here, outside the lock.
  std::string email_wording, sms_wording;
  std::optional<store::Bytes> email_wording_hash, sms_wording_hash;
  std::string source;  // core::field::source: where the sign-up came from
  std::string lang;    // core::field::lang: the sign-up page's language, that of its confirmation
};

Result<Folder::OpenedPass> Folder::open_items(const std::vector<store::InboxRow>& items,
                                               const std::function<Result<std::optional<store::BatchRow>>(const store::Bytes&)>& batch_of) {
  // One opener per batch: a single X25519 per batch on this side too.
  std::map<store::Bytes, std::optional<crypto::BatchOpener>> openers;
  for (const auto& item : items) {
    if (openers.contains(item.batch_uid)) continue;
    auto batch = batch_of(item.batch_uid);
    if (!batch) return std::unexpected(batch.error());
    std::optional<crypto::BatchOpener> opener;
    if (*batch) {
      auto o = crypto::BatchOpener::create(keys_, (*batch)->key_version, (*batch)->ephemeral_public);
      if (o) {
        opener.emplace(std::move(*o));
      } else {
        spdlog::error("keeper: cannot open a batch of key version {} ({}); its submissions stay in the inbox",
                      (*batch)->key_version, errc_name(o.error().code));
      }
    }
    openers.emplace(item.batch_uid, std::move(opener));
  }

  // Open, validate, blind-index and seal new records before taking the
  // write lock: the intake's group commits wait on that lock, so it is held
  // for the SQL (and the re-sealing of merged records) only.
  auto open_range = [&](std::size_t begin, std::size_t end) {
    std::vector<Opened> out;
    out.reserve(end - begin);
    for (std::size_t i = begin; i < end; ++i) {
      const auto& item = items[i];
      const auto& opener = openers.at(item.batch_uid);
      if (!opener) continue;
      Opened o{&item, std::nullopt, false, {}, std::nullopt, {}, true, {}, {}, std::nullopt, std::nullopt, {}, {}};
      auto fields = opener->open(item.item_uid, crypto::Sealed{item.wrapped_key, item.fields});
      if (fields) {
        o.authentic = true;
        if (auto link = core::to_link_action(*fields)) {
          o.link = std::move(*link);
          o.link_fields = std::move(*fields);
          out.push_back(std::move(o));
          continue;
        }
        o.autoresponse = core::wants_autoresponse(*fields);
        o.email_wording = core::field_value(*fields, core::field::consent_email_text);
        o.sms_wording = core::field_value(*fields, core::field::consent_sms_text);
        o.source = core::field_value(*fields, core::field::source);
        o.lang = core::language_of(*fields);
        for (const auto& [text, hash] : {std::pair{&o.email_wording, &o.email_wording_hash},
                                         std::pair{&o.sms_wording, &o.sms_wording_hash}}) {
          if (!text->empty() && text->size() <= 1000) *hash = consent_wording_hash(*text);
        }
        auto valid = core::validate_submission(core::to_raw(core::to_person(*fields)), opts_);
        if (valid) {
          o.prepared = writer_.prepare(*valid);
          o.person = std::move(*valid);
        }
      }
      out.push_back(std::move(o));
    }
    return out;
  };
  // With enough items, the second half is opened on a thread of its own
  // (both cores of a small keeper); the halves are joined back in inbox
  // order. Everything used there is const and thread-safe
  // (BatchOpener::open, validation, RecordWriter::prepare); `openers` is
  // only read. A thread per pass costs the keeper about 3.6 % of its
  // samples (mostly the allocator's madvise at the thread's exit), and a
  // Worker kept from pass to pass folded 6 % faster alone; but under
  // `serve --role all`, where the intake's threads share the cores, it cost
  // the sign-ups' p99 (median 25.0 → 29.2 ms) and rate (7,666 → 7,284 /s)
  // over 17 alternated runs: woken from sleep each pass, it seemingly
  // preempts the intake's threads, where a new thread waits its turn
  // (docs/benchmarks.md, "A thread per fold pass, not a persistent worker").
  constexpr std::size_t kSplitAt = 64;
  const std::size_t n = items.size();
  std::vector<Opened> opened;
  if (n >= kSplitAt) {
    std::vector<Opened> second;
    BackgroundTask worker([&] { second = open_range(n / 2, n); });
    opened = open_range(0, n / 2);
    if (auto thrown = worker.wait()) std::rethrow_exception(thrown);
    opened.insert(opened.end(), std::make_move_iterator(second.begin()), std::make_move_iterator(second.end()));
  } else {
    opened = open_range(0, n);
  }

  std::vector<store::Bytes> batches;
  for (const auto& entry : openers) {
    if (entry.second) batches.push_back(entry.first);
  }
  return OpenedPass{std::move(opened), std::move(batches)};
}

Result<void> Folder::write_items(store::KeeperTx& tx, const std::vector<Opened>& opened, std::size_t next,
                                 std::size_t& end, FoldCounts& tx_counts, std::int64_t now, std::int64_t now_us,
                                 std::chrono::steady_clock::time_point locked, bool ledger) {
  // One entry per folded submission, in this transaction: the fold and
  // its entries commit together or not at all.
  auto log = audit::Appender::begin(tx, keys_);
  if (!log) return std::unexpected(log.error());
  for (std::size_t i = next; i < opened.size(); ++i) {
    const auto& [item, person, authentic, prepared, link, link_fields, autoresponse, email_wording, sms_wording,
                 email_wording_hash, sms_wording_hash, source, lang] = opened[i];
    auto fresh = ledger ? tx.record_folded(item->item_uid, now) : Result<bool>(true);
    if (!fresh) return std::unexpected(fresh.error());
    if (*fresh) {
      audit::Event event{std::string(audit::kKeeperActor), "", "", nlohmann::json::object(), ""};
      if (link) {
        const Vault vault(keys_);
        const LinkContext context{keys_, writer_, vault, opts_, mail_ ? &*mail_ : nullptr};
        auto applied = apply_link(tx, context, *link, link_fields, now);
        if (!applied) return std::unexpected(applied.error());
        event = std::move(applied->event);
        ++tx_counts.links;
        if (applied->erased) ++tx_counts.erased;
      } else if (person) {
        store::Bytes id;
        Provenance from;
        from.email_wording = email_wording_hash;
        from.sms_wording = sms_wording_hash;
        // The words the person ticked, kept once each by their hash.
        for (const auto& [text, hash] : {std::pair{&email_wording, &email_wording_hash},
                                         std::pair{&sms_wording, &sms_wording_hash}}) {
          if (!*hash) continue;
          if (auto w = tx.put_consent_wording(**hash, *text, now); !w) return std::unexpected(w.error());
        }
        auto u = writer_.upsert(tx, *person, prepared, now, &id, nullptr, from);
        if (!u) return std::unexpected(u.error());
        tx_counts.add(*u);
        event.action = audit_action(*u);
        event.subject = audit::to_hex(id);
        event.details = {{"via", "intake"}};
        if (!source.empty()) {
          // A copy: a retried transaction needs the text again.
          std::string text = source;
          if (auto e = add_signup_entry(tx, keys_, id, text, now); !e) return std::unexpected(e.error());
          event.details["source"] = true;
        }
        if (mail_ && person->consent.email && autoresponse) {
          auto q = queue_confirmation(tx, id, now, *mail_, lang);
          if (!q) return std::unexpected(q.error());
          if (*q) ++tx_counts.confirmations;
        }
      } else {
        ++tx_counts.rejected;
        event.action = audit::action::intake_reject;
        event.details = {{"via", "intake"}, {"reason", authentic ? "validation" : "authentication"}};
      }
      if (auto e = log->append(event, now_us); !e) return std::unexpected(e.error());
    }
    if (i == next && hook_) hook_(tx);
    if (i + 1 < opened.size() && tx.yield_requested() &&
        std::chrono::steady_clock::now() - locked >= yield_after_) {
      end = i + 1;
      break;
    }
  }
  return {};
}

Result<FoldCounts> Folder::fold_once(std::size_t limit) {
  last_hold_ = std::chrono::microseconds{0};
  last_commit_ = std::chrono::microseconds{0};
  last_commits_ = 0;
  if (store_.claims_inbox()) return fold_claimed(limit);
  if (!started_) {
    if (auto r = start(); !r) return std::unexpected(r.error());
  }
  auto items = inbox_.peek(limit, cursor_);
  if (!items) return std::unexpected(items.error());
  // The next pass goes on after this one; once one reaches the end, the
  // next starts again from the first id, which finds items that committed
  // late below the ones seen, and items left for their key version.
  cursor_ = items->size() < limit || items->empty() ? 0 : items->back().id;
  FoldCounts counts;
  if (items->empty() && to_forget_.empty() && undeleted_.empty()) return counts;

  auto pass = open_items(*items, [&](const store::Bytes& uid) { return inbox_.batch(uid); });
  if (!pass) return std::unexpected(pass.error());
  auto& opened = pass->opened;
  auto& batches = pass->batches;

  const std::int64_t now = unix_now();
  const std::int64_t now_us = audit::now_us();
  // One transaction, or several when the store asks for room (see fold_once
  // in folder.hpp). Each item is recorded in the fold ledger in the
  // transaction that folds it: one recorded already (folded by a pass whose
  // inbox delete did not happen) is only deleted.
  std::size_t next = 0;
  bool first = true;
  while (next < opened.size() || (first && !to_forget_.empty())) {
    std::size_t end = opened.size();
    std::chrono::steady_clock::time_point locked;
    std::chrono::steady_clock::time_point written;  // the statements done, COMMIT next
    FoldCounts tx_counts;
    auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
      locked = std::chrono::steady_clock::now();  // the write lock is held from here to the commit
      tx_counts = {};
      if (first && !to_forget_.empty()) {
        if (auto f = tx.forget_folded(to_forget_); !f) return f;
      }
      if (auto w = write_items(tx, opened, next, end, tx_counts, now, now_us, locked, true); !w) return w;
      written = std::chrono::steady_clock::now();
      return {};
    });
    if (!r) return std::unexpected(r.error());
    const auto committed = std::chrono::steady_clock::now();
    const auto held = std::chrono::duration_cast<std::chrono::microseconds>(committed - locked);
    if (held > last_hold_) {
      last_hold_ = held;
      last_commit_ = std::chrono::duration_cast<std::chrono::microseconds>(committed - written);
    }
    ++last_commits_;
    if (first) to_forget_.clear();
    first = false;
    counts.add(tx_counts);
    for (std::size_t i = next; i < end; ++i) undeleted_.emplace_back(opened[i].item->id, opened[i].item->item_uid);
    next = end;
    if (next < opened.size()) store_.make_way();
  }
  if (counts.erased != 0) flush_after_erasure(store_);
  // Folded: out of the inbox, then out of the ledger (in the next pass's
  // first transaction). If the delete fails, it is tried again next pass.
  std::vector<std::int64_t> ids;
  ids.reserve(undeleted_.size());
  for (const auto& [id, uid] : undeleted_) ids.push_back(id);
  if (auto gone = inbox_.remove(ids, batches); !gone) {
    spdlog::error("keeper: folded submissions could not be deleted from the inbox yet ({}): {}",
                  errc_name(gone.error().code), gone.error().internal);
  } else {
    for (auto& [id, uid] : undeleted_) to_forget_.push_back(std::move(uid));
    undeleted_.clear();
  }
  if (counts.rejected != 0) {
    spdlog::warn("keeper: {} submissions failed authentication or validation and were dropped", counts.rejected);
  }
  return counts;
}

// The inbox in the keeper's database (PostgreSQL): one transaction claims
// the oldest items no other keeper holds, opens them (no lock but the
// items' own rows is held meanwhile: other keepers claim and open other
// items), writes the records and their audit entries (the chain's lock is
// taken at the first entry), and deletes the items; it all commits at once
// or not at all. The fold ledger is not used: an item is gone from the
// inbox in the commit that folds it.
Result<FoldCounts> Folder::fold_claimed(std::size_t limit) {
  // Transactions of at most kChunk items: every folded record updates the
  // same day-count rows, and PostgreSQL steps over each earlier version of
  // a row the transaction updated, so a transaction's cost grows with the
  // square of its size (docs/benchmarks.md, "PostgreSQL").
  constexpr std::size_t kChunk = 250;
  FoldCounts counts;
  std::size_t erased = 0;
  std::size_t claimed_total = 0;
  last_commits_ = 0;
  while (claimed_total < limit) {
    const std::size_t want = std::min(kChunk, limit - claimed_total);
    std::size_t claimed = 0;
    FoldCounts tx_counts;
    std::chrono::steady_clock::time_point locked;
    std::chrono::steady_clock::time_point written;
    auto r = store_.transact_fold([&](store::KeeperTx& tx) -> Result<void> {
      tx_counts = {};
      auto items = tx.claim_inbox(
          want, store::KeeperTx::KeyVersions{keys_.first_version(), keys_.current().version});
      if (!items) return std::unexpected(items.error());
      claimed = items->size();
      if (items->empty()) return {};
      auto pass = open_items(*items, [&](const store::Bytes& uid) { return tx.inbox_batch(uid); });
      if (!pass) return std::unexpected(pass.error());
      locked = std::chrono::steady_clock::now();
      const std::int64_t now = unix_now();
      const std::int64_t now_us = audit::now_us();
      std::size_t end = pass->opened.size();
      if (auto w = write_items(tx, pass->opened, 0, end, tx_counts, now, now_us, locked, false); !w) return w;
      // Folded, and those of a batch no key here opens stay (as on SQLite;
      // claimed only if its version is one this keeper holds).
      std::vector<std::int64_t> ids;
      ids.reserve(pass->opened.size());
      for (const auto& o : pass->opened) ids.push_back(o.item->id);
      if (auto d = tx.delete_inbox(ids, pass->batches); !d) return std::unexpected(d.error());
      written = std::chrono::steady_clock::now();
      return {};
    });
    if (!r) {
      if (claimed_total == 0) return std::unexpected(r.error());
      // What committed stays folded; the next pass goes on from the inbox.
      spdlog::error("keeper: a fold transaction failed after {} items were folded ({}): {}", claimed_total,
                    errc_name(r.error().code), r.error().internal);
      break;
    }
    if (written != std::chrono::steady_clock::time_point{}) {
      const auto committed = std::chrono::steady_clock::now();
      const auto held = std::chrono::duration_cast<std::chrono::microseconds>(committed - locked);
      if (held > last_hold_) {
        last_hold_ = held;
        last_commit_ = std::chrono::duration_cast<std::chrono::microseconds>(committed - written);
      }
      ++last_commits_;
    }
    counts.add(tx_counts);
    erased += tx_counts.erased;
    claimed_total += claimed;
    if (claimed < want) break;  // the inbox holds no more for this keeper now
  }
  if (erased != 0) flush_after_erasure(store_);
  if (counts.rejected != 0) {
    spdlog::warn("keeper: {} submissions failed authentication or validation and were dropped", counts.rejected);
  }
  return counts;
}

namespace {

// The pass's counts on /metrics (core/metrics.hpp).
void count_pass(const Result<FoldCounts>& r) {
  namespace m = core::metrics;
  auto& reg = m::process_registry();
  reg.fold_passes.add();
  if (!r) return reg.fold_failures.add();
  reg.folded[m::FoldResult::created].add(r->created);
  reg.folded[m::FoldResult::merged].add(r->merged);
  reg.folded[m::FoldResult::unchanged].add(r->unchanged);
  reg.folded[m::FoldResult::rejected].add(r->rejected);
  reg.folded[m::FoldResult::suppressed].add(r->suppressed);
  reg.folded[m::FoldResult::link].add(r->links);
  reg.confirmations_queued.add(r->confirmations);
}

}  // namespace

FoldLoop::FoldLoop(Folder& folder, std::chrono::milliseconds interval, std::size_t batch,
                   std::function<void()> after_pass, std::chrono::milliseconds stop_budget)
    : folder_(folder), interval_(interval), batch_(batch), after_pass_(std::move(after_pass)),
      stop_budget_(stop_budget) {
  thread_ = std::thread([this] { run(); });
}

FoldLoop::~FoldLoop() { stop(); }

void FoldLoop::poke() {
  {
    MutexLock lock(mu_);
    poked_ = true;
  }
  cv_.notify_one();
}

void FoldLoop::stop() {
  {
    MutexLock lock(mu_);
    if (!stopping_) stop_asked_ = std::chrono::steady_clock::now();
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void FoldLoop::run() {
  bool last_pass = false;
  for (;;) {
    auto r = folder_.fold_once(batch_);
    count_pass(r);
    std::size_t n = 0;
    if (r) {
      n = r->created + r->merged + r->unchanged + r->rejected + r->links;
      folded_ += n;
      if (n != 0) {
        const auto held = folder_.last_hold();
        spdlog::info("keeper: folded {} submissions ({} new, {} merged, {} unchanged, {} rejected, {} links; "
                     "{} confirmation mails queued), write lock held {:.1f} ms (commit {:.1f} ms), {} transaction(s)",
                     n, r->created, r->merged, r->unchanged, r->rejected, r->links, r->confirmations,
                     static_cast<double>(held.count()) / 1000,
                     static_cast<double>(folder_.last_commit().count()) / 1000, folder_.last_commits());
      }
    } else {
      spdlog::error("keeper: fold failed ({}): {}", errc_name(r.error().code), r.error().internal);
    }
    if (after_pass_) after_pass_();
    if (last_pass && n < batch_) return;
    if (r && n == batch_) {  // more waiting: keep up with intake
      MutexLock lock(mu_);
      if (!stopping_ || std::chrono::steady_clock::now() - stop_asked_ < stop_budget_) continue;
      spdlog::warn("keeper: stopping with submissions still in the inbox (folding them all would take longer "
                   "than {} s); the next start, or another keeper, folds them",
                   stop_budget_.count() / 1000);
      return;
    }
    MutexLock lock(mu_);
    const auto until = std::chrono::steady_clock::now() + interval_;
    while (!stopping_ && !poked_) {
      if (!lock.wait_until(cv_, until)) break;
    }
    poked_ = false;
    if (stopping_) last_pass = true;
  }
}

}  // namespace rempart::services
