// The record page's writes, as pages and as /api/v1/: correcting a field,
// withdrawing a consent, notes and contacts, and an admin's erasure on the
// person's request. What is written and audited comes from
// services::Casework; answers name fields and rules, never a value typed.
#include <sodium.h>

#include <algorithm>

#include "console/console_internal.hpp"
#include "core/text.hpp"

namespace rempart::console::detail {

namespace {

using i18n::tr;
using i18n::trf;

// A string member of the API body, or nullopt when absent or not a string.
std::optional<std::string> body_string(const Call& c, const char* key) {
  if (!c.body.contains(key) || !c.body[key].is_string()) return std::nullopt;
  return c.body[key].get<std::string>();
}

Response api_error(bhttp::status status, nlohmann::json j) { return json_answer(status, j); }

// "edit: <field>: <code>" → {field, code} when the field is one of the
// correctable ones (the code is the validator's stable code).
std::optional<std::pair<std::string, std::string>> field_error(const Error& e) {
  std::string_view m = e.internal;
  if (!m.starts_with("edit: ")) return std::nullopt;
  m.remove_prefix(6);
  const auto colon = m.find(": ");
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string field(m.substr(0, colon));
  if (!services::editable_field(field)) return std::nullopt;
  return std::pair{field, std::string(m.substr(colon + 2))};
}

bool confirmed(std::string_view typed) {
  return core::text::ascii_lower(core::text::trim_ascii(typed)) == "erase";
}

}  // namespace

RecordWork record_work_of(Call& c, std::string_view id) {
  RecordWork work;
  auto log = c.w.casework->consent_log(id);
  if (log) work.consent_log = std::move(*log);
  return work;
}

Result<RecordWork> record_work(Call& c, std::string_view id) {
  RecordWork work = record_work_of(c, id);
  if (!c.who->via_token && auth::permits(c.who->role, auth::Action::read_notes)) {
    auto notes = c.w.casework->notes(c.asker(), id);
    if (!notes) return std::unexpected(notes.error());
    work.notes = notes->value_or(std::vector<services::NoteView>{});
  }
  return work;
}

std::string_view done_notice(const Call& c) {
  const auto done = query_param(c.req.target(), "done");
  if (!done) return {};
  if (*done == "edit") return tr("The correction is saved.");
  if (*done == "unchanged") return tr("Nothing changed: that is already the record's value.");
  if (*done == "consent") return tr("The consent is withdrawn and logged.");
  if (*done == "consent-already") return tr("That consent was already withdrawn; nothing changed.");
  if (*done == "note") return tr("Saved.");
  return {};
}

Response post_edit(Call& c) {
  std::vector<services::FieldChange> changes;
  std::string reason;
  if (c.route.kind == Kind::api) {
    auto r = body_string(c, "reason");
    if (!r || !c.body.contains("fields") || !c.body["fields"].is_object()) {
      return problem(c, problem_of(Errc::invalid_input));
    }
    for (const auto& [name, value] : c.body["fields"].items()) {
      if (!value.is_string()) return problem(c, problem_of(Errc::invalid_input));
      changes.push_back(services::FieldChange{name, value.get<std::string>()});
    }
    reason = std::move(*r);
  } else {
    auto field = c.form.get("field");
    if (field) changes.push_back(services::FieldChange{*field, c.form.get("value").value_or("")});
    reason = c.form.get("reason").value_or("");
  }
  auto edited = c.w.casework->edit(c.asker(), c.params.at(0), changes, reason);
  for (auto& ch : changes) {
    if (!ch.value.empty()) sodium_memzero(ch.value.data(), ch.value.size());
  }
  if (!edited) {
    const Error& e = edited.error();
    if (e.code == Errc::invalid_input) {
      const auto fe = field_error(e);
      if (c.route.kind == Kind::api) {
        nlohmann::json j = {{"error", "invalid_input"}};
        if (fe) {
          j["field"] = fe->first;
          j["code"] = fe->second;
        }
        return api_error(bhttp::status::bad_request, j);
      }
      std::string message = tr("Check the form: choose a field and give a short reason (up to 200 characters, no "
                               "personal data). Nothing was changed.");
      if (fe && fe->second == "required" && (fe->first == "email" || fe->first == "phone")) {
        message = tr("A record keeps an e-mail address or a phone number. Nothing was changed.");
      } else if (fe) {
        // The validator's code (invalid_email, too_long, …) stays as it is:
        // it names the rule.
        message = trf("The new {} is not valid ({}). Nothing was changed.", edit_field_label(fe->first), fe->second);
      }
      return show_record(c, {}, message, bhttp::status::bad_request);
    }
    if (e.code == Errc::conflict) {
      const bool email = e.internal.find("email_taken") != std::string::npos;
      if (c.route.kind == Kind::api) {
        return api_error(bhttp::status::conflict, {{"error", email ? "email_taken" : "phone_taken"}});
      }
      return show_record(c, {},
                         email ? tr("Another record already holds this e-mail address. Nothing was changed.")
                               : tr("Another record already holds this phone number. Nothing was changed."),
                         bhttp::status::conflict);
    }
    return failure(c, e);
  }
  if (c.route.kind == Kind::api) {
    return json_answer(bhttp::status::ok, {{"id", c.params.at(0)}, {"changed", *edited}});
  }
  return redirect("/supporters/" + c.params.at(0) + (edited->empty() ? "?done=unchanged" : "?done=edit"));
}

Response post_consent_withdraw(Call& c) {
  std::string channel, source;
  if (c.route.kind == Kind::api) {
    auto ch = body_string(c, "channel");
    auto so = body_string(c, "source");
    if (!ch || !so) return problem(c, problem_of(Errc::invalid_input));
    channel = std::move(*ch);
    source = std::move(*so);
  } else {
    channel = c.form.get("channel").value_or("");
    source = c.form.get("source").value_or("");
  }
  auto w = c.w.casework->withdraw_consent(c.asker(), c.params.at(0), channel, source);
  if (!w) {
    if (w.error().code == Errc::invalid_input && c.route.kind == Kind::page) {
      return show_record(c, {}, tr("Choose the consent and how the person asked. Nothing was changed."),
                         bhttp::status::bad_request);
    }
    return failure(c, w.error());
  }
  if (c.route.kind == Kind::api) {
    return json_answer(bhttp::status::ok, {{"id", c.params.at(0)}, {"channel", channel}, {"withdrawn", *w}});
  }
  return redirect("/supporters/" + c.params.at(0) + (*w ? "?done=consent" : "?done=consent-already"));
}

Response post_note(Call& c) {
  std::string kind, text;
  if (c.route.kind == Kind::api) {
    auto k = body_string(c, "kind");
    if (!k || (c.body.contains("text") && !c.body["text"].is_string())) {
      return problem(c, problem_of(Errc::invalid_input));
    }
    kind = std::move(*k);
    text = body_string(c, "text").value_or("");
  } else {
    kind = c.form.get("kind").value_or("");
    text = c.form.get("text").value_or("");
  }
  auto id = c.w.casework->add_note(c.asker(), c.params.at(0), kind, text);
  if (!text.empty()) sodium_memzero(text.data(), text.size());
  if (!id) {
    if (id.error().code == Errc::invalid_input && c.route.kind == Kind::page) {
      return show_record(c, {},
                         tr("A note needs a text of up to 2,000 characters, a contact at most 200, without "
                            "control characters. Nothing was saved."),
                         bhttp::status::bad_request);
    }
    return failure(c, id.error());
  }
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::created, {{"id", *id}, {"kind", kind}});
  return redirect("/supporters/" + c.params.at(0) + "?done=note#notes-h");
}

Response get_notes(Call& c) {
  auto notes = c.w.casework->notes(c.asker(), c.params.at(0));
  if (!notes) return failure(c, notes.error());
  if (!*notes) return problem(c, problem_of(Errc::not_found));
  nlohmann::json items = nlohmann::json::array();
  for (auto& n : **notes) {
    items.push_back({{"id", n.id}, {"kind", n.kind}, {"text", n.text}, {"author", n.author},
                     {"created_at", n.created_at}});
    if (!n.text.empty()) sodium_memzero(n.text.data(), n.text.size());
  }
  return json_answer(bhttp::status::ok, {{"id", c.params.at(0)}, {"items", items}});
}

Response get_erase_lookup(Call& c) {
  auto id = query_param(c.req.target(), "id");
  if (!id) return html(bhttp::status::ok, erase_lookup_page(c.viewer(), ""));
  const std::string lower = core::text::ascii_lower(core::text::trim_ascii(*id));
  const bool hex = lower.size() == 32 && std::all_of(lower.begin(), lower.end(), [](char ch) {
                     return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
                   });
  if (!hex) {
    return html(bhttp::status::bad_request,
                erase_lookup_page(c.viewer(), tr("A record id is 32 hexadecimal digits, as the record page shows it.")));
  }
  return redirect("/supporters/" + lower + "/erase");
}

Response get_erase(Call& c) { return html(bhttp::status::ok, erase_page(c.viewer(), c.params.at(0), "")); }

Response post_erase(Call& c) {
  std::string reason, confirm;
  if (c.route.kind == Kind::api) {
    reason = body_string(c, "reason").value_or("");
    confirm = body_string(c, "confirm").value_or("");
  } else {
    reason = c.form.get("reason").value_or("");
    confirm = c.form.get("confirm").value_or("");
  }
  const std::string& id = c.params.at(0);
  if (!confirmed(confirm) || !services::request_channel(reason)) {
    if (c.route.kind == Kind::api) return problem(c, problem_of(Errc::invalid_input));
    return html(bhttp::status::bad_request,
                erase_page(c.viewer(), id,
                           tr("Choose how the person asked and type erase to confirm. Nothing was erased.")));
  }
  auto erased = c.w.casework->erase(c.asker(), id, reason);
  if (!erased) return failure(c, erased.error());
  if (!*erased) return problem(c, problem_of(Errc::not_found));
  notify(c, "record_erased", "a supporter record was erased on the person's request",
         {{"record", id}, {"reason", reason}});
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::ok, {{"id", id}, {"erased", true}});
  return html(bhttp::status::ok, erased_page(c.viewer(), id));
}

}  // namespace rempart::console::detail
