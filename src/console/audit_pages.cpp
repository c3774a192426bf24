// The auditor's page (`GET /audit`): what the chain's verification found, the
// filter, an actor's blast radius, and the entries read like a log: actors by
// account name, details as labelled values that wrap. No script; every text
// from the log or the filter goes through esc().
#include <nlohmann/json.hpp>
#include <string>

#include "console/page_parts.hpp"
#include "console/pages.hpp"
#include "core/urlencoded.hpp"
#include "i18n/i18n.hpp"

namespace rempart::console {

using i18n::tr;
using i18n::trf;
using i18n::trnf;

namespace {

// Values shown of one list in the details (an export's record ids can be
// thousands); the rest are counted.
constexpr std::size_t kListShown = 10;
// Nesting shown as labelled values; deeper parts are shown as JSON text.
constexpr int kDepthShown = 3;

std::string ago(std::int64_t seconds) {
  if (seconds < 60) return tr("less than a minute ago");
  if (seconds < 3600) return trf("{} min ago", i18n::number(seconds / 60));
  if (seconds < 86400) return trf("{} h ago", i18n::number(seconds / 3600));
  return trnf("{} day ago", "{} days ago", seconds / 86400, i18n::number(seconds / 86400));
}

// The account name an actor (`account:<hex>`) or a bare account id stands
// for, or nullptr.
const std::string* name_of(const AuditView& a, const std::string& text) {
  if (text.empty()) return nullptr;
  auto it = a.names.find(text);
  if (it == a.names.end()) it = a.names.find("account:" + text);
  return it == a.names.end() ? nullptr : &it->second;
}

// An actor as people read it: an account's name (a link filtering the log by
// it, the id in its title), anything else as the log writes it.
std::string actor_html(const AuditView& a, const std::string& actor) {
  if (const auto* n = name_of(a, actor)) {
    return "<a href=\"/audit?actor=" + core::form_encode(*n) + "\" title=\"" + esc(actor) + "\">" + esc(*n) + "</a>";
  }
  return "<code>" + esc(actor) + "</code>";
}

bool looks_like_id(const std::string& s) {
  if (s.size() < 16) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':')) return false;
  }
  return true;
}

std::string value_html(const AuditView& a, const nlohmann::json& v, int depth);

// An object's members as labelled values: one line each ("reason: …", the
// colon in the text so that it is read and copied too), wrapping.
std::string members_html(const AuditView& a, const nlohmann::json& obj, int depth) {
  std::string s = "<dl class=\"kv\">";
  for (const auto& [k, v] : obj.items()) {
    s += "<div><dt>" + esc(k) + ":</dt> <dd>" + value_html(a, v, depth + 1) + "</dd></div>";
  }
  return s + "</dl>";
}

std::string value_html(const AuditView& a, const nlohmann::json& v, int depth) {
  if (v.is_null()) return "—";
  if (v.is_boolean()) return v.get<bool>() ? tr("yes") : tr("no");
  if (v.is_number()) return esc(v.dump());
  if (v.is_string()) {
    const auto& t = v.get_ref<const std::string&>();
    if (t.empty()) return "—";
    if (const auto* n = name_of(a, t)) return "<span title=\"" + esc(t) + "\">" + esc(*n) + "</span>";
    return looks_like_id(t) ? "<code>" + esc(t) + "</code>" : esc(t);
  }
  if (depth > kDepthShown) {
    return "<code>" + esc(v.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace)) + "</code>";
  }
  if (v.is_object()) return v.empty() ? std::string("—") : members_html(a, v, depth);
  // An array.
  if (v.empty()) return tr("none");
  std::string s;
  std::size_t i = 0;
  for (const auto& x : v) {
    if (i == kListShown) {
      const auto more = static_cast<std::int64_t>(v.size() - kListShown);
      s += trf(", … and {} more", i18n::number(more));
      break;
    }
    s += (i ? ", " : "") + value_html(a, x, depth + 1);
    ++i;
  }
  return s;
}

// An entry's details (a JSON object, docs/audit.md) as labelled values;
// anything else as the text stored.
std::string details_html(const AuditView& a, const std::string& details) {
  const auto j = nlohmann::json::parse(details, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "<code>" + esc(details) + "</code>";
  if (j.empty()) return {};
  return members_html(a, j, 0);
}

// What the chain's verification found, and how much of it this view read.
std::string chain_status(const Viewer& v, const AuditView& a) {
  const auto& r = *a.verify;
  std::string b;
  const std::string hidden = "<input type=\"hidden\" name=\"actor\" value=\"" + esc(a.actor) +
                             "\"><input type=\"hidden\" name=\"action\" value=\"" + esc(a.action) + "\">";
  if (!r.ok()) {
    const auto faults = static_cast<std::int64_t>(r.fault_count);
    b += "<div class=\"alert\" role=\"alert\"><p><strong>" + std::string(tr("The audit log does not verify:")) +
         "</strong> " +
         trnf("{} fault, the first at entry {}. Entries may have been edited, removed or rolled back. Keep this "
              "database as it is and follow the incident procedure (docs/audit.md, \"When verification fails\").",
              "{} faults, the first at entry {}. Entries may have been edited, removed or rolled back. Keep this "
              "database as it is and follow the incident procedure (docs/audit.md, \"When verification fails\").",
              faults, i18n::number(faults), r.first() ? r.first()->seq : 0) +
         "</p><ul>";
    // The verifier's own words, as `rempart audit verify` prints them.
    for (std::size_t i = 0; i < r.faults.size() && i < 10; ++i) b += "<li>" + esc(r.faults[i].reason) + "</li>";
    if (r.fault_count > 10) {
      b += "<li>" + trf("… and {} more (rempart audit verify)", i18n::number(faults - 10)) + "</li>";
    }
    b += "</ul></div>";
    return b;
  }
  const std::string verified = "<strong>" + std::string(tr("Chain verified")) + "</strong>";
  b += "<div class=\"ok\" role=\"status\"><p>" +
       (r.file_read ? trf("{} through entry {}, signed up to entry {} (outside checkpoint file read).", verified,
                          r.last_seq, r.covered_seq)
                    : trf("{} through entry {}, signed up to entry {} (no outside checkpoint file configured).",
                          verified, r.last_seq, r.covered_seq)) +
       "</p><p>";
  if (r.whole()) {
    const auto n = static_cast<std::int64_t>(r.entries);
    b += trnf("The {} entry was read for this view.", "All {} entries were read for this view.", n, i18n::number(n));
  } else if (r.entries == 0) {
    b += tr("No entry since the last check.");
  } else if (a.whole_at > 0) {
    b += trf("Entries {} to {} were read for this view; the ones before were read in full {} ({}).", r.from_seq,
             r.last_seq, when(a.whole_at), ago(a.now - a.whole_at));
  } else {
    b += trf("Entries {} to {} were read for this view; the ones before were read in full earlier.", r.from_seq,
             r.last_seq);
  }
  b += "</p>" + button_form(v, "/audit/verify", tr("Verify the whole chain now"), hidden) + "</div>";
  return b;
}

// The filter: an actor by account name (offered from every account's name)
// or as the log writes it, and an action.
std::string filter_form(const AuditView& a) {
  std::string b =
      "<form method=\"get\" action=\"/audit\" class=\"filter\"><label for=\"actor\">" + std::string(tr("Actor")) +
      "</label><input id=\"actor\" "
      "name=\"actor\" maxlength=\"100\" list=\"account-names\" autocapitalize=\"none\" spellcheck=\"false\" "
      "aria-describedby=\"actor-hint\" value=\"" +
      esc(a.actor) + "\"><datalist id=\"account-names\">";
  for (const auto& [actor, name] : a.names) b += "<option value=\"" + esc(name) + "\"></option>";
  b += "</datalist><label for=\"action\">" + std::string(tr("Action")) +
       "</label><input id=\"action\" name=\"action\" maxlength=\"64\" "
       "autocapitalize=\"none\" spellcheck=\"false\" value=\"" +
       esc(a.action) + "\"><button type=\"submit\">" + tr("Filter") +
       "</button></form><p class=\"hint\" id=\"actor-hint\">" +
       tr("Actor: an account name, or as the log writes it (<code>account:…</code>, <code>token:3</code>, "
          "<code>operator:alice</code>, <code>keeper</code>). Action: a name such as <code>supporter.reveal</code>.") +
       "</p>";
  return b;
}

}  // namespace

std::string audit_page(const Viewer& v, const AuditView& a) {
  std::string b = notice_html(a.notice);
  if (a.verify) b += chain_status(v, a);
  b += filter_form(a);
  if (!a.verify) return document(&v, tr("Audit log"), b);
  if (a.blast) {
    const auto* n = name_of(a, a.actor_id);
    b += "<h2>" + trf("Blast radius of {}", esc(n ? *n : a.actor_id)) + "</h2><p>" + esc(a.blast_summary) + "</p>";
  }
  // On a narrow screen each entry becomes a block of labelled lines
  // (table.entries in the stylesheet) instead of a table to scroll sideways.
  b += "<h2>" + std::string(tr("Latest entries")) + "</h2>";
  if (a.entries.empty()) b += "<p role=\"status\">" + std::string(tr("No entry matches this filter.")) + "</p>";
  // The labels each cell repeats on a narrow screen (data-label).
  const std::string entry = tr("Entry"), when_label = tr("When"), actor = tr("Actor"), action = tr("Action"),
                    subject = tr("Subject"), details = tr("Details");
  b += "<table class=\"entries\"><thead><tr><th scope=\"col\">#</th><th scope=\"col\">" +
       std::string(tr("When (UTC)")) + "</th><th scope=\"col\">" + actor + "</th><th scope=\"col\">" + action +
       "</th><th scope=\"col\">" + subject + "</th><th scope=\"col\">" + details + "</th></tr></thead><tbody>";
  for (const auto& e : a.entries) {
    b += "<tr><td data-label=\"" + entry + "\">" + std::to_string(e.seq) + "</td><td data-label=\"" + when_label +
         "\">" + when(e.at / 1000000) + "</td><td data-label=\"" + actor + "\">" + actor_html(a, e.actor) +
         "</td><td data-label=\"" + action + "\">" + esc(e.action) + "</td><td data-label=\"" + subject + "\">" +
         (e.subject.empty() ? "" : "<code>" + esc(e.subject) + "</code>") + "</td><td data-label=\"" + details +
         "\">" + details_html(a, e.details) + "</td></tr>";
  }
  b += "</tbody></table>";
  return document(&v, tr("Audit log"), b);
}

}  // namespace rempart::console
