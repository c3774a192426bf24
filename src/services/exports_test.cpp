#include "services/exports.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "audit/blast_radius.hpp"
#include "audit/chain.hpp"
#include "auth/totp.hpp"
#include "services/honeytokens.hpp"
#include "services/records.hpp"
#include "services/segments.hpp"
#include "services/test_support.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::services {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000;  // a multiple of 30
constexpr char kPassword[] = "Vert-Galet-Quinze-42";
const std::string kOperator = "operator:test";
constexpr char kFamily[] = "Quatrevaux";

std::string email_of(int i) { return "ondine.quatrevaux" + std::to_string(i) + "@example.org"; }
std::string phone_of(int i) { return "+336123450" + std::string(i < 10 ? "0" : "") + std::to_string(i); }

std::vector<std::string> split(const std::string& s, std::string_view sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? at : at - start));
    if (at == std::string::npos) return out;
    start = at + sep.size();
  }
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

struct ExportsTest : ::testing::Test {
  testing::Fixture fx;
  crypto::KeeperKeyring keys = fx.keeper_keys();
  Vault vault{keys};
  std::unique_ptr<store::KeeperStore> st = std::move(store::open_sqlite_keeper(fx.db).value());
  std::int64_t now_ = kT0;
  std::int64_t t0 = kT0;  // when each test starts
  std::optional<auth::AccountService> accounts;
  std::optional<Exports> exports;
  std::optional<auth::Enrolment> alice, bob, carol;
  std::vector<std::string> ids;  // hex ids of the seeded people, by index

  void SetUp() override {
    auth::AuthOptions o;
    o.pwhash = auth::PwhashLimits::for_tests();
    o.clock = [this] { return now_; };
    accounts.emplace(*st, keys, o);
    ExportOptions eo;
    eo.dir = fx.dir / "data" / "exports";
    eo.clock = [this] { return now_; };
    exports.emplace(*st, vault, eo);
    alice = add("alice", auth::Role::organiser);
    bob = add("bob", auth::Role::admin);
    carol = add("carol", auth::Role::organiser);
    // Bob has been an admin for longer than the approvers' cooling period.
    now_ += o.approver_cooling_seconds + 60;
    t0 = now_;
  }

  auth::Enrolment add(const std::string& name, auth::Role role) {
    auto e = accounts->create_account(kOperator, name, role, kPassword);
    EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().internal);
    return std::move(*e);
  }

  Asker as(const auth::Enrolment& e) {
    Asker a;
    a.actor = auth::account_actor(e.account_id);
    a.client = "192.0.2.9";
    return a;
  }
  std::string code(const auth::Enrolment& e) { return auth::totp_code(e.totp_secret.span(), now_); }

  // `n` people; every third (from 0) carries the tag "red".
  void seed(int n, const std::string& street = "") {
    RecordWriter writer(keys);
    for (int i = 0; i < n; ++i) {
      core::Person p;
      p.given_name = "Ondine";
      p.family_name = std::string(kFamily) + static_cast<char>('a' + i);
      p.email = email_of(i);
      p.phone = phone_of(i);
      p.street = street;
      p.postal_code = "75011";
      p.locality = "Paris";
      p.country = "FR";
      if (i % 3 == 0) p.tags = {"red"};
      store::Bytes id;
      auto r = st->transact([&](store::KeeperTx& tx) -> Result<void> {
        auto u = writer.upsert(tx, p, 1'700'000'000 + i, &id);
        if (!u) return std::unexpected(u.error());
        return {};
      });
      ASSERT_TRUE(r) << r.error().internal;
      ids.push_back(audit::to_hex(id));
    }
  }

  std::int64_t request(const std::string& tag, std::vector<FieldKind> fields = {FieldKind::name, FieldKind::email,
                                                                                FieldKind::phone}) {
    auto id = exports->request(as(*alice), alice->account_id, tag, fields, "canvassing list");
    EXPECT_TRUE(id.has_value()) << (id ? "" : id.error().internal);
    return id ? *id : 0;
  }

  std::vector<store::AuditEntryRow> entries(std::string_view act = "") {
    std::vector<store::AuditEntryRow> out;
    EXPECT_TRUE(st->scan_audit(1, [&](const store::AuditEntryRow& r) {
      if (act.empty() || r.action == act) out.push_back(r);
      return true;
    }));
    return out;
  }

  std::string file_bytes(std::int64_t id) {
    std::ifstream in(fx.dir / "data" / "exports" / (std::to_string(id) + ".rmpx"), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  static std::span<const std::uint8_t> span(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
  }
};

TEST_F(ExportsTest, WithoutApprovalNothingCanBeDownloaded) {
  seed(3);
  const auto id = request("");
  auto d = exports->download(as(*alice), alice->account_id, id);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, Errc::conflict);
  EXPECT_FALSE(std::filesystem::exists(fx.dir / "data" / "exports" / (std::to_string(id) + ".rmpx")));
  auto l = exports->list("");
  ASSERT_TRUE(l);
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].status, "pending");
  EXPECT_EQ((*l)[0].requester, "alice");
  EXPECT_EQ((*l)[0].tag, "");
  EXPECT_EQ((*l)[0].expires_at, t0 + 86400);
  EXPECT_EQ(entries(audit::action::export_request).size(), 1u);
  EXPECT_TRUE(entries(audit::action::export_download).empty());

  // Approved, it is still the requester's alone.
  ASSERT_TRUE(exports->approve(as(*bob), bob->account_id, id, *accounts, code(*bob)));
  auto other = exports->download(as(*carol), carol->account_id, id);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::permission);
  auto approver = exports->download(as(*bob), bob->account_id, id);
  ASSERT_FALSE(approver);
  EXPECT_EQ(approver.error().code, Errc::permission);
  EXPECT_TRUE(exports->download(as(*alice), alice->account_id, id));
  EXPECT_EQ((*exports->list(alice->account_id))[0].status, "downloaded");
  EXPECT_TRUE(exports->list(carol->account_id)->empty());
}

TEST_F(ExportsTest, RequestNeedsAnExportKeyAndValidArguments) {
  // An account made before exports existed has no key.
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) {
    std::vector<std::uint8_t> raw(16);
    for (std::size_t i = 0; i < 16; ++i) raw[i] = static_cast<std::uint8_t>(std::stoi(carol->account_id.substr(2 * i, 2), nullptr, 16));
    return tx.set_export_public_key(raw, std::nullopt);
  }));
  auto no_key = exports->request(as(*carol), carol->account_id, "", {FieldKind::email}, "r");
  ASSERT_FALSE(no_key);
  EXPECT_EQ(no_key.error().code, Errc::invalid_input);
  EXPECT_FALSE(exports->request(as(*alice), alice->account_id, "", {}, "r"));
  EXPECT_FALSE(exports->request(as(*alice), alice->account_id, "", {FieldKind::email, FieldKind::email}, "r"));
  EXPECT_FALSE(exports->request(as(*alice), alice->account_id, "", {FieldKind::email}, ""));
  EXPECT_FALSE(exports->request(as(*alice), alice->account_id, "bad\ntag", {FieldKind::email}, "r"));
  auto unknown = exports->request(as(*alice), std::string(32, 'a'), "", {FieldKind::email}, "r");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::not_found);
  EXPECT_TRUE(entries(audit::action::export_request).empty());
}

TEST_F(ExportsTest, SelfApprovalIsRefused) {
  seed(2);
  const auto id = request("");
  auto self = exports->approve(as(*alice), alice->account_id, id, *accounts, code(*alice));
  ASSERT_FALSE(self);
  EXPECT_EQ(self.error().code, Errc::permission);
  EXPECT_EQ((*exports->list(""))[0].status, "pending");
  EXPECT_TRUE(entries(auth::action::mfa_check).empty());  // refused before any code is spent
  auto missing = exports->approve(as(*bob), bob->account_id, id + 1, *accounts, code(*bob));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST_F(ExportsTest, WrongOrReplayedCodeIsRefused) {
  seed(2);
  const auto id = request("");
  const std::string good = code(*bob);
  const std::string wrong = good == "000000" ? "111111" : "000000";
  auto w = exports->approve(as(*bob), bob->account_id, id, *accounts, wrong);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, Errc::permission);
  EXPECT_EQ((*exports->list(""))[0].status, "pending");
  EXPECT_EQ(entries(audit::action::export_approve_refused).size(), 1u);
  EXPECT_EQ(accounts->account("bob")->failures, 1);

  ASSERT_TRUE(exports->approve(as(*bob), bob->account_id, id, *accounts, good));
  auto again = exports->approve(as(*bob), bob->account_id, id, *accounts, good);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::conflict);  // no longer pending

  const auto id2 = request("");
  // The code just used again: refused with "wait for the next code", and
  // not counted as a failure (a person, not a guess).
  auto replay = exports->approve(as(*bob), bob->account_id, id2, *accounts, good);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code, Errc::retry_later);
  EXPECT_EQ(entries(audit::action::export_approve_refused).size(), 1u);
  EXPECT_EQ(accounts->account("bob")->failures, 0);
  EXPECT_EQ((*exports->list(alice->account_id))[0].status, "pending");
}

// The file is built from a snapshot, then recorded in a transaction of its
// own: a request that expires in between is not recorded, and neither its
// file nor a file under its pending name is left behind.
TEST_F(ExportsTest, ARequestThatExpiresWhileItsFileIsBuiltIsNotRecorded) {
  seed(3);
  const auto id = request("");
  ExportOptions eo;
  eo.dir = fx.dir / "data" / "exports";
  int calls = 0;
  // The first check and the snapshot see the request live; the record
  // step, a week later.
  eo.clock = [&] { return ++calls <= 2 ? now_ : now_ + 7 * 86'400; };
  Exports late(*st, vault, eo);
  auto r = late.approve(as(*bob), bob->account_id, id, *accounts, code(*bob));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::conflict);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ((*exports->list(""))[0].status, "pending");
  EXPECT_TRUE(entries(audit::action::export_approve).empty());
  EXPECT_TRUE(entries(audit::action::supporter_export).empty());
  std::size_t files = 0;
  if (std::filesystem::exists(eo.dir)) {
    for ([[maybe_unused]] const auto& f : std::filesystem::directory_iterator(eo.dir)) ++files;
  }
  EXPECT_EQ(files, 0u);
}

TEST_F(ExportsTest, ApproverMustBeAnIndependentAdminOfLongStanding) {
  seed(2);
  // An admin made just now cannot approve a request made now, with a good
  // code or without: refused before any code is spent.
  const auto dave = add("dave", auth::Role::admin);
  const auto id = request("");
  auto fresh = exports->approve(as(dave), dave.account_id, id, *accounts, code(dave));
  ASSERT_FALSE(fresh);
  EXPECT_EQ(fresh.error().code, Errc::permission);
  EXPECT_TRUE(entries(auth::action::mfa_check).empty());
  // An admin whose creation the requester asked for is never independent
  // of them, however long ago.
  auto sponsored = st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto d = tx.find_account_by_name("dave");
    auto a = tx.find_account_by_name("alice");
    if (!d || !*d || !a || !*a) return fail(Errc::internal, "accounts");
    return tx.insert_sponsor((*d)->id, (*a)->id);
  });
  ASSERT_TRUE(sponsored) << sponsored.error().internal;
  now_ += 2 * 86400;
  const auto id2 = request("");
  auto owed = exports->approve(as(dave), dave.account_id, id2, *accounts, code(dave));
  ASSERT_FALSE(owed);
  EXPECT_EQ(owed.error().code, Errc::permission);
  // Bob, an admin long before and not made by alice, approves.
  ASSERT_TRUE(exports->approve(as(*bob), bob->account_id, id2, *accounts, code(*bob)));
}

TEST_F(ExportsTest, ExpiredRequestIsRefused) {
  seed(2);
  const auto id = request("");
  now_ += 25 * 3600;
  auto r = exports->approve(as(*bob), bob->account_id, id, *accounts, code(*bob));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::conflict);
  EXPECT_EQ((*exports->list(""))[0].status, "expired");
  EXPECT_EQ(entries(audit::action::export_expire).size(), 1u);
  EXPECT_TRUE(entries(auth::action::mfa_check).empty());
  EXPECT_FALSE(exports->download(as(*alice), alice->account_id, id));
}

TEST_F(ExportsTest, ApprovedExportHoldsTheTaggedRealRowsAndCanariesSealedToTheRequester) {
  seed(9);  // "red": people 0, 3, 6
  auto planted = plant_honeytokens(*st, vault, 3, kOperator, 7);
  ASSERT_TRUE(planted) << planted.error().internal;
  std::vector<std::string> honey_emails;
  {
    // The honeytokens' e-mail addresses, to check they stay out.
    auto page = st->supporter_page(store::SupporterPageQuery{"", std::nullopt, 100});
    ASSERT_TRUE(page);
    for (const auto& item : page->items) {
      if (*st->is_honeytoken(item.row.id)) honey_emails.push_back(testing::inspect_record(keys, item.row)->email);
    }
    ASSERT_EQ(honey_emails.size(), 3u);
  }
  // A honeytoken with the tag too: it must not be exported.
  {
    auto page = st->supporter_page(store::SupporterPageQuery{"", std::nullopt, 100});
    for (const auto& item : page->items) {
      if (*st->is_honeytoken(item.row.id)) {
        ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) {
          const std::vector<std::string> red{"red"};
          return tx.add_tags(item.row.id, red, 1);
        }));
      }
    }
  }

  const auto id = request("red");
  auto approved = exports->approve(as(*bob), bob->account_id, id, *accounts, code(*bob));
  ASSERT_TRUE(approved) << approved.error().internal;
  EXPECT_EQ(approved->status, "approved");
  EXPECT_EQ(approved->approver, "bob");
  EXPECT_EQ(approved->rows, 3);
  EXPECT_EQ(approved->approved_at, t0);

  struct stat sb {};
  const auto path = fx.dir / "data" / "exports" / (std::to_string(id) + ".rmpx");
  ASSERT_EQ(::stat(path.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(path.parent_path().c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0700u);

  auto file = exports->download(as(*alice), alice->account_id, id);
  ASSERT_TRUE(file) << file.error().internal;
  EXPECT_EQ(*file, file_bytes(id));
  EXPECT_TRUE(file->starts_with("RMPX1"));

  auto csv = decrypt_export(span(*file), std::string(alice->export_secret_key.text()) + "\n");
  ASSERT_TRUE(csv) << csv.error().internal;
  auto wrong = decrypt_export(span(*file), carol->export_secret_key.text());
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::crypto);
  EXPECT_EQ(decrypt_export(span(*file), "not a key").error().code, Errc::invalid_input);

  auto lines = split(*csv, "\r\n");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "");
  lines.pop_back();
  ASSERT_EQ(lines.size(), 1u + 3u + 3u);
  EXPECT_EQ(lines[0], "given_name,family_name,email,phone");
  std::set<std::string> real, canary_emails, canary_phones;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto cols = split(lines[i], ",");
    ASSERT_EQ(cols.size(), 4u) << i;
    if (cols[2].ends_with("@canary.rempart.invalid")) {
      canary_emails.insert(cols[2]);
      canary_phones.insert(cols[3]);
      EXPECT_FALSE(cols[0].empty());
      EXPECT_FALSE(cols[1].empty());
    } else {
      real.insert(cols[2]);
    }
  }
  EXPECT_EQ(real, (std::set<std::string>{email_of(0), email_of(3), email_of(6)}));
  EXPECT_EQ(canary_emails.size(), 3u);  // unique
  EXPECT_EQ(canary_phones.size(), 3u);
  for (const auto& h : honey_emails) EXPECT_FALSE(contains(*csv, h));

  // Each canary names its export, requester and approver.
  for (const auto& v : canary_emails) {
    auto t = trace_canary(*st, keys, v, "FR");
    ASSERT_TRUE(t);
    ASSERT_TRUE(t->has_value()) << "a canary was not found";
    EXPECT_EQ((*t)->export_id, id);
    EXPECT_EQ((*t)->requester, "alice");
    EXPECT_EQ((*t)->approver, "bob");
    EXPECT_EQ((*t)->approved_at, t0);
    EXPECT_EQ((*t)->kind, "email");
  }
  for (const auto& v : canary_phones) {
    // As a leak would spell it: national form.
    const std::string national = "0" + v.substr(3);
    auto t = trace_canary(*st, keys, national, "FR");
    ASSERT_TRUE(t && t->has_value());
    EXPECT_EQ((*t)->export_id, id);
    EXPECT_EQ((*t)->kind, "phone");
  }
  auto real_trace = trace_canary(*st, keys, email_of(0), "FR");
  ASSERT_TRUE(real_trace);
  EXPECT_FALSE(real_trace->has_value());
  EXPECT_FALSE(trace_canary(*st, keys, "not anything", "FR")->has_value());

  // One changed byte anywhere, or a cut, and nothing opens.
  for (std::size_t at : {std::size_t{3}, std::size_t{20}, file->size() / 2, file->size() - 1}) {
    std::string bad = *file;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    EXPECT_FALSE(decrypt_export(span(bad), alice->export_secret_key.text())) << at;
  }
  EXPECT_EQ(decrypt_export(span(file->substr(0, file->size() - 20)), alice->export_secret_key.text()).error().code,
            Errc::crypto);

  // The file holds no value in the clear.
  const std::string disk = file_bytes(id);
  for (int i = 0; i < 9; ++i) {
    EXPECT_FALSE(contains(disk, email_of(i)));
    EXPECT_FALSE(contains(disk, phone_of(i)));
  }
  EXPECT_FALSE(contains(disk, kFamily));
  EXPECT_FALSE(contains(disk, "canary.rempart.invalid"));

  // Audit: the approval, the bulk read naming exactly the real records,
  // the download; never a value.
  const auto approve = entries(audit::action::export_approve);
  ASSERT_EQ(approve.size(), 1u);
  EXPECT_EQ(approve[0].actor, auth::account_actor(bob->account_id));
  const auto bulk = entries(audit::action::supporter_export);
  ASSERT_EQ(bulk.size(), 1u);
  EXPECT_EQ(bulk[0].actor, auth::account_actor(alice->account_id));
  const auto details = nlohmann::json::parse(bulk[0].details);
  std::set<std::string> recorded;
  for (const auto& r : details.at("records")) recorded.insert(r.get<std::string>());
  EXPECT_EQ(recorded, (std::set<std::string>{ids[0], ids[3], ids[6]}));
  EXPECT_EQ(details.at("export").get<std::int64_t>(), id);
  EXPECT_EQ(details.at("fields"), nlohmann::json::array({"name", "email", "phone"}));
  EXPECT_EQ(entries(audit::action::export_download).size(), 1u);
  for (const auto& e : entries()) {
    for (int i = 0; i < 9; ++i) {
      EXPECT_FALSE(contains(e.details, email_of(i))) << e.action;
      EXPECT_FALSE(contains(e.details, phone_of(i))) << e.action;
    }
    EXPECT_FALSE(contains(e.details, kFamily)) << e.action;
    EXPECT_FALSE(contains(e.details, "canary.rempart.invalid")) << e.action;
    for (const auto& p : canary_phones) EXPECT_FALSE(contains(e.details, p)) << e.action;
  }

  // Blast radius: the requester's accesses cover every exported record, and
  // so does the window of the approval (whoever the investigator starts from).
  audit::BlastQuery by_requester;
  by_requester.actor = auth::account_actor(alice->account_id);
  auto blast = audit::blast_radius(*st, by_requester);
  ASSERT_TRUE(blast);
  std::set<std::string> exposed;
  for (const auto& x : blast->revealed) {
    exposed.insert(x.record);
    EXPECT_EQ(x.fields, (std::set<std::string>{"name", "email", "phone"}));
  }
  EXPECT_EQ(exposed, (std::set<std::string>{ids[0], ids[3], ids[6]}));
  audit::BlastQuery window;
  window.since = approve[0].at;
  window.until = approve[0].at + 1;
  auto by_time = audit::blast_radius(*st, window);
  ASSERT_TRUE(by_time);
  EXPECT_EQ(by_time->revealed.size(), 3u);
}

// By saved segment: validated at the request (never with a tag), named in
// the request row and its entries with the definition, members taken at
// approval with honeytokens left out; a segment changed or deleted since
// the request writes nothing.
TEST_F(ExportsTest, ASegmentsRealMembersAreExportedAsTheSegmentStoodWhenAsked) {
  seed(9);  // "red": people 0, 3, 6
  ASSERT_TRUE(plant_honeytokens(*st, vault, 2, kOperator, 7));
  {
    auto page = st->supporter_page(store::SupporterPageQuery{"", std::nullopt, 100});
    ASSERT_TRUE(page);
    for (const auto& item : page->items) {
      if (!*st->is_honeytoken(item.row.id)) continue;
      ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) {
        const std::vector<std::string> red{"red"};
        return tx.add_tags(item.row.id, red, 1);
      }));
    }
  }
  Segments segs(*st, keys);
  const auto reds = parse_segment_definition(nlohmann::json{{"tags_all", {"red"}}, {"place", "75"}}).value();
  ASSERT_TRUE(segs.save(as(*alice), "red-list", reds, false));
  ASSERT_TRUE(segs.save(as(*alice), "doomed", reds, false));

  const std::vector<FieldKind> fields{FieldKind::email};
  const auto before = entries(audit::action::export_request).size();
  auto both = exports->request(as(*alice), alice->account_id, "red", fields, "r", "red-list");
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().code, Errc::invalid_input);
  auto bad = exports->request(as(*alice), alice->account_id, "", fields, "r", "Red List'--");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::invalid_input);
  EXPECT_FALSE(contains(bad.error().internal, "Red List"));
  auto absent = exports->request(as(*alice), alice->account_id, "", fields, "r", "absent");
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code, Errc::not_found);
  EXPECT_EQ(entries(audit::action::export_request).size(), before);
  EXPECT_TRUE(exports->list("").value().empty());

  auto id = exports->request(as(*alice), alice->account_id, "", fields, "phone bank", "red-list");
  ASSERT_TRUE(id) << id.error().internal;
  auto listed = exports->list("").value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].segment, "red-list");
  EXPECT_EQ(listed[0].tag, "");
  const auto asked = nlohmann::json::parse(entries(audit::action::export_request).back().details);
  EXPECT_EQ(asked["segment"], "red-list");
  EXPECT_EQ(asked["definition"], to_json(reds));

  auto approved = exports->approve(as(*bob), bob->account_id, *id, *accounts, code(*bob));
  ASSERT_TRUE(approved) << approved.error().internal;
  EXPECT_EQ(approved->rows, 3);
  EXPECT_EQ(approved->segment, "red-list");
  auto file = exports->download(as(*alice), alice->account_id, *id);
  ASSERT_TRUE(file);
  auto csv = decrypt_export(span(*file), alice->export_secret_key.text());
  ASSERT_TRUE(csv);
  auto lines = split(*csv, "\r\n");
  lines.pop_back();
  ASSERT_EQ(lines.size(), 1u + 3u + 3u);  // the header, 3 members, 3 canaries; no honeytoken
  std::set<std::string> real;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (!lines[i].ends_with("@canary.rempart.invalid")) real.insert(lines[i]);
  }
  EXPECT_EQ(real, (std::set<std::string>{email_of(0), email_of(3), email_of(6)}));
  const auto exported = nlohmann::json::parse(entries(audit::action::supporter_export).back().details);
  EXPECT_EQ(exported["records"], (nlohmann::json{ids[6], ids[3], ids[0]}));  // newest first
  EXPECT_EQ(nlohmann::json::parse(entries(audit::action::export_approve).back().details)["segment"], "red-list");

  // Changed after the request: the approver would approve something else.
  now_ += 30;
  auto changed = exports->request(as(*alice), alice->account_id, "", fields, "again", "red-list");
  ASSERT_TRUE(changed);
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) {
    return tx.update_segment(store::SegmentRow{0, "red-list", to_json(reds).dump(), "x", 0, now_ + 1});
  }));
  auto refused = exports->approve(as(*bob), bob->account_id, *changed, *accounts, code(*bob));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::conflict);
  EXPECT_EQ(exports->list("").value().front().status, "pending");
  EXPECT_TRUE(file_bytes(*changed).empty());

  now_ += 30;
  auto gone = exports->request(as(*alice), alice->account_id, "", fields, "again", "doomed");
  ASSERT_TRUE(gone);
  ASSERT_TRUE(segs.remove(as(*alice), "doomed"));
  auto deleted = exports->approve(as(*bob), bob->account_id, *gone, *accounts, code(*bob));
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code, Errc::conflict);
  EXPECT_TRUE(file_bytes(*gone).empty());
  EXPECT_EQ(entries(audit::action::supporter_export).size(), 1u);
}

TEST_F(ExportsTest, UntaggedExportHoldsEveryRealRecordWithTheChosenColumns) {
  seed(5);
  ASSERT_TRUE(plant_honeytokens(*st, vault, 2, kOperator, 3));
  const auto id = request("", {FieldKind::address, FieldKind::email});
  auto approved = exports->approve(as(*bob), bob->account_id, id, *accounts, code(*bob));
  ASSERT_TRUE(approved) << approved.error().internal;
  EXPECT_EQ(approved->rows, 5);
  auto csv = decrypt_export(span(*exports->download(as(*alice), alice->account_id, id)), alice->export_secret_key.text());
  ASSERT_TRUE(csv);
  auto lines = split(*csv, "\r\n");
  lines.pop_back();
  ASSERT_EQ(lines.size(), 1u + 5u + 3u);
  EXPECT_EQ(lines[0], "street,postal_code,locality,email");
  for (std::size_t i = 1; i < lines.size(); ++i) EXPECT_TRUE(lines[i].starts_with(",75011,Paris,")) << lines[i];
  EXPECT_FALSE(contains(*csv, kFamily));  // names not asked for
  EXPECT_FALSE(contains(*csv, "+33"));
}

// A street is exported with its lines; canaries among streets have one of
// their own, made up, so that they do not stand out by its absence.
TEST_F(ExportsTest, AddressesCarryTheirStreetAndCanariesGetAMadeUpOne) {
  seed(4, "8 rue Oberkampf\nEsc. B");
  const auto id = request("", {FieldKind::address});
  auto approved = exports->approve(as(*bob), bob->account_id, id, *accounts, code(*bob));
  ASSERT_TRUE(approved) << approved.error().internal;
  auto csv = decrypt_export(span(*exports->download(as(*alice), alice->account_id, id)), alice->export_secret_key.text());
  ASSERT_TRUE(csv);
  auto lines = split(*csv, "\r\n");
  lines.pop_back();
  ASSERT_GT(lines.size(), 1u + 4u);
  EXPECT_EQ(lines[0], "street,postal_code,locality");
  std::size_t real = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i] == "\"8 rue Oberkampf\nEsc. B\",75011,Paris") {
      ++real;
    } else {
      EXPECT_FALSE(lines[i].starts_with(",")) << "a canary without a street: " << lines[i];
      EXPECT_TRUE(lines[i].ends_with(",75011,Paris")) << lines[i];
    }
  }
  EXPECT_EQ(real, 4u);
}

// A name typed as a spreadsheet formula reaches the file defused (leading
// apostrophe); phone numbers in E.164 stay as they are.
TEST_F(ExportsTest, FormulaLikeCellsAreDefusedAndPhonesKept) {
  RecordWriter writer(keys);
  core::Person p;
  p.given_name = "=HYPERLINK(\"http://x.example\")";
  p.family_name = "@SUM(1)";
  p.email = "formula@exemple.org";
  p.phone = "+33199000777";
  auto r = st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = writer.upsert(tx, p, 1'700'000'000, nullptr);
    if (!u) return std::unexpected(u.error());
    return {};
  });
  ASSERT_TRUE(r) << r.error().internal;
  const auto id = request("", {FieldKind::name, FieldKind::phone});
  ASSERT_TRUE(exports->approve(as(*bob), bob->account_id, id, *accounts, code(*bob)));
  auto csv = decrypt_export(span(*exports->download(as(*alice), alice->account_id, id)), alice->export_secret_key.text());
  ASSERT_TRUE(csv);
  EXPECT_TRUE(contains(*csv, "\"'=HYPERLINK(\"\"http://x.example\"\")\",'@SUM(1),+33199000777"));
  EXPECT_FALSE(contains(*csv, "\n=")) << "no line starts with a formula";
}

}  // namespace
}  // namespace rempart::services
