#include "cli/config.hpp"

#include <gtest/gtest.h>
#include <filesystem>
#include <unistd.h>
#include <fstream>
#include <optional>
#include <string>

namespace rempart::cli {
namespace {

const char* kMinimal = R"(
[storage]
data_dir = "/srv/rempart/data"
[keys]
dir = "/etc/rempart/keys"
)";

TEST(Config, MinimalFileGetsDefaults) {
  auto c = parse_config(kMinimal, "t.toml");
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->data_dir, "/srv/rempart/data");
  EXPECT_EQ(c->data_dir, "/srv/rempart/data");
  EXPECT_EQ(c->backend, "sqlite");
  EXPECT_EQ(c->intake_listen.host, "127.0.0.1");
  EXPECT_EQ(c->intake_listen.port, 8080);
  EXPECT_EQ(c->intake.default_region, "FR");
}

TEST(Config, RenderedConfigParsesBackToTheSameValues) {
  Config c;
  c.data_dir = "/d";
  c.keys_dir = "/k \"quoted\"";
  c.intake_listen = {"::1", 9000};
  c.intake.default_region = "DE";
  c.intake.collect = {"email", "postal_code"};
  c.intake.require = {"postal_code"};
  c.intake.sources = {"source", "ref-code"};
  c.mailings.approval_above = 40;
  c.mailings.batch = 25;
  c.mailings.per_hour = 3000;
  c.allowed_origins = {"https://example.org"};
  c.rate_per_minute = 12.5;
  c.audit.checkpoint_every = 50;
  c.audit.checkpoint_seconds = 5;
  c.audit.checkpoint_file = "/var/lib/rempart-audit/checkpoints";
  c.audit.checkpoint_syslog = true;
  c.audit.verify_seconds = 600;
  auto back = parse_config(render_config(c), "r.toml");
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_EQ(back->keys_dir, c.keys_dir);
  EXPECT_EQ(back->intake_listen.host, "::1");
  EXPECT_EQ(back->intake_listen.port, 9000);
  EXPECT_EQ(back->intake.collect, c.intake.collect);
  EXPECT_EQ(back->intake.require, c.intake.require);
  EXPECT_EQ(back->intake.sources, c.intake.sources);
  EXPECT_EQ(back->mailings.approval_above, 40);
  EXPECT_EQ(back->mailings.batch, 25U);
  EXPECT_EQ(back->mailings.per_hour, 3000);
  EXPECT_EQ(back->allowed_origins, c.allowed_origins);
  EXPECT_DOUBLE_EQ(back->rate_per_minute, 12.5);
  EXPECT_EQ(back->audit.checkpoint_every, 50);
  EXPECT_EQ(back->audit.checkpoint_seconds, 5);
  EXPECT_EQ(back->audit.checkpoint_file, c.audit.checkpoint_file);
  EXPECT_TRUE(back->audit.checkpoint_syslog);
  EXPECT_EQ(back->audit.verify_seconds, 600);
}

TEST(Config, AuditDefaults) {
  auto c = parse_config(kMinimal, "t.toml");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->audit.checkpoint_every, 1000);
  EXPECT_EQ(c->audit.checkpoint_seconds, 60);
  EXPECT_TRUE(c->audit.checkpoint_file.empty());
  EXPECT_FALSE(c->audit.checkpoint_syslog);
  EXPECT_EQ(c->audit.verify_seconds, 3600);
}

TEST(Config, RefusesWhatIsNotInTheSchema) {
  const std::string base = kMinimal;
  for (const std::string& bad : {
           base + "[intake]\nlisten = \"127.0.0.1\"\n",
           base + "[intake]\nlisten = \"127.0.0.1:70000\"\n",
           base + "[intake]\nlistn = \"127.0.0.1:1\"\n",
           base + "[intake]\ncollect = [\"password\"]\n",
           base + "[intake]\ncollect = [\"email\"]\nrequire = [\"given_name\"]\n",
           base + "[intake]\nsources = [\"email\"]\n",
           base + "[intake]\nsources = [\"consent_email\"]\n",
           base + "[intake]\nsources = [\"Utm Source\"]\n",
           base + "[intake]\nsources = [\"\"]\n",
           base + "[mailings]\nbatch = 0\n",
           base + "[mailings]\nper_hour = -1\n",
           base + "[mailings]\nthrottle = 1\n",
           base + "[mailings]\nconnections = 0\n",
           base + "[mailings]\nconnections = 17\n",
           base + "[intake]\nallowed_origins = [\"https://example.org/path\"]\n",
           base + "[intake]\nthreads = \"two\"\n",
           base + "[extra]\n",
           base + "[log]\nlevel = \"loud\"\n",
           base + "[audit]\ncheckpoint_every = 0\n",
           base + "[audit]\ncheckpoint_seconds = -1\n",
           base + "[audit]\nverify_seconds = 59\n",
           base + "[audit]\nverify_seconds = 604801\n",
           base + "[audit]\ncheckpoint_file = \"relative/path\"\n",
           base + "[audit]\ncheckpoint_sink = true\n",
           std::string("[storage]\ndata_dir = \"/d\"\n"),
           std::string("[storage]\nbackend = \"mysql\"\ndata_dir = \"/d\"\n[keys]\ndir = \"/k\"\n"),
           std::string("not toml at all ["),
       }) {
    auto c = parse_config(bad, "bad.toml");
    EXPECT_FALSE(c) << bad;
    if (!c) {
      EXPECT_EQ(c.error().code, Errc::config);
    }
  }
}

TEST(Config, ConsoleTableDefaultsParsesAndRefusesNonsense) {
  auto d = parse_config(kMinimal, "t.toml");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->console.listen.host, "127.0.0.1");
  EXPECT_EQ(d->console.listen.port, 8081);
  EXPECT_EQ(d->console.session_idle_minutes, 15);
  EXPECT_EQ(d->console.session_absolute_hours, 8);
  auto c = parse_config(std::string(kMinimal) +
                            "[console]\nlisten = \"10.0.0.1:9443\"\nsession_idle_minutes = 5\nsession_absolute_hours = 2\n",
                        "t.toml");
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->console.listen.port, 9443);
  EXPECT_EQ(c->console.session_idle_minutes, 5);
  EXPECT_EQ(c->console.session_absolute_hours, 2);
  auto back = parse_config(render_config(*c), "r.toml");
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_EQ(back->console.listen.host, "10.0.0.1");
  EXPECT_EQ(back->console.session_idle_minutes, 5);
  EXPECT_FALSE(parse_config(std::string(kMinimal) + "[console]\nsession_idle_minutes = 0\n", "t.toml"));
  EXPECT_FALSE(parse_config(std::string(kMinimal) + "[console]\nsession_idle_minutes = 600\nsession_absolute_hours = 1\n", "t.toml"));
  EXPECT_FALSE(parse_config(std::string(kMinimal) + "[console]\ncookie = 1\n", "t.toml"));
}

TEST(Config, ConsoleNeverSharesTheIntakeAddressAndTlsNeedsBothFiles) {
  const std::string m(kMinimal);
  EXPECT_FALSE(parse_config(m + "[intake]\nlisten = \"127.0.0.1:9000\"\n[console]\nlisten = \"127.0.0.1:9000\"\n", "t"));
  EXPECT_TRUE(parse_config(m + "[intake]\nlisten = \"127.0.0.1:0\"\n[console]\nlisten = \"127.0.0.1:0\"\n", "t"));
  EXPECT_FALSE(parse_config(m + "[console]\ntls_certificate = \"/etc/c.pem\"\n", "t"));
  EXPECT_FALSE(parse_config(m + "[intake]\ntls_key = \"/etc/k.pem\"\n", "t"));
  EXPECT_FALSE(parse_config(m + "[console]\nworkers = 0\n", "t"));
  EXPECT_FALSE(parse_config(m + "[console]\nhostnames = [\"a.example:80\"]\n", "t"));
  auto c = parse_config(m + "[console]\ntls_certificate = \"/etc/c.pem\"\ntls_key = \"/etc/k.pem\"\n"
                            "hostnames = [\"admin.example.org\"]\nworkers = 3\n",
                        "t");
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_TRUE(c->console.tls.enabled());
  EXPECT_EQ(c->console.workers, 3u);
  auto back = parse_config(render_config(*c), "r");
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_EQ(back->console.tls.key, "/etc/k.pem");
  EXPECT_EQ(back->console.hostnames, std::vector<std::string>{"admin.example.org"});
}

TEST(Config, GuardBudgetsAndAlertSinks) {
  const std::string m(kMinimal);
  auto d = parse_config(m, "t");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->budgets.of(guard::Counted::email).per_hour, 20);
  EXPECT_FALSE(d->alerts.webhook);
  EXPECT_EQ(d->budgets.of(guard::Counted::masked).per_day, 2000);
  EXPECT_EQ(d->budgets.of(guard::Counted::masked, "viewer").per_day, 1000);
  EXPECT_EQ(d->budgets.of(guard::Counted::miss).per_minute, 10);
  EXPECT_EQ(d->accounts.approver_cooling_hours, 24);
  auto c = parse_config(m + "[guard]\nemail_per_hour = 3\nmasked_rows_per_minute = 0\nsearch_misses_per_hour = 7\n"
                            "[guard.organiser]\nmasked_rows_per_day = 500\n"
                            "[accounts]\napprover_cooling_hours = 48\n"
                            "[alerts]\nstderr_json = false\nfile = \"/var/log/a.jsonl\"\n"
                            "[alerts.webhook]\nurl = \"https://hooks.example.org/x\"\nsecret_file = \"/etc/s\"\n"
                            "timeout_ms = 500\n"
                            "[alerts.smtp]\nurl = \"smtp://127.0.0.1:25\"\nfrom = \"r@example.org\"\n"
                            "to = [\"o@example.org\"]\n",
                        "t");
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->budgets.of(guard::Counted::email).per_hour, 3);
  EXPECT_EQ(c->budgets.of(guard::Counted::masked).per_minute, 0);
  EXPECT_EQ(c->budgets.of(guard::Counted::miss).per_hour, 7);
  EXPECT_EQ(c->budgets.of(guard::Counted::masked, "organiser").per_day, 500);
  EXPECT_EQ(c->budgets.of(guard::Counted::masked, "organiser").per_minute, 0);  // the base, then the role's keys
  EXPECT_EQ(c->budgets.of(guard::Counted::masked, "admin").per_day, 2000);
  EXPECT_EQ(c->accounts.approver_cooling_hours, 48);
  EXPECT_EQ(auth_options(*c).approver_cooling_seconds, 48 * 3600);
  EXPECT_FALSE(c->alerts.stderr_json);
  ASSERT_TRUE(c->alerts.webhook);
  EXPECT_EQ(c->alerts.webhook->timeout.count(), 500);
  ASSERT_TRUE(c->alerts.smtp);
  EXPECT_EQ(c->alerts.smtp->to.size(), 1u);
  auto back = parse_config(render_config(*c), "r");
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_EQ(back->budgets.of(guard::Counted::email).per_hour, 3);
  EXPECT_EQ(back->budgets.of(guard::Counted::masked, "organiser").per_day, 500);
  EXPECT_EQ(back->budgets.of(guard::Counted::masked, "viewer").per_day, 1000);
  EXPECT_EQ(back->accounts.approver_cooling_hours, 48);
  // Page counts of earlier versions are refused by name, not read as rows.
  auto old = parse_config(m + "[guard]\nmasked_per_hour = 600\n", "t");
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().internal.find("masked_rows_per_hour"), std::string::npos);
  EXPECT_FALSE(parse_config(m + "[guard.viewer]\nemail_per_hour = 3\n", "t"));
  EXPECT_FALSE(parse_config(m + "[accounts]\napprover_cooling_hours = -1\n", "t"));
  EXPECT_FALSE(parse_config(m + "[guard]\nemail_per_week = 3\n", "t"));
  EXPECT_FALSE(parse_config(m + "[guard]\nemail_per_hour = -1\n", "t"));
  EXPECT_FALSE(parse_config(m + "[alerts.webhook]\nurl = \"https://x\"\n", "t"));
  EXPECT_FALSE(parse_config(m + "[alerts]\nsecret = \"inline\"\n", "t"));
}

TEST(Config, MailTableParsesRendersAndRefusesNonsense) {
  const std::string m = kMinimal;
  EXPECT_FALSE(parse_config(m, "t")->mail);
  const std::string mail = "[mail]\nsmtp_url = \"smtp://127.0.0.1:2525\"\nfrom = \"news@example.org\"\n"
                           "organisation = \"Mouvement Démo\"\nlinks_base = \"https://signup.example.org\"\n"
                           "require_tls = false\nconfirm_days = 3\n";
  auto c = parse_config(m + mail, "t");
  ASSERT_TRUE(c) << c.error().internal;
  ASSERT_TRUE(c->mail);
  EXPECT_EQ(c->mail->smtp.url, "smtp://127.0.0.1:2525");
  EXPECT_FALSE(c->mail->smtp.require_tls);
  EXPECT_EQ(c->mail->supporter.organisation, "Mouvement Démo");
  EXPECT_EQ(c->mail->supporter.confirm_valid.count(), 3 * 86400);
  auto back = parse_config(render_config(*c), "r");
  ASSERT_TRUE(back) << back.error().internal;
  ASSERT_TRUE(back->mail);
  EXPECT_EQ(back->mail->supporter.links_base, "https://signup.example.org");
  EXPECT_EQ(back->mail->supporter.confirm_valid.count(), 3 * 86400);
  EXPECT_FALSE(back->mail->smtp.require_tls);
  // Without [mail], what init writes parses back without one.
  EXPECT_FALSE(parse_config(render_config(*parse_config(m, "t")), "r")->mail);

  EXPECT_FALSE(parse_config(m + "[mail]\nsmtp_url = \"smtp://127.0.0.1:25\"\n", "t"));  // from, organisation, links
  for (const std::string bad : {"links_base = \"https://x/\"", "from = \"News <n@example.org>\"", "confirm_days = 0",
                                "per_minute = 0.0", "password = \"inline\""}) {
    std::string text = m + mail;
    const auto key = bad.substr(0, bad.find(' '));
    if (const auto at = text.find(key + " = "); at != std::string::npos) text.erase(at, text.find('\n', at) - at + 1);
    text += bad + "\n";
    auto r = parse_config(text, "t");
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().internal.find("[mail]"), std::string::npos) << r.error().internal;
    }
  }
}

TEST(Config, TheOrganisationAndItsPrivacyNoticeParseAndRenderBack) {
  const std::string m = kMinimal;
  const std::string page = "organisation = \"Mouvement Démo\"\n[intake.privacy]\ncontroller = \"Mouvement Démo\"\n"
                           "purpose = \"vous informer\"\nretention = \"3 ans\"\ncontact = \"dpo@exemple.org\"\n";
  auto with = [&](const std::string& extra) {
    std::string text = m;
    const auto at = text.find("[intake]\n");
    if (at == std::string::npos) return parse_config(text + "[intake]\n" + extra, "t");
    return parse_config(text.insert(text.find('\n', at) + 1, extra), "t");
  };
  auto c = with(page);
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->intake.organisation, "Mouvement Démo");
  EXPECT_EQ(c->intake.privacy.retention, "3 ans");
  auto back = parse_config(render_config(*c), "r");
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_EQ(back->intake.privacy.contact, "dpo@exemple.org");
  EXPECT_EQ(back->intake.organisation, "Mouvement Démo");
  auto none = parse_config(render_config(*parse_config(m, "t")), "r");  // commented example only
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->intake.privacy.controller.empty());
  EXPECT_FALSE(with("[intake.privacy]\npurpose = \"x\"\n"));  // no controller
  EXPECT_FALSE(with("[intake.privacy]\ncontroller = \"x\"\nlegal_basis = \"y\"\n"));
  EXPECT_FALSE(with("organisation = \"two\\nlines\"\n"));
}

TEST(Config, TheLanguageAndTheConsentWordingParseAndRenderBack) {
  const std::string m = kMinimal;
  auto c = parse_config(m + "[ui]\ndefault_language = \"fr\"\n", "t");
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->default_language, "fr");
  auto back = parse_config(render_config(*c), "r");
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_EQ(back->default_language, "fr");
  EXPECT_EQ(parse_config(m, "t")->default_language, "en");
  EXPECT_FALSE(parse_config(m + "[ui]\ndefault_language = \"de\"\n", "t"));
  EXPECT_FALSE(parse_config(m + "[ui]\nlanguage = \"fr\"\n", "t"));
  // The consent wording: "" is rempart's own, in the page's language.
  auto own = parse_config(m + "[intake]\nconsent_email_text = \"J’accepte les nouvelles du mouvement.\"\n", "t");
  ASSERT_TRUE(own) << own.error().internal;
  EXPECT_EQ(own->intake.consent_email_text, "J’accepte les nouvelles du mouvement.");
  EXPECT_TRUE(own->intake.consent_sms_text.empty());
  EXPECT_EQ(parse_config(render_config(*own), "r")->intake.consent_email_text, own->intake.consent_email_text);
  EXPECT_FALSE(parse_config(m + "[intake]\nconsent_sms_text = \"two\\nlines\"\n", "t"));
}

TEST(Config, TheColourMustCarryWhiteTextAndTheLogoMustBeAnImage) {
  const std::string m = kMinimal;
  auto c = parse_config(m + "[intake]\ncolour = \"#1d5c2e\"\nlogo = \"logo.svg\"\n", "/etc/rempart/rempart.toml");
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->intake.colour, "#1d5c2e");
  EXPECT_EQ(c->intake_logo, std::filesystem::path("/etc/rempart/logo.svg"));  // beside the config file
  auto back = parse_config(render_config(*c), "/elsewhere/r.toml");
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_EQ(back->intake.colour, "#1d5c2e");
  EXPECT_EQ(back->intake_logo, c->intake_logo);
  for (const char* bad : {"#ffff00", "#fff", "green", "#12345g", "#1d5c2e ", "1d5c2e0"}) {
    auto r = parse_config(m + "[intake]\ncolour = \"" + bad + "\"\n", "t");
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().internal.find("[intake] colour"), std::string::npos);
    }
  }
  // The logo is read when the intake starts: an image, by its bytes.
  const auto dir = std::filesystem::temp_directory_path() / ("rempart-logo-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto write = [&](const char* name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    Config with = *c;
    with.intake_logo = dir / name;
    return std::pair{load_intake_logo(with), with};
  };
  auto [png, png_c] = write("logo.png", std::string("\x89PNG\r\n\x1a\n", 8) + "rest");
  EXPECT_TRUE(png);
  EXPECT_EQ(png_c.intake.logo_type, "image/png");
  auto [svg, svg_c] = write("logo.svg", "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
  EXPECT_TRUE(svg);
  EXPECT_EQ(svg_c.intake.logo_type, "image/svg+xml");
  EXPECT_FALSE(write("logo.gif", "GIF89a....").first);
  EXPECT_FALSE(write("logo.html", "<html><script>alert(1)</script></html>").first);
  EXPECT_FALSE(write("big.png", std::string("\x89PNG\r\n\x1a\n", 8) + std::string(300 * 1024, 'x')).first);
  Config missing = *c;
  missing.intake_logo = dir / "none.png";
  EXPECT_FALSE(load_intake_logo(missing));
  Config none = *parse_config(m, "t");
  EXPECT_TRUE(load_intake_logo(none));
  EXPECT_TRUE(none.intake.logo.empty());
  std::filesystem::remove_all(dir);
}

TEST(Config, BouncesTableParsesRendersAndRefusesNonsense) {
  const std::string m = kMinimal;
  const std::string mail = "[mail]\nsmtp_url = \"smtp://127.0.0.1:2525\"\nfrom = \"news@example.org\"\n"
                           "organisation = \"Mouvement\"\nlinks_base = \"https://signup.example.org\"\n"
                           "require_tls = false\n";
  const std::string bounces = "[bounces]\nimap_url = \"imaps://mail.example.org/INBOX\"\n"
                              "username = \"bounces@example.org\"\npassword_file = \"/etc/rempart/imap-password\"\n"
                              "soft = 5\n";
  EXPECT_FALSE(parse_config(m + mail, "t")->bounces);
  auto c = parse_config(m + mail + bounces, "t");
  ASSERT_TRUE(c) << c.error().internal;
  ASSERT_TRUE(c->bounces);
  EXPECT_EQ(c->bounces->imap.url, "imaps://mail.example.org/INBOX");
  EXPECT_EQ(c->bounces->hard, 1);
  EXPECT_EQ(c->bounces->soft, 5);
  EXPECT_EQ(c->bounces->soft_days, 30);
  EXPECT_EQ(c->bounces->complaints, 1);
  EXPECT_EQ(c->bounces->poll.count(), 300);
  auto back = parse_config(render_config(*c), "r");
  ASSERT_TRUE(back) << back.error().internal;
  ASSERT_TRUE(back->bounces);
  EXPECT_EQ(back->bounces->imap.password_file, "/etc/rempart/imap-password");
  EXPECT_EQ(back->bounces->soft, 5);
  EXPECT_FALSE(parse_config(render_config(*parse_config(m + mail, "t")), "r")->bounces);

  auto alone = parse_config(m + bounces, "t");  // nothing is sent, so nothing bounces
  ASSERT_FALSE(alone);
  EXPECT_NE(alone.error().internal.find("[mail]"), std::string::npos);
  for (const std::string bad : {"hard = 0", "soft = -1", "soft_days = 0", "complaints = 1000000", "poll_seconds = 1",
                                "password = \"inline\"", "imap_url = \"\""}) {
    std::string b = bounces;
    const auto key = bad.substr(0, bad.find(' '));
    if (const auto at = b.find("\n" + key + " = "); at != std::string::npos) b.erase(at + 1, b.find('\n', at + 1) - at);
    const std::string text = m + mail + b + bad + "\n";
    auto r = parse_config(text, "t");
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().internal.find("[bounces]"), std::string::npos) << r.error().internal;
    }
  }
}

TEST(Config, RetentionDefaultsParseAndRefuseNonsense) {
  const std::string m = kMinimal;
  auto c = parse_config(m, "t");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->retention.record_months, 36);
  EXPECT_EQ(c->retention.phone_months, 24);
  EXPECT_EQ(c->retention.unconfirmed_days, 30);
  auto set = parse_config(m + "[retention]\nrecord_months = 0\nphone_months = 12\nunconfirmed_days = 60\n", "t");
  ASSERT_TRUE(set) << set.error().internal;
  EXPECT_EQ(set->retention.record_months, 0);
  auto back = parse_config(render_config(*set), "r");
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_EQ(back->retention.phone_months, 12);
  EXPECT_EQ(back->retention.unconfirmed_days, 60);
  for (const char* bad : {"record_months = -1", "phone_months = 1000", "unconfirmed_days = 3", "forever = true"}) {
    auto r = parse_config(m + "[retention]\n" + bad + "\n", "t");
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().internal.find("retention"), std::string::npos) << r.error().internal;
    }
  }
}


// [storage] of backend = "postgresql". Every test below but the first needs
// "postgresql" among store::backend_names() (src/store/backends.cpp).
const char* kPostgres = R"(
[storage]
backend = "postgresql"
data_dir = "/srv/rempart/data"
dsn = "host=db.example.org port=5433 dbname=rempart sslmode=verify-full"
[keys]
dir = "/etc/rempart/keys"
)";

// kPostgres with its dsn line replaced (when `dsn` is set) and `extra`
// added to [storage].
std::string postgres_config(const std::string& extra, const std::optional<std::string>& dsn = std::nullopt) {
  std::string text = kPostgres;
  const auto at = text.find("dsn = ");
  const auto end = text.find('\n', at) + 1;
  text.replace(at, end - at, (dsn ? *dsn : text.substr(at, end - at - 1)) + "\n" + extra);
  return text;
}

TEST(Config, PostgresqlKeysAreOnlyForThePostgresqlBackend) {
  const std::string m = kMinimal;
  auto d = parse_config(m, "t");
  ASSERT_TRUE(d) << d.error().internal;
  EXPECT_TRUE(d->dsn.empty());
  EXPECT_EQ(d->storage().intake_user, "rempart_intake");
  EXPECT_EQ(d->storage().keeper_user, "rempart_keeper");
  // What init writes for SQLite shows the keys in comments only, and parses back.
  const std::string rendered = render_config(*d);
  EXPECT_NE(rendered.find("# dsn = "), std::string::npos);
  auto back = parse_config(rendered, "r");
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_TRUE(back->dsn.empty());
  for (const std::string key : {"dsn", "intake_user", "keeper_user", "intake_password_file", "keeper_password_file"}) {
    std::string text = m;
    text.insert(text.find("[keys]"), key + " = \"host=db.example.org s3cr3t\"\n");
    auto r = parse_config(text, "t");
    ASSERT_FALSE(r) << key;
    EXPECT_EQ(r.error().code, Errc::config);
    EXPECT_NE(r.error().internal.find("[storage]." + key), std::string::npos) << r.error().internal;
    EXPECT_NE(r.error().internal.find("postgresql"), std::string::npos) << r.error().internal;
    EXPECT_EQ(r.error().internal.find("s3cr3t"), std::string::npos) << r.error().internal;
  }
}

TEST(Config, PostgresqlStorageParsesFillsTheStorageOptionsAndRendersBack) {
  auto c = parse_config(postgres_config("intake_user = \"signup_node\"\nkeeper_user = \"_keeper2\"\n"
                                        "intake_password_file = \"/etc/rempart/intake-db-password\"\n"
                                        "keeper_password_file = \"secrets/keeper-db-password\"\n"),
                        "/etc/rempart/rempart.toml");
  ASSERT_TRUE(c) << c.error().internal;
  const store::StorageOptions o = c->storage();
  EXPECT_EQ(o.backend, "postgresql");
  EXPECT_EQ(o.data_dir, "/srv/rempart/data");
  EXPECT_EQ(o.dsn, "host=db.example.org port=5433 dbname=rempart sslmode=verify-full");
  EXPECT_EQ(o.intake_user, "signup_node");
  EXPECT_EQ(o.keeper_user, "_keeper2");
  EXPECT_EQ(o.intake_password_file, std::filesystem::path("/etc/rempart/intake-db-password"));
  // A relative path is beside the configuration file.
  EXPECT_EQ(o.keeper_password_file, std::filesystem::path("/etc/rempart/secrets/keeper-db-password"));
  auto back = parse_config(render_config(*c), "/elsewhere/r.toml");
  ASSERT_TRUE(back) << back.error().internal;
  const store::StorageOptions b = back->storage();
  EXPECT_EQ(b.backend, o.backend);
  EXPECT_EQ(b.data_dir, o.data_dir);
  EXPECT_EQ(b.dsn, o.dsn);
  EXPECT_EQ(b.intake_user, o.intake_user);
  EXPECT_EQ(b.keeper_user, o.keeper_user);
  EXPECT_EQ(b.intake_password_file, o.intake_password_file);
  EXPECT_EQ(b.keeper_password_file, o.keeper_password_file);

  // The defaults: the two roles, no password file (peer, certificate, .pgpass).
  auto d = parse_config(kPostgres, "t");
  ASSERT_TRUE(d) << d.error().internal;
  EXPECT_EQ(d->storage().intake_user, "rempart_intake");
  EXPECT_EQ(d->storage().keeper_user, "rempart_keeper");
  EXPECT_TRUE(d->storage().intake_password_file.empty());
  EXPECT_TRUE(d->storage().keeper_password_file.empty());
  auto d_back = parse_config(render_config(*d), "r");
  ASSERT_TRUE(d_back) << d_back.error().internal;
  EXPECT_EQ(d_back->dsn, d->dsn);
  EXPECT_TRUE(d_back->intake_password_file.empty());

  // Keywords and URIs that name servers and a database only.
  for (const std::string dsn : {"host=db1.example.org,db2.example.org port=5432,5433 dbname=rempart "
                                "target_session_attrs=read-write connect_timeout=5",
                                "postgresql://db.example.org:5433/rempart?sslmode=verify-full",
                                "postgresql:///rempart?host=/run/postgresql", "service=rempart",
                                "host=db.example.org dbname='rempart data' sslrootcert=/etc/rempart/db-ca.pem"}) {
    auto r = parse_config(postgres_config("", "dsn = \"" + dsn + "\""), "t");
    ASSERT_TRUE(r) << dsn << ": " << r.error().internal;
    EXPECT_EQ(r->dsn, dsn);
    auto again = parse_config(render_config(*r), "r");
    ASSERT_TRUE(again) << again.error().internal;
    EXPECT_EQ(again->dsn, dsn);
  }
}

TEST(Config, PostgresqlDsnNamesNoUserNorPasswordAndIsNeverRepeated) {
  for (const std::string dsn : {
           "host=db.example.org dbname=rempart password=s3cr3t",
           "host=db.example.org dbname=rempart password=''",
           "postgresql://rempart:s3cr3t@db.example.org/rempart",
           "postgresql://db.example.org/rempart?password=s3cr3t",
           "host=db.example.org sslpassword=s3cr3t sslkey=/etc/rempart/client.key",
           "host=db.example.org passfile=/etc/rempart/s3cr3t.pgpass",
           "host=db.example.org user=s3cr3t",
           "postgresql://s3cr3t@db.example.org/rempart",
           "dbname='host=db.example.org password=s3cr3t'",
           "dbname=postgresql://db.example.org/s3cr3t",
           "host=db.example.org s3cr3t",
           "host='db.example.org s3cr3t",
           "host=db.example.org sekret=s3cr3t",
           "host=db.example.org\\npassword=s3cr3t",
           "",
           "   ",
       }) {
    auto r = parse_config(postgres_config("", "dsn = \"" + dsn + "\""), "t");
    ASSERT_FALSE(r) << dsn;
    EXPECT_EQ(r.error().code, Errc::config);
    EXPECT_NE(r.error().internal.find("[storage].dsn"), std::string::npos) << dsn << ": " << r.error().internal;
    EXPECT_EQ(r.error().internal.find("s3cr3t"), std::string::npos) << r.error().internal;
    EXPECT_EQ(r.error().internal.find("db.example.org"), std::string::npos) << r.error().internal;
  }
  auto missing = parse_config(postgres_config("", "# no dsn"), "t");  // no dsn line at all
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().internal.find("[storage].dsn is required"), std::string::npos) << missing.error().internal;
}

TEST(Config, PostgresqlRoleNamesArePlainIdentifiersAndDiffer) {
  ASSERT_TRUE(parse_config(postgres_config("intake_user = \"" + std::string(63, 'a') + "\"\n"), "t"));
  for (const std::string key : {"intake_user", "keeper_user"}) {
    for (const std::string& bad :
         std::vector<std::string>{"", "Rempart", "1rempart", "pg_rempart", "rempart-intake", "rempart intake",
                                  "rempart\\\"; drop role x; --", "rempart_é", std::string(64, 'a')}) {
      auto r = parse_config(postgres_config(key + " = \"" + bad + "\"\n"), "t");
      ASSERT_FALSE(r) << key << " = " << bad;
      EXPECT_EQ(r.error().code, Errc::config);
      EXPECT_NE(r.error().internal.find("[storage]." + key), std::string::npos) << r.error().internal;
    }
  }
  auto same = parse_config(postgres_config("intake_user = \"rempart\"\nkeeper_user = \"rempart\"\n"), "t");
  ASSERT_FALSE(same);
  EXPECT_NE(same.error().internal.find("intake_user and keeper_user must differ"), std::string::npos)
      << same.error().internal;
}

TEST(Config, PostgresqlPasswordFilesStayOutOfTheDataAndKeyDirectories) {
  for (const std::string key : {"intake_password_file", "keeper_password_file"}) {
    for (const std::string bad : {"/srv/rempart/data/db-password", "/srv/rempart/data", "/srv/rempart/data/../data/pw",
                                  "/etc/rempart/keys/db-password", "keys/db-password"}) {
      auto r = parse_config(postgres_config(key + " = \"" + bad + "\"\n"), "/etc/rempart/rempart.toml");
      ASSERT_FALSE(r) << key << " = " << bad;
      EXPECT_EQ(r.error().code, Errc::config);
      EXPECT_NE(r.error().internal.find("[storage]." + key), std::string::npos) << r.error().internal;
    }
    EXPECT_TRUE(parse_config(postgres_config(key + " = \"/srv/rempart/data-password\"\n"), "/etc/rempart/r.toml"));
  }
  auto same = parse_config(postgres_config("intake_password_file = \"/etc/rempart/pw\"\n"
                                           "keeper_password_file = \"pw\"\n"),
                           "/etc/rempart/rempart.toml");
  ASSERT_FALSE(same);
  EXPECT_NE(same.error().internal.find("must differ"), std::string::npos) << same.error().internal;
}

// [storage].disk_reserve_mib: 64 MiB unless set; whole MiB from 0 (none)
// to 1 TiB; written by `init` for either backend and read back.
TEST(Config, TheDiskReserveDefaultsParsesRendersBackAndRefusesNonsense) {
  auto d = parse_config(kMinimal, "t.toml");
  ASSERT_TRUE(d) << d.error().internal;
  EXPECT_EQ(d->disk_reserve_mib, 64);
  const auto with = [](const std::string& value) {
    return "[storage]\ndata_dir = \"/d\"\ndisk_reserve_mib = " + value + "\n[keys]\ndir = \"/k\"\n";
  };
  for (const auto& [text, want] : {std::pair<std::string, std::int64_t>{"0", 0}, {"1", 1}, {"512", 512},
                                   {"1048576", 1048576}}) {
    auto c = parse_config(with(text), "t.toml");
    ASSERT_TRUE(c) << text << ": " << c.error().internal;
    EXPECT_EQ(c->disk_reserve_mib, want);
    auto back = parse_config(render_config(*c), "r.toml");
    ASSERT_TRUE(back) << back.error().internal;
    EXPECT_EQ(back->disk_reserve_mib, want);
  }
  for (const std::string bad : {"-1", "1048577", "9223372036854775807"}) {
    auto c = parse_config(with(bad), "t.toml");
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().code, Errc::config);
    EXPECT_EQ(c.error().internal, "[storage].disk_reserve_mib must be 0 (no reserve) to 1048576 (1 TiB) MiB; " + bad +
                                      " is not");
  }
  for (const std::string bad : {"\"64MiB\"", "64.5", "true", "[64]"}) {
    auto c = parse_config(with(bad), "t.toml");
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().internal, "[storage].disk_reserve_mib must be a whole number of MiB, e.g. 64") << bad;
  }
  // In the file `init` writes, with either backend.
  EXPECT_NE(render_config(*d).find("disk_reserve_mib = 64 "), std::string::npos);
  auto pg = parse_config(kPostgres, "t");
  ASSERT_TRUE(pg) << pg.error().internal;
  pg->disk_reserve_mib = 8;
  auto pg_back = parse_config(render_config(*pg), "r");
  ASSERT_TRUE(pg_back) << pg_back.error().internal;
  EXPECT_EQ(pg_back->disk_reserve_mib, 8);
}

// [keys] provider: "file" unless set; "pkcs11" needs a module, a token and
// a PIN file, absolute, the PIN outside the data and key directories.
TEST(Config, AKeyTokenIsNamedWholeOrNotAtAll) {
  const auto with = [](const std::string& keys) {
    return "[storage]\ndata_dir = \"/d\"\n[keys]\ndir = \"/k\"\n" + keys;
  };
  auto plain = parse_config(with(""), "t.toml");
  ASSERT_TRUE(plain) << plain.error().internal;
  EXPECT_FALSE(plain->key_token);
  auto token = parse_config(with("provider = \"pkcs11\"\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\n"
                                 "token = \"rempart\"\npin_file = \"/etc/rempart/pin\"\n"),
                            "t.toml");
  ASSERT_TRUE(token) << token.error().internal;
  ASSERT_TRUE(token->key_token);
  EXPECT_EQ(token->key_token->label, "rempart");
  EXPECT_EQ(token->key_token->pin_file, "/etc/rempart/pin");
  const std::pair<std::string, std::string> refused[] = {
      {"provider = \"pkcs11\"\ntoken = \"rempart\"\n", "needs module, token and pin_file"},
      {"provider = \"hsm\"\n", "must be \"file\" or \"pkcs11\""},
      {"token = \"rempart\"\n", "are for provider = \"pkcs11\""},
      {"provider = \"pkcs11\"\nmodule = \"lib.so\"\ntoken = \"t\"\npin_file = \"/p\"\n", "absolute paths"},
      {"provider = \"pkcs11\"\nmodule = \"/m.so\"\ntoken = \"t\"\npin_file = \"/k/pin\"\n",
       "outside the data directory and the key directory"},
  };
  for (const auto& [keys, why] : refused) {
    auto c = parse_config(with(keys), "t.toml");
    ASSERT_FALSE(c) << keys;
    EXPECT_EQ(c.error().code, Errc::config);
    EXPECT_NE(c.error().internal.find(why), std::string::npos) << c.error().internal;
  }
}

// [keys] rewrap_per_second: 500 unless set, a whole number from 1 to
// 1,000,000, written by `init` and read back.
TEST(Config, TheRewrapRateIsASettingWithABound) {
  const auto with = [](const std::string& keys) {
    return "[storage]\ndata_dir = \"/d\"\n[keys]\ndir = \"/k\"\n" + keys;
  };
  auto d = parse_config(with(""), "t.toml");
  ASSERT_TRUE(d) << d.error().internal;
  EXPECT_EQ(d->rewrap_per_second, 500);
  auto set = parse_config(with("rewrap_per_second = 2000\n"), "t.toml");
  ASSERT_TRUE(set) << set.error().internal;
  EXPECT_EQ(set->rewrap_per_second, 2000);
  auto back = parse_config(render_config(*set), "r.toml");
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_EQ(back->rewrap_per_second, 2000);
  for (const char* bad : {"rewrap_per_second = 0\n", "rewrap_per_second = 1000001\n", "rewrap_per_second = -5\n",
                          "rewrap_per_second = 2.5\n", "rewrap_per_second = \"fast\"\n"}) {
    auto c = parse_config(with(bad), "t.toml");
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().code, Errc::config);
    EXPECT_NE(c.error().internal.find("[keys].rewrap_per_second must be"), std::string::npos) << c.error().internal;
  }
}

}  // namespace
}  // namespace rempart::cli
