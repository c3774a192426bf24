#pragma once
// One e-mail as the keeper and the guard describe it: addresses, UTF-8 text,
// an optional HTML alternative and attachments. Nothing here builds MIME: the
// SMTP transport hands the parts to libcurl's MIME API (mail/mime.hpp), which
// writes boundaries and transfer encodings. This file only checks a message
// and encodes the header values that libcurl takes as they are.
//
// Addresses are personal data: no function here logs, and no error message
// carries an address, a header value or a body (messages name the field).
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace rempart::mail {

struct Attachment {
  std::string filename;      // printable ASCII, no quote or backslash, 1..100 chars
  std::string content_type;  // "type/subtype" with optional "; param=value", ASCII
  std::string data;          // any bytes; sent as base64
};

struct Message {
  std::string return_path;   // envelope MAIL FROM (VERP later), plain address
  std::string from_address;  // plain address
  std::string from_name;     // display name, UTF-8 (organisation's name), may be empty
  std::string to;            // plain address (personal data: never log)
  std::string subject;       // UTF-8, one line
  std::string message_id;    // "left@right" without angle brackets; the header adds them
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers: List-Unsubscribe, Auto-Submitted, ...
  std::string text;          // text/plain body, UTF-8, required
  std::string html;          // optional text/html alternative, UTF-8
  std::vector<Attachment> attachments;
  // More recipients named in To beside `to`, for notices to staff (the
  // guard's alerts to the people on call). Mail to supporters leaves it
  // empty: one message, one recipient, so nobody sees another's address.
  std::vector<std::string> also_to = {};
};

// A bare addr-spec as SMTP and the To header take it: 3..254 printable ASCII
// characters with one '@' that is neither first nor last, and none of
// space, <, >, ",", ";", ":", '"', '(', ')', '[', ']', '\'. No display name,
// no comment, no list. Internationalised (UTF-8) addresses are not accepted
// here: store them as IDNA A-labels (core/validate does for domains).
bool is_plain_address(std::string_view a) noexcept;

// Everything send() relies on, checked before anything is sent:
// return_path, from_address, to and every also_to are plain addresses;
// from_name and subject are well-formed UTF-8 without control characters;
// message_id is "left@right" in printable ASCII without <, >, space or
// control characters; text is not empty; text and html are well-formed
// UTF-8 without NUL; every extra header has a field name of printable ASCII
// (no ':' or space) that is not one the message or libcurl writes itself
// (Date, From, To, Cc, Bcc, Subject, Message-ID, MIME-Version, Sender,
// Return-Path, Content-*) and a value of printable ASCII or tab (so no CR,
// LF or NUL can start a header of its own), the whole line at most 998
// octets; attachments as documented above.
// Errc::invalid_input naming the field or the header's name, never a value.
Result<void> check(const Message& m);

// `utf8` as RFC 2047 encoded-words ("=?UTF-8?B?...?="), base64 by libsodium,
// split on character boundaries so that every word decodes to whole
// characters and is at most 75 characters long; words after the first are
// preceded by a fold (CRLF and a space). `lead` is how many characters of
// the header line come before the first word ("Subject: " is 9), so that no
// line exceeds 76 characters (for a lead up to 60; a longer lead still gets
// a first word of at least one character). Empty input gives an empty
// string.
std::string encode_header_word(std::string_view utf8, std::size_t lead = 0);

// A header value as it is written after "Name: " (`lead` as above): `utf8`
// itself when it is printable ASCII, does not hold "=?" and the line fits in
// 78 characters; encoded-words otherwise.
std::string encode_unstructured(std::string_view utf8, std::size_t lead);

// The From (or To) mailbox: "addr" without a name, "Name <addr>" when the
// name is ASCII letters, digits, spaces and atext, "\"Na,me\" <addr>" for
// other printable ASCII, encoded-words (then " <addr>") otherwise.
std::string format_mailbox(std::string_view name, std::string_view address, std::size_t lead);

// RFC 5322 date in UTC, "Thu, 01 Jan 2026 00:00:00 +0000", whatever the
// process locale.
std::string format_date(std::chrono::system_clock::time_point t);

// The top-level headers, each one entry without its line end (folded
// entries hold CRLF SP inside): Date, From, To, Subject, Message-ID,
// MIME-Version, then the extra headers in order. Call check() first.
std::vector<std::string> top_headers(const Message& m, std::chrono::system_clock::time_point now);

}  // namespace rempart::mail
