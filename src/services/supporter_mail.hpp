#pragma once
// Mail to supporters (docs/supporter-mail.md): the outbox the keeper keeps,
// the sender that opens a record only to mail the person, and the mailed
// links (double opt-in confirmation, one-click unsubscribe) the intake
// hands back sealed.
//
// The outbox holds no address and no text: a row names a record and a
// template. The sender opens the record through the vault in the
// transaction that writes its `supporter.mail` entry and mints the
// message's links (only their hashes are stored), then renders and hands
// the message to the relay outside any transaction, then records the
// relay's answer. A crash between the two sends the message again at its
// next attempt: a confirmation or welcome mail may arrive twice, never
// silently not at all.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/chain.hpp"
#include "core/error.hpp"
#include "core/mutex.hpp"
#include "core/person.hpp"
#include "mail/smtp.hpp"
#include "core/validate.hpp"
#include "services/records.hpp"
#include "services/vault.hpp"
#include "store/store.hpp"

namespace rempart::services {

struct SupporterMailOptions {
  std::string organisation;  // the name mail is sent under
  std::string from;          // plain address
  // Where bounces come back (docs/mailings.md, "Bounces"): each message's
  // envelope sender is this address with "+" and a token of the recipient's
  // record added to its local part (VERP). "" = `from`. The mailbox behind
  // it must take "local+anything@domain" (subaddressing).
  std::string bounce_address;
  // List-Unsubscribe also names a mailto: address (unsubscribe_address),
  // beside the https link. Set when the bounce mailbox is read ([bounces]):
  // mail to it would otherwise go unread.
  bool mailto_unsubscribe = false;
  // The intake's public address the mailed links point to, e.g.
  // "https://signup.example.org" (no trailing slash).
  std::string links_base;
  std::chrono::seconds confirm_valid{std::chrono::hours(24 * 7)};
  std::chrono::seconds unsubscribe_valid{std::chrono::hours(24 * 400)};
  // Confirmation mails per address: at most this many a day, and none
  // within `confirmation_gap` of the last (repeated sign-ups of one
  // address, or someone else typing it, do not become a flood).
  int confirmations_per_day = 3;
  std::chrono::seconds confirmation_gap{std::chrono::minutes(10)};
  int max_attempts = 8;
  std::chrono::seconds first_backoff{60};  // doubled per attempt, capped at 6 h
  double per_minute = 120;  // messages handed to the relay at most
};

// Refuses (Errc::config) options that cannot send: a sender that is not a
// plain address, links_base not http(s) or ending in '/', counts out of
// range. Messages name the option, never a value.
Result<void> check(const SupporterMailOptions& o);

// ---- Mailed links --------------------------------------------------------------------

// A fresh link token: 32 random bytes, base64url without padding (43
// characters), and the hash the outbox keeps.
struct LinkToken {
  std::string text;
  store::Bytes hash;
};
LinkToken new_link_token();
// The hash of a token as the intake received it; nullopt for anything that
// is not 43 base64url characters (then nothing is looked up).
std::optional<store::Bytes> link_token_hash(std::string_view text);

// A record's standing unsubscribe token, for mail sent to many at once
// (mailings): the record's 16-byte id and the first 16 bytes of a keyed
// BLAKE2b of it (crypto::blind_index under the blind-index key, kind
// "unsubscribe-link"), 43 base64url characters like a minted token, and
// nothing stored, so a mailing to 120,000 people writes no row per link. It
// works while the record and that key version exist.
std::string standing_unsubscribe_token(const crypto::KeySet& keys, const store::Bytes& supporter_id);
// The record id a standing token names, checked against every key version;
// nullopt for anything else (a minted token included).
std::optional<store::Bytes> standing_unsubscribe_id(const crypto::KeeperKeyring& keys, std::string_view token);

// The envelope sender of mail to one record (VERP): the bounce address
// with "+" and the record's token added to its local part, e.g.
// "bounces+3f2a…@mouvement.example", so that a bounce names the record
// without carrying its address. The token is the record id's 32 hex digits
// and 16 of a keyed BLAKE2b of it (crypto::blind_index, kind
// "bounce-address"): 48 lower-case characters, which mail systems keep as
// they are. `bounce_address` must be a plain address.
std::string verp_address(const crypto::KeySet& keys, std::string_view bounce_address, const store::Bytes& supporter_id);
// The List-Unsubscribe value of a message to the record: the https link,
// and the mailto: address when `o.mailto_unsubscribe`.
std::string list_unsubscribe(const crypto::KeySet& keys, const SupporterMailOptions& o, const store::Bytes& id,
                             const std::string& https_link);

// The record a VERP address names (any case; checked against every key
// version), or nullopt.
std::optional<store::Bytes> verp_record(const crypto::KeeperKeyring& keys, std::string_view address);

// The address a `mailto:` List-Unsubscribe names (RFC 2369): shaped as the
// VERP address, under another key kind ("unsubscribe-address"), so that
// knowing a record's return path (every relay on the way sees it) does not
// let anyone unsubscribe them. Mail to it withdraws the record's e-mail
// consent when the keeper reads the bounce mailbox ([bounces]).
std::string unsubscribe_address(const crypto::KeySet& keys, std::string_view bounce_address, const store::Bytes& id);
std::optional<store::Bytes> unsubscribe_address_record(const crypto::KeeperKeyring& keys, std::string_view address);

// Withdraws the consent of one channel ("email" or "sms") from `r`: a no
// from the person, logged in the consent log with `source`. The caller
// writes the row. False when a no stood already (nothing changed).
Result<bool> withdraw_consent(store::KeeperTx& tx, store::SupporterRow& r, std::string_view channel, std::int64_t now,
                              const char* source);

// The hash a consent wording is kept under (consent_wordings): BLAKE2b-256
// of a domain label and the text.
store::Bytes consent_wording_hash(std::string_view text);

// A fresh anti-phishing phrase: four words drawn uniformly from 256
// (32 bits: the phrase tells a real mail from a phishing one that does not
// know it; it is no password).
std::string new_phrase();

// ---- In the keeper's transactions -------------------------------------------------

// Queues the confirmation mail of the supporter's given, unconfirmed e-mail
// consent, unless the bounds above say not now. True when queued.
// `lang`: the sign-up page's ("en", "fr"; "" = the instance's default).
Result<bool> queue_confirmation(store::KeeperTx& tx, const store::Bytes& supporter_id, std::int64_t now,
                                const SupporterMailOptions& o, const std::string& lang);

// What the fold needs to act on a link the intake sealed.
struct LinkContext {
  const crypto::KeeperKeyring& keys;
  const RecordWriter& writer;  // blind indexes, corrections re-sealed
  const Vault& vault;          // the record opened for a correction
  const core::IntakeOptions& intake;  // corrections validated again
  const SupporterMailOptions* mail;   // nullptr: no [mail], so no self-service link is mailed
};

struct LinkOutcome {
  audit::Event event;   // what the fold appends for the item
  bool erased = false;  // a record was erased: flush the files after the commit
};

// Acts on a link the intake sealed (core::LinkAction), whatever its token,
// and says what to record; the intake answered the same whatever it was.
// - confirm: supporter.confirm, the welcome mail queued (single-use).
// - unsubscribe: supporter.unsubscribe (may be followed again).
// - manage_request (an address, no token): self_service.request {known,
//   mailed}, the self-service link queued for a record's address within
//   bounds; nothing for a honeytoken's (the entry says so).
// - manage (single-use, 30 minutes), by its step: export (the data mail
//   queued), withdraw (both consents), correct (supporter.edit, the
//   record opened and re-sealed here), erase (supporter.erase, with
//   suppression: LinkOutcome::erased).
// A token unknown for that purpose, expired or used: link.refused
// {purpose, reason} with no subject.
Result<LinkOutcome> apply_link(store::KeeperTx& tx, const LinkContext& c, const core::LinkAction& link,
                               const std::vector<core::Field>& fields, std::int64_t now);

// ---- The sender ------------------------------------------------------------------

struct SendCounts {
  std::uint64_t sent = 0;
  std::uint64_t retried = 0;
  std::uint64_t failed = 0;   // refused by the relay, or out of attempts
  std::uint64_t dropped = 0;  // no longer due: consent withdrawn or confirmed meanwhile, no address
  bool operator==(const SendCounts&) const = default;
};

class MailSender {
 public:
  // `vault`, `store` and `transport` must outlive the sender; `store` is
  // used from the calling thread only.
  MailSender(const Vault& vault, store::KeeperStore& store, const mail::SmtpTransport& transport,
             SupporterMailOptions o);

  // Sends up to `limit` messages due at `now`, pacing them at per_minute.
  // Stops early when `stop` is requested (the message in hand is tried
  // again at its next attempt).
  Result<SendCounts> send_due(std::int64_t now, std::size_t limit, std::stop_token stop);

 private:
  enum class Step { sent, retried, failed, dropped, stopped };
  Result<Step> send_one(const store::OutboxRow& due, std::int64_t now, std::stop_token stop);

  const Vault& vault_;
  store::KeeperStore& store_;
  const mail::SmtpTransport& transport_;
  SupporterMailOptions o_;
  std::chrono::steady_clock::time_point last_handed_{};
};

class MailingSender;

// Runs a MailSender on its own thread: a pass every `interval`, or at once
// when poked; also forgets expired link tokens once an hour. With a
// MailingSender, each pass then sends mailings' batches until none is left
// or the outbox has mail due again (the outbox's mail comes first).
class MailLoop {
 public:
  MailLoop(MailSender& sender, store::KeeperStore& store, std::chrono::milliseconds interval,
           MailingSender* mailings = nullptr);
  ~MailLoop();
  void poke();
  // Ends the pass in progress (the message in hand is tried again later)
  // and joins. Idempotent.
  void stop();
  SendCounts counts() const;

 private:
  void run(std::stop_token stop);
  MailSender& sender_;
  store::KeeperStore& store_;
  std::chrono::milliseconds interval_;
  MailingSender* mailings_;
  mutable Mutex mu_;
  std::condition_variable_any cv_;
  bool poked_ REMPART_GUARDED_BY(mu_) = false;
  SendCounts counts_ REMPART_GUARDED_BY(mu_);
  std::jthread thread_;
};

}  // namespace rempart::services
