#include "guard/alerts.hpp"

#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <system_error>
#include <thread>

#include "core/metrics.hpp"
#include "crypto/secret.hpp"
#include "guard/alert_sink.hpp"
#include "guard/file_sink.hpp"
#include "guard/smtp_sink.hpp"
#include "guard/webhook_sink.hpp"

namespace rempart::guard {

namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rfc3339(std::int64_t us) {
  constexpr std::int64_t M = 1'000'000;
  std::int64_t secs = us / M;
  std::int64_t frac = us % M;
  if (frac < 0) {
    frac += M;
    --secs;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
  return buf;
}

std::string random_id() {
  (void)crypto::init();  // idempotent; Alerter::start has already failed if it cannot
  std::array<unsigned char, 16> raw{};
  randombytes_buf(raw.data(), raw.size());
  std::array<char, 33> hex{};
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  return std::string(hex.data(), 32);
}

using Mac = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

Mac hmac(std::span<const std::uint8_t> secret, std::string_view body) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, secret.data(), secret.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  Mac mac{};
  crypto_auth_hmacsha256_final(&st, mac.data());
  sodium_memzero(&st, sizeof st);
  return mac;
}

constexpr std::string_view kSigPrefix = "sha256=";

}  // namespace

const char* severity_name(Severity s) noexcept {
  switch (s) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::critical:
      return "critical";
  }
  return "warning";
}

nlohmann::json to_json(const Alert& a) {
  nlohmann::json j = nlohmann::json::object();
  j["id"] = random_id();
  j["at"] = rfc3339(a.at_us != 0 ? a.at_us : now_us());
  j["severity"] = severity_name(a.severity);
  j["kind"] = a.kind;
  j["actor"] = a.actor;
  j["session"] = a.session;
  j["client"] = a.client;
  j["reason"] = a.reason;
  j["details"] = a.details.is_object() ? a.details : nlohmann::json::object();
  j["source"] = "rempart";
  return j;
}

std::string sign_body(std::span<const std::uint8_t> secret, std::string_view body) {
  const Mac mac = hmac(secret, body);
  std::array<char, crypto_auth_hmacsha256_BYTES * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), mac.data(), mac.size());
  return std::string(kSigPrefix) + std::string(hex.data(), mac.size() * 2);
}

bool verify_signature(std::span<const std::uint8_t> secret, std::string_view body, std::string_view header) {
  if (!header.starts_with(kSigPrefix)) return false;
  const std::string_view hex = header.substr(kSigPrefix.size());
  if (hex.size() != crypto_auth_hmacsha256_BYTES * 2) return false;
  Mac given{};
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(given.data(), given.size(), hex.data(), hex.size(), nullptr, &len, &end) != 0 ||
      len != given.size() || end != hex.data() + hex.size()) {
    return false;
  }
  const Mac expected = hmac(secret, body);
  return sodium_memcmp(given.data(), expected.data(), given.size()) == 0;
}

// One sink with its queue and its thread. The thread is the only caller of
// the sink; raise() and stop() touch only the queue and flags under `mu`.
struct Alerter::Worker {
  const char* name = "";
  SinkStats Stats::*slot = nullptr;
  std::unique_ptr<AlertSink> sink;

  Mutex mu;
  std::condition_variable_any cv;  // queue grew, stopping set, or done set
  std::deque<std::shared_ptr<const StampedAlert>> queue REMPART_GUARDED_BY(mu);
  bool stopping REMPART_GUARDED_BY(mu) = false;
  bool done REMPART_GUARDED_BY(mu) = false;

  std::atomic<std::uint64_t> delivered{0}, failed{0}, dropped{0};
  std::jthread thread;  // its stop token means "give up now", set by stop() after the drain

  void run(std::stop_token abort) {
    // A receiver closing its socket mid-send must not kill the keeper; the
    // signal is thread-directed, so blocking it here suffices.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    for (;;) {
      std::shared_ptr<const StampedAlert> item;
      {
        MutexLock lock(mu);
        while (queue.empty() && !stopping && !abort.stop_requested()) lock.wait(cv, abort);
        if (abort.stop_requested() || queue.empty()) break;
        item = std::move(queue.front());
        queue.pop_front();
      }
      if (auto r = sink->deliver(*item, abort); r) {
        delivered.fetch_add(1, std::memory_order_relaxed);
      } else {
        failed.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("alert not delivered: {}", r.error().internal);
      }
    }
    MutexLock lock(mu);
    if (!queue.empty()) {
      spdlog::warn("alert sink {}: {} alert(s) left undelivered at shutdown", name, queue.size());
      dropped.fetch_add(queue.size(), std::memory_order_relaxed);
      queue.clear();
    }
    done = true;
    cv.notify_all();
  }
};

Alerter::Alerter() = default;

Alerter::~Alerter() { stop(); }

Result<std::unique_ptr<Alerter>> Alerter::start(AlertOptions options) {
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  if (options.queue_capacity == 0) return fail(Errc::config, "alerts: queue_capacity must be positive");

  std::unique_ptr<Alerter> a(new Alerter());
  a->capacity_ = options.queue_capacity;
  auto add = [&](const char* name, SinkStats Stats::*slot, std::unique_ptr<AlertSink> sink) {
    auto w = std::make_unique<Worker>();
    w->name = name;
    w->slot = slot;
    w->sink = std::move(sink);
    a->workers_.push_back(std::move(w));
  };
  // Every sink is built before any thread starts, so a refused option
  // leaves nothing running.
  if (options.stderr_json) add("stderr", &Stats::stderr_json, LineSink::standard_error());
  if (!options.file.empty()) {
    auto s = LineSink::open_file(options.file);
    if (!s) return std::unexpected(s.error());
    add("file", &Stats::file, std::move(*s));
  }
  if (options.webhook) {
    auto s = WebhookSink::create(*options.webhook);
    if (!s) return std::unexpected(s.error());
    add("webhook", &Stats::webhook, std::move(*s));
  }
  if (options.smtp) {
    auto s = SmtpSink::create(*options.smtp);
    if (!s) return std::unexpected(s.error());
    add("smtp", &Stats::smtp, std::move(*s));
  }
  for (auto& w : a->workers_) {
    try {
      w->thread = std::jthread([raw = w.get()](std::stop_token abort) { raw->run(abort); });
    } catch (const std::system_error&) {
      // Workers never started count as finished, so that the destructor's
      // stop() joins the others without waiting out its drain.
      for (auto& idle : a->workers_) {
        MutexLock lock(idle->mu);
        if (!idle->thread.joinable()) idle->done = true;
      }
      return fail(Errc::internal, "alerts: a sink thread could not start");
    }
  }
  return a;
}

void Alerter::raise(Alert alert) noexcept {
  namespace m = core::metrics;
  m::process_registry().alerts[alert.severity == Severity::critical  ? m::AlertSeverity::critical
                               : alert.severity == Severity::warning ? m::AlertSeverity::warning
                                                                     : m::AlertSeverity::info].add();
  std::shared_ptr<const StampedAlert> stamped;
  try {
    auto s = std::make_shared<StampedAlert>();
    s->json = to_json(alert);
    s->line = s->json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    stamped = std::move(s);
  } catch (...) {
    for (auto& w : workers_) w->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  for (auto& w : workers_) {
    {
      MutexLock lock(w->mu);
      if (w->stopping) {
        w->dropped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (w->queue.size() >= capacity_) {
        w->queue.pop_front();
        w->dropped.fetch_add(1, std::memory_order_relaxed);
      }
      try {
        w->queue.push_back(stamped);
      } catch (...) {
        w->dropped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
    }
    w->cv.notify_all();
  }
}

void Alerter::stop(std::chrono::milliseconds drain) {
  MutexLock guard(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  for (auto& w : workers_) {
    {
      MutexLock lock(w->mu);
      w->stopping = true;
    }
    w->cv.notify_all();
  }
  const auto deadline = std::chrono::steady_clock::now() + drain;
  for (auto& w : workers_) {
    MutexLock lock(w->mu);
    while (!w->done) {
      if (!lock.wait_until(w->cv, deadline)) break;
    }
  }
  for (auto& w : workers_) w->thread.request_stop();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

Alerter::Stats Alerter::stats() const {
  Stats s;
  for (const auto& w : workers_) {
    SinkStats& out = s.*(w->slot);
    out.delivered = w->delivered.load(std::memory_order_relaxed);
    out.failed = w->failed.load(std::memory_order_relaxed);
    out.dropped = w->dropped.load(std::memory_order_relaxed);
  }
  return s;
}

}  // namespace rempart::guard
