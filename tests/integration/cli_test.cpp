// End-to-end tests of the operator commands.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <regex>

#include "integration/process.hpp"

namespace rempart::test {
namespace {

TEST(Init, RefusesKeysInsideTheDataDirectory) {
  TempDir dir;
  auto r = run_rempart({"init", "--data", (dir.path() / "data").string(), "--keys",
                        (dir.path() / "data" / "keys").string(), "--config", (dir.path() / "c.toml").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("must not be inside the data directory"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir.path() / "data" / "keys"));
  EXPECT_FALSE(fs::exists(dir.path() / "c.toml"));
}

TEST(Init, CreatesPrivateDirectoriesAndKeyrings) {
  Instance in;
  EXPECT_EQ(fs::status(in.data).permissions() & fs::perms::all, fs::perms::owner_all);
  for (const char* name : {"keeper.keyring", "intake.keyring"}) {
    const auto p = fs::status(in.keys / name).permissions() & fs::perms::all;
    EXPECT_EQ(p & (fs::perms::group_all | fs::perms::others_all), fs::perms::none) << name;
  }
  // Running init again never overwrites keys.
  auto again = run_rempart({"init", "--data", in.data.string(), "--keys", in.keys.string(), "--config",
                            in.config.string()});
  EXPECT_NE(again.exit_code, 0);
}

TEST(Config, RefusesUnknownKeys) {
  Instance in;
  {
    std::ofstream out(in.config, std::ios::app);
    out << "\n[intake.extra]\nfoo = 1\n";
  }
  auto r = run_rempart({"supporters", "count", "--config", in.config.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown key"), std::string::npos) << r.err;
}

TEST(Import, LandsGoodRowsSkipsBadOnesAndIsIdempotent) {
  Instance in;
  const auto csv = in.dir.path() / "export.csv";
  {
    std::ofstream out(csv, std::ios::binary);
    out << "Prénom;Nom;Courriel;Téléphone;Code postal\n"
        << "Aline;Ferrand;aline.ferrand@example.org;02 61 91 00 01;75011\n"          // line 2: good
        << "Bruno;Garnier;not-an-email;;13001\n"                                   // line 3: bad email
        << "Céline;Huet;celine.huet@example.org;12;69007\n"                        // line 4: bad phone
        << "Aline;Ferrand;ALINE.FERRAND@example.org;;75011\n"                      // line 5: duplicate of 2
        << "\"Denis \"\"Dédé\"\"\";Ibert;denis.ibert@example.net;+33 1 99 00 12 34;\"59000\"\n"  // line 6: good
        << "Eve;\xff\xfe;eve@example.com;;\n"                                      // line 7: bad UTF-8
        << ";;;;\n";                                                               // line 8: no email nor phone
  }
  std::vector<std::string> args = {"supporters", "import", csv.string(), "--config", in.config.string(),
                                   "--map",
                                         "given_name=Prénom,family_name=Nom,email=Courriel,phone=Téléphone,"
                                         "postal_code=Code postal"};
  // UTF-8, then a byte that is not: the operator chooses how to read it.
  auto mixed = run_rempart(args);
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_NE(mixed.err.find("the file is UTF-8 up to line 7, then not"), std::string::npos) << mixed.err;
  EXPECT_EQ(run_rempart({"supporters", "count", "--config", in.config.string()}).out, "0\n");
  args.push_back("--encoding");
  args.push_back("utf-8");

  // A bad optional field costs that field, not the person; a row without a
  // usable e-mail or phone is rejected, and then the exit status says so.
  auto r = run_rempart(args);
  ASSERT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.out.find("7 rows: 4 imported (3 new, 0 merged, 1 already known), 3 rejected"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  Prénom       -> given_name"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find(":3: Courriel: not an e-mail address"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(":3: rejected: no usable e-mail or phone"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(":4: Téléphone: not a phone number"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(":7: rejected"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(":8: rejected: neither an e-mail nor a phone"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(":2:"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(":5:"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("not-an-email"), std::string::npos) << "a report must not echo cell contents";
  EXPECT_EQ(r.out.find("not-an-email"), std::string::npos);
  auto n = run_rempart({"supporters", "count", "--config", in.config.string()});
  EXPECT_EQ(n.out, "3\n");

  auto again = run_rempart(args);
  ASSERT_EQ(again.exit_code, 3) << again.err;
  EXPECT_NE(again.out.find("0 new"), std::string::npos) << again.out;
  n = run_rempart({"supporters", "count", "--config", in.config.string()});
  EXPECT_EQ(n.out, "3\n");

  auto show = run_rempart({"supporters", "show", "--config", in.config.string(), "--phone", "+33199001234", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find(R"(Denis \"Dédé\")"), std::string::npos) << show.out;
}

// A French Excel save of a CiviCRM export (Windows-1252, ';', CRLF): read
// in its encoding, by the preset, with a dry run first; nothing of a person
// in what the command prints or the report it writes.
TEST(Import, AWindows1252CiviCrmFileWithADryRunAndAReport) {
  Instance in;
  const auto csv = in.dir.path() / "civicrm.csv";
  const std::vector<std::string> values = {"Hélène", "Lefèvre", "helene.lefevre@exemple.org", "0692 12 34 56",
                                           "Saint-Denis", "François", "Œillet", "francois.oeillet@exemple.org",
                                           "06 71 42 20 18 ext 2", "Comité Réunion", "3 rue de l'Église"};
  {
    // Windows-1252 bytes: é E9, è E8, ç E7, Œ 8C, É C9.
    std::ofstream out(csv, std::ios::binary);
    out << "Contact ID;Contact Type;First Name;Last Name;Email;Phone;Street Address;City;Postal Code;Country;"
           "Do Not Email;Is Opt Out;Tag(s)\r\n"
        << "11;Individual;H\xe9l\xe8ne;Lef\xe8vre;helene.lefevre@exemple.org;0692 12 34 56;3 rue de l'\xc9glise;"
           "Saint-Denis;97400;La R\xe9union;0;0;Comit\xe9 R\xe9union\r\n"
        << "12;Individual;Fran\xe7ois;\x8cillet;francois.oeillet@exemple.org;06 71 42 20 18 ext 2;;Bourg;1000;"
           "France;1;0;\r\n"
        << "13;Individual;;;;;;;;;0;0;\r\n";
  }
  const auto report = in.dir.path() / "report.csv";
  std::vector<std::string> args = {"supporters", "import", csv.string(), "--config", in.config.string(),
                                   "--preset", "civicrm", "--no-progress", "--report", report.string()};
  auto dry = args;
  dry.push_back("--dry-run");
  auto d = run_rempart(dry);
  EXPECT_EQ(d.exit_code, 3) << d.err;
  EXPECT_NE(d.out.find("reading civicrm.csv (windows-1252) as civicrm"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("dry run: 3 rows: 2 would be new, 0 would merge, 1 would be rejected"), std::string::npos)
      << d.out;
  EXPECT_EQ(run_rempart({"supporters", "count", "--config", in.config.string()}).out, "0\n");

  auto r = run_rempart(args);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.out.find("Street Address  -> street"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("consent_email: 1 yes, 1 no, 0 unknown"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 rows: 2 imported (2 new, 0 merged, 0 already known), 1 rejected; 2 warnings"),
            std::string::npos)
      << r.out;
  std::ifstream rep(report);
  const std::string written((std::istreambuf_iterator<char>(rep)), std::istreambuf_iterator<char>());
  EXPECT_NE(written.find("3,Postal Code,leading_zero_restored,"), std::string::npos) << written;
  EXPECT_NE(written.find("3,Phone,invalid_phone,"), std::string::npos) << written;
  EXPECT_NE(written.find("4,,no_email_or_phone,"), std::string::npos) << written;
  for (const auto& v : values) {
    EXPECT_EQ(r.out.find(v), std::string::npos) << v;
    EXPECT_EQ(r.err.find(v), std::string::npos) << v;
    EXPECT_EQ(d.out.find(v), std::string::npos) << v;
    EXPECT_EQ(written.find(v), std::string::npos) << v;
  }
  auto show = run_rempart({"supporters", "show", "--config", in.config.string(), "--email",
                           "helene.lefevre@exemple.org", "--reason", "test", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("\"given_name\":\"Hélène\""), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("\"phone\":\"+262692123456\""), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("\"country\":\"RE\""), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("\"street\":\"3 rue de l'Église\""), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("\"comité réunion\""), std::string::npos) << show.out;
  show = run_rempart({"supporters", "show", "--config", in.config.string(), "--email",
                      "francois.oeillet@exemple.org", "--reason", "test", "--json"});
  EXPECT_NE(show.out.find("\"family_name\":\"Œillet\""), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("\"postal_code\":\"01000\""), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("\"consent_state\":{\"email\":\"no\",\"sms\":\"unknown\"}"), std::string::npos)
      << show.out;
}

// Excel's "Texte Unicode" save: UTF-16LE with a byte order mark, tabs
// between the cells; found as such without --encoding.
TEST(Import, AnExcelUnicodeTextFileIsReadWithoutBeingNamed) {
  Instance in;
  const auto file = in.dir.path() / "contacts.txt";
  {
    const std::u16string text =
        u"\uFEFFemail\tpr\u00E9nom\tnom\r\n"
        u"ysaline.querne@exemple.org\tYsaline\tQu\u00E9rn\u00E9\r\n"
        u"theo.paix@exemple.org\tTh\u00E9o\tPaix\r\n";
    std::ofstream out(file, std::ios::binary);
    for (const char16_t u : text) {  // little-endian, whatever the machine
      out.put(static_cast<char>(u & 0xFF));
      out.put(static_cast<char>(u >> 8));
    }
  }
  auto r = run_rempart({"supporters", "import", file.string(), "--config", in.config.string(), "--no-progress",
                        "--map", "given_name=prénom,family_name=nom"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(utf-16le)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 rows: 2 imported (2 new"), std::string::npos) << r.out;
  auto show = run_rempart({"supporters", "show", "--config", in.config.string(), "--email",
                           "ysaline.querne@exemple.org", "--reason", "test", "--json"});
  EXPECT_NE(show.out.find("\"family_name\":\"Quérné\""), std::string::npos) << show.out;
}

// The size of the import's transactions changes how often it commits, not
// what lands: a duplicate one transaction later still merges, one two
// transactions later is already known; nonsense sizes are refused before
// anything is read.
TEST(Import, TransactionSizeChangesOnlyHowOftenItCommits) {
  Instance in;
  const auto csv = in.dir.path() / "export.csv";
  {
    std::ofstream out(csv, std::ios::binary);
    out << "Courriel,Téléphone\n"
        << "a.one@example.org,\n"
        << "b.two@example.org,+33 1 99 00 12 35\n"
        << "c.three@example.org,\n"
        << "A.ONE@example.org,01 99 00 12 36\n"  // row 1 again, one transaction later, with a phone
        << ",+33199001235\n";                    // the phone of row 2, two transactions later
  }
  const auto import = [&](const std::string& rows) {
    return run_rempart({"supporters", "import", csv.string(), "--config", in.config.string(), "--no-progress",
                        "--rows-per-transaction", rows, "--map", "email=Courriel,phone=Téléphone"});
  };
  for (const char* bad : {"0", "-3", "100001", "many"}) {
    auto r = import(bad);
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_EQ(run_rempart({"supporters", "count", "--config", in.config.string()}).out, "0\n") << bad;
  }
  auto r = import("2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("5 rows: 5 imported (3 new, 1 merged, 1 already known), 0 rejected"), std::string::npos)
      << r.out;
  EXPECT_EQ(run_rempart({"supporters", "count", "--config", in.config.string()}).out, "3\n");
  auto show = run_rempart({"supporters", "show", "--config", in.config.string(), "--phone", "+33199001236", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("a.one@example.org"), std::string::npos) << show.out;
}

TEST(Synth, CreatesTheRequestedNumberOfSupporters) {
  Instance in;
  auto r = run_rempart({"supporters", "synth", "300", "--phones", "50", "--config", in.config.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto n = run_rempart({"supporters", "count", "--config", in.config.string()});
  EXPECT_EQ(n.out, "300\n");
  auto again = run_rempart({"supporters", "synth", "300", "--phones", "50", "--config", in.config.string()});
  n = run_rempart({"supporters", "count", "--config", in.config.string()});
  EXPECT_EQ(n.out, "300\n") << "the generator is deterministic: a second run merges";
}

// A small base without --phones: the default of 20,000 phones shrinks to
// the count instead of refusing it.
TEST(Synth, ASmallCountNeedsNoPhonesOption) {
  Instance in;
  auto r = run_rempart({"supporters", "synth", "40", "--config", in.config.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run_rempart({"supporters", "count", "--config", in.config.string()}).out, "40\n");
  auto too_many = run_rempart({"supporters", "synth", "40", "--phones", "41", "--config", in.config.string()});
  EXPECT_NE(too_many.exit_code, 0);  // asked for explicitly: still refused
}

// Every record's search tokens computed again: queued, drained in chunks
// with one `search.index` entry each (a count, never an id), the log still
// verifying; with --queue-only the backlog is left to serve.
TEST(Reindex, QueuesEveryRecordAndComputesItsTokens) {
  Instance in;
  const auto cfg = in.config.string();
  ASSERT_EQ(run_rempart({"supporters", "synth", "300", "--phones", "20", "--config", cfg}).exit_code, 0);
  auto r = run_rempart({"supporters", "reindex", "--config", cfg});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "rempart: 300 records queued, the search tokens of 300 records computed\n");
  auto q = run_rempart({"audit", "query", "--config", cfg, "--action", "search.index", "--format", "jsonl"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(std::count(q.out.begin(), q.out.end(), '\n'), 1) << q.out;
  EXPECT_NE(q.out.find(R"("records":300)"), std::string::npos) << q.out;
  EXPECT_NE(q.out.find(R"("actor":"keeper")"), std::string::npos) << q.out;

  auto queued = run_rempart({"supporters", "reindex", "--queue-only", "--no-progress", "--config", cfg});
  ASSERT_EQ(queued.exit_code, 0) << queued.err;
  EXPECT_NE(queued.out.find("300 records queued"), std::string::npos) << queued.out;
  q = run_rempart({"audit", "query", "--config", cfg, "--action", "search.index", "--format", "jsonl"});
  EXPECT_EQ(std::count(q.out.begin(), q.out.end(), '\n'), 1) << "queuing opens nothing";
  // What was queued is drained by the next run (queued again: nothing new).
  auto drained = run_rempart({"supporters", "reindex", "--no-progress", "--config", cfg});
  ASSERT_EQ(drained.exit_code, 0) << drained.err;
  EXPECT_EQ(drained.out, "rempart: 0 records queued, the search tokens of 300 records computed\n");

  EXPECT_EQ(run_rempart({"supporters", "reindex", "--chunk", "5", "--config", cfg}).exit_code, 2);
  auto v = run_rempart({"audit", "verify", "--config", cfg});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST(Audit, InitRefusesACheckpointFileInsideTheDataDirectory) {
  TempDir dir;
  auto r = run_rempart({"init", "--data", (dir.path() / "data").string(), "--keys", (dir.path() / "keys").string(),
                        "--config", (dir.path() / "c.toml").string(), "--checkpoints",
                        (dir.path() / "data" / "audit.checkpoints").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("outside the data directory"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir.path() / "c.toml"));
}

TEST(Audit, ShowIsARecordedRevealAndTheLogVerifies) {
  Instance in;
  const auto cfg = in.config.string();
  const auto checkpoints = in.dir.path() / "rempart-audit.checkpoints";
  EXPECT_TRUE(fs::exists(checkpoints)) << "init creates it next to the key directory";
  ASSERT_EQ(run_rempart({"supporters", "synth", "30", "--phones", "10", "--config", cfg}).exit_code, 0);
  auto show = run_rempart({"supporters", "show", "--config", cfg, "--phone", "+33199000003", "--reason", "callback"});
  ASSERT_EQ(show.exit_code, 0) << show.err;

  auto q = run_rempart({"audit", "query", "--config", cfg, "--action", "supporter.reveal", "--format", "jsonl"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(std::count(q.out.begin(), q.out.end(), '\n'), 1) << q.out;
  EXPECT_NE(q.out.find(R"("reason":"callback")"), std::string::npos) << q.out;
  EXPECT_NE(q.out.find(R"("phone")"), std::string::npos) << "the field names revealed";
  EXPECT_EQ(q.out.find("+33199000003"), std::string::npos) << "never the values";
  auto csv = run_rempart({"audit", "query", "--config", cfg, "--action", "supporter.create", "--format", "csv"});
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 31) << "a header and one line per created record";

  const auto ids = in.dir.path() / "exposed.csv";
  auto blast = run_rempart({"audit", "blast-radius", "--config", cfg, "--since", "2000-01-01", "--csv", ids.string()});
  ASSERT_EQ(blast.exit_code, 0) << blast.err;
  EXPECT_NE(blast.out.find("1 supporter: 1 "), std::string::npos) << blast.out;
  const auto written = read_file(ids);
  EXPECT_EQ(std::count(written.begin(), written.end(), '\n'), 2) << written;

  auto v = run_rempart({"audit", "verify", "--config", cfg});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("audit log OK"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("entries/s"), std::string::npos) << v.out;
  EXPECT_FALSE(read_file(checkpoints).empty()) << "each command signs what it wrote";
}

// `audit query --actor` takes an account's name as well as the actor as the
// log writes it; a name nobody has is a usage error, not an empty answer.
TEST(Audit, QueryTakesAnAccountNameAndRefusesOneNobodyHas) {
  Instance in;
  const auto cfg = in.config.string();
  auto invite = run_rempart({"admin", "invite", "camille", "--role", "organiser", "--config", cfg});
  ASSERT_EQ(invite.exit_code, 0) << invite.err;
  {
    // A failed sign-in is an entry whose actor is camille's account.
    Server s({"serve", "--config", cfg}, in.dir.path() / "serve.log");
    const auto port = s.wait_for_port(std::chrono::seconds(30), "console");
    ASSERT_NE(port, 0) << s.log();
    auto first = http_request(port, "POST", "/login", "application/x-www-form-urlencoded",
                              "name=camille&password=not-the-password-1");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(first.body, m, std::regex("name=\"pending\" value=\"([A-Za-z0-9_-]+)\"")))
        << first.body;
    auto second = http_request(port, "POST", "/login/code", "application/x-www-form-urlencoded",
                               "pending=" + m[1].str() + "&code=123456");
    EXPECT_EQ(second.status, 401);
    EXPECT_EQ(s.terminate(), 0) << s.log();
  }
  auto created = run_rempart({"audit", "query", "--config", cfg, "--action", "account.create", "--format", "jsonl"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(created.out, id, std::regex("\"account_id\":\"([0-9a-f]{32})\""))) << created.out;
  const std::string actor = "account:" + id[1].str();

  auto by_name = run_rempart({"audit", "query", "--config", cfg, "--actor", "camille", "--format", "jsonl"});
  ASSERT_EQ(by_name.exit_code, 0) << by_name.err;
  EXPECT_EQ(std::count(by_name.out.begin(), by_name.out.end(), '\n'), 1) << by_name.out;
  EXPECT_NE(by_name.out.find("\"action\":\"login.failure\""), std::string::npos) << by_name.out;
  EXPECT_NE(by_name.out.find("\"actor\":\"" + actor + "\""), std::string::npos) << by_name.out;
  EXPECT_NE(by_name.out.find("\"actor_name\":\"camille\""), std::string::npos) << by_name.out;
  auto by_id = run_rempart({"audit", "query", "--config", cfg, "--actor", actor, "--format", "jsonl"});
  ASSERT_EQ(by_id.exit_code, 0) << by_id.err;
  EXPECT_EQ(by_id.out, by_name.out);
  // The table shows the account's name; an operator as the log writes it.
  auto table = run_rempart({"audit", "query", "--config", cfg, "--actor", "camille"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("  camille "), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find(actor), std::string::npos) << table.out;
  auto ops = run_rempart({"audit", "query", "--config", cfg, "--action", "account.create", "--format", "csv"});
  EXPECT_NE(ops.out.find(",operator:"), std::string::npos) << ops.out;

  auto unknown = run_rempart({"audit", "query", "--config", cfg, "--actor", "nobody"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.out, "");
  EXPECT_NE(unknown.err.find("no account is named 'nobody'"), std::string::npos) << unknown.err;
  auto malformed = run_rempart({"audit", "query", "--config", cfg, "--actor", "Camille D"});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_EQ(malformed.out, "");
  EXPECT_NE(malformed.err.find("--actor must be an account name"), std::string::npos) << malformed.err;
  EXPECT_EQ(malformed.err.find("Camille D"), std::string::npos) << "what was typed is not echoed";
  // blast-radius takes the name too, and refuses one nobody has.
  auto blast = run_rempart({"audit", "blast-radius", "--config", cfg, "--actor", "camille"});
  EXPECT_EQ(blast.exit_code, 0) << blast.err;
  EXPECT_NE(blast.out.find("blast radius of " + actor), std::string::npos) << blast.out;
  EXPECT_EQ(run_rempart({"audit", "blast-radius", "--config", cfg, "--actor", "nobody"}).exit_code, 2);
  EXPECT_EQ(run_rempart({"audit", "verify", "--config", cfg}).exit_code, 0);
}

TEST(Audit, VerifyCatchesADatabaseRolledBackToAnOlderCopy) {
  Instance in;
  const auto cfg = in.config.string();
  ASSERT_EQ(run_rempart({"supporters", "synth", "10", "--phones", "0", "--config", cfg}).exit_code, 0);
  const auto db = in.data / "rempart.db";
  const auto copy = in.dir.path() / "old.db";
  ASSERT_FALSE(fs::exists(in.data / "rempart.db-wal")) << "no process holds the database";
  fs::copy_file(db, copy);
  ASSERT_EQ(run_rempart({"supporters", "synth", "20", "--phones", "0", "--config", cfg}).exit_code, 0);
  EXPECT_EQ(run_rempart({"audit", "verify", "--config", cfg}).exit_code, 0);
  fs::copy_file(copy, db, fs::copy_options::overwrite_existing);
  auto v = run_rempart({"audit", "verify", "--config", cfg});
  EXPECT_EQ(v.exit_code, 1) << v.out;
  EXPECT_NE(v.out.find("first bad entry: seq 12"), std::string::npos) << v.out;  // 10 creates + synth.run = 11
  // Pointing verify at another (missing) file does not hide it either.
  auto blind = run_rempart({"audit", "verify", "--config", cfg, "--checkpoints", (in.dir.path() / "none").string()});
  EXPECT_EQ(blind.exit_code, 1) << "a missing checkpoint file is itself a fault once checkpoints exist";
}

TEST(Admin, DisableThenEnableAnAccount) {
  Instance in;
  const auto cfg = in.config.string();
  ASSERT_EQ(run_rempart({"admin", "invite", "dana", "--role", "viewer", "--config", cfg}).exit_code, 0);
  // Nothing to enable while it is not disabled: a clear refusal.
  auto early = run_rempart({"admin", "enable", "dana", "--config", cfg});
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_NE(early.err.find("not disabled"), std::string::npos) << early.err;
  ASSERT_EQ(run_rempart({"admin", "disable", "dana", "--config", cfg}).exit_code, 0);
  auto list = run_rempart({"admin", "list", "--config", cfg});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("disabled"), std::string::npos) << list.out;
  auto enable = run_rempart({"admin", "enable", "dana", "--config", cfg});
  ASSERT_EQ(enable.exit_code, 0) << enable.err;
  EXPECT_NE(enable.out.find("enabled dana"), std::string::npos) << enable.out;
  list = run_rempart({"admin", "list", "--config", cfg});
  EXPECT_EQ(list.out.find("disabled"), std::string::npos) << list.out;
  auto unknown = run_rempart({"admin", "enable", "nobody", "--config", cfg});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no such account"), std::string::npos) << unknown.err;
  auto q = run_rempart({"audit", "query", "--config", cfg, "--action", "account.enable", "--format", "jsonl"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(std::count(q.out.begin(), q.out.end(), '\n'), 1) << q.out;
}

TEST(Cli, EveryCommandHasHelp) {
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"--help"}, {"init", "--help"}, {"serve", "--help"}, {"supporters", "--help"},
        {"supporters", "count", "--help"}, {"supporters", "show", "--help"}, {"supporters", "import", "--help"},
        {"supporters", "synth", "--help"}, {"supporters", "reindex", "--help"}, {"audit", "--help"},
        {"audit", "verify", "--help"}, {"audit", "query", "--help"}, {"audit", "blast-radius", "--help"},
        {"audit", "checkpoint", "--help"}, {"admin", "enable", "--help"}, {"mailing", "--help"},
        {"mailing", "create", "--help"}, {"mailing", "send", "--help"}, {"notify", "--help"}}) {
    auto r = run_rempart(cmd);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("Usage"), std::string::npos);
  }
}

}  // namespace
}  // namespace rempart::test
