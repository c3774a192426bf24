#include "core/person.hpp"

#include <algorithm>

#include <string_view>

namespace rempart::core {

std::vector<Field> to_fields(const Person& p) {
  std::vector<Field> out;
  out.reserve(10);
  auto add = [&](const char* name, const std::string& v) {
    if (!v.empty()) out.push_back(Field{name, v});
  };
  add(field::given_name, p.given_name);
  add(field::family_name, p.family_name);
  add(field::email, p.email);
  add(field::phone, p.phone);
  add(field::street, p.street);
  add(field::postal_code, p.postal_code);
  add(field::locality, p.locality);
  add(field::country, p.country);
  if (!p.tags.empty()) {
    std::string joined;
    for (const auto& t : p.tags) {
      if (!joined.empty()) joined += '\n';
      joined += t;
    }
    out.push_back(Field{field::tags, std::move(joined)});
  }
  auto consent = [](bool yes, bool refused) { return yes ? "1" : refused ? "no" : "0"; };
  out.push_back(Field{field::consent_email, consent(p.consent.email, p.consent.email_refused)});
  out.push_back(Field{field::consent_sms, consent(p.consent.sms, p.consent.sms_refused)});
  return out;
}

Person to_person(const std::vector<Field>& fields) {
  Person p;
  for (const auto& f : fields) {
    const std::string_view n = f.name;
    if (n == field::given_name) p.given_name = f.value;
    else if (n == field::family_name) p.family_name = f.value;
    else if (n == field::email) p.email = f.value;
    else if (n == field::phone) p.phone = f.value;
    else if (n == field::street) p.street = f.value;
    else if (n == field::postal_code) p.postal_code = f.value;
    else if (n == field::locality) p.locality = f.value;
    else if (n == field::country) p.country = f.value;
    else if (n == field::consent_email) {
      p.consent.email = f.value == "1";
      p.consent.email_refused = f.value == "no";
    } else if (n == field::consent_sms) {
      p.consent.sms = f.value == "1";
      p.consent.sms_refused = f.value == "no";
    }
    else if (n == field::tags) {
      std::string_view rest = f.value;
      while (!rest.empty()) {
        const auto nl = rest.find('\n');
        p.tags.emplace_back(rest.substr(0, nl));
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
      }
    }
  }
  return p;
}

bool wants_autoresponse(const std::vector<Field>& fields) {
  for (const auto& f : fields) {
    if (f.name == field::autoresponse) return f.value != "0";
  }
  return true;
}

std::string field_value(const std::vector<Field>& fields, std::string_view name) {
  for (const auto& f : fields) {
    if (f.name == name) return f.value;
  }
  return "";
}

std::vector<Field> to_fields(const LinkAction& a, const Person& corrections) {
  std::vector<Field> out = {Field{field::link, a.purpose}};
  if (!a.token.empty()) out.push_back(Field{field::token, a.token});
  if (!a.step.empty()) out.push_back(Field{field::step, a.step});
  if (!a.email.empty()) out.push_back(Field{field::email, a.email});
  if (!a.lang.empty()) out.push_back(Field{field::lang, a.lang});
  for (auto& f : to_fields(corrections)) {
    if (f.name != field::email && f.name != field::consent_email && f.name != field::consent_sms) out.push_back(std::move(f));
  }
  return out;
}

std::string language_of(const std::vector<Field>& fields) {
  for (const auto& f : fields) {
    if (f.name == field::lang && (f.value == "en" || f.value == "fr")) return f.value;
  }
  return {};
}

std::optional<LinkAction> to_link_action(const std::vector<Field>& fields) {
  std::optional<LinkAction> out;
  const bool is_link = std::any_of(fields.begin(), fields.end(), [](const Field& f) { return f.name == field::link; });
  if (!is_link) return out;
  for (const auto& f : fields) {
    if (f.name == field::email) {
      if (!out) out.emplace();
      out->email = f.value;
    }
  }
  for (const auto& f : fields) {
    if (f.name == field::link) {
      if (!out) out.emplace();
      out->purpose = f.value;
    } else if (f.name == field::token) {
      if (!out) out.emplace();
      out->token = f.value;
    } else if (f.name == field::step) {
      if (!out) out.emplace();
      out->step = f.value;
    }
  }
  if (out) out->lang = language_of(fields);
  return out;
}

}  // namespace rempart::core
