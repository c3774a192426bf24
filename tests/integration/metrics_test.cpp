// End-to-end: /metrics of the real binary (docs/operations.md, "Metrics").
// Sign-ups accepted and refused, folded, then the console's /metrics
// scraped from loopback and with a metrics token, parsed by Debian's
// python3-prometheus-client, its counts checked and every test person's
// values looked for: none may appear.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "integration/process.hpp"

namespace rempart::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPython = "/usr/bin/python3";  // Debian's, with python3-prometheus-client

// The test people's names, e-mails and phones, the refused one's included:
// none of this may be scraped.
const std::vector<std::string> kPersonal = {"Zéphyrine",
                                            "Quennevillard",
                                            "zephyrine.quennevillard@example.org",
                                            "zephyrine",
                                            "+33199004321",
                                            "01 99 00 43 21",
                                            "99004321",
                                            "Octavien",
                                            "Brasdefer",
                                            "octavien.brasdefer@example.net",
                                            "+33261915678",
                                            "261915678",
                                            "Aurélien",
                                            "Aur%C3%A9lien",
                                            "Vasseur-Kermadec",
                                            "aurelien.kermadec",
                                            "Lyon"};

const std::string kForm =
    "given_name=Z%C3%A9phyrine&family_name=Quennevillard&email=zephyrine.quennevillard%40example.org"
    "&phone=01+99+00+43+21&postal_code=75011&consent_email=on";
const std::string kOsdi =
    R"({"person":{"given_name":"Octavien","family_name":"Brasdefer",)"
    R"("email_addresses":[{"address":"octavien.brasdefer@example.net","primary":true,"status":"subscribed"}],)"
    R"("phone_numbers":[{"number":33261915678,"number_type":"Mobile","sms_capable":true}],)"
    R"("postal_addresses":[{"postal_code":"69007","locality":"Lyon","country":"FR"}]},)"
    R"("add_tags":["volunteer"],"consent":{"email":true,"sms":true}})";
// Refused: the e-mail address has no domain.
const std::string kInvalid =
    "given_name=Aur%C3%A9lien&family_name=Vasseur-Kermadec&email=aurelien.kermadec%40&phone=0612&consent_email=on";

// Parses an exposition with prometheus_client.parser and returns its
// samples as "name{k=v,...}" (labels sorted) → value.
std::map<std::string, double> parse_with_prometheus_client(const TempDir& dir, const std::string& text,
                                                           std::string& error) {
  const auto in = dir.path() / "scrape.txt";
  const auto out = dir.path() / "samples.txt";
  {
    std::ofstream f(in, std::ios::binary);
    f << text;
  }
  const std::string script =
      "import sys\n"
      "from prometheus_client.parser import text_string_to_metric_families\n"
      "text = open(sys.argv[1], encoding='utf-8').read()\n"
      "with open(sys.argv[2], 'w', encoding='utf-8') as out:\n"
      "    for family in text_string_to_metric_families(text):\n"
      "        for s in family.samples:\n"
      "            labels = ','.join(k + '=' + v for k, v in sorted(s.labels.items()))\n"
      "            out.write('%s{%s} %r\\n' % (s.name, labels, float(s.value)))\n";
  const auto script_path = dir.path() / "parse.py";
  {
    std::ofstream f(script_path);
    f << script;
  }
  const std::string cmd = std::string(kPython) + " " + script_path.string() + " " + in.string() + " " +
                          out.string() + " 2>" + (dir.path() / "parse.err").string();
  if (std::system(cmd.c_str()) != 0) {
    error = "prometheus_client could not parse the scrape (scripts/deps test installs "
            "python3-prometheus-client): " +
            read_file(dir.path() / "parse.err");
    return {};
  }
  std::map<std::string, double> samples;
  std::istringstream lines(read_file(out));
  for (std::string line; std::getline(lines, line);) {
    const auto space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

double at(const std::map<std::string, double>& s, const std::string& key) {
  const auto it = s.find(key);
  EXPECT_NE(it, s.end()) << key << " is not in the scrape";
  return it == s.end() ? -1 : it->second;
}

// The token a `rempart admin token create` printed (the line after the
// first).
std::string create_token(const Instance& in, const std::string& scope) {
  auto r = run_rempart({"admin", "token", "create", "--scope", scope, "--name", "scraper-" + scope, "--config",
                        in.config.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  std::getline(lines, line);
  return line;
}

TEST(Metrics, ScrapeCountsSignUpsAndHoldsNothingPersonal) {
  Instance in;
  Server srv({"serve", "--config", in.config.string()}, in.dir.path() / "serve.log");
  const auto intake = srv.wait_for_port();
  const auto console = srv.wait_for_port(30s, "console");
  ASSERT_NE(intake, 0) << srv.log();
  ASSERT_NE(console, 0) << srv.log();

  // Two accepted, then refusals: a wrong content type, an unknown page,
  // invalid sign-ups until the per-address rate limit answers.
  const auto form = http_request(intake, "POST", "/signup", "application/x-www-form-urlencoded", kForm);
  ASSERT_TRUE(form.status == 303 || form.status == 200) << form.status;
  ASSERT_EQ(http_request(intake, "POST", "/api/v1/people/person_signup_helper", "application/json", kOsdi).status,
            202);
  ASSERT_EQ(http_request(intake, "POST", "/signup", "text/plain", kForm).status, 415);
  ASSERT_EQ(http_request(intake, "GET", "/no-such-page").status, 404);
  int invalid = 0, limited = 0;
  for (int i = 0; i < 60 && limited == 0; ++i) {
    const auto r = http_request(intake, "POST", "/signup", "application/x-www-form-urlencoded", kInvalid);
    if (r.status == 400) ++invalid;
    else if (r.status == 429) ++limited;
    else ADD_FAILURE() << "unexpected status " << r.status;
  }
  ASSERT_EQ(limited, 1);
  ASSERT_GT(invalid, 0);

  // Folded: both records exist and the fold loop saw an empty inbox.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  HttpResponse scrape;
  std::map<std::string, double> s;
  std::string error;
  while (std::chrono::steady_clock::now() < deadline) {
    scrape = http_request(console, "GET", "/metrics");
    ASSERT_EQ(scrape.status, 200) << scrape.body;
    s = parse_with_prometheus_client(in.dir, scrape.body, error);
    ASSERT_TRUE(error.empty()) << error;
    if (s["rempart_folded_total{result=created}"] == 2 && s["rempart_inbox_backlog{}"] == 0) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(scrape.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(scrape.headers["cache-control"], "no-store");

  EXPECT_EQ(at(s, "rempart_intake_signups_total{api=form}"), 1);
  EXPECT_EQ(at(s, "rempart_intake_signups_total{api=osdi}"), 1);
  EXPECT_EQ(at(s, "rempart_intake_rejected_total{reason=validation}"), invalid);
  EXPECT_EQ(at(s, "rempart_intake_rejected_total{reason=rate_limited}"), 1);
  EXPECT_EQ(at(s, "rempart_intake_rejected_total{reason=media_type}"), 1);
  EXPECT_EQ(at(s, "rempart_intake_rejected_total{reason=not_found}"), 1);
  EXPECT_EQ(at(s, "rempart_intake_rejected_total{reason=unavailable}"), 0);
  EXPECT_EQ(at(s, "rempart_folded_total{result=created}"), 2);
  EXPECT_EQ(at(s, "rempart_folded_total{result=rejected}"), 0);
  EXPECT_EQ(at(s, "rempart_inbox_backlog{}"), 0);
  EXPECT_EQ(at(s, "rempart_outbox_pending{}"), 0);  // no [mail]: nothing queued
  EXPECT_GT(at(s, "rempart_fold_passes_total{}"), 0);
  EXPECT_EQ(at(s, "rempart_fold_failures_total{}"), 0);
  EXPECT_EQ(at(s, "rempart_reveals_total{}"), 0);
  EXPECT_EQ(at(s, "rempart_build_info{version=0.1.0}"), 1);
  EXPECT_GT(at(s, "rempart_process_start_time_seconds{}"), 1.6e9);

  // Label values are the fixed names only; nothing personal anywhere.
  const std::regex label_value("=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(scrape.body.begin(), scrape.body.end(), label_value);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(std::regex_match((*it)[1].str(), std::regex("[a-z_0-9.]+"))) << (*it)[1];
  }
  for (const auto& p : kPersonal) EXPECT_EQ(scrape.body.find(p), std::string::npos) << "the scrape holds " << p;

  // A metrics token reads it; a token of another scope, a token that is
  // none, and what a proxy forwarded without a token are refused, with
  // nothing but a code.
  const auto metrics_token = create_token(in, "metrics");
  const auto masked_token = create_token(in, "read-masked");
  ASSERT_TRUE(metrics_token.starts_with("rmp_")) << metrics_token;
  const auto with_token =
      http_request(console, "GET", "/metrics", "", "", {{"Authorization", "Bearer " + metrics_token}});
  EXPECT_EQ(with_token.status, 200);
  EXPECT_NE(with_token.body.find("rempart_intake_signups_total{api=\"form\"} 1\n"), std::string::npos);
  const auto other = http_request(console, "GET", "/metrics", "", "", {{"Authorization", "Bearer " + masked_token}});
  EXPECT_EQ(other.status, 403);
  const auto none = http_request(console, "GET", "/metrics", "", "", {{"Authorization", "Bearer rmp_nothing_here"}});
  EXPECT_EQ(none.status, 401);
  const auto forwarded = http_request(console, "GET", "/metrics", "", "", {{"X-Forwarded-For", "203.0.113.9"}});
  EXPECT_EQ(forwarded.status, 401);
  for (const auto* r : {&other, &none, &forwarded}) {
    EXPECT_EQ(r->body.find("rempart_"), std::string::npos);
    EXPECT_LT(r->body.size(), 64u) << r->body;
  }
  // The metrics token reads nothing else.
  EXPECT_EQ(http_request(console, "GET", "/api/v1/supporters", "", "", {{"Authorization", "Bearer " + metrics_token}})
                .status,
            403);
  // The intake has no /metrics.
  EXPECT_EQ(http_request(intake, "GET", "/metrics").status, 404);

  EXPECT_EQ(srv.terminate(), 0) << srv.log();
  const auto log = srv.log();
  for (const auto& p : kPersonal) EXPECT_EQ(log.find(p), std::string::npos) << "the log holds " << p;
}

}  // namespace
}  // namespace rempart::test
