#pragma once
// HTML of the console pages. Every text from outside (stored values, names,
// query parameters) goes through esc(); the page carries no script and no
// inline style, so the CSP can forbid both. Pure functions; thread-safe.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "audit/blast_radius.hpp"
#include "audit/verify.hpp"
#include "auth/accounts.hpp"
#include "services/casework.hpp"
#include "services/directory.hpp"
#include "services/exports.hpp"
#include "store/store.hpp"

namespace rempart::console {

// Who is looking, for the navigation and the CSRF field of every form.
struct Viewer {
  std::string name;
  auth::Role role = auth::Role::viewer;
  std::string_view csrf;  // the session's CSRF token; valid while the request is handled
};

std::string esc(std::string_view s);

// A whole document. `viewer` null: signed-out layout (no navigation).
std::string document(const Viewer* viewer, std::string_view title, std::string_view body);

std::string login_page(std::string_view message);
std::string code_page(std::string_view pending, std::string_view message);
std::string message_page(const Viewer* viewer, std::string_view title, std::string_view message);

std::string supporters_page(const Viewer& v, const services::MaskedPage& page, std::string_view tag,
                            const std::vector<services::TagCount>& tags);
// The results of a name and place search (services::Directory::find),
// with the form filled in again and a button for the next page.
std::string find_page(const Viewer& v, const services::MaskedPage& found, std::string_view name,
                      std::string_view place);
std::string search_page(const Viewer& v, const std::vector<services::MaskedSupporter>& found, bool searched,
                        std::string_view message);
// The work on one record its page shows besides the masked values
// (record_pages.cpp): the consent log, and the notes when the viewer's
// role may read them (nullopt otherwise).
struct RecordWork {
  std::vector<store::ConsentEventRow> consent_log;
  std::optional<std::vector<services::NoteView>> notes;
};
std::string record_page(const Viewer& v, const services::MaskedSupporter& s,
                        const std::vector<services::RevealedField>& revealed, std::string_view message,
                        const RecordWork& work = {});
// The record page's forms for the viewer's role (correct a field, withdraw
// a consent, add a note) with the consent log and the notes
// (record_pages.cpp).
std::string record_work_html(const Viewer& v, const services::MaskedSupporter& s, const RecordWork& work);
// An admin's erasure of one record: what it destroys, and the confirmation
// form (the record id alone; nothing of the record is shown).
std::string erase_page(const Viewer& v, std::string_view id, std::string_view message);
std::string erased_page(const Viewer& v, std::string_view id);
// The erasure's first step: the record id to erase.
std::string erase_lookup_page(const Viewer& v, std::string_view message);
// "E-mail", "Postcode", …: the label of a correctable field.
std::string_view edit_field_label(std::string_view name);
std::string tags_page(const Viewer& v, const std::vector<services::TagCount>& tags);

// What waits for the viewer as the second person: others' pending export
// and privilege requests (empty for a viewer who may not approve them).
struct Awaiting {
  std::vector<services::ExportRequest> exports;
  std::vector<auth::PrivilegeRequestInfo> requests;
};

// Accounts, privilege requests, tokens and self-enrolment (account_pages.cpp).
// The admins' landing page: what awaits them first, then every account
// with why it is locked.
std::string accounts_page(const Viewer& v, const std::vector<auth::AccountInfo>& accounts, const Awaiting& awaiting,
                          std::string_view notice);
// One's own account (own_account_pages.cpp): change the password, replace
// the authenticator. `password_message` / `authenticator_message` show
// above their form (a refusal to act on).
std::string own_account_page(const Viewer& v, std::string_view notice, std::string_view password_message,
                             std::string_view authenticator_message,
                             const std::optional<std::string>& test_address = std::nullopt);
// The new authenticator to scan (QR and otpauth URI, shown once) and the
// form for its first code.
std::string authenticator_setup_page(const Viewer& v, const auth::AuthenticatorChange& change,
                                     std::string_view message);
// What a requester sees once after filing a request: its number and, for a
// new account or an authenticator reset, the enrolment link to hand over
// (`enrol_url`); for a reveal token, the token. Shown once.
std::string request_filed_page(const Viewer& v, const auth::PrivilegeAsk& ask, const auth::PrivilegeReceipt& r,
                               std::string_view enrol_url, std::int64_t enrol_hours);
std::string requests_page(const Viewer& v, const std::string& viewer_id,
                          const std::vector<auth::PrivilegeRequestInfo>& all, std::string_view notice);
std::string tokens_page(const Viewer& v, const std::vector<auth::ApiTokenInfo>& tokens, std::string_view notice);
std::string token_created_page(const Viewer& v, const auth::NewApiToken& t);
// Self-enrolment, signed out: choose a password, then the authenticator
// set-up and a first code.
std::string enrol_page(std::string_view code, const auth::EnrolmentInvite& invite, std::string_view message);
std::string enrol_setup_page(std::string_view code, std::string_view name, const auth::Enrolment& e,
                             std::string_view message);
std::string enrol_confirm_page(std::string_view code, std::string_view message);
// Human words for a privilege kind ("new account", "role change", …).
std::string_view privilege_kind_text(auth::PrivilegeKind k);
std::string sessions_page(const Viewer& v, const auth::SessionInfo& s, const std::vector<auth::SessionSummary>& all,
                          std::string_view notice);

// Export requests: the viewer's own, and (for admins) others' awaiting a
// second person. The form offers every tag in use and every saved segment
// (`segments`: their names).
std::string exports_page(const Viewer& v, const std::string& viewer_id, const std::vector<services::ExportRequest>& all,
                         const std::vector<services::TagCount>& tags, const std::vector<std::string>& segments,
                         std::string_view notice);

// The auditor's page (audit_pages.cpp). Without `verify` (a refused
// filter) it shows the filter form and `notice` only.
struct AuditView {
  const audit::VerifyReport* verify = nullptr;
  std::int64_t whole_at = 0;  // unix seconds of the last whole verification without a fault; 0: none
  std::int64_t now = 0;       // unix seconds
  std::vector<store::AuditEntryRow> entries;  // newest first
  std::string actor, action;                  // the filter as given
  std::string actor_id;                       // the filter's actor as the log writes it, or ""
  std::map<std::string, std::string> names;   // "account:<hex>" -> account name, for every account
  const audit::BlastRadius* blast = nullptr;  // when an actor was given
  std::string blast_summary;
  std::string notice;  // why the filter was refused, or ""
};
std::string audit_page(const Viewer& v, const AuditView& a);

// The console stylesheet (served as /static/console.css).
std::string_view stylesheet();

}  // namespace rempart::console
