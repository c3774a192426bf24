#include "services/import_spec.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace rempart::services {
namespace {

// A header as compared: trimmed, ASCII lower-cased.
std::string key(std::string_view header) { return core::text::ascii_lower(core::text::trim_ascii(header)); }

struct PresetColumn {
  std::string_view header;
  std::string_view target;  // "" : a column the tool exports that rempart does not keep
  std::string_view what;    // for "" : what it holds, for the report
  bool inverted = false;
};

struct PresetDef {
  Preset preset;
  std::string_view name;
  std::vector<PresetColumn> columns;
  std::string_view tag_separators;
};

// The export shapes, from each tool's people/contacts export (docs/import.md).
const std::vector<PresetDef>& presets() {
  static const std::vector<PresetDef> all = {
      {Preset::action_network,
       "action-network",
       {{"uuid", target::source_id, ""},
        {"first_name", target::given_name, ""},
        {"last_name", target::family_name, ""},
        {"email", target::email, ""},
        {"zip_code", target::postal_code, ""},
        {"can2_user_address", target::street, ""},
        {"can2_user_city", target::locality, ""},
        {"can2_state_abbreviated", "", "state or region"},
        {"can2_country", target::country, ""},
        {"can2_phone", target::phone, ""},
        {"can2_user_tags", target::tags, ""},
        {"can2_subscription_status", target::consent_email, ""},
        {"can2_sms_status", target::consent_sms, ""},
        {"created_date", target::joined_at, ""},
        {"can2_created_date", target::joined_at, ""}},
       ","},
      {Preset::nationbuilder,
       "nationbuilder",
       {{"nationbuilder_id", target::source_id, ""},
        {"first_name", target::given_name, ""},
        {"last_name", target::family_name, ""},
        {"email", target::email, ""},
        {"email_opt_in", target::consent_email, ""},
        {"mobile_number", target::phone, ""},
        {"mobile_opt_in", target::consent_sms, ""},
        {"phone_number", target::phone_alt, ""},
        {"primary_address1", target::street, ""},
        {"primary_address2", target::street, ""},
        {"primary_address3", target::street, ""},
        {"primary_city", target::locality, ""},
        {"primary_zip", target::postal_code, ""},
        {"primary_country_code", target::country, ""},
        {"tag_list", target::tags, ""},
        {"created_at", target::joined_at, ""}},
       ","},
      {Preset::civicrm,
       "civicrm",
       {{"contact id", target::source_id, ""},
        {"contact type", "", "contact type"},
        {"first name", target::given_name, ""},
        {"last name", target::family_name, ""},
        {"email", target::email, ""},
        {"phone", target::phone, ""},
        {"street address", target::street, ""},
        {"supplemental address 1", target::street, ""},
        {"supplemental address 2", target::street, ""},
        {"city", target::locality, ""},
        {"postal code", target::postal_code, ""},
        {"country", target::country, ""},
        {"do not email", target::consent_email, "", true},
        {"is opt out", target::consent_email, "", true},
        {"do not sms", target::consent_sms, "", true},
        {"tag(s)", target::tags, ""},
        {"tags", target::tags, ""}},
       ",|"},
  };
  return all;
}

const PresetDef* find_preset(Preset p) {
  for (const auto& d : presets()) {
    if (d.preset == p) return &d;
  }
  return nullptr;
}

bool is_consent(std::string_view t) { return t == target::consent_email || t == target::consent_sms; }

}  // namespace

const std::vector<std::string_view>& import_targets() {
  static const std::vector<std::string_view> all = {
      target::given_name, target::family_name, target::email,         target::phone,
      target::phone_alt,  target::street,      target::postal_code,   target::locality,  target::country,
      target::tags,       target::consent_email, target::consent_sms, target::source_id, target::joined_at};
  return all;
}

Result<Preset> parse_preset(std::string_view name) {
  if (name.empty()) return Preset::none;
  for (const auto& d : presets()) {
    if (d.name == name) return d.preset;
  }
  return fail(Errc::invalid_input, "unknown --preset '" + std::string(name) +
                                       "': use action-network, nationbuilder or civicrm");
}

std::string_view preset_name(Preset p) {
  const auto* d = find_preset(p);
  return d != nullptr ? d->name : std::string_view("none");
}

std::string_view choice_name(Choice c) {
  switch (c) {
    case Choice::yes: return "yes";
    case Choice::no: return "no";
    case Choice::unknown: return "unknown";
  }
  return "unknown";
}

Result<ColumnMap> parse_column_map(std::string_view spec) {
  ColumnMap map;
  std::size_t start = 0;
  while (start <= spec.size()) {
    auto end = spec.find(',', start);
    if (end == std::string_view::npos) end = spec.size();
    const auto pair = core::text::trim_ascii(spec.substr(start, end - start));
    start = end + 1;
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) return fail(Errc::invalid_input, "--map entries must be field=Header");
    const auto t = std::string(core::text::trim_ascii(pair.substr(0, eq)));
    const auto header = std::string(core::text::trim_ascii(pair.substr(eq + 1)));
    const auto& targets = import_targets();
    if (std::find(targets.begin(), targets.end(), t) == targets.end()) {
      return fail(Errc::invalid_input, "--map names an unknown field '" + t + "'");
    }
    map[t] = header;  // "" : read nothing for this field
  }
  return map;
}

Choice ConsentVocabulary::read(std::string_view cell, bool inverted, bool* recognised) const {
  const std::string v = key(cell);
  if (recognised != nullptr) *recognised = true;
  if (v.empty()) return Choice::unknown;
  auto in = [&](const std::vector<std::string>& words) { return std::find(words.begin(), words.end(), v) != words.end(); };
  Choice c = Choice::unknown;
  if (in(yes)) {
    c = Choice::yes;
  } else if (in(no)) {
    c = Choice::no;
  } else if (!in(unknown)) {
    if (recognised != nullptr) *recognised = false;
    return Choice::unknown;
  }
  if (inverted && c != Choice::unknown) c = c == Choice::yes ? Choice::no : Choice::yes;
  return c;
}

std::vector<const ColumnUse*> ImportPlan::unused() const {
  std::vector<const ColumnUse*> out;
  for (const auto& c : columns) {
    if (c.target.empty()) out.push_back(&c);
  }
  return out;
}

Result<ImportPlan> plan_import(const std::vector<std::string>& header, const ImportSpec& spec) {
  ImportPlan plan;
  plan.preset = spec.preset;
  const PresetDef* preset = find_preset(spec.preset);
  if (preset != nullptr) plan.tag_separators = std::string(preset->tag_separators);

  // Every tool's words, and the operator's: a value is read the same
  // whichever preset is chosen.
  plan.vocabulary.yes = {"1",  "true",       "yes",        "y",         "x",  "oui", "o", "on", "t",
                         "subscribed", "opt-in", "opted in", "opted-in", "abonné", "abonne", "inscrit"};
  plan.vocabulary.no = {"0",  "false",   "no",          "n",        "non", "off", "f", "unsubscribed",
                        "spam complaint", "previous spam complaint", "opt-out", "opted out", "opted-out",
                        "désabonné", "desabonne", "désinscrit", "desinscrit"};
  plan.vocabulary.unknown = {"bouncing", "previous bounce", "unknown", "inconnu", "-"};
  for (const auto& v : spec.yes_values) {
    const auto k = key(v);
    std::erase(plan.vocabulary.no, k);
    std::erase(plan.vocabulary.unknown, k);
    plan.vocabulary.yes.push_back(k);
  }
  for (const auto& v : spec.no_values) {
    const auto k = key(v);
    std::erase(plan.vocabulary.yes, k);
    std::erase(plan.vocabulary.unknown, k);
    plan.vocabulary.no.push_back(k);
  }

  plan.columns.resize(header.size());
  std::map<std::string, std::size_t> index;  // key(header) -> first column with it
  for (std::size_t i = 0; i < header.size(); ++i) {
    plan.columns[i].index = i;
    plan.columns[i].header = header[i];
    index.try_emplace(key(header[i]), i);
  }
  auto find = [&](std::string_view h) -> std::optional<std::size_t> {
    const auto it = index.find(key(h));
    if (it == index.end()) return std::nullopt;
    return it->second;
  };

  for (const auto& h : spec.ignore) {
    const auto i = find(h);
    if (!i) return fail(Errc::invalid_input, "--ignore names a column the file does not have: '" + h + "'");
    plan.columns[*i].why = "ignored (--ignore)";
  }
  auto assign = [&](std::size_t i, std::string_view t, bool inverted) {
    ColumnUse& c = plan.columns[i];
    if (!c.why.empty() || !c.target.empty()) return;  // ignored, or already given a field
    c.target = std::string(t);
    c.inverted = inverted;
    plan.by_target[c.target].push_back(i);
  };
  // --map: the operator's word goes first; "" switches a field off.
  for (const auto& [t, h] : spec.map) {
    if (h.empty()) continue;
    const auto i = find(h);
    if (!i) return fail(Errc::invalid_input, "the file has no column '" + h + "' (--map " + t + "=" + h + ")");
    if (!plan.columns[*i].why.empty()) {
      return fail(Errc::invalid_input, "column '" + h + "' is both mapped and ignored");
    }
    assign(*i, t, std::find(spec.inverted.begin(), spec.inverted.end(), t) != spec.inverted.end());
  }
  const auto switched_off = [&](std::string_view t) {
    const auto it = spec.map.find(std::string(t));
    return it != spec.map.end() && it->second.empty();
  };
  const auto mapped = [&](std::string_view t) { return spec.map.contains(std::string(t)); };
  if (preset != nullptr) {
    for (const auto& pc : preset->columns) {
      const auto i = find(pc.header);
      if (!i) continue;
      if (pc.target.empty()) {
        if (plan.columns[*i].why.empty()) plan.columns[*i].why = "not kept by rempart: " + std::string(pc.what);
        continue;
      }
      if (switched_off(pc.target) && plan.columns[*i].why.empty()) {
        plan.columns[*i].why = "switched off (--map " + std::string(pc.target) + "=)";
      }
      if (mapped(pc.target)) continue;
      assign(*i, pc.target, pc.inverted);
    }
  }
  for (const auto t : import_targets()) {
    const auto i = find(t);
    if (!i) continue;
    if (switched_off(t) && plan.columns[*i].why.empty() && plan.columns[*i].target.empty()) {
      plan.columns[*i].why = "switched off (--map " + std::string(t) + "=)";
    }
    if (mapped(t) || plan.reads(t)) continue;
    assign(*i, t, std::find(spec.inverted.begin(), spec.inverted.end(), t) != spec.inverted.end());
  }
  for (auto& c : plan.columns) {
    if (c.target.empty() && c.why.empty()) c.why = "no field matches (--map FIELD=HEADER to read it)";
  }
  for (const auto& t : spec.inverted) {
    if (!is_consent(t)) return fail(Errc::invalid_input, "--invert applies to consent_email or consent_sms, not '" + t + "'");
    if (!plan.reads(t)) return fail(Errc::invalid_input, "--invert " + t + ": no column is read for it");
  }
  if (!plan.reads(target::email) && !plan.reads(target::phone) && !plan.reads(target::phone_alt)) {
    return fail(Errc::invalid_input, "no column for email or phone: use --map email=Header or a --preset");
  }
  return plan;
}

}  // namespace rempart::services
