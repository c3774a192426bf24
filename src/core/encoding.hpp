#pragma once
// Character encodings of imported files. CRM exports are UTF-8, but a file
// saved by French Excel as "CSV (séparateur: point-virgule)" is Windows-1252;
// the CSV reader wants UTF-8, so such a file is converted (by ICU) on the fly.
// Nothing here logs or keeps file content; messages name lines and offsets.
#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

struct UConverter;

namespace rempart::core {

enum class Encoding { utf8, windows1252, latin1, utf16le, utf16be };

// "utf-8"/"utf8", "windows-1252"/"cp1252", "latin-1"/"latin1"/"iso-8859-1",
// "utf-16le", "utf-16be", in any case; nullopt for anything else.
std::optional<Encoding> parse_encoding(std::string_view name) noexcept;

// "utf-8", "windows-1252", "iso-8859-1", "utf-16le" or "utf-16be".
const char* encoding_name(Encoding e) noexcept;

// How much of a file detect_encoding() looks at.
inline constexpr std::size_t kEncodingSampleBytes = std::size_t{1} << 20;

// Where a sample stops being UTF-8.
struct Utf8Fault {
  std::uint64_t offset = 0;  // of the first byte that is not well-formed UTF-8
  std::uint64_t line = 1;    // 1-based line holding that byte
};

// The first ill-formed byte of `sample`, nullopt if it is all well-formed
// UTF-8. A sequence cut by the end of the sample is not a fault: the sample is
// a prefix of a file, and the rest of the character lies beyond it. Only the
// first 2 GiB of `sample` are looked at.
std::optional<Utf8Fault> first_invalid_utf8(std::string_view sample) noexcept;

// utf16le or utf16be for a sample that starts with that byte order mark, or
// whose NUL bytes fall on odd (LE) or even (BE) offsets as ASCII text in
// UTF-16 does (Excel's "Unicode text"); else utf8 if `sample` (a UTF-8 BOM
// allowed) is well-formed UTF-8 as defined by first_invalid_utf8(),
// windows1252 otherwise: the other encoding that spreadsheet exports use here. A file whose first
// kEncodingSampleBytes are ASCII is utf8 even if bytes beyond are not; the
// CSV reader then refuses those rows one by one as invalid UTF-8.
Encoding detect_encoding(std::string_view sample) noexcept;

// For a file read as UTF-8 that is not: names the line and suggests
// Windows-1252. Carries no byte of the file.
std::string not_utf8_message(const Utf8Fault& fault);

// Up to `max_bytes` from the current position of `in`, which is then put back
// where it was (so `in` must be seekable, as a file is). Errc::io if reading
// or rewinding fails.
Result<std::string> read_sample(std::istream& in, std::size_t max_bytes = kEncodingSampleBytes);

// A read-only stream buffer that yields the bytes of `source`, decoded from
// `from` by ICU and encoded as UTF-8. Memory stays constant (about 100 KiB)
// whatever the source size: the source is read and converted in chunks.
//
// UTF-8 needs no conversion, so open() refuses it: read the source directly
// (Utf8Input below makes that choice).
//
// Undefined bytes: Windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D
// undefined; they become U+FFFD (counted by replaced()), not the C1 controls
// ICU's table maps them to, which would otherwise reach stored text. In
// ISO-8859-1 every byte is defined: 0x80..0x9F are the C1 controls, which the
// field validators refuse.
//
// Progress: source_offset() is the number of bytes taken from `source` so
// far, at most one chunk (16 KiB) ahead of the converted bytes handed out.
// tellg() on an istream over this buffer returns that same count, so code
// that reports progress with tellg() keeps working; seeking is refused.
//
// Errors: a read error of `source` (its badbit) or a conversion failure
// throws std::ios_base::failure out of the buffer, which an istream reading
// through it turns into badbit, and CsvReader into Errc::io.
//
// Not thread-safe. Does not own `source`, which must outlive the buffer.
class Utf8Source final : public std::streambuf {
 public:
  // Errc::invalid_input for Encoding::utf8; Errc::internal if ICU cannot
  // open a converter.
  static Result<std::unique_ptr<Utf8Source>> open(std::istream& source, Encoding from);

  ~Utf8Source() override;
  Utf8Source(const Utf8Source&) = delete;
  Utf8Source& operator=(const Utf8Source&) = delete;

  std::uint64_t source_offset() const noexcept { return consumed_; }
  std::uint64_t replaced() const noexcept { return replaced_; }

 protected:
  int_type underflow() override;
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override;
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override;

 private:
  Utf8Source(std::istream& source, Encoding from, UConverter* decoder, UConverter* encoder);
  void read_source();
  void decode();
  void encode();

  std::istream& source_;
  Encoding from_;
  UConverter* decoder_;  // from_ to UTF-16
  UConverter* encoder_;  // UTF-16 to UTF-8
  std::vector<char> in_;
  std::size_t in_pos_ = 0;
  std::size_t in_end_ = 0;
  bool source_done_ = false;
  std::vector<char16_t> pivot_;
  std::size_t pivot_pos_ = 0;
  std::size_t pivot_end_ = 0;
  bool decoder_flushed_ = false;
  bool encoder_flushed_ = false;
  std::vector<char> out_;
  std::uint64_t consumed_ = 0;
  std::uint64_t replaced_ = 0;
};

// The UTF-8 view of a source: `source` itself for Encoding::utf8 (no copy,
// no conversion), otherwise an istream over a Utf8Source. In both cases
// stream().tellg() reports bytes of `source` consumed. CsvReader::offset()
// counts bytes of stream(): the file's own for UTF-8, converted ones
// otherwise, where converter()->source_offset() gives the file's.
//
// Not thread-safe. Does not own `source`, which must outlive this object.
class Utf8Input {
 public:
  // Fails as Utf8Source::open() does, never for Encoding::utf8.
  static Result<std::unique_ptr<Utf8Input>> open(std::istream& source, Encoding enc);

  Utf8Input(const Utf8Input&) = delete;
  Utf8Input& operator=(const Utf8Input&) = delete;

  std::istream& stream() noexcept { return converted_ ? *converted_ : source_; }
  // The converter, or nullptr when the source is read directly.
  const Utf8Source* converter() const noexcept { return converter_.get(); }

 private:
  explicit Utf8Input(std::istream& source) : source_(source) {}

  std::istream& source_;
  std::unique_ptr<Utf8Source> converter_;
  std::unique_ptr<std::istream> converted_;
};

}  // namespace rempart::core
