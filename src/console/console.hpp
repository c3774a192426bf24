#pragma once
// The admin console and its JSON API, served by the keeper role on its own
// address (never the intake one). Server-rendered pages over plain forms —
// no script at all, so the CSP can forbid every script — and /api/v1/ for
// programs, with session cookies (plus CSRF token) or API tokens.
//
// Every request is answered in three steps: a cheap check on the HTTP thread
// (Host, route, method, size), then on a worker thread the principal
// (session or token), the one permission check (auth::permits /
// auth::token_permits against the route's Action), CSRF for state changes,
// and the handler. Answers carry fixed texts: never the request target,
// never what was typed, except a page showing a person's own masked or
// revealed data to an allowed principal.
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/accounts.hpp"
#include "console/worker_pool.hpp"
#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"
#include "audit/chain_watch.hpp"
#include "guard/alerts.hpp"
#include "http/server.hpp"
#include "services/disk_reserve.hpp"
#include "services/mailings.hpp"
#include "services/selfcheck.hpp"

namespace rempart::console {

struct ConsoleOptions {
  // Host names the console answers to (the Host header, port ignored);
  // "localhost" and the listen host are always accepted. Guards against DNS
  // rebinding.
  std::vector<std::string> hostnames;
  std::string listen_host = "127.0.0.1";
  bool tls = false;  // cookies get Secure and the __Host- prefix, HSTS is sent
  std::string default_region = "FR";  // phone numbers typed without +country
  std::size_t workers = 2;
  std::size_t max_queued = 256;
  // Where `auditor` pages find the outside checkpoint file; empty: none.
  std::string checkpoint_file;
  // Where the guard's alerts go when it locks someone (borrowed; may be
  // null). The lock itself never waits for it.
  guard::Alerter* alerter = nullptr;
  // What the keeper knows of its audit chain, shared with its background
  // verification (borrowed; null: the console keeps its own, which reads
  // the whole chain again once an hour).
  audit::ChainWatch* chain_watch = nullptr;
  // Sign-ups waiting in the inbox, as the keeper's fold loop last counted
  // them (borrowed; null, or a negative value: not known here).
  const std::atomic<std::int64_t>* inbox_backlog = nullptr;
  // The disk reserve the process watches, read again at each /metrics
  // scrape (borrowed; null: not shown).
  services::DiskReserve* disk_reserve = nullptr;
  // Mailings (docs/mailings.md): how they are rendered and when a second
  // person approves. `mail_configured` false: the pages say nothing is sent.
  services::SupporterMailOptions mail;
  services::MailingOptions mailings;
  bool mail_configured = false;
  // The relay, for a mailing's test send (borrowed; null: no test sends).
  const mail::SmtpTransport* transport = nullptr;
  // What the admins' /selfcheck page checks (cli::selfcheck_settings);
  // null: the page says the self-check is not set up in this process.
  std::shared_ptr<const services::selfcheck::Settings> selfcheck;
};

class Console {
 public:
  // Starts the worker pool; `make_worker` opens one store and services per
  // worker. `keys` must outlive the console.
  static Result<std::unique_ptr<Console>> start(ConsoleOptions options, const crypto::KeeperKeyring& keys,
                                                const WorkerFactory& make_worker);
  ~Console();

  http::Handler handler();
  http::ErrorRenderer error_renderer() const;
  // Finishes queued work and joins the workers. Stop the Server first.
  void stop();

  struct Impl;

 private:
  explicit Console(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rempart::console
