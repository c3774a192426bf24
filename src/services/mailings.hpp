#pragma once
// Blind outreach (docs/mailings.md): mailings that staff write and approve
// and the keeper sends to a saved segment's members. Staff see counts,
// never an address: only the sender below opens records, each through
// Vault::open_for_mail inside the transaction of the `mailing.batch` entry
// that names every record it opens.
//
// A mailing's life: draft (written, edited) → ready (its recipients drawn
// from the segment: the count people approve) → approved (by a second
// person above MailingOptions::approval_above recipients) → sending ⇄
// paused → sent; cancelled from any state before sent.
//
// Sending goes in batches of MailingOptions::batch recipients: one
// transaction opens the batch's records, renders their messages, marks
// them `sending` and appends the batch's entry; the messages are handed to
// the relay outside any transaction; a second transaction marks each sent
// or failed. A crash between the two leaves that batch `sending`: the next
// start sends it again. So nobody gets a mailing twice, except the members
// of the batch in flight at a crash (at most `batch` people, documented).
//
// Thread-compatible: one Mailings or MailingSender per thread, like the
// KeeperStore each uses.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "mail/smtp.hpp"
#include "services/directory.hpp"
#include "services/segments.hpp"
#include "services/supporter_mail.hpp"
#include "services/vault.hpp"
#include "store/store.hpp"

namespace rempart::services {

struct MailingOptions {
  // Above this many recipients a second person approves (with a fresh
  // TOTP code, checked by the caller: the console or the CLI).
  std::int64_t approval_above = 500;
  // Recipients per batch: the most people a crash can send a mailing twice.
  std::size_t batch = 100;
  // Messages handed to the relay per hour at most, on top of [mail]
  // per_minute; 0: no hourly limit.
  std::int64_t per_hour = 0;
  // Connections to the relay at once, each kept open from message to
  // message: the relay's answers to one message do not hold up the next.
  std::size_t connections = 4;
};

// What staff write. `subject` and `body` are templates (mail/template.hpp)
// with the placeholders kMailingPlaceholders; the body's text is also its
// HTML part (escaped, links made clickable, nothing that tracks). Every
// message ends with rempart's footer: the person's anti-phishing phrase,
// the one-click unsubscribe link, the self-service page.
struct MailingDraft {
  std::string name;     // 1..80, one plain line: how staff find it
  std::string subject;  // 1..200, one plain line
  std::string body;     // 1..20,000 bytes of text
  std::string segment;  // a saved segment's name
  // Also the members whose e-mail consent was given but never confirmed
  // by the double opt-in (an import's, a sign-up's before [mail]): an
  // explicit choice, the default being confirmed consents only.
  bool unconfirmed_too = false;
  std::string lang = "en";  // rempart's own words (the footer): "en" | "fr"
};
inline constexpr std::string_view kMailingPlaceholders[] = {"given_name", "family_name", "organisation",
                                                            "phrase", "unsubscribe_link", "manage_link"};
// Errc::invalid_input with a fixed message naming the part at fault (and a
// placeholder's name), never the text.
Result<void> check_draft(const MailingDraft& d);

// A mailing as staff see it: the row and its recipients' counts.
struct MailingView {
  store::MailingRow row;
  store::MailingCounts counts;
  bool needs_second_person = false;  // recipients above approval_above
};

// A message rendered for a made-up person (no record is opened).
struct MailingPreview {
  std::string subject;
  std::string text;
  std::string html;
};

class Mailings {
 public:
  // Everything must outlive this object.
  Mailings(store::KeeperStore& store, const crypto::KeeperKeyring& keys, const SupporterMailOptions& mail,
           MailingOptions options);

  // Audit `mailing.create` {mailing, name, segment}. Errc::not_found for no
  // such segment.
  Result<std::int64_t> create(const Asker& who, const MailingDraft& d);
  // A draft's new text or segment (a ready one goes back to draft, its
  // recipients forgotten). Audit `mailing.edit`. Errc::conflict past ready.
  Result<void> edit(const Asker& who, std::int64_t id, const MailingDraft& d);
  // Draws the recipients: the segment's members who are mailable now
  // (store::MailingPort::add_mailing_recipient). draft → ready; audit
  // `mailing.draw` {mailing, recipients}. Returns the count.
  Result<std::int64_t> draw(const Asker& who, std::int64_t id);
  // ready → approved. Above approval_above recipients, by someone other
  // than its author (Errc::permission otherwise); the caller checked that
  // person's fresh TOTP code. Audit `mailing.approve` {mailing, recipients}.
  Result<void> approve(const Asker& who, std::int64_t id);
  // Starts sending: approved → sending, or ready → sending when no second
  // person is needed. Errc::conflict otherwise. Audit `mailing.start`.
  Result<void> start(const Asker& who, std::int64_t id);
  Result<void> pause(const Asker& who, std::int64_t id);   // sending → paused
  Result<void> resume(const Asker& who, std::int64_t id);  // paused → sending
  Result<void> cancel(const Asker& who, std::int64_t id);  // any state before sent

  // A breach notification (GDPR art. 34) to exactly the records `ids`
  // names that have an e-mail address, whatever their consent (not
  // bouncing, never a honeytoken): a mailing of audience "notice", its
  // recipients drawn at once (ready), its text the built-in breach template
  // in `lang` ("fr" | "en") with `details` in its middle: the
  // organisation's own account of what happened, what it may mean, what
  // was done and whom to ask (1..10,000 bytes of text, no "{{"). Each
  // message quotes the person's anti-phishing phrase. It starts like any
  // mailing (a second person above approval_above). Audit
  // `mailing.create` {audience: notice} and `mailing.draw`.
  struct Notice {
    std::int64_t id = 0;
    std::int64_t recipients = 0;  // drawn
    std::int64_t listed = 0;      // ids given
  };
  Result<Notice> notify(const Asker& who, std::string_view lang, std::string_view details,
                        const std::vector<store::Bytes>& ids);

  Result<std::optional<MailingView>> show(std::int64_t id);
  Result<std::vector<store::MailingRow>> list(std::size_t limit);
  // The mailing's text rendered for a made-up person (its segment is not
  // looked at).
  Result<MailingPreview> preview(const MailingDraft& d) const;

  // Test sends (docs/mailings.md, "Test sends"). A staff member's own
  // address, kept on their account sealed under the keeper's key (the
  // account id bound in) and shown to them only. `who.actor` must be an
  // account ("account:<hex>"): Errc::permission for anyone else.
  Result<std::optional<std::string>> test_address(const Asker& who) const;
  // Sets it, or with "" clears it; audited (account.test_address, never
  // the address). Errc::invalid_input for what is not one plain address.
  Result<void> set_test_address(const Asker& who, std::string_view address);
  // The mailing rendered for the preview's made-up person, "[Test] " before
  // its subject, handed at once to the relay for the asker's test address;
  // audited (mailing.test). Errc::not_found: no such mailing;
  // Errc::conflict: no test address set; Errc::busy: 10 test sends by
  // this account within the hour already; Errc::io: the relay did not
  // take it.
  Result<void> send_test(const Asker& who, std::int64_t id, const mail::SmtpTransport& transport);

 private:
  Result<void> move(const Asker& who, std::int64_t id, std::initializer_list<std::string_view> from,
                    std::string_view to, std::string_view action);

  store::KeeperStore& store_;
  const crypto::KeeperKeyring& keys_;
  const SupporterMailOptions& mail_;
  MailingOptions o_;
};

struct MailingSendCounts {
  std::uint64_t sent = 0;
  std::uint64_t failed = 0;   // refused by the relay, or out of tries
  std::uint64_t skipped = 0;  // no longer mailable when their turn came
  bool operator==(const MailingSendCounts&) const = default;
};

class MailingSender {
 public:
  // Everything must outlive the sender; `store` is used from the calling
  // thread only.
  MailingSender(const Vault& vault, store::KeeperStore& store, const mail::SmtpTransport& transport,
                const SupporterMailOptions& mail, MailingOptions options);

  // Sends one batch of the oldest mailing that is sending (first the batch
  // a crash left in flight), pacing at per_minute and per_hour; marks the
  // mailing sent when no recipient is left. Returns what the batch did;
  // all zero when nothing is being sent. A relay that answers "try later"
  // ends the batch early: what is left stays queued for the next one.
  Result<MailingSendCounts> send_batch(std::stop_token stop);

 private:
  const Vault& vault_;
  store::KeeperStore& store_;
  const mail::SmtpTransport& transport_;
  const SupporterMailOptions& mail_;
  MailingOptions o_;
  std::unique_ptr<mail::SmtpPool> pool_;  // connections kept for batch after batch
  std::chrono::steady_clock::time_point last_handed_{};
  std::vector<std::chrono::steady_clock::time_point> last_hour_;  // hand-overs within the last hour
};

}  // namespace rempart::services
