// Vectors 4, 5 and 6: the admin console. A stolen password, stolen
// sessions reading in bulk (reveals, listing, a honeytoken), the list of
// people to warn, and an insider's bulk export.
#include <sodium.h>
#include <sqlite3.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "auth/accounts.hpp"
#include "drill/console_client.hpp"
#include "drill/instance.hpp"
#include "services/exports.hpp"

namespace rempart::drill::detail {
namespace {

constexpr std::int64_t kLockAfterFailures = 10;  // auth::AuthOptions::lock_after_failures
constexpr auto kAlertWait = std::chrono::seconds(10);

// The console's answer to a refused request, in words; `locks` when a 403
// there means the account was locked.
std::string refusal(int status, bool locks = true) {
  if (status == 403) return locks ? "refused, the account locked (403)" : "refused (403)";
  if (status == 401) return "refused: the session no longer works (401)";
  return "refused (" + std::to_string(status) + ")";
}

// Ids of the first page of the masked list, as the stolen session sees it.
Result<std::vector<std::string>> first_page(const Instance& in, const Session& s, int limit) {
  auto a = api(in, s, "GET", "/api/v1/supporters?limit=" + std::to_string(limit));
  if (!a) return std::unexpected(a.error());
  const auto j = nlohmann::json::parse(a->body, nullptr, false);
  if (a->status != 200 || !j.is_object() || !j.contains("items") || !j["items"].is_array()) {
    return fail(Errc::internal, "the list answered " + std::to_string(a->status));
  }
  std::vector<std::string> ids;
  for (const auto& item : j["items"]) {
    if (item.is_object() && item.contains("id") && item["id"].is_string()) ids.push_back(item["id"].get<std::string>());
  }
  return ids;
}

// A honeytoken's record id, as the operator (who planted them) can read it
// from the database: a scraper meets one by chance (about 1 row in 150), the
// drill goes straight to one so that the trip is timed on every run.
Result<std::string> a_honeytoken(const Instance& in) {
  sqlite3* db = nullptr;
  const std::string file = (in.data / "rempart.db").string();
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return fail(Errc::storage, "cannot open rempart.db read-only");
  }
  sqlite3_busy_timeout(db, 5000);
  static constexpr const char* kOneHoneytoken = "SELECT lower(hex(supporter_id)) FROM honeytokens LIMIT 1";
  sqlite3_stmt* st = nullptr;
  std::string id;
  if (sqlite3_prepare_v2(db, kOneHoneytoken, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    id = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (id.empty()) return fail(Errc::not_found, "no honeytoken in the database");
  return id;
}

std::int64_t count_items(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("items") || !j["items"].is_array()) return 0;
  return static_cast<std::int64_t>(j["items"].size());
}

}  // namespace

VectorResult stolen_password(Instance& in) {
  auto v = start(kStolenPassword);
  auto& victim = in.accounts.at("treasurer");
  in.say("4. a stolen password: signing in as fast as possible without the code");
  const std::string source = "127.0.0.4";  // the attacker's own address: its throttle is its own
  const auto t0 = Clock::now();
  std::int64_t tries = 0, sessions = 0, refused = 0, max_wait = 0;
  while (tries < 15 && Clock::now() - t0 < std::chrono::seconds(8)) {
    auto pending = login_first_step(in, victim.name, victim.password, source);
    if (!pending) {
      v.failure = pending.error().internal;
      break;
    }
    HttpRequest r;
    r.method = "POST";
    r.target = "/login/code";
    r.content_type = "application/x-www-form-urlencoded";
    r.body = form_encode({{"pending", *pending}, {"code", tries == 0 ? std::string() : wrong_code(victim)}});
    r.source = source;
    r.timeout = std::chrono::seconds(30);
    auto a = http_call(in.console_port, r);
    ++tries;
    if (!a) continue;
    if (a->status == 303) ++sessions;
    if (a->status == 401) {
      ++refused;
      const std::string wait = a->header("retry-after");
      if (!wait.empty() && wait.find_first_not_of("0123456789") == std::string::npos && wait.size() < 8) {
        max_wait = std::max<std::int64_t>(max_wait, std::stoll(wait));
      }
    }
  }
  const double took = seconds_between(t0, Clock::now());
  // How many of those tries were checked at all: the operator's view.
  std::int64_t checked = -1;
  std::string state;
  if (auto list = in.rempart({"admin", "list", "--config", in.config.string()}, std::chrono::seconds(60));
      list && list->exit_code == 0) {
    std::istringstream lines(list->out);
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream words(line);
      std::string name, role, failures;
      words >> name >> role >> state >> failures;
      if (name == victim.name && !failures.empty() && failures.find_first_not_of("0123456789") == std::string::npos) {
        checked = std::stoll(failures);
        break;
      }
      state.clear();
    }
  }
  std::int64_t to_lock = 0;
  for (std::int64_t f = std::max<std::int64_t>(checked, 0); f < kLockAfterFailures; ++f) to_lock += auth::throttle_delay(f);

  v.ran = true;
  v.exposed = sessions;
  v.bound = 0;
  v.stopped_by = "the second factor (TOTP): the right password alone opens nothing; wrong codes are slowed down "
                 "(1, 2, 4 … s between tries) and the 10th locks the account";
  v.alert_note = "a few wrong codes are recorded in the audit log, not alerted; the lock at the 10th is";
  v.findings.push_back(std::to_string(tries) + " sign-ins with the right password and no or a wrong code in " +
                       fixed(took) + " s: " + std::to_string(sessions) + " got in, " + std::to_string(refused) +
                       " refused");
  if (checked >= 0) {
    v.findings.push_back("the server checked " + std::to_string(checked) + " of them; the rest were turned away "
                         "unchecked by the throttle (next try allowed after " + std::to_string(max_wait) +
                         " s); at that pace the account locks after " + std::to_string(to_lock) + " s more");
  }
  v.counts = {{"tries", tries},          {"sessions", sessions}, {"refused", refused},
              {"checked", checked},      {"retry_after_max", max_wait}, {"seconds_to_lock", to_lock},
              {"seconds", took}};
  if (v.failure.empty() && sessions != 0) v.failure = "a sign-in without the right code got a session";
  if (v.failure.empty() && checked < 0) v.failure = "`admin list` did not show the account's failures";
  return v;
}

VectorResult bulk_reveal(Instance& in) {
  auto v = start(kBulkReveal);
  in.say("5a. a stolen session revealing e-mail addresses as fast as it can");
  auto s = sign_in(in, in.accounts.at("organiser-a"), "127.0.0.5");
  if (!s) {
    v.failure = "sign-in: " + s.error().internal;
    return v;
  }
  // A page a little longer than the budget: the reveals, not the list,
  // must be what stops it.
  auto ids = first_page(in, *s, static_cast<int>(std::clamp<std::int64_t>(in.email_budget + 5, 1, 200)));
  if (!ids) {
    v.failure = ids.error().internal;
    return v;
  }
  const auto first = WallClock::now();
  const auto t0 = Clock::now();
  std::int64_t answered = 0;
  int stop_status = 0;
  for (const auto& id : *ids) {
    auto a = api(in, *s, "POST", "/api/v1/supporters/" + id + "/reveal",
                 {{"fields", nlohmann::json::array({"email"})}, {"reason", "drill: stolen session"}});
    if (!a) {
      v.failure = a.error().internal;
      break;
    }
    if (a->status != 200) {
      stop_status = a->status;
      break;
    }
    ++answered;
    in.revealed.insert(id);
  }
  const double to_stop = seconds_between(t0, Clock::now());
  const auto alert = wait_alert(in, {"reveal_budget", "honeytoken"}, s->actor, kAlertWait);
  auto after = api(in, *s, "GET", "/api/v1/me");
  const int after_status = after ? after->status : 0;

  v.ran = true;
  v.exposed = answered;
  v.bound = in.email_budget;
  v.stopped_by = "the reveal budget (" + std::to_string(in.email_budget) +
                 " e-mails an hour per person): the account is locked, its sessions end, an alert goes out";
  if (alert) {
    v.first_alert_seconds = seconds_between(first, *alert);
  } else {
    v.alert_note = "no alert line within " + std::to_string(kAlertWait.count()) + " s";
  }
  v.findings.push_back(std::to_string(answered) + " e-mail addresses revealed in " + fixed(to_stop, 2) +
                       " s, then " + (stop_status ? refusal(stop_status) : std::string("no refusal")) +
                       "; the stolen session afterwards: " + (after_status ? refusal(after_status) : "no answer"));
  v.counts = {{"revealed", answered},       {"budget", in.email_budget}, {"refused_status", stop_status},
              {"session_after", after_status}, {"seconds_to_stop", to_stop}};
  if (v.failure.empty() && stop_status == 0) v.failure = "the reveals were never refused";
  if (v.failure.empty() && !alert) v.failure = "no alert was raised";
  if (v.failure.empty() && after_status != 401) v.failure = "the stolen session still works after the lock";
  return v;
}

VectorResult bulk_listing(Instance& in) {
  auto v = start(kBulkListing);
  in.say("5b. a stolen session paging through the whole directory");
  auto s = sign_in(in, in.accounts.at("organiser-b"), "127.0.0.6");
  if (!s) {
    v.failure = "sign-in: " + s.error().internal;
    return v;
  }
  const auto first = WallClock::now();
  std::int64_t rows = 0, pages = 0;
  int stop_status = 0;
  std::string cursor;
  while (pages < 1000) {
    auto a = api(in, *s, "GET",
                 "/api/v1/supporters?limit=100" + (cursor.empty() ? "" : "&" + form_encode({{"cursor", cursor}})));
    if (!a) {
      v.failure = a.error().internal;
      break;
    }
    if (a->status != 200) {
      stop_status = a->status;
      break;
    }
    ++pages;
    rows += count_items(a->body);
    const auto j = nlohmann::json::parse(a->body, nullptr, false);
    cursor = j.is_object() && j.contains("next_cursor") && j["next_cursor"].is_string()
                 ? j["next_cursor"].get<std::string>()
                 : "";
    if (cursor.empty()) break;  // the whole directory: the budget did not hold
  }
  const auto alert = wait_alert(in, {"list_budget", "honeytoken"}, s->actor, kAlertWait);
  v.ran = true;
  v.exposed = 0;  // a list shows masked rows: no e-mail, no phone
  v.bound = 0;
  v.stopped_by = "the budget of rows shown masked (per person, per minute, hour and day): locked, alert";
  if (alert) {
    v.first_alert_seconds = seconds_between(first, *alert);
  } else {
    v.alert_note = "no alert line within " + std::to_string(kAlertWait.count()) + " s";
  }
  const std::int64_t people = static_cast<std::int64_t>(in.options.supporters);
  v.findings.push_back(std::to_string(pages) + (pages == 1 ? " page, " : " pages, ") + std::to_string(rows) + " rows seen masked (of about " +
                       std::to_string(people) + "), then " + (stop_status ? refusal(stop_status) : "no refusal"));
  v.counts = {{"pages", pages}, {"rows_masked", rows}, {"refused_status", stop_status}};
  if (v.failure.empty() && stop_status == 0) v.failure = "the listing was never refused";
  if (v.failure.empty() && !alert) v.failure = "no alert was raised";
  return v;
}

VectorResult honeytoken(Instance& in) {
  auto v = start(kHoneytoken);
  in.say("5c. a stolen session revealing a decoy record");
  auto id = a_honeytoken(in);
  if (!id) {
    v.failure = id.error().internal;
    return v;
  }
  auto s = sign_in(in, in.accounts.at("organiser-c"), "127.0.0.7");
  if (!s) {
    v.failure = "sign-in: " + s.error().internal;
    return v;
  }
  const auto first = WallClock::now();
  auto a = api(in, *s, "POST", "/api/v1/supporters/" + *id + "/reveal",
               {{"fields", nlohmann::json::array({"email"})}, {"reason", "drill: stolen session"}});
  if (!a) {
    v.failure = a.error().internal;
    return v;
  }
  const auto alert = wait_alert(in, {"honeytoken"}, s->actor, kAlertWait);
  v.ran = true;
  v.exposed = a->status == 200 ? 1 : 0;
  v.bound = 0;
  v.stopped_by = "a honeytoken: the first reveal or exact search of a decoy locks the account at once";
  if (alert) {
    v.first_alert_seconds = seconds_between(first, *alert);
  } else {
    v.alert_note = "no alert line within " + std::to_string(kAlertWait.count()) + " s";
  }
  v.findings.push_back("the reveal of one decoy record (about 1 row in " +
                       std::to_string(in.honeytokens ? in.options.supporters / in.honeytokens : 0) +
                       " is one) was " + (a->status == 200 ? std::string("ANSWERED") : refusal(a->status)));
  v.counts = {{"status", a->status}};
  if (v.failure.empty() && a->status == 200) v.failure = "the decoy was revealed";
  if (v.failure.empty() && !alert) v.failure = "no honeytoken alert was raised";
  return v;
}

BlastRadiusResult blast_radius(Instance& in) {
  BlastRadiusResult b;
  in.say("the list of people to warn: audit blast-radius");
  const fs::path csv = in.root / "blast-radius.csv";
  auto r = in.rempart({"audit", "blast-radius", "--since", std::to_string(in.attack_since), "--csv", csv.string(),
                       "--config", in.config.string()},
                      std::chrono::seconds(300));
  if (!r || r->exit_code != 0) {
    b.failure = r ? "audit blast-radius exited " + std::to_string(r->exit_code) : r.error().internal;
    return b;
  }
  b.ran = true;
  b.seconds = r->seconds;
  std::ifstream f(csv);
  std::string line;
  std::set<std::string> listed;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    const auto c1 = line.find(',');
    const auto c2 = c1 == std::string::npos ? c1 : line.find(',', c1 + 1);
    if (c2 == std::string::npos) continue;
    const std::string id = line.substr(0, c1), kind = line.substr(c1 + 1, c2 - c1 - 1);
    if (kind == "revealed") listed.insert(id);
    if (kind == "masked") ++b.masked_only;
  }
  b.listed = static_cast<std::int64_t>(listed.size());
  b.expected = static_cast<std::int64_t>(in.revealed.size());
  for (const auto& id : in.revealed) b.missing += listed.contains(id) ? 0 : 1;
  for (const auto& id : listed) b.extra += in.revealed.contains(id) ? 0 : 1;
  std::error_code ec;
  fs::remove(csv, ec);  // record ids: not left behind even in a kept instance
  return b;
}

VectorResult insider_export(Instance& in) {
  auto v = start(kInsiderExport);
  in.say("6. an insider asking for a bulk export of everyone");
  auto& alice = in.accounts.at("alice");
  auto& bob = in.accounts.at("bob");
  auto s = sign_in(in, alice, "127.0.0.8");
  if (!s) {
    v.failure = "sign-in: " + s.error().internal;
    return v;
  }
  const auto first = WallClock::now();
  auto req = api(in, *s, "POST", "/api/v1/exports",
                 {{"fields", nlohmann::json::array({"email", "phone"})}, {"reason", "drill: insider export"}, {"code", next_code(alice)}});
  if (!req || req->status != 201) {
    v.failure = "the export request answered " + (req ? std::to_string(req->status) : req.error().internal);
    return v;
  }
  const auto created = nlohmann::json::parse(req->body, nullptr, false);
  const std::int64_t id = created.is_object() ? created.value("id", std::int64_t{0}) : 0;
  const std::string base = "/exports/" + std::to_string(id);
  // Alone: take the file, or approve one's own request.
  auto early = get_page(in, *s, base + "/download");
  auto self = post_form(in, *s, base + "/approve", {{"code", next_code(alice)}});
  std::int64_t files = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(in.data / "exports", ec)) files += e.is_regular_file(ec) ? 1 : 0;
  const bool alone_got_file = (early && early->status == 200) || (self && self->status == 303);
  const auto alert = wait_alert(in, {"export_requested"}, s->actor, kAlertWait);

  // With a second admin's approval: the sealed file, its canaries traced.
  std::int64_t rows = 0, canaries = 0, traced = 0;
  bool approved = false, opened = false;
  auto sb = sign_in(in, bob, "127.0.0.9");
  if (!sb) {
    v.failure = "sign-in of the approver: " + sb.error().internal;
  } else {
    auto ok = post_form(in, *sb, base + "/approve", {{"code", next_code(bob)}});
    approved = ok && ok->status == 303;
    auto file = approved ? get_page(in, *s, base + "/download") : ok;
    if (approved && file && file->status == 200) {
      auto csv = services::decrypt_export(
          std::span(reinterpret_cast<const std::uint8_t*>(file->body.data()), file->body.size()), alice.export_key);
      opened = csv.has_value();
      if (csv) {
        std::istringstream lines(*csv);
        std::string line;
        std::getline(lines, line);  // header
        while (std::getline(lines, line)) {
          if (!line.empty() && line.back() == '\r') line.pop_back();
          if (line.empty()) continue;
          const std::string email = line.substr(0, line.find(','));
          if (!in.canary_domain.empty() && email.ends_with("@" + in.canary_domain)) {
            ++canaries;
            auto t = in.rempart({"canary", "trace", email, "--config", in.config.string()}, std::chrono::seconds(60));
            if (t && t->exit_code == 0 && t->out.find("export    " + std::to_string(id) + "\n") != std::string::npos) {
              ++traced;
            }
          } else {
            ++rows;
          }
        }
        sodium_memzero(csv->data(), csv->size());
      }
      sodium_memzero(file->body.data(), file->body.size());
    }
  }
  v.ran = true;
  v.exposed = alone_got_file ? rows : 0;
  v.bound = 0;
  v.stopped_by = "the two-person rule: nothing leaves without a second admin's approval with a fresh code; the "
                 "file is sealed to the requester and carries canary rows that name the export";
  if (alert) {
    v.first_alert_seconds = seconds_between(first, *alert);
  } else {
    v.alert_note = "no alert line within " + std::to_string(kAlertWait.count()) + " s";
  }
  v.findings.push_back(std::string("alone, the insider's download was ") +
                       (early ? refusal(early->status, false) : "not answered") + " and approving their own request " +
                       (self ? refusal(self->status, false) : "not answered") + "; files written: " + std::to_string(files));
  if (alert) v.findings.push_back("the request itself raised an \"export requested\" alert at once");
  v.findings.push_back(std::string("with a second admin's approval: ") +
                       (approved ? std::to_string(rows) + " people in a file only the requester's key opens (" +
                                       (opened ? "opened" : "NOT opened") + "), " + std::to_string(canaries) +
                                       " canary rows, " + std::to_string(traced) +
                                       " traced back to this export, its requester and approver"
                                 : std::string("NOT approved")));
  v.counts = {{"alone_download_status", early ? early->status : 0},
              {"alone_approve_status", self ? self->status : 0},
              {"files_before_approval", files},
              {"approved", approved},
              {"rows", rows},
              {"canaries", canaries},
              {"canaries_traced", traced}};
  if (v.failure.empty() && alone_got_file) v.failure = "one admin alone got the export";
  if (v.failure.empty() && files != 0) v.failure = "a file was written before approval";
  if (v.failure.empty() && (!approved || !opened)) v.failure = "the approved export could not be taken and opened";
  if (v.failure.empty() && (canaries == 0 || traced != canaries)) v.failure = "a canary row was not traced";
  return v;
}

}  // namespace rempart::drill::detail
