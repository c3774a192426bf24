#pragma once
// The 72-hour notification of a personal data breach (GDPR article 33) and
// the breach register's rules (article 33(5)); docs/incident.md.
//
// Pure: the facts come in as counts (tally() from a blast radius and the
// honeytoken ids, note() for each audit entry of a measure or an alert) and
// go out as plain text in French or English. No record id, name, address or
// number of a person ever reaches a Facts or a text: the people to tell are
// listed by `rempart audit blast-radius --csv` and told by `rempart notify`.
// What only a person knows (how it happened, the contact, the decision on
// telling people) is a marked placeholder until given.
//
// Thread-compatible: plain values and functions.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/blast_radius.hpp"
#include "core/error.hpp"
#include "store/store.hpp"

namespace rempart::services::breach {

enum class Lang { fr, en };

// What kind of personal data a field is, as a notification counts it. The
// audit log names fields as the console does ("name", "address") or as a
// record holds them ("given_name", "postal_code"); both come here.
enum class Category { name, email, phone, address, tags, notes, consents, other };
inline constexpr Category kAllCategories[] = {Category::name, Category::email,    Category::phone,
                                              Category::address, Category::tags,  Category::notes,
                                              Category::consents, Category::other};
std::string_view category_code(Category c) noexcept;  // "name", "email", … as the register stores them
std::optional<Category> parse_category(std::string_view code) noexcept;
Category category_of(std::string_view field) noexcept;

// What the breach likely means for the people, derived from what was seen.
enum class Consequence {
  political_opinion,  // being listed at all: support of a movement (article 9)
  phishing,           // e-mail addresses
  phone_scams,        // phone numbers
  impersonation,      // names
  home_address,       // postal addresses
  tags,               // labels that may say more (activities, opinions, roles)
  notes,              // staff's free notes: anything, special categories included
  masked_only,        // partial values seen only
};
std::string_view consequence_code(Consequence c) noexcept;
std::optional<Consequence> parse_consequence(std::string_view code) noexcept;

// The audit actions note() takes: the measures taken against a breach and
// the alerts that make an organisation aware of one, each once. The
// caller reads the log for them from the window's start to now, in reads
// of at most kActionsPerRead (AuditReads::scan_audit_actions).
std::span<const std::string_view> logged_actions() noexcept;
inline constexpr std::size_t kActionsPerRead = 8;

// One kind of measure, as the log shows it.
struct Measure {
  std::string action;
  std::int64_t count = 0;
  std::int64_t first_at = 0;  // unix µs
  std::int64_t last_at = 0;
};

// How the moment the organisation became aware was found.
enum class AwareFrom {
  alert,         // the first alert entry of the log at or after the window's start
  window_start,  // none: the start of the window (correct it with the time you learned of it)
  given,         // given by the officer
};

// Everything the log says of one breach, in counts.
struct Facts {
  std::int64_t since = 0;              // unix µs, inclusive
  std::optional<std::int64_t> until;   // unix µs, exclusive; nullopt: up to the report
  bool one_actor = false;              // the activity of one actor only
  std::int64_t people = 0;             // records revealed or exported (decoys left out)
  std::int64_t people_masked = 0;      // seen masked only
  std::int64_t opened_only = 0;        // opened inside the keeper, shown to nobody
  std::int64_t decoys = 0;             // honeytokens among what was seen, left out
  std::int64_t values_revealed = 0;    // field values shown in full or exported
  std::int64_t malformed = 0;          // entries whose details could not be read
  std::map<Category, std::int64_t> categories;  // people per category of data revealed
  std::vector<Measure> measures;       // by first time
  std::optional<std::int64_t> first_alert;  // unix µs
  std::string first_alert_action;

  std::int64_t records() const noexcept { return people + people_masked; }
};

// The counts of a blast radius; records whose hex id is in `decoys`
// (honeytokens) are left out and counted apart.
Facts tally(const audit::BlastRadius& b, const std::set<std::string>& decoys);
// Adds one entry of a measure or alert action (others are ignored, and so
// is a session ended by its own user's sign-out).
void note(Facts& f, const store::AuditEntryRow& entry);

std::vector<Consequence> consequences(const Facts& f);

// Everything the notification says besides the facts; "" for what is not
// given yet (a placeholder then).
struct Notice {
  Facts facts;
  std::int64_t now = 0;       // unix µs: when the text is made
  std::int64_t aware_at = 0;  // unix µs
  AwareFrom aware_from = AwareFrom::window_start;
  std::string organisation;
  std::string nature;
  std::string measures_note;
  std::string contact;
  std::optional<std::string> not_notified_reason = std::nullopt;
  std::optional<std::int64_t> register_id = std::nullopt;
};

inline constexpr std::int64_t kDeadlineUs = 72LL * 3600 * 1000000;

// The placeholders' opening, for tests and readers: "[À COMPLÉTER" and
// "[TO COMPLETE".
std::string_view placeholder_mark(Lang lang) noexcept;

// The notification, complete, in one language (UTF-8, '\n' lines).
std::string render(const Notice& n, Lang lang);

// ---- The register ---------------------------------------------------------------

// The register entry a notice records (state open, or not_notified when a
// reason is given); times in the register are unix seconds.
store::BreachRow to_row(const Notice& n, const std::string& actor_filter, const std::string& recorded_by);
// The categories column as JSON ({"email": 12, …}).
std::string categories_json(const Facts& f);
// The measures column as JSON ({"guard.lock": 1, …}).
std::string measures_json(const Facts& f);

// A change of what followed the breach. Times are unix seconds.
struct Update {
  std::optional<std::int64_t> authority_notified_at;
  std::optional<std::int64_t> people_notified_at;
  std::optional<std::string> not_notified_reason;
  bool close = false;
  std::string close_reason;
};

// Applies `u` to `row` at `now` (unix seconds) and returns the names of
// the columns changed. Errors (row untouched): Errc::invalid_input for an
// empty update, both a notification and a reason not to notify, an empty
// reason, a time before the window examined or in the future, closing
// without a reason; Errc::conflict for a closed entry, a reason not to
// notify once the authority was, or closing before the decision to notify
// or not is written down.
Result<std::vector<std::string>> apply(store::BreachRow& row, const Update& u, std::int64_t now);

// Free text the officer types (nature, measures, contact, reasons): at
// most 4,000 bytes of UTF-8 without control characters but line feeds and
// tabs. Errc::invalid_input naming `what` otherwise (never the text).
Result<void> check_text(std::string_view text, std::string_view what);

}  // namespace rempart::services::breach
