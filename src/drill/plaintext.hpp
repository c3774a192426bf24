#pragma once
// What a thief looks for in bytes they got hold of (a copied data directory,
// an HTTP answer): the e-mail addresses and phone numbers of the drill's
// synthetic supporters, in clear. Only counts leave this class.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/error.hpp"

namespace rempart::drill {

class Needles {
 public:
  void add_email(std::string_view email);  // compared lower-case
  void add_phone(std::string_view e164);   // "+33199001234"
  std::size_t emails() const { return emails_.size(); }
  std::size_t phones() const { return phones_.size(); }

  // The distinct needles found so far by scan().
  struct Found {
    std::unordered_set<std::string> emails, phones;
    std::size_t records() const { return emails.size() + phones.size(); }
  };
  // Adds to `found` every needle `bytes` holds: e-mails as written
  // (any case), phones in E.164 with or without "+", or French national
  // form (0XXXXXXXXX), standing apart (not inside a run of letters and
  // digits, such as a hex id).
  void scan(std::string_view bytes, Found& found) const;
  // Drops the needles `bytes` holds, and says how many: values the attack
  // itself sends (the corpus has a test phone number that is also a
  // synthetic supporter's) are no finding where the attack stored them.
  std::size_t forget_found_in(std::string_view bytes);
  // scan() over a whole file, read in chunks that overlap by more than the
  // longest needle. Errc::io if it cannot be read.
  Result<void> scan_file(const std::filesystem::path& file, Found& found) const;

 private:
  std::unordered_set<std::string> emails_, phones_;
  std::size_t longest_ = 0;
};

// Whether an HTTP answer shows what a server must never show: SQL or
// database error text, a stack trace or exception text, a source path.
bool looks_like_internal_error(std::string_view body);

}  // namespace rempart::drill
