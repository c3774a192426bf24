#pragma once
// The injection corpus the drill posts to the public endpoints: every line
// of tests/attack/payloads/*.txt, embedded at build time
// (src/drill/CMakeLists.txt), decoded as tests/attack/payloads.py does.
#include <string>
#include <string_view>
#include <vector>

namespace rempart::drill {

struct Payload {
  std::string_view family;  // the file's stem: "sql", "unicode", ...
  std::string bytes;        // may hold any byte, invalid UTF-8 included
};

// One corpus line to its bytes. Escapes: \r \n \t \0 \\ \xHH (a raw byte)
// \uXXXX \U00XXXXXX (UTF-8, surrogates encoded as they are); "@repeat N
// text" is text N times. A backslash before anything else stays.
std::string decode_payload_line(std::string_view line);

// Every payload of the embedded corpus, in file then line order. Lines that
// are empty, "#" or start with "# " are comments.
std::vector<Payload> payload_corpus();

}  // namespace rempart::drill
