#include "drill/instance.hpp"

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

namespace rempart::drill::detail {

Result<ChildResult> Instance::rempart(const std::vector<std::string>& args, std::chrono::seconds timeout,
                                      const std::string& input) const {
  return run_child(exe, args, timeout, input);
}

void Instance::say(std::string_view what) const {
  if (options.progress) options.progress(what);
}

VectorResult start(const VectorName& name) {
  VectorResult v;
  v.label = name.label;
  v.id = name.id;
  v.title = name.title;
  return v;
}

std::string fixed(double x, int digits) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, x);
  return b;
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

double seconds_between(WallClock::time_point from, WallClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

namespace {

// "2026-01-01T00:00:00.123456Z" (the alerts' `at`) as a time point.
std::optional<WallClock::time_point> parse_at(const std::string& text) {
  std::tm tm{};
  long micros = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6ldZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &micros, &consumed) != 7 ||
      static_cast<std::size_t>(consumed) != text.size()) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t secs = ::timegm(&tm);
  return WallClock::from_time_t(secs) + std::chrono::microseconds(micros);
}

}  // namespace

std::optional<WallClock::time_point> wait_alert(const Instance& in, const std::vector<std::string>& kinds,
                                            const std::string& actor, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::streamoff offset = 0;  // lines before it were read already
  for (;;) {
    std::ifstream f(in.alerts_file, std::ios::binary);
    if (f) {
      f.seekg(offset);
      std::string line;
      while (std::getline(f, line)) {
        if (f.eof()) break;  // a line still being written: read it again whole
        offset += static_cast<std::streamoff>(line.size()) + 1;
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) continue;
        const std::string kind = j.value("kind", "");
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) continue;
        if (!actor.empty() && j.value("actor", "") != actor) continue;
        return parse_at(j.value("at", "")).value_or(WallClock::now());
      }
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace rempart::drill::detail
