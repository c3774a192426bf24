#include "integration/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

extern char** environ;

namespace rempart::test {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("rempart-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

// Starts `argv` (argv[0] a path) with stdout and stderr to files and stdin
// from `in` ("" = /dev/null).
pid_t spawn_argv(std::vector<std::string> argv_s, const fs::path& out, const fs::path& err,
                 const fs::path& in = {}) {
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in.empty() ? "/dev/null" : in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + argv_s.front());
  return pid;
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& out, const fs::path& err,
            const fs::path& in = {}) {
  std::vector<std::string> argv_s;
  argv_s.push_back(REMPART_BINARY);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  return spawn_argv(std::move(argv_s), out, err, in);
}

int wait_exit(pid_t pid, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

RunResult run_rempart(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  TempDir io;
  const auto out = io.path() / "out", err = io.path() / "err";
  const pid_t pid = spawn(args, out, err);
  RunResult r;
  r.exit_code = wait_exit(pid, timeout);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

RunResult run_rempart_input(const std::vector<std::string>& args, const std::string& input,
                            std::chrono::seconds timeout) {
  TempDir io;
  const auto in = io.path() / "in", out = io.path() / "out", err = io.path() / "err";
  {
    std::ofstream f(in, std::ios::binary);
    f << input;
  }
  fs::permissions(in, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  const pid_t pid = spawn(args, out, err, in);
  RunResult r;
  r.exit_code = wait_exit(pid, timeout);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

RunResult run_program(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
  TempDir io;
  const auto out = io.path() / "out", err = io.path() / "err";
  const pid_t pid = spawn_argv(argv, out, err);
  RunResult r;
  r.exit_code = wait_exit(pid, timeout);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

Server::Server(const std::vector<std::string>& args, const fs::path& log) : log_(log) {
  pid_ = spawn(args, fs::path(log.string() + ".out"), log);
}

Server::~Server() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

bool Server::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

unsigned short Server::wait_for_port(std::chrono::seconds timeout, const std::string& listener) {
  // The digits must be followed by the end of the line (or " (TLS)"): a
  // line half-written to the log must not give half a port number.
  const std::regex re(listener + " listening on [^ ]*:([0-9]+)[ \n]");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    const std::string text = log();
    if (std::regex_search(text, m, re)) return static_cast<unsigned short>(std::stoi(m[1]));
    if (!running()) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

bool Server::wait_for_log(const std::string& text, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool Server::kill9() {
  if (!running()) return false;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return true;
}

int Server::terminate(std::chrono::seconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const int code = wait_exit(pid_, timeout);
  pid_ = -1;
  return code;
}

HttpResponse http_request(unsigned short port, const std::string& method, const std::string& target,
                          const std::string& content_type, const std::string& body,
                          const std::map<std::string, std::string>& headers) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = res.body();
  beast::error_code ec;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  return out;
}

HttpOutcome try_http_request(unsigned short port, const std::string& method, const std::string& target,
                             const std::string& content_type, const std::string& body,
                             const std::map<std::string, std::string>& headers, const std::string& source_address,
                             std::chrono::seconds timeout) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  namespace ip = boost::asio::ip;
  HttpOutcome out;
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(timeout);
  beast::error_code ec;
  const ip::tcp::endpoint to(ip::make_address("127.0.0.1"), port);
  if (!source_address.empty()) {
    const auto from = ip::make_address(source_address, ec);
    if (!ec) stream.socket().open(to.protocol(), ec);
    if (!ec) stream.socket().bind(ip::tcp::endpoint(from, 0), ec);
    if (ec) {
      out.error = "cannot bind to " + source_address + ": " + ec.message();
      return out;
    }
  }
  stream.connect(to, ec);
  if (ec) {
    out.error = "connect: " + ec.message();
    return out;
  }
  out.stage = HttpOutcome::Stage::no_answer;
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) {
    out.error = "write: " + ec.message();
    return out;
  }
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res, ec);
  if (ec) {
    out.error = "read: " + ec.message();
    return out;
  }
  out.stage = HttpOutcome::Stage::answered;
  out.response.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.response.headers[name] = std::string(f.value());
  }
  out.response.body = res.body();
  stream.socket().shutdown(ip::tcp::socket::shutdown_both, ec);
  return out;
}

Instance::Instance() {
  data = dir.path() / "data";
  keys = dir.path() / "keys";
  config = dir.path() / "rempart.toml";
  auto r = run_rempart({"init", "--data", data.string(), "--keys", keys.string(), "--config", config.string(),
                        "--listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0"});
  if (r.exit_code != 0) throw std::runtime_error("rempart init failed: " + r.err);
}

}  // namespace rempart::test
