#include "auth/roles.hpp"

namespace rempart::auth {

bool permits(Role role, Action action) noexcept {
  switch (role) {
    case Role::viewer:
      // A volunteer: masked lists, and the calls of a list they were given
      // (name and phone of their share, one person at a time).
      return action == Action::list_masked || action == Action::search || action == Action::count_segments ||
             action == Action::make_calls;
    case Role::organiser:
      // The daily work on a record: the organiser who sees the masked
      // record corrects it, notes what was said, withdraws a consent asked
      // for on the phone.
      return action == Action::list_masked || action == Action::search || action == Action::reveal ||
             action == Action::tags || action == Action::request_export || action == Action::edit_record ||
             action == Action::withdraw_consent || action == Action::write_note || action == Action::read_notes ||
             action == Action::count_segments || action == Action::manage_segments || action == Action::bulk_tags ||
             action == Action::manage_call_lists || action == Action::make_calls ||
             action == Action::write_mailings || action == Action::approve_mailings;
    case Role::admin:
      // Admins run the system; they do not read personal data by role.
      // Erasure is theirs: it cannot be undone and destroys a whole record,
      // so the many organiser sessions (the ones most exposed day to day)
      // cannot wipe records, and the person's request passes through a
      // second pair of hands. The admin acts on the record id alone and
      // sees nothing of the record.
      // A mailing's second person may be an admin: approving shows counts
      // and the organisation's own text, never a supporter.
      return action == Action::manage_accounts || action == Action::approve_privilege ||
             action == Action::manage_tokens || action == Action::request_export ||
             action == Action::approve_export || action == Action::erase_record ||
             action == Action::approve_mailings;
    case Role::auditor:
      return action == Action::read_audit;
  }
  return false;
}

bool token_permits(Scope scope, Action action) noexcept {
  switch (scope) {
    case Scope::intake:
      return action == Action::submit_intake;
    case Scope::read_masked:
      return action == Action::list_masked || action == Action::search || action == Action::count_segments;
    case Scope::reveal:
      return action == Action::list_masked || action == Action::search || action == Action::reveal ||
             action == Action::count_segments;
    case Scope::metrics:
      return action == Action::read_metrics;
  }
  return false;
}

std::string_view role_name(Role r) noexcept {
  switch (r) {
    case Role::viewer: return "viewer";
    case Role::organiser: return "organiser";
    case Role::admin: return "admin";
    case Role::auditor: return "auditor";
  }
  return "";
}

std::optional<Role> parse_role(std::string_view s) noexcept {
  for (Role r : kAllRoles) {
    if (role_name(r) == s) return r;
  }
  return std::nullopt;
}

std::string_view action_name(Action a) noexcept {
  switch (a) {
    case Action::list_masked: return "list_masked";
    case Action::search: return "search";
    case Action::reveal: return "reveal";
    case Action::tags: return "tags";
    case Action::manage_accounts: return "manage_accounts";
    case Action::approve_privilege: return "approve_privilege";
    case Action::manage_tokens: return "manage_tokens";
    case Action::request_export: return "request_export";
    case Action::approve_export: return "approve_export";
    case Action::read_audit: return "read_audit";
    case Action::submit_intake: return "submit_intake";
    case Action::edit_record: return "edit_record";
    case Action::withdraw_consent: return "withdraw_consent";
    case Action::write_note: return "write_note";
    case Action::read_notes: return "read_notes";
    case Action::erase_record: return "erase_record";
    case Action::count_segments: return "count_segments";
    case Action::manage_segments: return "manage_segments";
    case Action::bulk_tags: return "bulk_tags";
    case Action::manage_call_lists: return "manage_call_lists";
    case Action::write_mailings: return "write_mailings";
    case Action::approve_mailings: return "approve_mailings";
    case Action::make_calls: return "make_calls";
    case Action::read_metrics: return "read_metrics";
  }
  return "";
}

std::string_view scope_name(Scope s) noexcept {
  switch (s) {
    case Scope::intake: return "intake";
    case Scope::read_masked: return "read-masked";
    case Scope::reveal: return "reveal";
    case Scope::metrics: return "metrics";
  }
  return "";
}

std::optional<Scope> parse_scope(std::string_view s) noexcept {
  for (Scope x : kAllScopes) {
    if (scope_name(x) == s) return x;
  }
  return std::nullopt;
}

}  // namespace rempart::auth
