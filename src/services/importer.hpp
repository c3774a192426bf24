#pragma once
// Import of a CSV export from another CRM (docs/import.md). Each row is
// validated like a sign-up and folded with the same dedup and merge rules,
// so re-running a file creates no duplicates; a bad optional field is left
// out with a warning instead of losing the person. Rows land in
// transactions of whole rows: a row is written completely or not at all.
#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <string>
#include <vector>

#include "core/validate.hpp"
#include "crypto/keyring.hpp"
#include "services/import_spec.hpp"
#include "services/records.hpp"
#include "store/store.hpp"

namespace rempart::services {

// One problem with one row, found while reading it. Names the line and the
// column (its header), never the cell's content.
struct ImportIssue {
  std::size_t line = 0;  // 1-based line in the file where the row starts
  std::string column;    // the column's header; "" for the row as a whole
  std::string code;      // stable code: invalid_phone, invalid_tag, unrecognised_consent, ...
  bool rejects = false;  // the row was not imported (no usable e-mail or phone, or unreadable)
  std::size_t other_line = 0;  // name_differs: the line of the row it was merged with (0: a record from before)
};

struct ImportReport {
  std::vector<ColumnUse> columns;  // every column of the file and what was done with it
  std::size_t rows = 0;            // data rows read
  FoldCounts counts;               // created / merged / unchanged (dry run: merged counts both)
  std::size_t rejected = 0;        // rows not imported
  std::vector<ImportIssue> issues; // in file order
  // Consent read per target ("consent_email", "consent_sms"): how many
  // rows said yes, no, or nothing (unknown); a target without a column is
  // absent.
  std::map<std::string, std::map<std::string, std::size_t>> consent;
  bool dry_run = false;

  std::size_t warnings() const { return issues.size() - rejections(); }
  std::size_t rejections() const;  // issues that reject (a rejected row may have several)
};

// Rows per transaction unless told otherwise. The blind indexes are random
// keys, so each commit writes again nearly every page of the e-mail index
// that its rows touched: larger transactions write less. 120,000 rows took
// 3.76 / 3.91 / 3.86 s in 1,000-row transactions and 2.99 / 2.78 / 2.77 s
// in 5,000-row ones (alternated runs; WAL writes 177,887 -> 80,355 `pwrite`s,
// docs/benchmarks.md); 4,000 and 8,000 were no better. A transaction
// holds the database's write lock that long (under strace, which slows the
// import 2.3-2.7 times: 74-78 ms median, 146 ms at most at 5,000 rows;
// 30 ms and 43 ms at 1,000), so a keeper or an intake serving the same
// database waits up to that; an import during a surge can ask for less
// (`--rows-per-transaction`).
inline constexpr std::size_t kImportRowsPerTransaction = 5000;

struct ImportOptions {
  // Validation rules. An import keeps every field the file has, street
  // included, whatever the sign-up form collects.
  core::IntakeOptions intake{.collect = {"given_name", "family_name", "email", "phone", "street", "postal_code",
                                         "locality", "country"}};
  std::size_t rows_per_transaction = kImportRowsPerTransaction;
  // Who runs the import, for the audit log ("operator:<unix user>").
  std::string actor = "operator:unknown";
  // Read and report without writing a record: rows that would land, merge
  // (into a record from before or an earlier row) or be rejected.
  bool dry_run = false;
  // Recorded with each consent statement the file makes: "import:<tool>:<its
  // fingerprint>" (ImportSpec's preset names the tool; "csv" without one).
  std::string file_fingerprint;
  // Called once the header is read and the columns matched, before any
  // record is written; an error returned stops the import there.
  std::function<Result<void>(const ImportPlan&)> on_plan;
  // Called after each committed transaction with the bytes consumed so far.
  std::function<void(std::uint64_t bytes, std::size_t rows)> progress;
};

// Reads one data row as the import does: each column by the plan, a bad
// optional field left out with a warning (names, postcode, locality,
// country, a tag, a consent value nobody recognises), a French postcode
// whose leading zero a spreadsheet dropped restored with a warning. The
// row is rejected (nullopt) only when no usable e-mail or phone remains.
// `issues` receives what was found, in column order.
// What a row says besides the person.
struct RowSource {
  std::string id;                        // the source system's id ("" when none)
  std::optional<std::int64_t> joined_at; // its sign-up date, unix seconds
  std::map<std::string, Choice> consent; // per consent target read
};

std::optional<core::Person> read_row(const ImportPlan& plan, const std::vector<std::string>& cells,
                                     std::size_t line, const core::IntakeOptions& intake,
                                     std::vector<ImportIssue>& issues, RowSource* source = nullptr);

// A date as exports write it: 2019-03-04, 2019-03-04T10:00:00Z or with an
// offset (-05:00), "2019-03-04 10:00:00", 04/03/2019 (day first). Unix
// seconds, or nullopt.
std::optional<std::int64_t> parse_export_date(std::string_view text);

// Every created, merged or unchanged row writes one audit entry (subject:
// the record id; details: {"via":"import"}) in the transaction that stores
// it, and the run ends with one `import.run` entry holding the counts (a
// dry run writes that entry alone, with "dry_run": true). Reads `in` (UTF-8,
// header line first). Fails (and stops) on storage or crypto errors, on a
// header the spec cannot be applied to, or when on_plan says so; bad rows
// are reported and skipped, bad optional fields left out.
Result<ImportReport> import_csv(std::istream& in, const ImportSpec& spec, store::KeeperStore& store,
                                const crypto::KeeperKeyring& keys, const ImportOptions& opts);

}  // namespace rempart::services
