#pragma once
// Test-only helpers: run the rempart binary, talk HTTP to it over loopback.
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace rempart::test {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p);

// A fresh directory under the system temp dir, removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `rempart args...` to completion (bounded by `timeout`).
RunResult run_rempart(const std::vector<std::string>& args, std::chrono::seconds timeout = std::chrono::seconds(60));
// The same with `input` on its standard input (e.g. `--password-stdin`).
RunResult run_rempart_input(const std::vector<std::string>& args, const std::string& input,
                            std::chrono::seconds timeout = std::chrono::seconds(60));
// Runs another program (argv[0]: its absolute path) to completion, with the
// test's environment.
RunResult run_program(const std::vector<std::string>& argv, std::chrono::seconds timeout = std::chrono::seconds(60));

// A `rempart serve` in the background; stderr goes to a log file.
class Server {
 public:
  Server(const std::vector<std::string>& args, const fs::path& log);
  ~Server();  // SIGKILL if still running
  // Waits for "<listener> listening on HOST:PORT" in the log ("intake" or
  // "console"); 0 if it never came.
  unsigned short wait_for_port(std::chrono::seconds timeout = std::chrono::seconds(30),
                               const std::string& listener = "intake");
  // Waits for a log line containing `text`.
  bool wait_for_log(const std::string& text, std::chrono::seconds timeout = std::chrono::seconds(30));
  // SIGTERM, then waits; returns the exit code (-1 on a signal or timeout).
  int terminate(std::chrono::seconds timeout = std::chrono::seconds(30));
  // SIGKILL now, as a crash would (no clean shutdown), and reaps it; false
  // if it was not running.
  bool kill9();
  std::string log() const { return read_file(log_); }
  bool running();
  pid_t pid() const { return pid_; }  // -1 once reaped

 private:
  pid_t pid_ = -1;
  fs::path log_;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

HttpResponse http_request(unsigned short port, const std::string& method, const std::string& target,
                          const std::string& content_type = "", const std::string& body = "",
                          const std::map<std::string, std::string>& headers = {});

// What became of a request sent by try_http_request, which never throws.
struct HttpOutcome {
  enum class Stage {
    not_connected,  // no connection: the server never saw the request
    no_answer,      // connected, but the answer never came whole: it may have been acted on
    answered,
  };
  Stage stage = Stage::not_connected;
  HttpResponse response;  // when answered
  std::string error;      // otherwise: what failed (no request data in it)
};

// As http_request, from `source_address` (e.g. "127.0.0.2", any loopback
// address works on Linux; "" = the system's choice), bounded by `timeout`.
HttpOutcome try_http_request(unsigned short port, const std::string& method, const std::string& target,
                             const std::string& content_type = "", const std::string& body = "",
                             const std::map<std::string, std::string>& headers = {},
                             const std::string& source_address = "",
                             std::chrono::seconds timeout = std::chrono::seconds(10));

// An initialised instance: data and keys as siblings in a temp dir.
struct Instance {
  TempDir dir;
  fs::path config;
  fs::path data;
  fs::path keys;
  Instance();
};

}  // namespace rempart::test
