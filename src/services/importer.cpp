#include "services/importer.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <iterator>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "audit/chain.hpp"
#include "core/csv.hpp"
#include "core/text.hpp"
#include "core/validate.hpp"
#include "crypto/blind_index.hpp"
#include "services/prepare_pipeline.hpp"

namespace rempart::services {
namespace {

using core::text::trim_ascii;

// Eight bytes of `b` from `at` (fewer if it is shorter), as a key for a set
// or map of things that differ there (random or keyed-hash bytes).
std::uint64_t eight_bytes(const store::Bytes& b, std::size_t at) {
  std::uint64_t k = 0;
  for (std::size_t i = at; i < at + 8 && i < b.size(); ++i) k = (k << 8) | b[i];
  return k;
}

// Countries whose postcodes are French five-digit ones.
bool french_postcodes(std::string_view country) {
  static constexpr std::array<std::string_view, 9> kFrench = {"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"};
  return std::find(kFrench.begin(), kFrench.end(), country) != kFrench.end();
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The field of a FieldError -> the target it came from.
const char* target_of(std::string_view field) {
  for (const auto t : import_targets()) {
    if (field == t) return t.data();
  }
  return nullptr;
}

}  // namespace

std::size_t ImportReport::rejections() const {
  return static_cast<std::size_t>(std::count_if(issues.begin(), issues.end(), [](const ImportIssue& i) { return i.rejects; }));
}

std::optional<std::int64_t> parse_export_date(std::string_view text) {
  const std::string t(trim_ascii(text));
  if (t.empty() || t.size() > 40) return std::nullopt;
  std::tm tm{};
  const char* end = nullptr;
  for (const char* fmt : {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d",
                          "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"}) {
    tm = std::tm{};
    end = ::strptime(t.c_str(), fmt, &tm);
    if (end != nullptr) break;
  }
  if (end == nullptr) return std::nullopt;
  std::int64_t offset = 0;
  std::string_view rest(end);
  if (!rest.empty() && rest.front() == '.') {  // fractions of a second
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
  }
  rest = trim_ascii(rest);
  if (rest == "Z" || rest == "UTC" || rest.empty()) {
  } else if ((rest.front() == '+' || rest.front() == '-') && (rest.size() == 6 || rest.size() == 5)) {
    const std::string_view hm = rest.substr(1, 2);
    const std::string_view mm = rest.size() == 6 ? rest.substr(4, 2) : rest.substr(3, 2);
    if ((rest.size() == 6 && rest[3] != ':') || !all_digits(hm) || !all_digits(mm)) return std::nullopt;
    offset = ((hm[0] - '0') * 10 + (hm[1] - '0')) * 3600 + ((mm[0] - '0') * 10 + (mm[1] - '0')) * 60;
    if (rest.front() == '+') offset = -offset;
  } else {
    return std::nullopt;
  }
  if (tm.tm_year < 70 || tm.tm_year > 200) return std::nullopt;  // 1970..2100
  return static_cast<std::int64_t>(::timegm(&tm)) + offset;
}

std::optional<core::Person> read_row(const ImportPlan& plan, const std::vector<std::string>& cells,
                                     std::size_t line, const core::IntakeOptions& intake,
                                     std::vector<ImportIssue>& issues, RowSource* source) {
  // The first non-empty cell of the columns read for `t`; `column` gets its
  // index (the first column read for `t` when all are empty).
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  auto cell = [&](std::string_view t, std::size_t* column = nullptr) -> std::string {
    const auto it = plan.by_target.find(t);
    if (it == plan.by_target.end()) return {};
    for (const std::size_t i : it->second) {
      if (i < cells.size() && !trim_ascii(cells[i]).empty()) {
        if (column != nullptr) *column = i;
        return cells[i];
      }
    }
    if (column != nullptr && !it->second.empty()) *column = it->second.front();
    return {};
  };
  auto header = [&](std::size_t column) -> std::string {
    return column < plan.columns.size() ? plan.columns[column].header : std::string();
  };
  auto warn = [&](const std::string& column, std::string code) {
    issues.push_back(ImportIssue{line, column, std::move(code), false, 0});
  };

  // The column each field's value came from, by the field's place in
  // import_targets(): only a warning needs its header.
  const auto& targets = import_targets();
  std::vector<std::size_t> from(targets.size(), kNone);
  auto slot = [&](std::string_view t) {
    return static_cast<std::size_t>(std::find(targets.begin(), targets.end(), t) - targets.begin());
  };
  auto header_of = [&](std::string_view t) { return header(from[slot(t)]); };

  core::RawSubmission raw;
  auto take = [&](std::string_view t, std::string& dest) { dest = cell(t, &from[slot(t)]); };
  take(target::given_name, raw.given_name);
  take(target::family_name, raw.family_name);
  take(target::email, raw.email);
  take(target::phone, raw.phone);
  if (trim_ascii(raw.phone).empty()) {
    take(target::phone_alt, raw.phone);
    from[slot(target::phone)] = from[slot(target::phone_alt)];
  }
  // Address lines may come from several columns ("address1", "address2"):
  // each non-empty one is a line.
  if (const auto it = plan.by_target.find(target::street); it != plan.by_target.end()) {
    for (const std::size_t i : it->second) {
      if (i >= cells.size() || trim_ascii(cells[i]).empty()) continue;
      if (from[slot(target::street)] == kNone) from[slot(target::street)] = i;
      if (!raw.street.empty()) raw.street += '\n';
      raw.street += cells[i];
    }
  }
  take(target::postal_code, raw.postal_code);
  take(target::locality, raw.locality);
  take(target::country, raw.country);

  // The country first: the postcode and the phone are read by it.
  std::string country = intake.default_region;
  if (!trim_ascii(raw.country).empty()) {
    auto c = core::normalize_country(raw.country);
    if (c) {
      country = *c;
    } else {
      warn(header_of(target::country), c.error());
      raw.country.clear();
    }
  }
  // A spreadsheet reads "01000" as a number and writes "1000".
  if (french_postcodes(country)) {
    const auto pc = trim_ascii(raw.postal_code);
    if (pc.size() == 4 && all_digits(pc)) {
      raw.postal_code = "0" + std::string(pc);
      warn(header_of(target::postal_code), "leading_zero_restored");
    }
  }

  // Tags one by one: a bad one is left out, the others kept.
  if (const auto it = plan.by_target.find(target::tags); it != plan.by_target.end()) {
    for (const std::size_t i : it->second) {
      if (i >= cells.size()) continue;
      std::string_view rest = cells[i];
      bool bad = false;
      while (!rest.empty()) {
        const auto cut = rest.find_first_of(plan.tag_separators);
        const auto one = trim_ascii(rest.substr(0, cut));
        rest = cut == std::string_view::npos ? std::string_view{} : rest.substr(cut + 1);
        if (one.empty()) continue;
        auto t = core::normalize_tag(one);
        if (!t) {
          bad = true;
        } else if (std::find(raw.tags.begin(), raw.tags.end(), *t) == raw.tags.end()) {
          raw.tags.push_back(std::move(*t));
        }
      }
      if (bad) warn(plan.columns[i].header, "invalid_tag");
    }
    if (raw.tags.size() > intake.max_tags) {
      raw.tags.resize(intake.max_tags);
      warn(plan.columns[it->second.front()].header, "too_many_tags");
    }
  }

  // Consent: a "no" in any of a target's columns wins, then a "yes".
  for (const char* t : {target::consent_email, target::consent_sms}) {
    const auto it = plan.by_target.find(t);
    if (it == plan.by_target.end()) continue;
    Choice choice = Choice::unknown;
    for (const std::size_t i : it->second) {
      if (i >= cells.size()) continue;
      bool recognised = true;
      const Choice c = plan.vocabulary.read(cells[i], plan.columns[i].inverted, &recognised);
      if (!recognised) warn(plan.columns[i].header, "unrecognised_consent");
      if (c == Choice::no || (c == Choice::yes && choice == Choice::unknown)) choice = c;
    }
    const bool email = std::string_view(t) == target::consent_email;
    (email ? raw.consent.email : raw.consent.sms) = choice == Choice::yes;
    (email ? raw.consent.email_refused : raw.consent.sms_refused) = choice == Choice::no;
    if (source != nullptr) source->consent[t] = choice;
  }
  if (source != nullptr) {
    std::size_t column = kNone;
    const std::string id_cell = cell(target::source_id, &column);
    const std::string_view id = trim_ascii(id_cell);
    if (id.size() > 200) {
      warn(header(column), "too_long");
    } else {
      source->id = std::string(id);
    }
    const std::string date = cell(target::joined_at, &column);
    if (!trim_ascii(date).empty()) {
      source->joined_at = parse_export_date(date);
      if (!source->joined_at) warn(header(column), "invalid_date");
    }
  }

  // Validation as for a sign-up (a phone read in the row's country first);
  // each field it refuses is left out and the row validated again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto person = core::validate_submission(raw, intake);
    if (person) return std::move(*person);
    bool dropped = false;
    bool no_contact = false;
    for (const auto& e : person.error()) {
      if (e.code == "required" && e.field == target::email && trim_ascii(raw.email).empty()) {
        no_contact = true;  // neither e-mail nor phone is left
        continue;
      }
      const char* t = target_of(e.field);
      if (t == nullptr) continue;
      const std::string column = header_of(t);
      std::string* dest = e.field == target::given_name    ? &raw.given_name
                          : e.field == target::family_name ? &raw.family_name
                          : e.field == target::email       ? &raw.email
                          : e.field == target::phone       ? &raw.phone
                          : e.field == target::street      ? &raw.street
                          : e.field == target::postal_code ? &raw.postal_code
                          : e.field == target::locality    ? &raw.locality
                          : e.field == target::country     ? &raw.country
                                                           : nullptr;
      if (dest != nullptr && !dest->empty()) {
        dest->clear();
        dropped = true;
        warn(column, e.code);
      } else if (e.field == target::tags) {
        raw.tags.clear();
        dropped = true;
        const auto it = plan.by_target.find(target::tags);
        warn(it != plan.by_target.end() && !it->second.empty() ? header(it->second.front()) : std::string(), e.code);
      }
    }
    if (!dropped || no_contact) break;
  }
  // What is left has no usable e-mail or phone: the warnings above said why.
  bool any = false;
  for (auto& i : issues) {
    if (i.line == line && (i.code == "invalid_email" || i.code == "invalid_phone" || i.code == "too_long")) any = true;
  }
  issues.push_back(ImportIssue{line, "", any ? "no_usable_contact" : "no_email_or_phone", true, 0});
  return std::nullopt;
}

Result<ImportReport> import_csv(std::istream& in, const ImportSpec& spec, store::KeeperStore& store,
                                const crypto::KeeperKeyring& keys, const ImportOptions& opts) {
  ImportReport report;
  report.dry_run = opts.dry_run;
  core::CsvReader reader(in);
  auto header = reader.next();
  if (!header) return fail(Errc::invalid_input, "the header line could not be read: " + header.error().internal);
  if (!*header) return fail(Errc::invalid_input, "the file is empty");
  auto planned = plan_import((*header)->fields, spec);
  if (!planned) return std::unexpected(planned.error());
  const ImportPlan plan = std::move(*planned);
  report.columns = plan.columns;
  for (const char* t : {target::consent_email, target::consent_sms}) {
    if (plan.reads(t)) report.consent[t] = {{"yes", 0}, {"no", 0}, {"unknown", 0}};
  }
  if (opts.on_plan) {
    if (auto r = opts.on_plan(plan); !r) return std::unexpected(r.error());
  }

  // Reading, validation, blind indexes and sealing of chunk k+1 run on a
  // worker while chunk k's transaction runs here (see run_pipelined). The
  // worker alone touches `reader` and `in`; only this thread touches the
  // store and `report`. Creation versus merge is still decided by upsert in
  // the transaction, so a row duplicating one of an earlier chunk merges.
  RecordWriter writer(keys);
  // Source ids live in the tool's namespace: "action-network:<uuid>".
  const std::string tool = spec.preset == Preset::none ? std::string("csv") : std::string(preset_name(spec.preset));
  const std::string origin = "import:" + tool;
  const std::string consent_source =
      "import:" + tool + (opts.file_fingerprint.empty() ? std::string() : ":" + opts.file_fingerprint);
  struct Chunk {
    std::vector<core::Person> people;
    std::vector<std::size_t> lines;        // lines[k] for people[k]
    std::vector<PreparedUpsert> prepared;  // prepared[k] for people[k]
    std::vector<RowSource> sources;        // sources[k] for people[k]
    std::vector<std::optional<store::Bytes>> source_indexes;  // of sources[k].id
    std::vector<std::vector<store::Bytes>> older_source_indexes;  // the same under older blind-index keys
    std::vector<ImportIssue> issues;       // found reading this chunk's rows
    std::map<std::string, std::map<std::string, std::size_t>> consent;
    std::size_t rows = 0;                  // data rows read for this chunk, rejected included
    std::size_t rejected = 0;
    std::uint64_t bytes = 0;               // input offset after the chunk
  };
  bool at_end = false;
  auto produce = [&]() -> Result<std::optional<Chunk>> {
    if (at_end) return std::optional<Chunk>{};
    Chunk chunk;
    for (;;) {
      auto row = reader.next();
      if (!row) {
        ++chunk.rows;
        ++chunk.rejected;
        chunk.issues.push_back({reader.last_error_line(), "", "malformed_row", true, 0});
        continue;
      }
      if (!*row) {
        at_end = true;
        break;
      }
      const auto& cells = (*row)->fields;
      if (cells.size() == 1 && trim_ascii(cells[0]).empty()) continue;  // blank line
      ++chunk.rows;
      RowSource source;
      auto person = read_row(plan, cells, (*row)->line, opts.intake, chunk.issues, &source);
      if (!person) {
        ++chunk.rejected;
        continue;
      }
      for (const auto& [t, c] : source.consent) ++chunk.consent[t][std::string(choice_name(c))];
      chunk.source_indexes.push_back(source.id.empty() ? std::nullopt
                                                       : std::optional(writer.source_index(tool + ":" + source.id)));
      chunk.older_source_indexes.push_back(source.id.empty() ? std::vector<store::Bytes>()
                                                             : writer.older_source_indexes(tool + ":" + source.id));
      chunk.sources.push_back(std::move(source));
      chunk.prepared.push_back(opts.dry_run ? writer.indexes(*person) : writer.prepare(*person));
      chunk.people.push_back(std::move(*person));
      chunk.lines.push_back((*row)->line);
      if (chunk.people.size() >= opts.rows_per_transaction) break;
    }
    // Taken where the single-threaded import took it (after the chunk's last
    // row, or at the end of input), so progress reports the same positions.
    // The reader's offset, not in.tellg(): the reader reads ahead.
    chunk.bytes = reader.offset();
    return std::optional<Chunk>{std::move(chunk)};
  };

  // The line each record of this file was first written from, by 8 of its
  // id's random bytes: to name both lines of a merge whose names differ.
  std::unordered_map<std::uint64_t, std::uint32_t> first_line;
  auto id_key = [](const store::Bytes& id) { return eight_bytes(id, kRecordIdTimeBytes); };
  // Dry run: the blind indexes seen so far in the file, by 8 of their bytes.
  std::unordered_set<std::uint64_t> seen;
  auto index_key = [](const store::Bytes& idx) { return eight_bytes(idx, 0); };

  auto consume = [&](Chunk& chunk) -> Result<void> {
    report.rows += chunk.rows;
    report.rejected += chunk.rejected;
    for (const auto& [t, counts] : chunk.consent) {
      for (const auto& [c, n] : counts) report.consent[t][c] += n;
    }
    std::vector<ImportIssue> issues = std::move(chunk.issues);
    if (opts.dry_run) {
      for (std::size_t k = 0; k < chunk.people.size(); ++k) {
        const PreparedUpsert& p = chunk.prepared[k];
        const core::Person& person = chunk.people[k];
        // Under the current blind-index key, then under older ones (empty
        // unless that key was rotated), as the upsert looks.
        auto under = [](const store::Bytes& idx, std::vector<store::Bytes> older) {
          older.insert(older.begin(), idx);
          return older;
        };
        bool known = false;
        if (const auto& si = chunk.source_indexes[k]) {
          known = seen.contains(index_key(*si));
          for (const auto& u : under(*si, chunk.older_source_indexes[k])) {
            if (known) break;
            auto found = store.find_supporter_by_source_index(u);
            if (!found) return std::unexpected(found.error());
            known = found->has_value();
          }
          seen.insert(index_key(*si));
        }
        std::vector<store::Bytes> email_under, phone_under;
        if (p.email_index) {
          email_under = under(*p.email_index, writer.older_indexes(crypto::kBlindIndexEmail, person.email));
        }
        if (p.phone_index) {
          phone_under = under(*p.phone_index, writer.older_indexes(crypto::kBlindIndexPhone, person.phone));
        }
        for (const auto* idx : {&p.email_index, &p.phone_index}) {
          if (*idx && seen.contains(index_key(**idx))) known = true;
        }
        for (const auto* u : {&email_under, &phone_under}) {
          for (const auto& idx : *u) {
            if (known) break;
            auto found = u == &email_under ? store.find_listing_by_email_index(idx)
                                           : store.find_listing_by_phone_index(idx);
            if (!found) return std::unexpected(found.error());
            known = found->has_value();
          }
        }
        for (const auto* idx : {&p.email_index, &p.phone_index}) {
          if (*idx) seen.insert(index_key(**idx));
        }
        bool suppressed = false;
        for (const auto* u : {&email_under, &phone_under}) {
          for (const auto& idx : *u) {
            if (known || suppressed) break;
            auto s = store.suppressed(idx);
            if (!s) return std::unexpected(s.error());
            suppressed = *s;
          }
        }
        if (suppressed) {
          ++report.counts.suppressed;
        } else if (known) {
          ++report.counts.merged;
        } else {
          ++report.counts.created;
        }
      }
    } else if (!chunk.people.empty()) {
      FoldCounts counts;
      std::vector<ImportIssue> conflicts;
      std::vector<std::pair<std::uint64_t, std::uint32_t>> created;
      const std::int64_t now = unix_now();
      const std::int64_t now_us = audit::now_us();
      auto r = store.transact([&](store::KeeperTx& tx) -> Result<void> {
        counts = {};
        conflicts.clear();
        created.clear();
        auto log = audit::Appender::begin(tx, keys);
        if (!log) return std::unexpected(log.error());
        for (std::size_t k = 0; k < chunk.people.size(); ++k) {
          store::Bytes id;
          UpsertNote note;
          Provenance from;
          from.consent_source = consent_source;
          from.from_the_person = false;
          from.joined_at = chunk.sources[k].joined_at;
          from.source_index = chunk.source_indexes[k];
          from.older_source_indexes = chunk.older_source_indexes[k];
          from.origin = origin;
          auto u = writer.upsert(tx, chunk.people[k], chunk.prepared[k], now, &id, &note, from);
          if (!u) return std::unexpected(u.error());
          counts.add(*u);
          const auto key = id_key(id);
          if (*u == Upsert::created) {
            created.emplace_back(key, static_cast<std::uint32_t>(chunk.lines[k]));
          } else if (note.name_differs) {
            std::size_t other = 0;
            if (const auto it = first_line.find(key); it != first_line.end()) other = it->second;
            for (const auto& [ck, cl] : created) {
              if (ck == key) other = cl;
            }
            conflicts.push_back(ImportIssue{chunk.lines[k], "", "name_differs", false, other});
          }
          auto e = log->append(audit::Event{opts.actor, std::string(audit_action(*u)), audit::to_hex(id),
                                            {{"via", "import"}}, ""},
                               now_us);
          if (!e) return std::unexpected(e.error());
        }
        return {};
      });
      if (!r) return r;
      report.counts.add(counts);
      for (const auto& [k, l] : created) first_line.emplace(k, l);
      issues.insert(issues.end(), conflicts.begin(), conflicts.end());
      std::stable_sort(issues.begin(), issues.end(),
                       [](const ImportIssue& a, const ImportIssue& b) { return a.line < b.line; });
    }
    report.issues.insert(report.issues.end(), std::make_move_iterator(issues.begin()),
                         std::make_move_iterator(issues.end()));
    if (opts.progress && !chunk.people.empty()) opts.progress(chunk.bytes, report.rows);
    return {};
  };
  if (auto r = run_pipelined<Chunk>(produce, consume); !r) return std::unexpected(r.error());
  auto done = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    nlohmann::json d = {{"rows", report.rows},
                        {"created", report.counts.created},
                        {"merged", report.counts.merged},
                        {"unchanged", report.counts.unchanged},
                        {"suppressed", report.counts.suppressed},
                        {"skipped", report.rejected},
                        {"warnings", report.warnings()},
                        {"preset", preset_name(spec.preset)}};
    if (opts.dry_run) d["dry_run"] = true;
    auto e = audit::record(tx, keys, audit::Event{opts.actor, std::string(audit::action::import_run), "", std::move(d), ""});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  if (!done) return std::unexpected(done.error());
  return report;
}

}  // namespace rempart::services
