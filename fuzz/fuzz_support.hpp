#pragma once
// Shared by the libFuzzer targets: a crash with a message when a property
// the production code promises does not hold (libFuzzer saves the input).
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/validate.hpp"

namespace rempart::fuzz {

[[noreturn]] inline void violated(const char* what) {
  std::fprintf(stderr, "property violated: %s\n", what);
  std::abort();
}

inline void require(bool ok, const char* what) {
  if (!ok) violated(what);
}

// Field paths and codes are stable tokens and never carry input
// (core/validate.hpp); an input that made them do so would leak into
// answers and logs.
inline bool is_token(std::string_view s) {
  if (s.empty() || s.size() > 96) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '[' ||
                    c == ']';
    if (!ok) return false;
  }
  return true;
}

inline void check_errors(const core::FieldErrors& errors) {
  require(!errors.empty(), "an error result names at least one field");
  for (const auto& e : errors) {
    require(is_token(e.field), "error field is a fixed token");
    require(is_token(e.code), "error code is a fixed token");
  }
}

// validate_submission is idempotent (core/validate.hpp): what it returns
// must validate again to itself, or the keeper's second validation of a
// stored submission would refuse or alter it.
inline void check_validated(const core::RawSubmission& raw, const core::IntakeOptions& opts) {
  auto p = core::validate_submission(raw, opts);
  if (!p) {
    check_errors(p.error());
    return;
  }
  auto again = core::validate_submission(core::to_raw(*p), opts);
  require(again.has_value(), "a validated person validates again");
  require(*again == *p, "validation is idempotent");
}

}  // namespace rempart::fuzz
