#pragma once
// TEST-ONLY. A real SMTP server for the mail layer's tests: aiosmtpd
// (tests/support/smtp_server.py) saving each message it accepts as a file.
//
// When REMPART_TEST_SMTP_URL and REMPART_TEST_SMTP_DIR are both set, the
// tests use that already-running server (scripts/test may start one per
// stage); otherwise the first call to smtp_server() spawns one for this test
// binary, on a free port of 127.0.0.1, which ends with the binary (SIGTERM
// at exit, and end of file on its stdin if the binary dies). Tests tell
// their messages apart by a recipient address of their own
// (unique_address()), never by order.
//
// decode() hands a received message to Python's email package, a real MIME
// parser, so tests assert on decoded content, not on our own reading of it.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

extern "C" char** environ;

namespace rempart::mail::testing {

inline constexpr const char* kPython = "/usr/bin/python3";  // Debian's, with python3-aiosmtpd

// Runs `argv` (argv[0] a path) and returns its stdout, nullopt if it could
// not start or exited non-zero.
inline std::optional<std::string> run_capture(const std::vector<std::string>& argv) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return std::nullopt;
  }
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return text;
}

struct SmtpServer {
  std::string url;              // smtp://127.0.0.1:PORT
  std::filesystem::path dir;    // where it saves messages
  std::string error;            // why there is no server ("" when there is one)
};

namespace detail {

// A test server script (tests/support/*.py) spawned for this binary: it
// prints its port as its first line and stops at the end of its stdin.
class SpawnedServer {
 public:
  // `script` is run as `python3 script --dir DIR/<subdir> --exit-with-stdin`;
  // the URL is "<scheme>://127.0.0.1:PORT".
  SpawnedServer(const char* script, const char* scheme, const char* subdir) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rempart-mail-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      server_.error = "mkdtemp failed";
      return;
    }
    own_dir_ = tmpl;
    server_.dir = own_dir_ / subdir;
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
      server_.error = "pipe failed";
      return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    std::vector<std::string> argv = {kPython, script, "--dir", server_.dir.string(),
                                     "--exit-with-stdin"};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, kPython, &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];  // held open: the server stops at its end of file
    if (rc != 0) {
      pid_ = -1;
      ::close(out[0]);
      server_.error = std::string("cannot start ") + kPython + " (scripts/deps test installs it)";
      return;
    }
    std::string line;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < end) {
      pollfd p{out[0], POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[64];
      const ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    const int port = std::atoi(line.c_str());
    if (port <= 0) {
      server_.error = std::string(script) + " did not start (scripts/deps test installs what it needs)";
      return;
    }
    server_.url = std::string(scheme) + "://127.0.0.1:" + std::to_string(port);
  }
  ~SpawnedServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      bool gone = false;
      for (int i = 0; i < 100 && !gone; ++i) {
        gone = ::waitpid(pid_, nullptr, WNOHANG) == pid_;
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!gone) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
    }
    if (stdin_ >= 0) ::close(stdin_);
    std::error_code ec;
    if (!own_dir_.empty()) std::filesystem::remove_all(own_dir_, ec);
  }
  SpawnedServer(const SpawnedServer&) = delete;
  SpawnedServer& operator=(const SpawnedServer&) = delete;

  const SmtpServer& server() const { return server_; }

 private:
  SmtpServer server_;
  std::filesystem::path own_dir_;
  pid_t pid_ = -1;
  int stdin_ = -1;
};

}  // namespace detail

// The server for this binary's tests; check error before use.
inline const SmtpServer& smtp_server() {
  const char* url = std::getenv("REMPART_TEST_SMTP_URL");
  const char* dir = std::getenv("REMPART_TEST_SMTP_DIR");
  if (url != nullptr && dir != nullptr && *url != '\0' && *dir != '\0') {
    static const SmtpServer given{url, dir, ""};
    return given;
  }
  static const detail::SpawnedServer spawned(REMPART_SMTP_SERVER_SCRIPT, "smtp", "received");
  return spawned.server();
}

// A recipient no other test (of this or another process) uses:
// "<tag>-<pid>-<n>-<random>@example.org". A tag starting with "tempfail" or
// "permfail" makes the server refuse it.
inline std::string unique_address(std::string_view tag) {
  static std::atomic<unsigned> n{0};
  std::random_device rd;
  return std::string(tag) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n) + "-" +
         std::to_string(rd() % 1000000) + "@example.org";
}

// The saved file of the message whose envelope names `rcpt`, waiting up to
// `limit` for it; nullopt if none came.
inline std::optional<std::string> received_for(std::string_view rcpt, std::chrono::milliseconds limit) {
  const std::string marker = "X-Envelope-To: " + std::string(rcpt) + "\r\n";
  const auto end = std::chrono::steady_clock::now() + limit;
  const auto& dir = smtp_server().dir;
  do {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().filename().string().starts_with(".")) continue;  // still being written
      std::ifstream in(e.path(), std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const auto head = text.find("\r\n\r\n");
      if (text.substr(0, head).find(marker) != std::string::npos) return text;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < end);
  return std::nullopt;
}

// What Python's email package reads in a saved message, as JSON:
//   headers: {lowercase name: [{raw, decoded}]} (raw as written, folds
//            included; decoded by email.header.decode_header/make_header),
//   subject, from_name, from_address: as email.policy.default reads them,
//   parts: [{type, charset, cte, filename, disposition, text (leaf parts:
//           decoded, as UTF-8 unless a charset says otherwise; CRLF as LF
//           in text/* parts), hex (the decoded bytes)}] in walk() order,
//   defects: what the parser complained of.
inline std::optional<nlohmann::json> decode(const std::string& saved) {
  static constexpr const char* kScript = R"PY(
import email, json, sys
from email import policy
from email.header import decode_header, make_header
raw = open(sys.argv[1], 'rb').read()
old = email.message_from_bytes(raw, policy=policy.compat32)
headers = {}
for k, v in old.items():
    headers.setdefault(k.lower(), []).append({'raw': str(v), 'decoded': str(make_header(decode_header(v)))})
parts = []
for p in old.walk():
    e = {'type': p.get_content_type(), 'charset': p.get_content_charset(), 'cte': p.get('Content-Transfer-Encoding'),
         'filename': p.get_filename(), 'disposition': p.get_content_disposition()}
    if not p.is_multipart():
        data = p.get_payload(decode=True)
        e['hex'] = data.hex()
        text = data.decode(e['charset'] or 'utf-8', 'replace')
        e['text'] = text.replace('\r\n', '\n') if e['type'].startswith('text/') else text
    parts.append(e)
new = email.message_from_bytes(raw, policy=policy.default)
frm = new['from'].addresses[0]
print(json.dumps({'headers': headers, 'parts': parts, 'subject': str(new['subject']),
                  'from_name': frm.display_name, 'from_address': frm.addr_spec,
                  'defects': [str(d) for p in new.walk() for d in p.defects]}))
)PY";
  std::string tmpl = (std::filesystem::temp_directory_path() / "rempart-mail-msg-XXXXXX").string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return std::nullopt;
  ::close(fd);
  { std::ofstream(tmpl, std::ios::binary) << saved; }
  auto out = run_capture({kPython, "-c", kScript, tmpl});
  std::filesystem::remove(tmpl);
  if (!out) return std::nullopt;
  return nlohmann::json::parse(*out, nullptr, false);
}

}  // namespace rempart::mail::testing
