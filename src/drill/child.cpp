#include "drill/child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <utility>

extern char** environ;

namespace rempart::drill {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kErrKeep = 64 * 1024;

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fd, O_CLOEXEC) != 0) fd[0] = fd[1] = -1;
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool ok() const { return fd[0] >= 0; }
  void close_read() {
    if (fd[0] >= 0) ::close(fd[0]);
    fd[0] = -1;
  }
  void close_write() {
    if (fd[1] >= 0) ::close(fd[1]);
    fd[1] = -1;
  }
};

std::vector<char*> argv_of(std::vector<std::string>& argv_s) {
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

// Waits for `pid` until `deadline`; SIGKILL past it. The exit code, -1 on a signal.
int reap(pid_t pid, Clock::time_point deadline) {
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r < 0 && errno != EINTR) return -1;
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

Result<ChildResult> run_child(const fs::path& exe, const std::vector<std::string>& args, std::chrono::seconds timeout,
                              const std::string& input) {
  Pipe in, out, err;
  if (!in.ok() || !out.ok() || !err.ok()) return fail(Errc::io, "drill: cannot make pipes for a child process");
  std::vector<std::string> argv_s{exe.string()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  auto argv = argv_of(argv_s);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err.fd[1], 2);
  const auto started = Clock::now();
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return fail(Errc::io, "drill: cannot start " + exe.string());
  in.close_read();
  out.close_write();
  err.close_write();
  // The input is a line or two (a password): it fits the pipe's buffer.
  if (!input.empty()) {
    const auto w = ::write(in.fd[1], input.data(), input.size());
    (void)w;
  }
  in.close_write();

  const auto deadline = started + timeout;
  ChildResult r;
  std::array<char, 8192> buf{};
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd fds[2] = {{out_open ? out.fd[0] : -1, POLLIN, 0}, {err_open ? err.fd[0] : -1, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 200)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const auto got = ::read(fds[i].fd, buf.data(), buf.size());
      if (got <= 0) {
        (i == 0 ? out_open : err_open) = false;
        continue;
      }
      if (i == 0) {
        r.out.append(buf.data(), static_cast<std::size_t>(got));
      } else {
        r.err.append(buf.data(), static_cast<std::size_t>(got));
        if (r.err.size() > 2 * kErrKeep) r.err.erase(0, r.err.size() - kErrKeep);
      }
    }
  }
  r.exit_code = reap(pid, deadline);
  r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return r;
}

Result<ServeProcess> ServeProcess::start(const fs::path& exe, const std::vector<std::string>& args,
                                         const fs::path& log) {
  std::vector<std::string> argv_s{exe.string()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  auto argv = argv_of(argv_s);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return fail(Errc::io, "drill: cannot start serve");
  return ServeProcess(pid, log);
}

ServeProcess::ServeProcess(ServeProcess&& o) noexcept : pid_(o.pid_), log_(std::move(o.log_)) { o.pid_ = -1; }

ServeProcess::~ServeProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

bool ServeProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

Result<std::uint16_t> ServeProcess::port(const std::string& listener, std::chrono::seconds timeout) {
  // The digits must end the line (or be followed by " (TLS)"): a line half
  // written must not give half a port.
  const std::regex re(listener + " listening on [^ \n]*:([0-9]+)[ \n]");
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    std::ifstream in(log_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    std::smatch m;
    if (std::regex_search(text, m, re)) {
      const int p = std::stoi(m[1]);
      if (p > 0 && p < 65536) return static_cast<std::uint16_t>(p);
    }
    if (!running()) return fail(Errc::io, "drill: serve exited before its " + listener + " listened (see its log)");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return fail(Errc::io, "drill: serve's " + listener + " did not listen in time");
}

int ServeProcess::stop(std::chrono::seconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const int code = reap(pid_, Clock::now() + timeout);
  pid_ = -1;
  return code;
}

}  // namespace rempart::drill
