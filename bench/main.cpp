// Entry point of rempart_bench: dispatches to one benchmark per subcommand.
// See docs/benchmarks.md for what each measures; bench/run.py drives them.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>

#include <sqlite3.h>
#include <sys/resource.h>

#include "bench.hpp"
#include "store/sqlite/connection.hpp"

namespace rempart::bench {

Args::Args(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!arg.starts_with("--")) {
      std::string msg = "unexpected argument ";
      msg += arg;
      die(msg);
    }
    const std::string k(arg.substr(2));
    if (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("--")) {
      values_[k] = argv[++i];
    } else {
      values_[k].assign(1, '1');
    }
  }
}

std::string Args::str(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

double Args::num(const std::string& key, double fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  try {
    return std::stod(it->second);
  } catch (...) {
    die("--" + key + " wants a number");
  }
}

void emit(std::string_view figure, double value, std::string_view unit) {
  if (!std::isfinite(value)) value = 0;
  std::printf("{\"figure\": \"%.*s\", \"value\": %.6g, \"unit\": \"%.*s\"}\n", static_cast<int>(figure.size()),
              figure.data(), value, static_cast<int>(unit.size()), unit.data());
  std::fflush(stdout);
}

double quantile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

void die(const std::string& what) {
  std::cerr << "rempart_bench: " << what << "\n";
  std::exit(1);
}

}  // namespace rempart::bench

int main(int argc, char** argv) {
  using namespace rempart::bench;
  const std::string usage =
      "usage: rempart_bench COMMAND [--key value ...]\n"
      "  http-ceiling     [--threads N]                     trivial 200 handler on the product's Server\n"
      "  storage-ceiling  --db F [--seconds S] [--group G]  bare SQLite group commit of inbox-size rows\n"
      "  import-baseline  --csv F --db F [--tx N]           CSV parse alone; bare inserts of the rows\n"
      "  lookup-baseline  --db F [--seconds S] [--threads T] [--mmap-mib M] [--cache-kib K]\n"
      "                                                    bare indexed blob lookups on supporters\n"
      "  lookup           --config F --count N [--seed S] [--modes read,search,reveal,name1,name2] [--threads T]\n"
      "                                                    lookups per second, in process (read-only, audited)\n"
      "  gen-csv          --out F --rows N --phones P       plausible CSV export (fiction numbers)\n"
      "  fold             --config F [--count N] [--batch B] fills the inbox, then times the keeper's folds\n"
      "  emails           --count N --sample K [--seed S]   e-mails of synthetic supporters\n"
      "  segments         --db F [--count N] [--runs R]     segment counts on a base of N (made if F is new)\n"
      "  mailing-prepare  --config F                        a mailing to every synthetic consent, drawn and started\n"
      "  mailing-send     --config F                        sends it to the end to [mail]'s relay\n"
      "  smtp-baseline    --smtp URL --count N              N pre-rendered messages over one kept connection\n";
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  const std::string cmd = argv[1];
  const Args a(argc, argv, 2);
  // --mmap-mib M on any command: SQLite's process-wide default memory map
  // for every connection opened afterwards (the product's included), to
  // measure what reading through a map instead of pread() changes.
  if (a.has("mmap-mib")) {
    const auto bytes = static_cast<sqlite3_int64>(a.num("mmap-mib", 0)) * 1024 * 1024;
    if (sqlite3_config(SQLITE_CONFIG_MMAP_SIZE, bytes, bytes) != SQLITE_OK) die("sqlite3_config(MMAP_SIZE) refused");
  }
  // The library settings the product makes, for the bare baselines too.
  rempart::store::sqlite::configure_library();
  if (cmd == "http-ceiling") return http_ceiling(a);
  if (cmd == "storage-ceiling") return storage_ceiling(a);
  if (cmd == "import-baseline") return import_baseline(a);
  if (cmd == "lookup-baseline") return lookup_baseline(a);
  if (cmd == "lookup") return lookup_inprocess(a);
  if (cmd == "gen-csv") return gen_csv(a);
  if (cmd == "fold") return fold_inprocess(a);
  if (cmd == "emails") return synth_emails(a);
  if (cmd == "segments") return segment_counts(a);
  if (cmd == "mailing-prepare") return mailing_prepare(a);
  if (cmd == "mailing-send") return mailing_send(a);
  if (cmd == "smtp-baseline") return smtp_baseline(a);
  std::cerr << usage;
  return 2;
}
