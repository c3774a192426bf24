#pragma once
// Shared helpers of the benchmark programs. Output is one JSON object per
// line on stdout: {"figure": name, "value": number, "unit": text}; anything
// for humans goes to stderr. Figures never carry personal data (synthetic
// or not): only counts, rates and durations.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/person.hpp"
#include "representative.hpp"  // representative_signup(i): the sign-up the HTTP load posts

namespace rempart::bench {

// "--key value" pairs after the subcommand; a bare "--flag" maps to "1".
class Args {
 public:
  Args(int argc, char** argv, int first);
  std::string str(const std::string& key, const std::string& fallback = "") const;
  double num(const std::string& key, double fallback) const;
  bool has(const std::string& key) const { return values_.contains(key); }

 private:
  std::map<std::string, std::string> values_;
};

void emit(std::string_view figure, double value, std::string_view unit);

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Value at quantile q (0..1) of `v` (sorted in place).
double quantile(std::vector<double>& v, double q);

[[noreturn]] void die(const std::string& what);

// This process's CPU time so far (user + system), and its peak resident set.
double cpu_seconds();
double peak_rss_mib();

int http_ceiling(const Args& a);
int storage_ceiling(const Args& a);
int import_baseline(const Args& a);
int lookup_baseline(const Args& a);
int lookup_inprocess(const Args& a);
int gen_csv(const Args& a);
int synth_emails(const Args& a);
int fold_inprocess(const Args& a);
int segment_counts(const Args& a);
int mailing_prepare(const Args& a);
int mailing_send(const Args& a);
int smtp_baseline(const Args& a);

}  // namespace rempart::bench
