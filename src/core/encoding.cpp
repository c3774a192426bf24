#include "core/encoding.hpp"

#include <unicode/ucnv.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

namespace rempart::core {

namespace {

// Chunk sizes: a source chunk decodes to at most as many UTF-16 units (the
// supported encodings use one byte or more per unit), which encode to at
// most 3 bytes each (a surrogate pair, 2 units, to 4).
constexpr std::size_t kSourceChunk = 16 * 1024;
constexpr std::size_t kPivotUnits = kSourceChunk;
constexpr std::size_t kOutBytes = 3 * kPivotUnits;

const char* icu_name(Encoding e) noexcept {
  switch (e) {
    case Encoding::utf8: return "UTF-8";
    case Encoding::windows1252: return "windows-1252";
    case Encoding::latin1: return "ISO-8859-1";
    case Encoding::utf16le: return "UTF-16LE";
    case Encoding::utf16be: return "UTF-16BE";
  }
  return "UTF-8";
}

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b) noexcept {
  return std::ranges::equal(a, b, [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

struct ConverterCloser {
  void operator()(UConverter* c) const noexcept { ucnv_close(c); }
};
using ConverterPtr = std::unique_ptr<UConverter, ConverterCloser>;

Result<ConverterPtr> open_converter(const char* name) {
  UErrorCode err = U_ZERO_ERROR;
  ConverterPtr c(ucnv_open(name, &err));
  // "windows-1252" is an alias several tables share: ICU warns and picks
  // Microsoft's, which is the one wanted.
  if (U_FAILURE(err) || !c) {
    return fail(Errc::internal, std::string("encoding: ICU has no converter for ") + name + " (" +
                                    u_errorName(err) + ")");
  }
  return c;
}

}  // namespace

std::optional<Encoding> parse_encoding(std::string_view name) noexcept {
  static constexpr std::array<std::pair<std::string_view, Encoding>, 11> kNames{{
      {"utf-8", Encoding::utf8},
      {"utf8", Encoding::utf8},
      {"windows-1252", Encoding::windows1252},
      {"cp1252", Encoding::windows1252},
      {"latin-1", Encoding::latin1},
      {"latin1", Encoding::latin1},
      {"iso-8859-1", Encoding::latin1},
      {"utf-16le", Encoding::utf16le},
      {"utf16le", Encoding::utf16le},
      {"utf-16be", Encoding::utf16be},
      {"utf16be", Encoding::utf16be},
  }};
  for (const auto& [n, e] : kNames) {
    if (equals_ignoring_ascii_case(name, n)) return e;
  }
  return std::nullopt;
}

const char* encoding_name(Encoding e) noexcept {
  switch (e) {
    case Encoding::utf8: return "utf-8";
    case Encoding::windows1252: return "windows-1252";
    case Encoding::latin1: return "iso-8859-1";
    case Encoding::utf16le: return "utf-16le";
    case Encoding::utf16be: return "utf-16be";
  }
  return "utf-8";
}

std::optional<Utf8Fault> first_invalid_utf8(std::string_view sample) noexcept {
  const auto* s = reinterpret_cast<const std::uint8_t*>(sample.data());
  const auto len = static_cast<std::int32_t>(std::min<std::size_t>(sample.size(), INT32_MAX));
  std::uint64_t line = 1;
  std::int32_t i = 0;
  while (i < len) {
    if (s[i] < 0x80) {
      if (s[i] == '\n') ++line;
      ++i;
      continue;
    }
    const std::int32_t start = i;
    UChar32 c = 0;
    U8_NEXT(s, i, len, c);
    if (c < 0) {
      // U8_NEXT steps over the longest prefix that could still become a
      // character: if that reaches the end, the sample merely cut it.
      if (i == len && U8_IS_LEAD(s[start])) return std::nullopt;
      return Utf8Fault{static_cast<std::uint64_t>(start), line};
    }
  }
  return std::nullopt;
}

Encoding detect_encoding(std::string_view sample) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(sample[i]); };
  if (sample.size() >= 2 && byte(0) == 0xFF && byte(1) == 0xFE) return Encoding::utf16le;
  if (sample.size() >= 2 && byte(0) == 0xFE && byte(1) == 0xFF) return Encoding::utf16be;
  std::size_t even_nul = 0;
  std::size_t odd_nul = 0;
  for (std::size_t i = 0; i < sample.size(); ++i) {
    if (sample[i] == '\0') ++(i % 2 == 0 ? even_nul : odd_nul);
  }
  // Text has no NUL; UTF-16 of mostly-ASCII text has one every other byte.
  if (odd_nul >= 2 && odd_nul > sample.size() / 8 && odd_nul > 4 * even_nul) return Encoding::utf16le;
  if (even_nul >= 2 && even_nul > sample.size() / 8 && even_nul > 4 * odd_nul) return Encoding::utf16be;
  return first_invalid_utf8(sample) ? Encoding::windows1252 : Encoding::utf8;
}

std::string not_utf8_message(const Utf8Fault& fault) {
  return "the file is not UTF-8 (first bad byte at line " + std::to_string(fault.line) +
         "); try --encoding windows-1252";
}

Result<std::string> read_sample(std::istream& in, std::size_t max_bytes) {
  const auto start = in.tellg();
  if (start < 0) return fail(Errc::io, "encoding: the input cannot be read twice (not seekable)");
  std::string sample(max_bytes, '\0');
  in.read(sample.data(), static_cast<std::streamsize>(max_bytes));
  if (in.bad()) return fail(Errc::io, "encoding: read error in the first " + std::to_string(max_bytes) + " bytes");
  sample.resize(static_cast<std::size_t>(in.gcount()));
  in.clear();
  in.seekg(start);
  if (!in) return fail(Errc::io, "encoding: the input cannot be rewound");
  return sample;
}

// --- Utf8Source ---------------------------------------------------------------

Result<std::unique_ptr<Utf8Source>> Utf8Source::open(std::istream& source, Encoding from) {
  if (from == Encoding::utf8) {
    return fail(Errc::invalid_input, "encoding: UTF-8 input is read as it is, not converted");
  }
  auto decoder = open_converter(icu_name(from));
  if (!decoder) return propagate(decoder);
  auto encoder = open_converter("UTF-8");
  if (!encoder) return propagate(encoder);
  return std::unique_ptr<Utf8Source>(new Utf8Source(source, from, decoder->release(), encoder->release()));
}

Utf8Source::Utf8Source(std::istream& source, Encoding from, UConverter* decoder, UConverter* encoder)
    : source_(source),
      from_(from),
      decoder_(decoder),
      encoder_(encoder),
      in_(kSourceChunk),
      pivot_(kPivotUnits),
      out_(kOutBytes) {
  setg(out_.data(), out_.data(), out_.data());
}

Utf8Source::~Utf8Source() {
  ucnv_close(decoder_);
  ucnv_close(encoder_);
}

void Utf8Source::read_source() {
  source_.read(in_.data(), static_cast<std::streamsize>(in_.size()));
  if (source_.bad()) throw std::ios_base::failure("encoding: the source could not be read");
  const auto n = static_cast<std::size_t>(source_.gcount());
  in_pos_ = 0;
  in_end_ = n;
  consumed_ += n;
  if (n < in_.size()) source_done_ = true;
}

void Utf8Source::decode() {
  const char* src = in_.data() + in_pos_;
  const char* const src_end = in_.data() + in_end_;
  UChar* target = pivot_.data();
  const bool flush = source_done_;
  UErrorCode err = U_ZERO_ERROR;
  ucnv_toUnicode(decoder_, &target, pivot_.data() + pivot_.size(), &src, src_end, nullptr, flush, &err);
  const bool full = err == U_BUFFER_OVERFLOW_ERROR;
  if (U_FAILURE(err) && !full) throw std::ios_base::failure("encoding: ICU could not decode the source");
  in_pos_ = static_cast<std::size_t>(src - in_.data());
  pivot_pos_ = 0;
  pivot_end_ = static_cast<std::size_t>(target - pivot_.data());
  if (flush && !full && in_pos_ == in_end_) decoder_flushed_ = true;
  if (from_ == Encoding::windows1252) {
    // ICU decodes Windows-1252's five undefined bytes to C1 controls, the
    // only C1 code points its table yields.
    for (std::size_t k = 0; k < pivot_end_; ++k) {
      if (pivot_[k] >= 0x80 && pivot_[k] <= 0x9F) {
        pivot_[k] = 0xFFFD;
        ++replaced_;
      }
    }
  }
}

void Utf8Source::encode() {
  const UChar* src = pivot_.data() + pivot_pos_;
  char* target = out_.data();
  // Once the decoder is flushed, the pivot holds the last of the text.
  const bool flush = decoder_flushed_;
  UErrorCode err = U_ZERO_ERROR;
  ucnv_fromUnicode(encoder_, &target, out_.data() + out_.size(), &src, pivot_.data() + pivot_end_, nullptr, flush,
                   &err);
  const bool full = err == U_BUFFER_OVERFLOW_ERROR;
  if (U_FAILURE(err) && !full) throw std::ios_base::failure("encoding: ICU could not encode UTF-8");
  pivot_pos_ = static_cast<std::size_t>(src - pivot_.data());
  if (flush && !full && pivot_pos_ == pivot_end_) encoder_flushed_ = true;
  setg(out_.data(), out_.data(), target);
}

Utf8Source::int_type Utf8Source::underflow() {
  while (gptr() == egptr()) {
    if (encoder_flushed_) return traits_type::eof();
    if (pivot_pos_ == pivot_end_ && !decoder_flushed_) {
      if (in_pos_ == in_end_ && !source_done_) read_source();
      decode();
    }
    encode();
  }
  return traits_type::to_int_type(*gptr());
}

Utf8Source::pos_type Utf8Source::seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) {
  // Only the position query tellg() makes is answered, in source bytes.
  if (off == 0 && dir == std::ios_base::cur && (which & std::ios_base::in)) {
    return pos_type(static_cast<off_type>(consumed_));
  }
  return pos_type(off_type(-1));
}

Utf8Source::pos_type Utf8Source::seekpos(pos_type, std::ios_base::openmode) { return pos_type(off_type(-1)); }

// --- Utf8Input ----------------------------------------------------------------

Result<std::unique_ptr<Utf8Input>> Utf8Input::open(std::istream& source, Encoding enc) {
  std::unique_ptr<Utf8Input> input(new Utf8Input(source));
  if (enc == Encoding::utf8) return input;
  auto converter = Utf8Source::open(source, enc);
  if (!converter) return propagate(converter);
  input->converter_ = std::move(*converter);
  input->converted_ = std::make_unique<std::istream>(input->converter_.get());
  return input;
}

}  // namespace rempart::core
