// Vectors 1 and 3: the internet-facing side. The injection corpus against
// the sign-up endpoints of an intake served alone (as on its own host), then
// that host taken over: its key file and its inbox in the thief's hands.
#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "crypto/keyring.hpp"
#include "crypto/seal.hpp"
#include "drill/corpus.hpp"
#include "drill/http_client.hpp"
#include "drill/instance.hpp"

namespace rempart::drill::detail {
namespace {

constexpr const char* kFormType = "application/x-www-form-urlencoded";
constexpr const char* kOsdiPath = "/api/v1/people/person_signup_helper";

// The fields a payload goes into, as tests/attack/attacklib.py's ENDPOINTS.
constexpr const char* kFormFields[] = {"given_name", "family_name", "email",         "phone", "postal_code",
                                       "locality",   "country",     "tag",           "consent_email", "consent_sms"};
constexpr const char* kOsdiFields[] = {"given_name", "family_name", "email", "phone",           "postal_code",
                                       "locality",   "country",     "tag",   "additional_name", "consent_email"};

// A valid sign-up, unique per n: an address at a documentation domain and a
// number of the fiction range the synthetic supporters use last.
std::vector<std::pair<std::string, std::string>> base_signup(std::size_t n) {
  char phone[32];
  std::snprintf(phone, sizeof phone, "+3353649%04zu", n % 10000);
  return {{"given_name", "Atta"},      {"family_name", "Quant"},
          {"email", "drill-attack-" + std::to_string(n) + "@example.org"},
          {"phone", phone},            {"postal_code", "75011"},
          {"locality", "Paris"},       {"country", "FR"},
          {"tag", "attack"},           {"consent_email", "on"},
          {"consent_sms", ""}};
}

std::string value_of(const std::vector<std::pair<std::string, std::string>>& v, const std::string& k) {
  for (const auto& [name, value] : v) {
    if (name == k) return value;
  }
  return {};
}

// The OSDI body of tests/attack/attacklib.py's osdi_body: `payload_field`
// holds the payload (a string where a boolean belongs for the consent).
std::string osdi_body(const std::vector<std::pair<std::string, std::string>>& base, const std::string& payload_field,
                      const std::string& payload) {
  auto val = [&](const std::string& k) { return json_string_raw(k == payload_field ? payload : value_of(base, k)); };
  std::string person = "\"given_name\":" + val("given_name") + ",\"family_name\":" + val("family_name") +
                       ",\"additional_name\":" + val("additional_name") +
                       ",\"email_addresses\":[{\"address\":" + val("email") +
                       ",\"primary\":true,\"status\":\"subscribed\"}]" + ",\"phone_numbers\":[{\"number\":" +
                       val("phone") + ",\"number_type\":\"Mobile\",\"sms_capable\":true}]" +
                       ",\"postal_addresses\":[{\"postal_code\":" + val("postal_code") + ",\"locality\":" +
                       val("locality") + ",\"country\":" + val("country") + "}]";
  const std::string consent_email = payload_field == "consent_email" ? json_string_raw(payload) : "true";
  return "{\"person\":{" + person + "},\"add_tags\":[" + val("tag") + "],\"consent\":{\"email\":" + consent_email +
         ",\"sms\":false}}";
}

struct Shot {
  bool osdi;
  std::size_t payload;
  const char* field;
};

struct Tally {
  std::mutex mu;
  std::int64_t sent = 0, accepted = 0, refused = 0, server_errors = 0, unanswered = 0, leaky = 0, error_text = 0;
  Needles::Found found;
};

}  // namespace

VectorResult injection(Instance& in) {
  auto v = start(kInjection);
  const auto corpus = payload_corpus();
  if (corpus.empty()) {
    v.failure = "this binary was built without the injection corpus (tests/attack/payloads)";
    return v;
  }
  in.say("1. injection: " + std::to_string(corpus.size() * 20) + " poisoned sign-ups on the public endpoints");
  auto serve = ServeProcess::start(in.exe, {"serve", "--role", "intake", "--config", in.config.string()},
                                   in.root / "serve-intake.log");
  if (!serve) {
    v.failure = serve.error().internal;
    return v;
  }
  auto port = serve->port("intake", std::chrono::seconds(60));
  if (!port) {
    v.failure = port.error().internal;
    return v;
  }
  std::vector<Shot> shots;
  for (std::size_t p = 0; p < corpus.size(); ++p) {
    for (const char* f : kFormFields) shots.push_back({false, p, f});
    for (const char* f : kOsdiFields) shots.push_back({true, p, f});
  }
  // A value the corpus itself holds is the attacker's, wherever it is
  // stored (a tag is kept as the organisation's own text).
  std::size_t own = 0;
  for (const auto& p : corpus) own += in.needles.forget_found_in(p.bytes);
  // Each base sign-up is unique, so that nothing merges: what is accepted
  // is what the inbox must hold (vector 3 looks for it).
  for (std::size_t n = 0; n < shots.size(); ++n) {
    const auto base = base_signup(n);
    in.needles.add_email(value_of(base, "email"));
  }

  Tally tally;
  std::atomic<std::size_t> next{0};
  const auto first = WallClock::now();
  auto worker = [&] {
    for (;;) {
      const std::size_t n = next.fetch_add(1);
      if (n >= shots.size()) return;
      const auto& shot = shots[n];
      const auto& payload = corpus[shot.payload].bytes;
      auto base = base_signup(n);
      HttpRequest r;
      r.method = "POST";
      if (shot.osdi) {
        base.emplace_back("additional_name", "Mid");
        r.target = kOsdiPath;
        r.content_type = "application/json";
        r.body = osdi_body(base, shot.field, payload);
      } else {
        for (auto& [k, value] : base) {
          if (k == shot.field) value = payload;
        }
        r.target = "/signup";
        r.content_type = kFormType;
        r.body = form_encode(base);
      }
      auto a = http_call(*port, r);
      Needles::Found found;
      bool internal = false;
      if (a) {
        in.needles.scan(a->body, found);
        for (const auto& [k, h] : a->headers) in.needles.scan(h, found);
        internal = looks_like_internal_error(a->body);
      }
      std::lock_guard lock(tally.mu);
      ++tally.sent;
      if (!a) {
        ++tally.unanswered;
        continue;
      }
      if (a->status >= 500) ++tally.server_errors;
      if ((shot.osdi && a->status == 202) || (!shot.osdi && a->status == 303)) {
        ++tally.accepted;
      } else if (a->status >= 400 && a->status < 500) {
        ++tally.refused;
      }
      // The sign-up's own address may come back on no page either: the
      // answer is the same for everyone.
      if (found.records() != 0) ++tally.leaky;
      if (internal) ++tally.error_text;
      tally.found.emails.insert(found.emails.begin(), found.emails.end());
      tally.found.phones.insert(found.phones.begin(), found.phones.end());
    }
  };
  std::vector<std::thread> pool;
  for (int i = 0; i < 4; ++i) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  const double took = seconds_between(first, WallClock::now());
  const int stopped = serve->stop(std::chrono::seconds(60));

  v.ran = true;
  in.accepted_signups = tally.accepted;
  v.exposed = static_cast<std::int64_t>(tally.found.records());
  v.bound = 0;
  v.stopped_by =
      "fixed, parameterised SQL and validation at the edge; every answer is a fixed text that repeats nothing "
      "sent; the sign-up server holds no key and cannot read what it stores";
  v.alert_note = "nothing reached the data, so nothing to alert on; each poisoned value was refused or sealed as text";
  v.findings.push_back(std::to_string(tally.sent) + " poisoned sign-ups (" + std::to_string(corpus.size()) +
                       " payloads x 20 fields of the form and the OSDI API) in " + fixed(took) +
                       " s: " + std::to_string(tally.refused) + " refused, " + std::to_string(tally.accepted) +
                       " accepted (stored sealed, as inert text)");
  v.findings.push_back(std::to_string(tally.leaky) + " answers carried a supporter's e-mail or phone, " +
                       std::to_string(tally.error_text) + " an SQL or error text, " +
                       std::to_string(tally.server_errors) + " were server errors (5xx)");
  if (own != 0) {
    v.findings.push_back(std::to_string(own) + " synthetic supporters' values are also in the corpus itself (a test "
                         "phone number): they are left out of every search for leaks");
  }
  v.counts = {{"requests", tally.sent},
              {"corpus_values_left_out", own},           {"refused", tally.refused},
              {"accepted", tally.accepted},       {"server_errors", tally.server_errors},
              {"unanswered", tally.unanswered},   {"answers_with_personal_data", tally.leaky},
              {"answers_with_error_text", tally.error_text}, {"seconds", took}};
  if (tally.server_errors != 0 || tally.error_text != 0 || tally.leaky != 0) {
    v.failure = "a public answer was a server error or showed what it must not";
  } else if (tally.unanswered != 0) {
    v.failure = std::to_string(tally.unanswered) + " requests got no answer";
  } else if (stopped != 0) {
    v.failure = "the sign-up server did not stop cleanly";
  }
  return v;
}

VectorResult intake_takeover(Instance& in) {
  auto v = start(kIntakeTakeover);
  in.say("3. the sign-up server taken over: its key file and its inbox");
  // The thief's copy of the sign-up host: intake.keyring only (a split
  // deployment puts nothing else there), and the inbox.
  const fs::path host = in.root / "intake-host";
  std::error_code ec;
  fs::create_directories(host / "keys", ec);
  if (!ec) fs::copy_file(in.keys / crypto::kIntakeKeyringFile, host / "keys" / crypto::kIntakeKeyringFile, ec);
  if (ec) {
    v.failure = "cannot copy intake.keyring";
    return v;
  }
  auto public_keys = crypto::load_intake_keyring(host / "keys");
  auto keeper_keys = crypto::load_keeper_keyring(host / "keys");

  // The inbox as the thief reads it: the file itself, not the intake's
  // connection (whose authorizer refuses reads).
  sqlite3* db = nullptr;
  const std::string inbox = (in.data / "inbox.db").string();
  if (sqlite3_open_v2(inbox.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    v.failure = "cannot open inbox.db read-only";
    return v;
  }
  static constexpr const char* kInboxItems =
      "SELECT i.item_uid, i.wrapped_key, i.fields, b.key_version, b.ephemeral_public "
      "FROM inbox i JOIN intake_batches b ON b.uid = i.batch_uid";
  sqlite3_stmt* st = nullptr;
  std::int64_t items = 0, opened = 0;
  if (sqlite3_prepare_v2(db, kInboxItems, -1, &st, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    v.failure = "cannot read the inbox's items";
    return v;
  }
  auto bytes = [&](int col) {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st, col));
    return crypto::Bytes(p, p + sqlite3_column_bytes(st, col));
  };
  while (sqlite3_step(st) == SQLITE_ROW) {
    ++items;
    // Opening needs the sealing secret, in keeper.keyring: had it been on
    // this host, this is where the thief would have read every sign-up.
    if (!keeper_keys) continue;
    const auto uid = bytes(0);
    const auto eph = bytes(4);
    auto opener = crypto::BatchOpener::create(*keeper_keys, static_cast<std::uint32_t>(sqlite3_column_int64(st, 3)), eph);
    if (!opener) continue;
    if (opener->open(uid, crypto::Sealed{bytes(1), bytes(2)})) ++opened;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);

  Needles::Found found;
  for (const char* f : {"inbox.db", "inbox.db-wal"}) {
    if (fs::exists(in.data / f, ec)) {
      if (auto r = in.needles.scan_file(in.data / f, found); !r) v.failure = r.error().internal;
    }
  }
  v.ran = true;
  v.exposed = opened + static_cast<std::int64_t>(found.records());
  v.bound = 0;
  v.stopped_by =
      "the sign-up server holds only the public sealing key: it can seal, never open; the key that opens is "
      "on the keeper alone";
  v.alert_note = "a takeover of the sign-up server is not something rempart itself can see; watch the host";
  v.findings.push_back("the thief opened " + std::to_string(opened) + " of the " + std::to_string(items) +
                       " sealed sign-ups waiting in the inbox, and found " + std::to_string(found.records()) +
                       " e-mails or phones in clear in it");
  v.findings.push_back(std::string("with the sign-up host's key file the keeper's keys ") +
                       (keeper_keys ? "DID load" : "do not load") + "; what the thief can do: post sign-ups (" +
                       std::to_string(in.accepted_signups) + " were accepted above) and read none of them back");
  v.counts = {{"inbox_items", items},
              {"opened", opened},
              {"found_in_clear", found.records()},
              {"public_key_loaded", public_keys.has_value()},
              {"keeper_keys_loaded", keeper_keys.has_value()}};
  if (v.failure.empty() && keeper_keys) v.failure = "the keeper's keys loaded from the sign-up host's key file";
  if (v.failure.empty() && in.accepted_signups > 0 && items == 0) {
    v.failure = "the accepted sign-ups are not in the inbox: nothing was tried";
  }
  fs::remove_all(host, ec);
  return v;
}

}  // namespace rempart::drill::detail
