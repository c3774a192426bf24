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
  std::string log() const { return read_file(log_); }
  bool running();

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

// An initialised instance: data and keys as siblings in a temp dir.
struct Instance {
  TempDir dir;
  fs::path config;
  fs::path data;
  fs::path keys;
  Instance();
};

}  // namespace rempart::test
