// `rempart supporters import` (docs/import.md): the columns the file will
// be read by, listed before anything is written; the rows imported; a
// summary with counts, warnings by column and the consent read; every issue
// in --report FILE. Nothing printed or written holds a cell's content: lines,
// column headers and codes only.
#include <sodium.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <iostream>
#include <map>

#include "audit/chain.hpp"
#include "cli/commands.hpp"
#include "cli/keeper_access.hpp"
#include "cli/progress.hpp"
#include "core/encoding.hpp"
#include "services/importer.hpp"

namespace rempart::cli {
namespace {

namespace fs = std::filesystem;

// What an issue's code means, for people.
std::string_view describe(std::string_view code) {
  static const std::map<std::string_view, std::string_view> kWords = {
      {"invalid_phone", "not a phone number of the row's country (left out)"},
      {"invalid_email", "not an e-mail address (left out)"},
      {"invalid_name", "not a name (left out)"},
      {"invalid_postal_code", "not a postcode (left out)"},
      {"invalid_country", "not a country code or name (left out)"},
      {"invalid_tag", "a tag that is not a label (that tag left out)"},
      {"too_many_tags", "more tags than a record holds (the first ones kept)"},
      {"too_many", "more tags than a record holds (left out)"},
      {"too_long", "longer than the field holds (left out)"},
      {"invalid_utf8", "not text (left out)"},
      {"forbidden_characters", "control or invisible characters (left out)"},
      {"unrecognised_consent", "a consent value neither yes nor no (consent left unknown; --yes-value/--no-value)"},
      {"leading_zero_restored", "a French postcode of four digits: its leading zero restored"},
      {"name_differs", "merged with another row or record of the same e-mail or phone whose name differs"},
      {"no_usable_contact", "rejected: no usable e-mail or phone"},
      {"no_email_or_phone", "rejected: neither an e-mail nor a phone"},
      {"invalid_date", "not a date (left out)"},
      {"malformed_row", "rejected: the line is not CSV (an unclosed quote, or not text)"},
  };
  const auto it = kWords.find(code);
  return it != kWords.end() ? it->second : code;
}

std::string csv_cell(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string with_commas(std::size_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

// BLAKE2b-128 of the file, streamed, as 32 hex digits: names the file in
// the consent log ("import:<tool>:<this>") without holding any of it.
Result<std::string> file_fingerprint(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(Errc::not_found, "cannot read " + file.string());
  crypto_generichash_state st;
  constexpr std::size_t kOut = 16;
  crypto_generichash_init(&st, nullptr, 0, kOut);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = in.gcount();
    if (n > 0) crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(buf.data()), static_cast<unsigned long long>(n));
  }
  if (in.bad()) return fail(Errc::io, "cannot read " + file.string());
  std::array<std::uint8_t, kOut> h{};
  crypto_generichash_final(&st, h.data(), h.size());
  return audit::to_hex(h);
}

// Characters of a UTF-8 header (not bytes), to line the columns up.
std::size_t chars(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string padded(const std::string& h, std::size_t width) {
  const std::size_t n = chars(h);
  return n >= width ? h : h + std::string(width - n, ' ');
}

void print_plan(const services::ImportPlan& plan, const std::string& file, std::string_view encoding) {
  std::cout << "rempart: reading " << file << " (" << encoding << ")"
            << (plan.preset == services::Preset::none ? "" : " as ")
            << (plan.preset == services::Preset::none ? "" : services::preset_name(plan.preset)) << "\n";
  std::size_t width = 0;
  for (const auto& c : plan.columns) width = std::max(width, chars(c.header));
  width = std::min<std::size_t>(width, 32);
  for (const auto& c : plan.columns) {
    if (!c.target.empty()) {
      std::cout << "  " << padded(c.header, width) << "  -> " << c.target
                << (c.inverted ? " (inverted: 1 means no)" : "") << "\n";
    }
  }
  const auto unused = plan.unused();
  if (!unused.empty()) std::cout << "rempart: " << unused.size() << " columns will not be imported:\n";
  for (const auto* c : unused) std::cout << "  " << padded(c->header, width) << "  " << c->why << "\n";
}

}  // namespace

int run_import(const ImportArgs& a) {
  services::ImportSpec spec;
  auto preset = services::parse_preset(a.preset);
  if (!preset) return report(preset.error());
  spec.preset = *preset;
  for (const auto& m : a.map) {
    auto parsed = services::parse_column_map(m);
    if (!parsed) return report(parsed.error());
    for (auto& [t, h] : *parsed) spec.map[t] = h;
  }
  spec.ignore = a.ignore;
  spec.yes_values = a.yes_values;
  spec.no_values = a.no_values;
  spec.inverted = a.invert;

  std::ifstream in(a.file, std::ios::binary);
  if (!in) return report(Error{Errc::not_found, "cannot read " + a.file.string()});
  // The encoding: chosen, or read from the first MiB. A file that is UTF-8
  // for a while and then is not could be either: the operator says which.
  auto sample = core::read_sample(in);
  if (!sample) return report(sample.error());
  core::Encoding encoding = core::Encoding::utf8;
  if (!a.encoding.empty()) {
    const auto chosen = core::parse_encoding(a.encoding);
    if (!chosen) return report(Error{Errc::invalid_input, "unknown --encoding '" + a.encoding + "': use utf-8, windows-1252, latin-1, utf-16le or utf-16be"});
    encoding = *chosen;
  } else {
    encoding = core::detect_encoding(*sample);
    const auto bad = core::first_invalid_utf8(*sample);
    if (encoding == core::Encoding::windows1252 && bad) {
      const std::string_view before = std::string_view(*sample).substr(0, bad->offset);
      const bool utf8_before =
          std::any_of(before.begin(), before.end(), [](char c) { return (static_cast<unsigned char>(c) & 0x80) != 0; });
      if (utf8_before) {
        return report(Error{Errc::invalid_input, "the file is UTF-8 up to line " + std::to_string(bad->line) +
                                                     ", then not: choose --encoding utf-8 (those rows are rejected) or "
                                                     "--encoding windows-1252"});
      }
    }
  }
  auto input = core::Utf8Input::open(in, encoding);
  if (!input) return report(input.error());
  std::ofstream report_out;
  if (!a.report_file.empty()) {
    report_out.open(a.report_file, std::ios::binary | std::ios::trunc);
    if (!report_out) return report(Error{Errc::io, "cannot write the report to " + a.report_file.string()});
  }
  auto k = open_keeper(a.config, KeeperUse::bulk);
  if (!k) return report(k.error());
  std::error_code ec;
  const auto total = fs::file_size(a.file, ec);
  ProgressBar bar(a.progress);
  services::ImportOptions opts;
  opts.intake.default_region = k->config.intake.default_region;
  opts.intake.max_tags = k->config.intake.max_tags;
  opts.actor = operator_actor();
  opts.rows_per_transaction = a.rows_per_transaction;
  opts.dry_run = a.dry_run;
  auto fp = file_fingerprint(a.file);
  if (!fp) return report(fp.error());
  opts.file_fingerprint = *fp;
  const std::string name = a.file.filename().string();
  opts.on_plan = [&](const services::ImportPlan& plan) -> Result<void> {
    print_plan(plan, name, core::encoding_name(encoding));
    if (a.dry_run) std::cout << "rempart: dry run: nothing will be written\n";
    std::cout.flush();
    return {};
  };
  opts.progress = [&](std::uint64_t bytes, std::size_t rows) {
    const auto* converter = (*input)->converter();
    const auto read = converter != nullptr ? converter->source_offset() : bytes;  // of the file, not of its UTF-8
    bar.draw(total == 0 || ec ? 1.0 : std::min(1.0, static_cast<double>(read) / static_cast<double>(total)),
             std::to_string(rows) + " rows");
  };
  auto r = services::import_csv((*input)->stream(), spec, *k->store, k->keys, opts);
  bar.finish();
  k->checkpoint_on_exit();
  if (!r) return report(r.error());

  if (report_out.is_open()) {
    report_out << "line,column,code,reason,other_line\n";
    for (const auto& i : r->issues) {
      report_out << i.line << "," << csv_cell(i.column) << "," << i.code << "," << csv_cell(describe(i.code)) << ","
                 << (i.other_line != 0 ? std::to_string(i.other_line) : "") << "\n";
    }
    report_out.flush();
    if (!report_out) return report(Error{Errc::io, "cannot write the report to " + a.report_file.string()});
  }

  // The first issues here, all of them in --report.
  constexpr std::size_t kShown = 20;
  for (std::size_t n = 0; n < r->issues.size() && n < kShown; ++n) {
    const auto& i = r->issues[n];
    std::cerr << name << ":" << i.line << ": " << (i.column.empty() ? "" : i.column + ": ") << describe(i.code);
    if (i.code == "name_differs") {
      std::cerr << (i.other_line != 0 ? " (line " + std::to_string(i.other_line) + ")" : " (a record from before)");
    }
    std::cerr << "\n";
  }
  if (r->issues.size() > kShown) {
    std::cerr << "rempart: " << r->issues.size() - kShown << " more issues"
              << (a.report_file.empty() ? " (--report FILE lists them all)" : " in " + a.report_file.string()) << "\n";
  }

  std::map<std::pair<std::string, std::string>, std::size_t> by_column;
  for (const auto& i : r->issues) {
    if (!i.rejects) ++by_column[{i.column.empty() ? "(row)" : i.column, i.code}];
  }
  if (!by_column.empty()) {
    std::cout << "rempart: warnings by column:\n";
    for (const auto& [key, n] : by_column) std::cout << "  " << key.first << ": " << key.second << " x" << n << "\n";
  }
  for (const auto& [t, counts] : r->consent) {
    auto at = [&](const char* c) { return counts.contains(c) ? counts.at(c) : 0; };
    std::cout << "rempart: " << t << ": " << with_commas(at("yes")) << " yes, " << with_commas(at("no")) << " no, "
              << with_commas(at("unknown")) << " unknown\n";
  }
  if (r->consent.empty()) std::cout << "rempart: no consent column: consent stays unknown\n";
  const std::size_t landed = r->counts.created + r->counts.merged + r->counts.unchanged;
  if (a.dry_run) {
    std::cout << "rempart: dry run: " << with_commas(r->rows) << " rows: " << with_commas(r->counts.created)
              << " would be new, " << with_commas(r->counts.merged) << " would merge, " << with_commas(r->rejected)
              << " would be rejected; " << with_commas(r->warnings()) << " warnings\n";
  } else {
    std::cout << "rempart: " << with_commas(r->rows) << " rows: " << with_commas(landed) << " imported ("
              << with_commas(r->counts.created) << " new, " << with_commas(r->counts.merged) << " merged, "
              << with_commas(r->counts.unchanged) << " already known), " << with_commas(r->rejected)
              << " rejected; " << with_commas(r->warnings()) << " warnings\n";
  }
  if (r->counts.suppressed != 0) {
    std::cout << "rempart: " << with_commas(r->counts.suppressed)
              << (a.dry_run ? " would be left out: " : " left out: ")
              << "people who asked to be erased (a new sign-up of their own brings them back)\n";
  }
  return r->rejected != 0 ? 3 : 0;
}

}  // namespace rempart::cli
