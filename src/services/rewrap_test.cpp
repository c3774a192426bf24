#include "services/rewrap.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "audit/chain.hpp"
#include "crypto/seal.hpp"
#include "services/folder.hpp"
#include "services/intake_writer.hpp"
#include "services/records.hpp"
#include "services/test_support.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::services {
namespace {

namespace fs = std::filesystem;
using store::Bytes;

core::Person person(int i) {
  core::Person p;
  p.given_name = "Gaëtanelle";
  p.family_name = "Rotatrice";
  p.email = "rotation." + std::to_string(i) + "@example.org";
  if (i % 2 == 0) p.phone = "+3319900" + std::to_string(3000 + i);
  p.consent.email = true;
  return p;
}

// Signs `n` people up through the inbox and folds them.
void sign_up_and_fold(testing::Fixture& fx, const crypto::KeeperKeyring& keys, store::KeeperStore& st, int n,
                      std::vector<store::InboxRow>* sealed = nullptr) {
  {
    auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(fx.inbox).value()));
    ASSERT_TRUE(writer);
    for (int i = 0; i < n; ++i) (*writer)->submit(person(i), [](bool) {});
    (*writer)->stop();
  }
  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  if (sealed != nullptr) *sealed = inbox->peek(1000, 0).value();
  Folder folder(keys, st, *inbox, core::IntakeOptions{});
  auto r = folder.fold_once(1000);
  ASSERT_TRUE(r) << r.error().internal;
  ASSERT_EQ(r->created, static_cast<std::size_t>(n));
}

std::vector<store::WrappedKeyRow> all_records(store::KeeperStore& st) {
  std::vector<store::WrappedKeyRow> out;
  EXPECT_TRUE(st.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto rows = tx.records_to_rewrap(UINT32_MAX, Bytes{}, 100000);
    if (!rows) return std::unexpected(rows.error());
    out = std::move(*rows);
    return {};
  }).has_value());
  return out;
}

std::vector<std::uint8_t> file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// How many places in the files of `dir` hold a wrapped data key of record
// `id` that some key version of `keys` unwraps: every offset, every wrap
// format, every version the keyring can still unwrap with. Unwrapping the
// data key is opening the record: its fields need nothing else.
std::size_t openings(const crypto::KeeperKeyring& keys, const Bytes& id, const fs::path& dir) {
  constexpr std::size_t kFormatOne = 1 + 24 + 32 + 16, kFormatTwo = kFormatOne + 4;
  std::size_t found = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto bytes = file_bytes(entry.path());
    for (std::size_t o = 0; o < bytes.size(); ++o) {
      const std::size_t len = bytes[o] == 1 ? kFormatOne : bytes[o] == 2 ? kFormatTwo : 0;
      if (len == 0 || o + len > bytes.size()) continue;
      const Bytes candidate(bytes.begin() + static_cast<std::ptrdiff_t>(o),
                            bytes.begin() + static_cast<std::ptrdiff_t>(o + len));
      for (const crypto::KeySet& set : keys.all()) {
        if (set.retired) continue;
        // reseal_record unwraps the data key first: it succeeds only if it did.
        if (crypto::reseal_record(keys, id, crypto::SealedRecord{set.version, candidate, {}}, {})) ++found;
      }
    }
  }
  return found;
}

// Whether `needle` occurs in any file of `dir`.
bool in_files(const fs::path& dir, const Bytes& needle) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto bytes = file_bytes(entry.path());
    if (std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end()) != bytes.end()) return true;
  }
  return false;
}

// A rotation's rewrap moves every record under the new version, leaves the
// fields' bytes as they were (nothing decrypted, nothing re-encrypted),
// keeps every record openable, and says so in the audit log, counts only.
TEST(Rewrap, MovesEveryRecordToTheCurrentVersionLeavingTheFieldsAlone) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  sign_up_and_fold(fx, keys, *st, 23);
  const auto before = all_records(*st);
  ASSERT_EQ(before.size(), 23u);

  Rewrapper rewrapper(keys, *st, 5);
  auto idle = rewrapper.step();
  ASSERT_TRUE(idle);
  EXPECT_TRUE(idle->done);
  EXPECT_EQ(idle->rewrapped, 0);

  ASSERT_TRUE(keys.add_version());
  std::int64_t moved = 0;
  int steps = 0;
  for (;;) {
    auto s = rewrapper.step();
    ASSERT_TRUE(s) << s.error().internal;
    moved += s->rewrapped;
    EXPECT_EQ(s->skipped, 0);
    ++steps;
    if (s->done) break;
    ASSERT_LT(steps, 20);
  }
  EXPECT_EQ(moved, 23);
  EXPECT_EQ(steps, 5);  // 5 + 5 + 5 + 5 + 3
  for (const auto& b : before) {
    auto row = st->find_supporter(b.id);
    ASSERT_TRUE(row && *row);
    EXPECT_EQ((*row)->key_version, 2u);
    EXPECT_NE((*row)->wrapped_key, b.wrapped_key);
    auto p = testing::inspect_record(keys, **row);
    ASSERT_TRUE(p) << p.error().internal;
    EXPECT_EQ(p->family_name, "Rotatrice");
  }
  std::int64_t audited = 0;
  for (const auto& e : testing::audit_entries(*st)) {
    if (e.action != audit::action::keys_rewrap) continue;
    const auto d = nlohmann::json::parse(e.details);
    audited += d.at("records").get<std::int64_t>();
    EXPECT_EQ(d.at("to_version"), 2);
    EXPECT_EQ(e.subject, "");
    EXPECT_EQ(e.details.find("example.org"), std::string::npos);
  }
  EXPECT_EQ(audited, 23);
  auto again = rewrapper.step();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->done);
  EXPECT_EQ(again->rewrapped, 0);
}

// The fold seals new records before its transaction. One sealed just
// before a rotation is taken, and written after the rewrap's pass, would
// stay under the older version until the next rescan: the write moves its
// data key to the current version itself.
TEST(Rewrap, ARecordSealedBeforeARotationIsWrittenUnderTheNewVersion) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  RecordWriter writer(keys);
  const core::Person p = person(1);
  const PreparedUpsert prepared = writer.prepare(p);
  ASSERT_TRUE(prepared.fresh);
  ASSERT_EQ(prepared.fresh->key_version, 1u);

  ASSERT_TRUE(keys.add_version());
  Rewrapper rewrapper(keys, *st, 5);
  auto pass = rewrapper.step();  // the pass after the rotation: nothing to move yet
  ASSERT_TRUE(pass);
  EXPECT_TRUE(pass->done);
  EXPECT_EQ(pass->rewrapped, 0);

  Bytes id;
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = writer.upsert(tx, p, prepared, unix_now(), &id);
    if (!u) return std::unexpected(u.error());
    EXPECT_EQ(*u, Upsert::created);
    return {};
  }));
  auto row = st->find_supporter(id);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->key_version, 2u);
  EXPECT_EQ((*row)->fields, prepared.fresh->fields);  // moved, not sealed again
  auto opened = testing::inspect_record(keys, **row);
  ASSERT_TRUE(opened) << opened.error().internal;
  EXPECT_EQ(opened->email, p.email);
  auto after = rewrapper.step();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->rewrapped, 0);
}

// Crypto-shredding, shown on the files themselves. Erased supporters leave
// nothing that any key version opens in the database, its WAL or the inbox;
// an older copy of the files (a backup) still holds them until their key
// version is retired, after which no key opens them there either, while the
// records kept (rewrapped to the new version) still open.
TEST(CryptoShredding, AnErasedSupporterOpensNowhereOnceItsVersionIsRetired) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  std::vector<store::InboxRow> sealed;
  sign_up_and_fold(fx, keys, *st, 12, &sealed);
  ASSERT_EQ(sealed.size(), 12u);
  const auto records = all_records(*st);
  ASSERT_EQ(records.size(), 12u);
  const std::vector<Bytes> erased{records[2].id, records[5].id, records[9].id};
  const Bytes kept = records[0].id;
  const fs::path data = fx.db.parent_path();

  // The backup: a copy of the files as they are before the erasure.
  ASSERT_TRUE(st->flush_deleted().value());
  const fs::path backup = fx.dir / "backup";
  fs::create_directories(backup);
  for (const auto& entry : fs::directory_iterator(data)) fs::copy_file(entry.path(), backup / entry.path().filename());

  for (const Bytes& id : erased) ASSERT_GT(openings(keys, id, data), 0u);  // the scan finds what is there

  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    for (const Bytes& id : erased) {
      auto gone = erase_and_suppress(tx, keys, id, unix_now());
      if (!gone) return std::unexpected(gone.error());
      if (!*gone) return fail(Errc::not_found, "no such record");
    }
    return {};
  }).has_value());
  flush_after_erasure(*st);

  for (const Bytes& id : erased) {
    EXPECT_EQ(openings(keys, id, data), 0u) << "an erased record still opens in the data files";
    EXPECT_GT(openings(keys, id, backup), 0u);  // ... but the older copy holds it
  }
  for (const auto& item : sealed) {
    EXPECT_FALSE(in_files(data, item.wrapped_key)) << "a folded submission's key is left in the inbox";
    EXPECT_FALSE(in_files(data, item.fields)) << "a folded submission is left in the inbox";
  }

  // Rotation, rewrap, retirement of version 1.
  ASSERT_TRUE(keys.add_version());
  Rewrapper rewrapper(keys, *st, 100);
  auto s = rewrapper.step();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->done);
  EXPECT_EQ(s->rewrapped, 9);
  ASSERT_TRUE(st->flush_deleted().value());
  auto retired = keys.with_retired(1);
  ASSERT_TRUE(retired) << retired.error().internal;

  for (const Bytes& id : erased) {
    EXPECT_EQ(openings(*retired, id, backup), 0u) << "an erased record opens in the backup after retirement";
    EXPECT_EQ(openings(*retired, id, data), 0u);
  }
  EXPECT_GT(openings(*retired, kept, data), 0u);  // the record kept opens under version 2
  EXPECT_EQ(openings(*retired, kept, backup), 0u);  // its copy in the backup, under version 1, no more
}

}  // namespace
}  // namespace rempart::services
