#include "services/importer.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <optional>

#include "audit/chain.hpp"
#include "core/csv.hpp"
#include "services/prepare_pipeline.hpp"

namespace rempart::services {
namespace {

constexpr std::array<std::string_view, 10> kTargets = {
    "given_name", "family_name", "email", "phone", "postal_code",
    "locality", "country", "tags", "consent_email", "consent_sms"};

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool truthy(std::string_view v) {
  const auto l = lower_ascii(trim(v));
  return l == "1" || l == "true" || l == "yes" || l == "y" || l == "x" || l == "oui" || l == "on";
}

std::vector<std::string> split_tags(std::string_view v) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= v.size(); ++i) {
    if (i == v.size() || v[i] == ',' || v[i] == ';' || v[i] == '|') {
      auto t = trim(v.substr(start, i - start));
      if (!t.empty()) out.emplace_back(t);
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

Result<ColumnMap> parse_column_map(std::string_view spec) {
  ColumnMap map;
  std::size_t start = 0;
  while (start <= spec.size()) {
    auto end = spec.find(',', start);
    if (end == std::string_view::npos) end = spec.size();
    const auto pair = trim(spec.substr(start, end - start));
    start = end + 1;
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) return fail(Errc::invalid_input, "--map entries must be field=Header");
    const auto target = std::string(trim(pair.substr(0, eq)));
    const auto header = std::string(trim(pair.substr(eq + 1)));
    if (std::find(kTargets.begin(), kTargets.end(), target) == kTargets.end()) {
      return fail(Errc::invalid_input, "--map names an unknown field '" + target + "'");
    }
    if (header.empty()) return fail(Errc::invalid_input, "--map gives no header for '" + target + "'");
    map[target] = header;
  }
  return map;
}

Result<ImportReport> import_csv(std::istream& in, const ColumnMap& map, store::KeeperStore& store,
                                const crypto::KeeperKeyring& keys, const ImportOptions& opts) {
  ImportReport report;
  core::CsvReader reader(in);
  auto header = reader.next();
  if (!header) return fail(Errc::invalid_input, "the header line could not be read: " + header.error().internal);
  if (!*header) return fail(Errc::invalid_input, "the file is empty");

  // Column index of each target field.
  std::map<std::string, std::size_t> column;
  const auto& names = (*header)->fields;
  for (auto target : kTargets) {
    const std::string t(target);
    const auto mapped = map.find(t);
    const std::string want = lower_ascii(trim(mapped != map.end() ? mapped->second : t));
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (lower_ascii(trim(names[i])) == want) {
        column[t] = i;
        break;
      }
    }
    if (mapped != map.end() && !column.contains(t)) {
      return fail(Errc::invalid_input, "the header has no column mapped to '" + t + "'");
    }
  }
  if (!column.contains("email") && !column.contains("phone")) {
    return fail(Errc::invalid_input, "no column for email or phone: use --map email=Header");
  }

  // Reading, validation, blind indexes and sealing of chunk k+1 run on a
  // worker while chunk k's transaction runs here (see run_pipelined). The
  // worker alone touches `reader` and `in`; only this thread touches the
  // store and `report`. Creation versus merge is still decided by upsert in
  // the transaction, so a row duplicating one of an earlier chunk merges.
  RecordWriter writer(keys);
  struct Chunk {
    std::vector<core::Person> people;
    std::vector<PreparedUpsert> prepared;  // prepared[k] for people[k]
    std::vector<RowProblem> problems;      // skipped rows read for this chunk
    std::size_t rows = 0;                  // data rows read for this chunk, skipped included
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
        chunk.problems.push_back({reader.last_error_line(), "row", "malformed"});
        continue;
      }
      if (!*row) {
        at_end = true;
        break;
      }
      const auto& cells = (*row)->fields;
      if (cells.size() == 1 && trim(cells[0]).empty()) continue;  // blank line
      ++chunk.rows;
      auto cell = [&](const char* name) -> std::string {
        const auto it = column.find(name);
        if (it == column.end() || it->second >= cells.size()) return {};
        return cells[it->second];
      };
      core::RawSubmission raw;
      raw.given_name = cell("given_name");
      raw.family_name = cell("family_name");
      raw.email = cell("email");
      raw.phone = cell("phone");
      raw.postal_code = cell("postal_code");
      raw.locality = cell("locality");
      raw.country = cell("country");
      raw.tags = split_tags(cell("tags"));
      raw.consent.email = truthy(cell("consent_email"));
      raw.consent.sms = truthy(cell("consent_sms"));
      auto person = core::validate_submission(raw, opts.intake);
      if (!person) {
        for (const auto& e : person.error()) chunk.problems.push_back({(*row)->line, e.field, e.code});
        continue;
      }
      chunk.prepared.push_back(writer.prepare(*person));
      chunk.people.push_back(std::move(*person));
      if (chunk.people.size() >= opts.rows_per_transaction) break;
    }
    // Taken where the single-threaded import took it (after the chunk's last
    // row, or at the end of input), so progress reports the same positions.
    // The reader's offset, not in.tellg(): the reader reads ahead.
    chunk.bytes = reader.offset();
    return std::optional<Chunk>{std::move(chunk)};
  };
  auto consume = [&](Chunk& chunk) -> Result<void> {
    report.rows += chunk.rows;
    report.problems.insert(report.problems.end(), std::make_move_iterator(chunk.problems.begin()),
                           std::make_move_iterator(chunk.problems.end()));
    if (chunk.people.empty()) return {};
    FoldCounts counts;
    const std::int64_t now = unix_now();
    const std::int64_t now_us = audit::now_us();
    auto r = store.transact([&](store::KeeperTx& tx) -> Result<void> {
      auto log = audit::Appender::begin(tx, keys);
      if (!log) return std::unexpected(log.error());
      for (std::size_t k = 0; k < chunk.people.size(); ++k) {
        store::Bytes id;
        auto u = writer.upsert(tx, chunk.people[k], chunk.prepared[k], now, &id);
        if (!u) return std::unexpected(u.error());
        counts.add(*u);
        auto e = log->append(audit::Event{opts.actor, std::string(audit_action(*u)), audit::to_hex(id),
                                          {{"via", "import"}}, ""},
                             now_us);
        if (!e) return std::unexpected(e.error());
      }
      return {};
    });
    if (!r) return r;
    report.counts.created += counts.created;
    report.counts.merged += counts.merged;
    report.counts.unchanged += counts.unchanged;
    if (opts.progress) opts.progress(chunk.bytes, report.rows);
    return {};
  };
  if (auto r = run_pipelined<Chunk>(produce, consume); !r) return std::unexpected(r.error());
  std::size_t skipped = 0, last_line = 0;
  for (const auto& p : report.problems) {
    if (p.line != last_line) ++skipped;
    last_line = p.line;
  }
  auto done = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto e = audit::record(tx, keys,
                           audit::Event{opts.actor, std::string(audit::action::import_run), "",
                                        {{"rows", report.rows},
                                         {"created", report.counts.created},
                                         {"merged", report.counts.merged},
                                         {"unchanged", report.counts.unchanged},
                                         {"skipped", skipped}},
                                        ""});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  if (!done) return std::unexpected(done.error());
  return report;
}

}  // namespace rempart::services
