#pragma once
// Import of a CSV export from another CRM. Each row is validated like a
// sign-up and folded with the same dedup and merge rules, so re-running a
// file creates no duplicates. Rows land in transactions of whole rows: a row
// is written completely or not at all.
#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <string>
#include <vector>

#include "core/validate.hpp"
#include "crypto/keyring.hpp"
#include "services/records.hpp"
#include "store/store.hpp"

namespace rempart::services {

// rempart field name -> CSV header name. Targets: given_name, family_name,
// email, phone, postal_code, locality, country, tags, consent_email,
// consent_sms.
using ColumnMap = std::map<std::string, std::string>;

// Parses "given_name=Prénom,email=Courriel". Refuses unknown targets.
Result<ColumnMap> parse_column_map(std::string_view spec);

struct RowProblem {
  std::size_t line = 0;   // 1-based line in the file where the row starts
  std::string field;      // rempart field name or "row"
  std::string code;       // stable code; never the cell's content
};

struct ImportReport {
  std::size_t rows = 0;  // data rows read
  FoldCounts counts;     // created / merged / unchanged
  std::vector<RowProblem> problems;  // skipped rows, in file order
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
  core::IntakeOptions intake;  // validation rules (collect: all fields)
  std::size_t rows_per_transaction = kImportRowsPerTransaction;
  // Who runs the import, for the audit log ("operator:<unix user>").
  std::string actor = "operator:unknown";
  // Called after each committed transaction with the bytes consumed so far.
  std::function<void(std::uint64_t bytes, std::size_t rows)> progress;
};

// Every created, merged or unchanged row writes one audit entry (subject:
// the record id; details: {"via":"import"}) in the transaction that stores
// it, and the run ends with one `import.run` entry holding the counts.
// Reads `in` (header line first). Columns are matched by `map`; without a
// mapping for a field, a header equal to the field name (case-insensitive)
// is used. Fails (and stops) only on storage or crypto errors; bad rows are
// reported and skipped.
Result<ImportReport> import_csv(std::istream& in, const ColumnMap& map, store::KeeperStore& store,
                                const crypto::KeeperKeyring& keys, const ImportOptions& opts);

}  // namespace rempart::services
