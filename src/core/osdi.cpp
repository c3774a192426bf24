// OSDI "Person Signup Helper" bodies. The JSON is parsed through a SAX
// handler so that duplicate keys (which nlohmann::json would silently
// collapse) and excessive nesting stop the parse, then checked against the
// OSDI schema. Error paths are built from schema names only: a key we do not
// know is attacker-chosen text and is never echoed.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "core/validate.hpp"

namespace rempart::core {

namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxBody = 256 * 1024;
constexpr std::size_t kMaxDepth = 16;
constexpr std::size_t kMaxPersonArray = 10;  // addresses, phones, identifiers...
constexpr std::size_t kMaxActionArray = 32;  // add_tags, add_lists and their URIs

// ---- schema -------------------------------------------------------------

enum class Type {
  string,
  boolean,
  number,
  integer,
  phone_number,      // OSDI clients send it as a string or as a JSON integer
  number_or_string,  // geocodes: floats in OSDI 1.1, strings in older drafts
  object,
  array,
  scalar_map,        // custom_fields: user-chosen keys, scalar values
  links,             // HAL _links: relation names are free, values are links
};

struct Node;
struct Member {
  std::string_view name;
  const Node* node;
};
struct Node {
  Type type = Type::string;
  std::vector<Member> members;  // Type::object
  const Node* items = nullptr;  // Type::array, Type::links
  std::size_t max_items = kMaxPersonArray;

  explicit Node(Type t) : type(t) {}
  Node(Type t, std::vector<Member> m) : type(t), members(std::move(m)) {}
  Node(Type t, const Node* item, std::size_t max) : type(t), items(item), max_items(max) {}

  const Node* find(std::string_view n) const {
    for (const auto& m : members) {
      if (m.name == n) return m.node;
    }
    return nullptr;
  }
};

// The Person Signup Helper as published by OSDI (people.html, addresses,
// helper action functions, HAL links), plus rempart's "consent" object.
// Built once; read-only afterwards, so shared between threads safely.
struct OsdiSchema {
  Node str{Type::string};
  Node boolean{Type::boolean};
  Node number{Type::number};
  Node integer{Type::integer};
  Node phone_number{Type::phone_number};
  Node number_or_string{Type::number_or_string};
  Node strings{Type::array, &str, kMaxPersonArray};
  Node action_strings{Type::array, &str, kMaxActionArray};
  Node custom_fields{Type::scalar_map};
  Node link{Type::object,
            {{"href", &str},
             {"templated", &boolean},
             {"type", &str},
             {"deprecation", &str},
             {"name", &str},
             {"profile", &str},
             {"title", &str},
             {"hreflang", &str}}};
  Node links{Type::links, &link, kMaxPersonArray};
  Node location{Type::object,
                {{"latitude", &number_or_string},
                 {"longitude", &number_or_string},
                 {"accuracy", &str}}};
  Node postal_address{Type::object,
                      {{"primary", &boolean},
                       {"address_type", &str},
                       {"venue", &str},
                       {"address_lines", &strings},
                       {"locality", &str},
                       {"region", &str},
                       {"postal_code", &str},
                       {"country", &str},
                       {"language", &str},
                       {"location", &location},
                       {"status", &str},
                       {"last_verified_date", &str},
                       {"_links", &links}}};
  Node postal_addresses{Type::array, &postal_address, kMaxPersonArray};
  Node email_address{Type::object,
                     {{"primary", &boolean},
                      {"address", &str},
                      {"address_type", &str},
                      {"status", &str},
                      {"_links", &links}}};
  Node email_addresses{Type::array, &email_address, kMaxPersonArray};
  Node phone{Type::object,
             {{"primary", &boolean},
              {"number", &phone_number},
              {"extension", &str},
              {"description", &str},
              {"number_type", &str},
              {"operator", &str},
              {"country", &str},
              {"sms_capable", &boolean},
              {"do_not_call", &boolean},
              {"status", &str},
              {"_links", &links}}};
  Node phone_numbers{Type::array, &phone, kMaxPersonArray};
  Node birthdate{Type::object, {{"month", &integer}, {"day", &integer}, {"year", &integer}}};
  Node party{Type::object,
             {{"identification", &str}, {"last_verified_date", &str}, {"active", &boolean}}};
  Node parties{Type::array, &party, kMaxPersonArray};
  Node profile{Type::object,
               {{"provider", &str}, {"id", &str}, {"url", &str}, {"handle", &str}}};
  Node profiles{Type::array, &profile, kMaxPersonArray};
  Node person{Type::object,
              {{"identifiers", &strings},
               {"identifier", &str},
               {"origin_system", &str},
               {"created_date", &str},
               {"modified_date", &str},
               {"family_name", &str},
               {"given_name", &str},
               {"additional_name", &str},
               {"honorific_prefix", &str},
               {"honorific_suffix", &str},
               {"gender", &str},
               {"gender_identity", &str},
               {"gender_pronouns", &str},
               {"party_identification", &str},
               {"parties", &parties},
               {"source", &str},
               {"ethnicities", &strings},
               {"languages_spoken", &strings},
               {"preferred_language", &str},
               {"browser_url", &str},
               {"administrative_url", &str},
               {"birthdate", &birthdate},
               {"employer", &str},
               {"employer_address", &postal_address},
               {"occupation", &str},
               {"postal_addresses", &postal_addresses},
               {"email_addresses", &email_addresses},
               {"phone_numbers", &phone_numbers},
               {"profiles", &profiles},
               {"custom_fields", &custom_fields},
               {"_links", &links}}};
  Node question_response{Type::object,
                         {{"question", &str}, {"responses", &strings}, {"value", &str}}};
  Node question_responses{Type::array, &question_response, kMaxPersonArray};
  Node trigger{Type::object, {{"enabled", &boolean}, {"identifiers", &strings}}};
  Node triggers{Type::object,
                {{"autoresponse", &trigger}, {"sms_response", &trigger}, {"call_response", &trigger}}};
  Node consent{Type::object, {{"email", &boolean}, {"sms", &boolean}}};
  // How the caller wants the answer; rempart always answers as if
  // return_response were false (docs/intake-api.md).
  Node control{Type::object, {{"return_response", &boolean}}};
  Node root{Type::object,
            {{"person", &person},
             {"add_tags", &action_strings},
             {"add_tags_uri", &action_strings},
             {"add_lists", &action_strings},
             {"add_lists_uri", &action_strings},
             {"add_questions_responses_uri", &question_responses},
             {"triggers", &triggers},
             {"identifiers", &strings},
             {"origin_system", &str},
             {"created_date", &str},
             {"modified_date", &str},
             {"_links", &links},
             {"osdi:control", &control},
             {"consent", &consent}}};

  OsdiSchema() = default;
  OsdiSchema(const OsdiSchema&) = delete;  // members point at each other
  OsdiSchema& operator=(const OsdiSchema&) = delete;
};

const OsdiSchema& schema() {
  static const OsdiSchema s;
  return s;
}

// ---- parsing ------------------------------------------------------------

struct PathToken {
  bool is_index = false;
  std::size_t index = 0;
  std::string key;
};

// Builds a json DOM from SAX events, refusing duplicate keys and nesting
// deeper than kMaxDepth. Returning false from an event stops the parse.
class DomBuilder {
 public:
  enum class Stop { none, malformed, too_deep, duplicate };

  json root;
  Stop stop = Stop::none;
  std::vector<PathToken> dup_path;  // path to the object holding the duplicate
  std::string dup_key;

  bool null() { return put(json(nullptr)); }
  bool boolean(bool v) { return put(json(v)); }
  bool number_integer(json::number_integer_t v) { return put(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return put(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) { return put(json(v)); }
  bool string(json::string_t& v) { return put(json(std::move(v))); }
  bool binary(json::binary_t& /*v*/) {
    stop = Stop::malformed;
    return false;
  }
  bool start_object(std::size_t /*elements*/) { return open(json::object()); }
  bool start_array(std::size_t /*elements*/) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& k) {
    json& obj = *stack_.back();
    if (obj.contains(k)) {
      stop = Stop::duplicate;
      dup_path = tokens_;
      dup_key = k;
      return false;
    }
    slot_ = &obj[k];
    last_key_ = k;
    return true;
  }
  bool parse_error(std::size_t /*pos*/, const std::string& /*token*/,
                   const nlohmann::detail::exception& /*ex*/) {
    if (stop == Stop::none) stop = Stop::malformed;
    return false;
  }

 private:
  json* place(json&& v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    *slot_ = std::move(v);
    return slot_;
  }
  bool put(json&& v) {
    place(std::move(v));
    return true;
  }
  bool open(json&& container) {
    if (stack_.size() >= kMaxDepth) {
      stop = Stop::too_deep;
      return false;
    }
    if (!stack_.empty()) {
      const json& top = *stack_.back();
      PathToken t;
      if (top.is_array()) {
        t.is_index = true;
        t.index = top.size();
      } else {
        t.key = last_key_;
      }
      tokens_.push_back(std::move(t));
    }
    stack_.push_back(place(std::move(container)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    if (!stack_.empty()) tokens_.pop_back();
    return true;
  }

  std::vector<json*> stack_;  // open containers; pointers stay valid (only the top grows)
  std::vector<PathToken> tokens_;
  json* slot_ = nullptr;
  std::string last_key_;
};

std::string join(const std::string& path, std::string_view name) {
  std::string out = path;
  if (!out.empty()) out += '.';
  out += name;
  return out;
}

std::string index_path(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

const std::string& or_body(const std::string& path) {
  static const std::string body = "body";
  return path.empty() ? body : path;
}

// Maps the location of a duplicate key to a path of schema names, stopping
// at the first name the schema does not know.
std::string duplicate_path(const std::vector<PathToken>& tokens, const std::string& key) {
  const Node* n = &schema().root;
  std::string path;
  for (const auto& t : tokens) {
    if (t.is_index && n->type == Type::array) {
      path = index_path(path, t.index);
      n = n->items;
    } else if (!t.is_index && n->type == Type::object && n->find(t.key) != nullptr) {
      path = join(path, t.key);
      n = n->find(t.key);
    } else {
      return or_body(path);
    }
  }
  if (n->type == Type::object && n->find(key) != nullptr) path = join(path, key);
  return or_body(path);
}

class Checker {
 public:
  FieldErrors errors;

  void add(const std::string& path, const char* code) {
    FieldError e{or_body(path), code};
    if (std::find(errors.begin(), errors.end(), e) == errors.end()) errors.push_back(std::move(e));
  }

  void check(const json& v, const Node& n, const std::string& path) {
    if (v.is_null()) return;  // clients send null for "not given"
    switch (n.type) {
      case Type::string:
        if (!v.is_string()) add(path, "wrong_type");
        return;
      case Type::boolean:
        if (!v.is_boolean()) add(path, "wrong_type");
        return;
      case Type::number:
        if (!v.is_number()) add(path, "wrong_type");
        return;
      case Type::integer:
        if (!v.is_number_integer()) add(path, "wrong_type");
        return;
      case Type::number_or_string:
        if (!v.is_number() && !v.is_string()) add(path, "wrong_type");
        return;
      case Type::phone_number:
        if (!v.is_string() && !v.is_number_unsigned()) add(path, "wrong_type");
        return;
      case Type::object:
        if (!v.is_object()) {
          add(path, "wrong_type");
          return;
        }
        for (const auto& [k, child] : v.items()) {
          const Node* m = n.find(k);
          if (m == nullptr) {
            add(path, "unknown_field");
          } else {
            check(child, *m, join(path, k));
          }
        }
        return;
      case Type::array:
        if (!v.is_array()) {
          add(path, "wrong_type");
          return;
        }
        if (v.size() > n.max_items) {
          add(path, "too_many");
          return;
        }
        for (std::size_t i = 0; i < v.size(); ++i) check(v[i], *n.items, index_path(path, i));
        return;
      case Type::scalar_map:
        if (!v.is_object()) {
          add(path, "wrong_type");
          return;
        }
        if (v.size() > kMaxActionArray) add(path, "too_many");
        for (const auto& [k, child] : v.items()) {
          if (child.is_structured() || child.is_binary()) add(path, "wrong_type");
        }
        return;
      case Type::links:
        // Relation names ("self", "osdi:tags", "curies") are free text: errors
        // below this point are reported at the _links path itself.
        if (!v.is_object()) {
          add(path, "wrong_type");
          return;
        }
        for (const auto& [k, child] : v.items()) {
          if (child.is_array()) {
            if (child.size() > n.max_items) add(path, "too_many");
            else
              for (const auto& l : child) check_link(l, *n.items, path);
          } else {
            check_link(child, *n.items, path);
          }
        }
        return;
    }
  }

 private:
  void check_link(const json& l, const Node& link, const std::string& path) {
    if (!l.is_object()) {
      add(path, "wrong_type");
      return;
    }
    for (const auto& [k, child] : l.items()) {
      const Node* m = link.find(k);
      if (m == nullptr) {
        add(path, "unknown_field");
      } else if (!child.is_null() && ((m->type == Type::string && !child.is_string()) ||
                                      (m->type == Type::boolean && !child.is_boolean()))) {
        add(path, "wrong_type");
      }
    }
  }
};

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string string_member(const json& obj, const char* key) {
  const json* v = member(obj, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string{};
}

bool bool_member(const json& obj, const char* key) {
  const json* v = member(obj, key);
  return v != nullptr && v->is_boolean() && v->get<bool>();
}

// The entry marked primary, else the first one; only entries that have
// `key` (when given) count.
const json* choose(const json& person, const char* array, const char* key) {
  const json* arr = member(person, array);
  if (arr == nullptr || !arr->is_array()) return nullptr;
  const json* first = nullptr;
  for (const auto& e : *arr) {
    if (key != nullptr && member(e, key) == nullptr) continue;
    if (bool_member(e, "primary")) return &e;
    if (first == nullptr) first = &e;
  }
  return first;
}

}  // namespace

std::expected<RawSubmission, FieldErrors> parse_osdi_signup(std::string_view body) {
  if (body.size() > kMaxBody) return std::unexpected(FieldErrors{{"body", "too_long"}});
  // nlohmann's lexer takes a raw NUL for the end of input, which would let
  // anything after it through unparsed; JSON never contains one unescaped.
  if (body.find('\0') != std::string_view::npos) {
    return std::unexpected(FieldErrors{{"body", "malformed"}});
  }
  DomBuilder dom;
  bool ok = false;
  try {
    ok = json::sax_parse(body.data(), body.data() + body.size(), &dom);
  } catch (const std::exception&) {
    ok = false;  // the parser's message may quote input: dropped
  }
  if (!ok) {
    switch (dom.stop) {
      case DomBuilder::Stop::duplicate:
        return std::unexpected(
            FieldErrors{{duplicate_path(dom.dup_path, dom.dup_key), "duplicate_key"}});
      case DomBuilder::Stop::too_deep:
        return std::unexpected(FieldErrors{{"body", "too_deep"}});
      default:
        return std::unexpected(FieldErrors{{"body", "malformed"}});
    }
  }
  const json& root = dom.root;
  Checker checker;
  checker.check(root, schema().root, "");
  if (root.is_object() && member(root, "person") == nullptr) checker.add("person", "required");
  if (root.is_null()) checker.add("body", "wrong_type");
  if (!checker.errors.empty()) return std::unexpected(std::move(checker.errors));

  RawSubmission raw;
  const json& person = *member(root, "person");
  raw.given_name = string_member(person, "given_name");
  raw.family_name = string_member(person, "family_name");
  // A "subscribed" status is the OSDI way to say yes to e-mail (and, on
  // a phone number, to text messages); rempart's own consent object, when
  // present, has the last word.
  const auto subscribed = [](const json& entry) {
    return text::ascii_lower(string_member(entry, "status")) == "subscribed";
  };
  if (const json* e = choose(person, "email_addresses", "address")) {
    raw.email = string_member(*e, "address");
    if (subscribed(*e)) raw.consent.email = true;
  }
  if (const json* ph = choose(person, "phone_numbers", "number")) {
    if (subscribed(*ph)) raw.consent.sms = true;
    const json& n = *member(*ph, "number");
    // OSDI numbers carry their country code; as a JSON integer there is no
    // room for the '+', so it is restored here.
    raw.phone = n.is_string() ? n.get<std::string>() : "+" + std::to_string(n.get<std::uint64_t>());
  }
  if (const json* a = choose(person, "postal_addresses", nullptr)) {
    if (const json* lines = member(*a, "address_lines")) {
      for (const auto& l : *lines) {
        if (!l.is_string()) continue;
        if (!raw.street.empty()) raw.street += '\n';
        raw.street += l.get<std::string>();
      }
    }
    raw.postal_code = string_member(*a, "postal_code");
    raw.locality = string_member(*a, "locality");
    raw.country = string_member(*a, "country");
  }
  if (const json* custom = member(person, "custom_fields")) {
    for (const auto& [k, v] : custom->items()) {
      if (v.is_string()) {
        raw.extra.emplace_back(k, v.get<std::string>());
      } else if (v.is_number() || v.is_boolean()) {
        raw.extra.emplace_back(k, v.dump());
      }
    }
  }
  if (const json* tags = member(root, "add_tags")) {
    for (const auto& t : *tags) {
      if (t.is_string()) raw.tags.push_back(t.get<std::string>());
    }
  }
  if (const json* t = member(root, "triggers")) {
    if (const json* a = member(*t, "autoresponse")) {
      if (const json* e = member(*a, "enabled"); e && e->is_boolean() && !e->get<bool>()) raw.autoresponse = false;
    }
  }
  if (const json* c = member(root, "consent")) {
    if (const json* e = member(*c, "email"); e && e->is_boolean()) raw.consent.email = e->get<bool>();
    if (const json* m = member(*c, "sms"); m && m->is_boolean()) raw.consent.sms = m->get<bool>();
  }
  return raw;
}

}  // namespace rempart::core
