// CSV import rows: the reader must end, resynchronise after bad rows, hand
// out only well-formed UTF-8 within its row size limit, and do linear work.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "core/csv.hpp"
#include "core/text.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  rempart::core::CsvReader reader(in);
  // Every call consumes at least one line or ends, so rows + errors are
  // bounded by the number of lines; the margin catches a reader that loops.
  const std::size_t bound = size + 2;
  for (std::size_t i = 0;; ++i) {
    rempart::fuzz::require(i <= bound, "the reader makes progress");
    auto row = reader.next();
    if (!row) continue;
    if (!*row) break;
    std::size_t bytes = 0;
    for (const auto& f : (*row)->fields) {
      rempart::fuzz::require(rempart::core::text::is_valid_utf8(f), "fields are well-formed UTF-8");
      bytes += f.size();
    }
    rempart::fuzz::require(bytes <= rempart::core::CsvReader::kMaxRowBytes, "rows respect the size limit");
  }
  // Hostile input must not make the reader rescan the same bytes over and
  // over (core/csv.hpp promises linear work).
  rempart::fuzz::require(reader.bytes_examined() <= 8 * (size + 1), "the reader's work is linear");
  return 0;
}
