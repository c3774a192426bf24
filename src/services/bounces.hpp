#pragma once
// Bounces and complaints (docs/mailings.md, "Bounces and complaints"): the
// keeper reads the bounce mailbox over IMAP, finds the record each report is
// about by its VERP address (or the reported message's List-Unsubscribe
// token), never by an address, and counts it:
//   - a hard bounce (a permanent failure): `hard` of them mark the record's
//     address bouncing, and nothing is sent to it any more;
//   - a soft bounce (a delay, a transient failure): `soft` of them within
//     `soft_days` do the same;
//   - a complaint (the person marked the message as spam): `complaints` of
//     them withdraw the record's e-mail consent, logged with source
//     "complaint".
// Mail to the mailto: address of a List-Unsubscribe (unsubscribe_address)
// withdraws the record's e-mail consent, whatever it says
// (supporter.unsubscribe, link "mailto").
// Each report is one audit entry (mail.report) naming the record, in the
// transaction that counts it; the message is deleted from the mailbox once
// that commits. A message rempart does not act on (not a report, a report
// about mail that is not a record's, too large) is left in the mailbox,
// marked so it is not read again, for a person to look at.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string_view>
#include <thread>

#include "core/error.hpp"
#include "core/mutex.hpp"
#include "crypto/keyring.hpp"
#include "mail/imap.hpp"
#include "store/store.hpp"

namespace rempart::services {

struct BounceOptions {
  mail::ImapOptions imap;            // the bounce mailbox
  std::chrono::seconds poll{300};    // between two readings of the mailbox
  int hard = 1;                      // hard bounces that mark an address bouncing
  int soft = 3;                      // soft bounces within soft_days that do
  int soft_days = 30;
  int complaints = 1;                // complaints that withdraw the e-mail consent
  std::size_t per_pass = 200;        // messages read in one pass at most
};

// Errc::config naming the first option out of range.
Result<void> check(const BounceOptions& o);

// What one pass did.
struct BounceCounts {
  std::int64_t hard = 0;        // hard bounces counted
  std::int64_t soft = 0;
  std::int64_t complaints = 0;
  std::int64_t bouncing = 0;    // addresses marked bouncing by them
  std::int64_t withdrawn = 0;   // e-mail consents withdrawn by complaints
  std::int64_t unsubscribed = 0;  // e-mail consents withdrawn by mail to a List-Unsubscribe mailto: address
  std::int64_t deleted = 0;     // reports acted on or to do nothing with (success notices, erased records), deleted
  std::int64_t left = 0;        // messages left in the mailbox for a person
};

// What one message is, and what it did.
enum class BounceOutcome { counted, repeated, nothing, left };

class BounceReader {
 public:
  BounceReader(const crypto::KeeperKeyring& keys, store::KeeperStore& store, BounceOptions options);

  // Reads up to per_pass messages from `box` and deals with each.
  // Errc::io (the mailbox could not be read; what was done stays done), or
  // a store error.
  Result<BounceCounts> read_once(mail::ImapMailbox& box, std::int64_t now, std::stop_token stop);

  // Deals with one message's bytes (read_once's step), adding to `counts`.
  Result<BounceOutcome> take(std::string_view raw, std::int64_t now, BounceCounts& counts);

 private:
  Result<BounceOutcome> unsubscribe(const store::Bytes& id, std::int64_t now, BounceCounts& counts);
  const crypto::KeeperKeyring& keys_;
  store::KeeperStore& store_;
  BounceOptions o_;
};

// Reads the mailbox every `poll`, on a thread of its own (an IMAP server
// that is slow or down holds up nothing else), from a minute after start.
class BounceLoop {
 public:
  BounceLoop(BounceReader& reader, std::unique_ptr<mail::ImapMailbox> box, std::chrono::seconds first,
             std::chrono::seconds poll);
  ~BounceLoop();
  void stop();

 private:
  void run(std::stop_token stop);
  BounceReader& reader_;
  std::unique_ptr<mail::ImapMailbox> box_;
  std::chrono::seconds first_, poll_;
  Mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;
};

}  // namespace rempart::services
