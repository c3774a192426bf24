#pragma once
// What an import reads from which column (docs/import.md): the export shapes
// of the tools people migrate from (presets), the operator's own mapping,
// ignored columns, and how a consent column's values read. Pure functions of
// the header line and the options; the importer (importer.hpp) applies them
// row by row. Header names are the file's column titles, never a cell's
// content, so they may be printed and logged.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/person.hpp"

namespace rempart::services {

// Where a column's values go.
namespace target {
// The record's own fields, by the names core::field gives them.
using core::field::consent_email;
using core::field::consent_sms;
using core::field::country;
using core::field::email;
using core::field::family_name;
using core::field::given_name;
using core::field::locality;
using core::field::phone;
using core::field::postal_code;
using core::field::street;
using core::field::tags;
inline constexpr const char* phone_alt = "phone_alt";  // used when `phone` is empty (a landline)
inline constexpr const char* source_id = "source_id";  // the source system's id of the person
inline constexpr const char* joined_at = "joined_at";  // the sign-up date the source system recorded
}  // namespace target

// Every target a column may be mapped to.
const std::vector<std::string_view>& import_targets();

enum class Preset { none, action_network, nationbuilder, civicrm };
// "action-network", "nationbuilder", "civicrm" (or "" for none).
Result<Preset> parse_preset(std::string_view name);
std::string_view preset_name(Preset p);

// rempart target -> CSV header name; an empty header means "read nothing
// for this target" (to switch off a preset's or the automatic match).
using ColumnMap = std::map<std::string, std::string>;

// Parses "given_name=Prénom,email=Courriel,country=". Refuses unknown targets.
Result<ColumnMap> parse_column_map(std::string_view spec);

// What a consent cell says.
enum class Choice { unknown, yes, no };
std::string_view choice_name(Choice c);

struct ImportSpec {
  Preset preset = Preset::none;
  ColumnMap map;                      // over the preset's columns
  std::vector<std::string> ignore;    // headers never read
  std::vector<std::string> yes_values, no_values;  // added to the consent vocabulary
  std::vector<std::string> inverted;  // consent targets whose mapped column says "do not contact" (1 = no)
};

// One column of the file and what the import does with it.
struct ColumnUse {
  std::size_t index = 0;
  std::string header;
  std::string target;  // "" when not imported
  bool inverted = false;
  std::string why;     // when not imported: "ignored (--ignore)", "not kept by rempart: <what>", "no field matches"
};

// How a consent column's values read: lower-cased, trimmed, then looked up.
// A value in neither list (and not empty) reads unknown and is reported.
struct ConsentVocabulary {
  std::vector<std::string> yes, no, unknown;  // `unknown`: known words that state nothing (e.g. "bouncing")
  Choice read(std::string_view cell, bool inverted, bool* recognised) const;
};

struct ImportPlan {
  std::vector<ColumnUse> columns;         // one per header, in file order
  std::map<std::string, std::vector<std::size_t>, std::less<>> by_target;  // target -> column indexes
  ConsentVocabulary vocabulary;
  std::string tag_separators = ",;|";
  Preset preset = Preset::none;

  bool reads(std::string_view t) const { return by_target.find(t) != by_target.end(); }
  // Columns not imported, for the report printed before anything is written.
  std::vector<const ColumnUse*> unused() const;
};

// Matches the header to targets: --ignore first, then --map, then the
// preset's columns, then a header equal to a target's name
// (case-insensitive). Errors: a --map or --ignore naming a header the file
// does not have, a header mapped twice, a consent target inverted without a
// column, and a file with neither an e-mail nor a phone column.
Result<ImportPlan> plan_import(const std::vector<std::string>& header, const ImportSpec& spec);

}  // namespace rempart::services
