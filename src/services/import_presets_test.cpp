// Imports of files in the export shapes of Action Network, NationBuilder and
// CiviCRM (generated here: BOM, CRLF, ';', quoted multi-line cells, consent
// in each tool's words, bad optional fields, duplicates with other names):
// every person with a usable e-mail or phone lands, with the consent the
// source recorded, and the report names each problem without a value.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "services/import_spec.hpp"
#include "services/importer.hpp"
#include "services/test_support.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::services {
namespace {

struct Imported {
  ImportReport report;
  std::vector<std::string> values_in_issues;  // every issue field, to grep for test values
};

class ImportPresets : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_.emplace(fx_.keeper_keys());
    store_ = std::move(store::open_sqlite_keeper(fx_.db).value());
  }

  ImportReport run(const std::string& text, const ImportSpec& spec, bool dry_run = false) {
    std::istringstream in(text);
    ImportOptions opts;
    opts.dry_run = dry_run;
    auto r = import_csv(in, spec, *store_, *keys_, opts);
    EXPECT_TRUE(r) << (r ? "" : r.error().internal);
    return r ? *r : ImportReport{};
  }

  std::optional<core::Person> person(const std::string& email) {
    auto s = Vault(*keys_).reveal_by_contact(*store_, "operator:test", "email", email, "test");
    EXPECT_TRUE(s.has_value());
    if (!s || !*s) return std::nullopt;
    return (*s)->person;
  }

  static ImportSpec preset(Preset p) {
    ImportSpec s;
    s.preset = p;
    return s;
  }

  // No cell of `text` below the header appears in any issue.
  static void expect_no_values(const ImportReport& r, const std::vector<std::string>& values) {
    for (const auto& i : r.issues) {
      for (const auto& v : values) {
        EXPECT_EQ(i.column.find(v), std::string::npos) << v;
        EXPECT_EQ(i.code.find(v), std::string::npos) << v;
      }
    }
  }

  static std::vector<std::string> codes_of(const ImportReport& r, std::size_t line) {
    std::vector<std::string> out;
    for (const auto& i : r.issues) {
      if (i.line == line) out.push_back(i.column + ":" + i.code);
    }
    return out;
  }

  testing::Fixture fx_;
  std::optional<crypto::KeeperKeyring> keys_;
  std::unique_ptr<store::KeeperStore> store_;
};

const std::string kActionNetwork =
    std::string("\xEF\xBB\xBF") +
    "uuid,first_name,last_name,email,zip_code,can2_user_address,can2_user_city,can2_state_abbreviated,can2_country,"
    "can2_phone,can2_user_tags,can2_subscription_status,can2_sms_status\r\n"
    "an-1,Maëlys,Quéméner,maelys.quemener@exemple.org,29000,\"12 rue de Brest\r\nBâtiment B\",Quimper,,FR,"
    "06 71 42 20 18,\"volunteer,canvass\",subscribed,subscribed\r\n"
    "an-2,Aurélien,Castagnède,aurelien.castagnede@exemple.org,64100,,Bayonne,,FR,12345,volunteer,unsubscribed,\r\n"
    "an-3,Salomé,Vandenbussche,salome.vandenbussche@exemple.org,1000,,Bourg-en-Bresse,,FR,"
    "06 71 42 20 18 ext 2,,bouncing,\r\n"
    "an-4,Éloïse,Kerhervé,eloise.kerherve@exemple.org,75011,,Paris,,France,,Comité Paris 2,spam complaint,\r\n"
    "an-5,Noé,Lagarde,,75012,,Paris,,FR,,,subscribed,\r\n"
    "an-6,Inès,Bouchard,ines.bouchard@exemple.org,13001,,Marseille,,FR,,\"" + std::string(70, 'x') +
    ",marche\",désabonné,\r\n";

TEST_F(ImportPresets, ActionNetworkKeepsEveryPersonAndTheirConsent) {
  const auto r = run(kActionNetwork, preset(Preset::action_network));
  EXPECT_EQ(r.rows, 6u);
  EXPECT_EQ(r.counts.created, 5u);
  EXPECT_EQ(r.rejected, 1u);  // an-5: no e-mail, no phone
  EXPECT_EQ(codes_of(r, 7), (std::vector<std::string>{":no_email_or_phone"}));
  // A bad phone is left out, the person kept.
  EXPECT_EQ(codes_of(r, 4), (std::vector<std::string>{"can2_phone:invalid_phone"}));
  ASSERT_TRUE(person("aurelien.castagnede@exemple.org"));
  EXPECT_EQ(person("aurelien.castagnede@exemple.org")->phone, "");
  // A postcode a spreadsheet cut to four digits gets its zero back.
  const auto salome = person("salome.vandenbussche@exemple.org");
  ASSERT_TRUE(salome);
  EXPECT_EQ(salome->postal_code, "01000");
  EXPECT_EQ(codes_of(r, 5),
            (std::vector<std::string>{"zip_code:leading_zero_restored", "can2_phone:invalid_phone"}));
  // A tag too long is left out, the other tags kept.
  const auto ines = person("ines.bouchard@exemple.org");
  ASSERT_TRUE(ines);
  EXPECT_EQ(ines->tags, (std::vector<std::string>{"marche"}));
  EXPECT_EQ(codes_of(r, 8), (std::vector<std::string>{"can2_user_tags:invalid_tag"}));

  // A tag as people write it, a country by its name.
  const auto eloise = person("eloise.kerherve@exemple.org");
  ASSERT_TRUE(eloise);
  EXPECT_EQ(eloise->tags, (std::vector<std::string>{"comité paris 2"}));
  EXPECT_EQ(eloise->country, "FR");
  EXPECT_TRUE(codes_of(r, 6).empty());

  // Consent in Action Network's words: a refusal is kept as such, a
  // "bouncing" says nothing.
  EXPECT_TRUE(eloise->consent.email_refused);
  EXPECT_TRUE(person("aurelien.castagnede@exemple.org")->consent.email_refused);
  EXPECT_FALSE(salome->consent.email_refused);
  const auto maelys = person("maelys.quemener@exemple.org");
  ASSERT_TRUE(maelys);
  EXPECT_TRUE(maelys->consent.email);
  EXPECT_TRUE(maelys->consent.sms);
  EXPECT_EQ(maelys->phone, "+33671422018");
  EXPECT_EQ(maelys->tags, (std::vector<std::string>{"canvass", "volunteer"}));
  EXPECT_FALSE(person("aurelien.castagnede@exemple.org")->consent.email);
  EXPECT_FALSE(salome->consent.email);
  EXPECT_EQ(r.consent.at("consent_email").at("yes"), 1u);
  EXPECT_EQ(r.consent.at("consent_email").at("no"), 3u);  // unsubscribed, spam complaint, désabonné
  EXPECT_EQ(r.consent.at("consent_email").at("unknown"), 1u);  // bouncing

  // The columns rempart does not keep are named, with what they hold.
  std::vector<std::string> unused;
  for (const auto& c : r.columns) {
    if (c.target.empty()) unused.push_back(c.header + ": " + c.why);
  }
  EXPECT_EQ(unused, (std::vector<std::string>{"can2_state_abbreviated: not kept by rempart: state or region"}));
  // A street address over two lines of one cell keeps both lines.
  EXPECT_EQ(maelys->street, "12 rue de Brest\nBâtiment B");
  expect_no_values(r, {"Maëlys", "Quéméner", "maelys", "12345", "71 42", "1000", "Castagnède", "xxxx", "Brest"});
}

TEST_F(ImportPresets, NationBuilderReadsItsOptInsAndFallsBackToTheLandline) {
  const std::string nb =
      "nationbuilder_id,first_name,last_name,email,email_opt_in,mobile_number,mobile_opt_in,phone_number,"
      "primary_address1,primary_address2,primary_city,primary_zip,primary_country_code,tag_list,created_at\n"
      "101,Jeanne,Martin,jeanne.martin@exemple.org,true,0671422018,TRUE,,1 place Bellecour,Esc. C,Lyon,69001,FR,"
      "\"Lyon, tractage\","
      "2019-03-04T10:00:00-05:00\n"
      "102,Paul,Durand,paul.durand@exemple.org,FALSE,,false,01 99 00 02 01,,,Paris,75001,FR,,2020-01-01\n"
      "103,Léa,Petit,lea.petit@exemple.org,Y,,N,,,\u202e4 rue,Nantes,44000,FR,,\n"
      "104,Jean,Martin,jeanne.martin@exemple.org,,,,,,,,,,,\n";
  const auto r = run(nb, preset(Preset::nationbuilder));
  EXPECT_EQ(r.rows, 4u);
  EXPECT_EQ(r.counts.created, 3u);
  EXPECT_EQ(r.rejected, 0u);
  const auto jeanne = person("jeanne.martin@exemple.org");
  ASSERT_TRUE(jeanne);
  EXPECT_TRUE(jeanne->consent.email);
  EXPECT_TRUE(jeanne->consent.sms);
  EXPECT_EQ(jeanne->tags, (std::vector<std::string>{"lyon", "tractage"}));
  EXPECT_EQ(jeanne->given_name, "Jeanne") << "a later row never overwrites";
  const auto paul = person("paul.durand@exemple.org");
  ASSERT_TRUE(paul);
  EXPECT_FALSE(paul->consent.email);
  EXPECT_EQ(paul->phone, "+33199000201") << "the landline when there is no mobile";
  EXPECT_TRUE(person("lea.petit@exemple.org")->consent.email);
  // Address lines from two columns; a line with a bidi control is left out, the person kept.
  EXPECT_EQ(jeanne->street, "1 place Bellecour\nEsc. C");
  EXPECT_EQ(paul->street, "");
  EXPECT_EQ(person("lea.petit@exemple.org")->street, "");
  EXPECT_EQ(codes_of(r, 4), (std::vector<std::string>{"primary_address2:forbidden_characters"}));
  EXPECT_EQ(r.consent.at("consent_email").at("no"), 1u);
  EXPECT_EQ(r.consent.at("consent_sms").at("no"), 2u);
  // Two people sharing an e-mail: merged, and said so with both lines.
  bool said = false;
  for (const auto& i : r.issues) {
    if (i.code == "name_differs") {
      said = true;
      EXPECT_EQ(i.line, 5u);
      EXPECT_EQ(i.other_line, 2u);
    }
  }
  EXPECT_TRUE(said);
}

TEST_F(ImportPresets, ALaterExportOfTheSameToolUpdatesItsRecords) {
  const std::string first =
      "uuid,first_name,last_name,email,can2_subscription_status,created_date\n"
      "an-1,Maëlys,Quéméner,maelys.old@exemple.org,subscribed,2019-03-04T10:00:00-05:00\n"
      "an-2,Noé,Lagarde,noe.lagarde@exemple.org,subscribed,04/05/2021\n";
  auto r = run(first, preset(Preset::action_network));
  EXPECT_EQ(r.counts.created, 2u);
  // Months later: Maëlys changed her address and unsubscribed; a third person joined.
  const std::string later =
      "uuid,first_name,last_name,email,can2_subscription_status,created_date\n"
      "an-1,Maëlys,Quéméner-Le Goff,maelys.new@exemple.org,unsubscribed,2019-03-04T10:00:00-05:00\n"
      "an-2,Noé,Lagarde,noe.lagarde@exemple.org,subscribed,04/05/2021\n"
      "an-3,Inès,Bouchard,ines.bouchard@exemple.org,subscribed,not a date\n";
  r = run(later, preset(Preset::action_network));
  EXPECT_EQ(r.counts.created, 1u);
  EXPECT_EQ(r.counts.merged, 1u);
  EXPECT_EQ(r.counts.unchanged, 1u);
  EXPECT_EQ(store_->count_supporters().value(), 3);
  EXPECT_FALSE(person("maelys.old@exemple.org"));
  const auto maelys = person("maelys.new@exemple.org");
  ASSERT_TRUE(maelys);
  EXPECT_EQ(maelys->family_name, "Quéméner-Le Goff") << "the record's own source replaces its fields";
  EXPECT_FALSE(maelys->consent.email);
  EXPECT_TRUE(maelys->consent.email_refused);
  EXPECT_EQ(codes_of(r, 4), (std::vector<std::string>{"created_date:invalid_date"}));

  // The sign-up date of the source, and the consent log with its source.
  store::Bytes id;
  ASSERT_TRUE(store_->scan_real_supporters("", [&](const store::SupporterRow& row) {
    if (row.joined_at == 1551711600) id = row.id;  // 2019-03-04 15:00 UTC
    return true;
  }));
  ASSERT_FALSE(id.empty());
  auto log = store_->consent_events(id);
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].choice, "yes");
  EXPECT_EQ((*log)[1].choice, "no");
  EXPECT_EQ((*log)[1].channel, "email");
  EXPECT_EQ((*log)[1].source.rfind("import:action-network", 0), 0u);

  // An import's yes does not undo a refusal.
  run("uuid,email,can2_subscription_status\nan-1,maelys.new@exemple.org,subscribed\n", preset(Preset::action_network));
  EXPECT_TRUE(person("maelys.new@exemple.org")->consent.email_refused);
  EXPECT_EQ(store_->consent_events(id)->size(), 2u);
}

TEST_F(ImportPresets, TheirOwnSignUpReplacesARefusalAnImportRecorded) {
  run("email,can2_subscription_status\nnoe.lagarde@exemple.org,unsubscribed\n", preset(Preset::action_network));
  ASSERT_TRUE(person("noe.lagarde@exemple.org")->consent.email_refused);
  core::Person p;
  p.email = "noe.lagarde@exemple.org";
  p.consent.email = true;
  const RecordWriter writer(*keys_);
  store::Bytes id;
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = writer.upsert(tx, p, unix_now(), &id);  // a sign-up: Provenance's defaults
    if (!u) return std::unexpected(u.error());
    EXPECT_EQ(*u, Upsert::merged);
    return {};
  }));
  const auto after = person("noe.lagarde@exemple.org");
  EXPECT_TRUE(after->consent.email);
  EXPECT_FALSE(after->consent.email_refused);
  auto log = store_->consent_events(id);
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[1].choice, "yes");
  EXPECT_EQ((*log)[1].source, "signup");
}

TEST(ImportDates, ExportDateShapes) {
  EXPECT_EQ(parse_export_date("2019-03-04"), 1551657600);
  EXPECT_EQ(parse_export_date("2019-03-04T10:00:00Z"), 1551693600);
  EXPECT_EQ(parse_export_date("2019-03-04T10:00:00-05:00"), 1551711600);
  EXPECT_EQ(parse_export_date("2019-03-04T10:00:00.250+01:00"), 1551690000);
  EXPECT_EQ(parse_export_date("2019-03-04 10:00:00"), 1551693600);
  EXPECT_EQ(parse_export_date("04/03/2019"), 1551657600);
  EXPECT_FALSE(parse_export_date("yesterday"));
  EXPECT_FALSE(parse_export_date("2019-03-04T10:00:00 nope"));
  EXPECT_FALSE(parse_export_date(""));
}

TEST_F(ImportPresets, CiviCrmDoNotEmailMeansNo) {
  // French Excel's save of a CiviCRM export: ';' and CRLF.
  const std::string civi =
      "Contact ID;Contact Type;First Name;Last Name;Email;Phone;Street Address;City;Postal Code;Country;"
      "Do Not Email;Is Opt Out;Tag(s)\r\n"
      "1;Individual;Claire;Fontaine;claire.fontaine@exemple.org;;;Lille;59000;FR;0;0;Comite|Lille\r\n"
      "2;Individual;Marc;Leroy;marc.leroy@exemple.org;;;Lille;59000;FR;1;0;\r\n"
      "3;Individual;Zoé;Garnier;zoe.garnier@exemple.org;;;Lille;59000;FR;0;1;\r\n"
      "4;Individual;Hugo;Roux;hugo.roux@exemple.org;;;Lille;59000;FR;;;\r\n";
  const auto r = run(civi, preset(Preset::civicrm));
  EXPECT_EQ(r.counts.created, 4u);
  EXPECT_TRUE(person("claire.fontaine@exemple.org")->consent.email);
  EXPECT_FALSE(person("marc.leroy@exemple.org")->consent.email);
  EXPECT_TRUE(person("marc.leroy@exemple.org")->consent.email_refused);
  EXPECT_FALSE(person("hugo.roux@exemple.org")->consent.email_refused) << "nothing said is not a refusal";
  EXPECT_FALSE(person("zoe.garnier@exemple.org")->consent.email);
  EXPECT_EQ(person("claire.fontaine@exemple.org")->tags, (std::vector<std::string>{"comite", "lille"}));
  EXPECT_EQ(r.consent.at("consent_email").at("yes"), 1u);
  EXPECT_EQ(r.consent.at("consent_email").at("no"), 2u);
  EXPECT_EQ(r.consent.at("consent_email").at("unknown"), 1u);
}

TEST_F(ImportPresets, ADryRunCountsWithoutWriting) {
  run("email\nknown@exemple.org\n", {});
  const std::string file = "email,phone\nknown@exemple.org,\nnew@exemple.org,\nnew@exemple.org,\nbad,\n";
  const auto r = run(file, {}, true);
  EXPECT_TRUE(r.dry_run);
  EXPECT_EQ(r.rows, 4u);
  EXPECT_EQ(r.counts.created, 1u);
  EXPECT_EQ(r.counts.merged, 2u);  // a record from before, and an earlier row
  EXPECT_EQ(r.rejected, 1u);
  EXPECT_EQ(store_->count_supporters().value(), 1);
}

TEST(ImportPlan, MapIgnoreAndSwitchOff) {
  const std::vector<std::string> header = {"Courriel", "Country", "Notes", "Abonné"};
  ImportSpec spec;
  spec.map = {{"email", "Courriel"}, {"consent_email", "abonné"}};
  auto p = plan_import(header, spec);
  ASSERT_TRUE(p) << p.error().internal;
  EXPECT_EQ(p->columns[0].target, "email");
  EXPECT_EQ(p->columns[1].target, "country");
  EXPECT_EQ(p->columns[2].why, "no field matches (--map FIELD=HEADER to read it)");
  EXPECT_EQ(p->columns[3].target, "consent_email");

  spec.ignore = {"country"};
  p = plan_import(header, spec);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->columns[1].target, "");
  EXPECT_EQ(p->columns[1].why, "ignored (--ignore)");

  spec.ignore.clear();
  spec.map["country"] = "";
  p = plan_import(header, spec);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->columns[1].target, "");
  EXPECT_EQ(p->columns[1].why, "switched off (--map country=)");

  spec.ignore = {"Nope"};
  EXPECT_FALSE(plan_import(header, spec));
  spec.ignore.clear();
  spec.inverted = {"consent_sms"};
  EXPECT_FALSE(plan_import(header, spec));  // nothing read for consent_sms
  spec.inverted = {"consent_email"};
  p = plan_import(header, spec);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->columns[3].inverted);
}

TEST(ImportPlan, ConsentWords) {
  ImportSpec spec;
  spec.yes_values = {"Adhérent"};
  spec.no_values = {"x"};
  auto p = plan_import({"email", "consent_email"}, spec);
  ASSERT_TRUE(p);
  bool known = false;
  EXPECT_EQ(p->vocabulary.read(" Subscribed ", false, &known), Choice::yes);
  EXPECT_TRUE(known);
  EXPECT_EQ(p->vocabulary.read("x", false, &known), Choice::no);  // moved from yes by --no-value
  EXPECT_EQ(p->vocabulary.read("1", true, &known), Choice::no);
  EXPECT_EQ(p->vocabulary.read("0", true, &known), Choice::yes);
  EXPECT_EQ(p->vocabulary.read("", false, &known), Choice::unknown);
  EXPECT_TRUE(known);
  EXPECT_EQ(p->vocabulary.read("peut-être", false, &known), Choice::unknown);
  EXPECT_FALSE(known);
}

}  // namespace
}  // namespace rempart::services
