// The backup manifest: signed over every field, read back strictly; the
// files hashed (and copied) in one read; the restore entry.
#include "audit/backup_manifest.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "audit/test_support.hpp"
#include "core/hex.hpp"

namespace rempart::audit {
namespace {

class BackupManifestTest : public test::AuditFixture {
 protected:
  BackupManifest sample() {
    BackupManifest m;
    m.rempart_version = "0.1.0";
    m.created_at_us = 1'767'225'600'123'456;
    m.engine = "sqlite";
    BackupFile inbox{"inbox.db", 32768, {}};
    inbox.blake2b.fill(0x11);
    BackupFile records{"rempart.db", 372736, {}};
    records.blake2b.fill(0x22);
    m.files = {inbox, records};
    m.head_seq = 42;
    m.head_hash = store::Bytes(32, 0x33);
    auto signer = crypto::AuditSigner::current(*keys_);
    EXPECT_TRUE(signer.has_value());
    EXPECT_TRUE(sign_manifest(*signer, m).has_value());
    return m;
  }
};

TEST_F(BackupManifestTest, SignedReadBackAndChecked) {
  const auto m = sample();
  EXPECT_EQ(m.key_version, 1u);
  EXPECT_TRUE(manifest_valid(*keys_, m));
  const std::string text = format_manifest(m);
  auto back = parse_manifest(text);
  ASSERT_TRUE(back.has_value()) << back.error().internal;
  EXPECT_EQ(encode_manifest(*back), encode_manifest(m));
  EXPECT_EQ(back->signature, m.signature);
  EXPECT_TRUE(manifest_valid(*keys_, *back));
  EXPECT_NE(text.find("\"rempart.db\""), std::string::npos) << text;
  EXPECT_NE(text.find(core::to_hex(m.files[1].blake2b)), std::string::npos) << text;

  // Another keyring's signing key: not valid here.
  auto other = crypto::KeeperKeyring::generate();
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(manifest_valid(*other, m));
}

TEST_F(BackupManifestTest, EveryFieldIsSigned) {
  const auto m = sample();
  const std::vector<std::function<void(BackupManifest&)>> changes = {
      [](BackupManifest& x) { x.rempart_version = "0.1.1"; },
      [](BackupManifest& x) { x.created_at_us += 1; },
      [](BackupManifest& x) { x.engine = "sqlitf"; },
      [](BackupManifest& x) { x.files[0].name = "inbox.dc"; },
      [](BackupManifest& x) { x.files[1].bytes += 1; },
      [](BackupManifest& x) { x.files[1].blake2b[31] ^= 1; },
      [](BackupManifest& x) { std::swap(x.files[0], x.files[1]); },
      [](BackupManifest& x) { x.files.pop_back(); },
      [](BackupManifest& x) { x.head_seq = 41; },
      [](BackupManifest& x) { x.head_hash[0] ^= 1; },
      [](BackupManifest& x) { x.key_version = 2; },
      [](BackupManifest& x) { x.signature[5] ^= 1; },
  };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    auto x = m;
    changes[i](x);
    EXPECT_FALSE(manifest_valid(*keys_, x)) << "change " << i;
  }
  EXPECT_NE(manifest_digest(m), manifest_digest([&] {
              auto x = m;
              x.head_seq = 41;
              return x;
            }()));
}

TEST_F(BackupManifestTest, AnythingButAManifestIsRefusedWithoutQuotingIt) {
  const std::string good = format_manifest(sample());
  auto j = nlohmann::json::parse(good);
  const std::vector<std::function<void(nlohmann::json&)>> breaks = {
      [](nlohmann::json& x) { x["extra"] = 1; },
      [](nlohmann::json& x) { x.erase("engine"); },
      [](nlohmann::json& x) { x["format"] = 2; },
      [](nlohmann::json& x) { x["created_at_us"] = -1; },
      [](nlohmann::json& x) { x["files"][0]["name"] = "../keys/keeper.keyring"; },
      [](nlohmann::json& x) { x["files"][0]["name"] = ".."; },
      [](nlohmann::json& x) { x["files"][0]["name"] = "rempart-backup.json"; },
      [](nlohmann::json& x) { x["files"][0]["name"] = "rempart.db"; },
      [](nlohmann::json& x) { x["files"][0]["blake2b"] = "abc"; },
      [](nlohmann::json& x) { x["files"] = nlohmann::json::array(); },
      [](nlohmann::json& x) { x["audit_head"]["hash"] = "zz"; },
      [](nlohmann::json& x) { x["signature"] = "00"; },
  };
  for (std::size_t i = 0; i < breaks.size(); ++i) {
    auto x = j;
    breaks[i](x);
    auto r = parse_manifest(x.dump());
    ASSERT_FALSE(r.has_value()) << "break " << i;
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    EXPECT_EQ(r.error().internal.find("keeper.keyring"), std::string::npos) << r.error().internal;
  }
  EXPECT_FALSE(parse_manifest("not json").has_value());
  EXPECT_FALSE(parse_manifest(good.substr(0, good.size() / 2)).has_value());
}

TEST_F(BackupManifestTest, HashesAndCopiesAFileInOneRead) {
  const auto file = dir_.file("data.bin");
  std::string content;
  for (int i = 0; i < 100'000; ++i) content += static_cast<char>(i * 7);
  {
    std::ofstream f(file, std::ios::binary);
    f << content;
  }
  Digest expected{};
  crypto_generichash(expected.data(), expected.size(), reinterpret_cast<const unsigned char*>(content.data()),
                     content.size(), nullptr, 0);
  const auto copy = dir_.file("copy.bin");
  auto h = hash_file(file, &copy);
  ASSERT_TRUE(h.has_value()) << h.error().internal;
  EXPECT_EQ(h->name, "data.bin");
  EXPECT_EQ(h->bytes, content.size());
  EXPECT_EQ(h->blake2b, expected);
  EXPECT_EQ(store::test_support::read_file(copy), store::test_support::read_file(file));
  struct stat st {};
  ASSERT_EQ(::stat(copy.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  // Never over an existing file; a missing one is named.
  auto again = hash_file(file, &copy);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::conflict);
  auto missing = hash_file(dir_.file("absent.bin"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST_F(BackupManifestTest, TheRestoreEntryFollowsTheBackupsHeadOnly) {
  append(5);
  auto head = store_->audit_head();
  ASSERT_TRUE(head && *head);
  BackupManifest m;
  m.head_seq = (*head)->seq;
  m.head_hash = (*head)->hash;
  m.created_at_us = 1'700'000'000'000'000;
  auto other = m;
  other.head_seq = 4;
  auto refused = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto s = record_restore(tx, *keys_, "operator:test", other, 0, 1);
    if (!s) return std::unexpected(s.error());
    return {};
  });
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, Errc::conflict);

  std::int64_t seq = 0;
  ASSERT_TRUE(store_
                  ->transact([&](store::KeeperTx& tx) -> Result<void> {
                    auto s = record_restore(tx, *keys_, "operator:test", m, 9, 1'800'000'000'000'000);
                    if (!s) return std::unexpected(s.error());
                    seq = *s;
                    return {};
                  })
                  .has_value());
  EXPECT_EQ(seq, 6);
  std::optional<store::AuditEntryRow> row;
  ASSERT_TRUE(store_->scan_audit(6, [&](const store::AuditEntryRow& r) {
    row = r;
    return false;
  }));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->action, "backup.restore");
  EXPECT_EQ(row->actor, "operator:test");
  const auto d = nlohmann::json::parse(row->details);
  EXPECT_EQ(d.at("backup_seq"), 5);
  EXPECT_EQ(d.at("backup_head"), core::to_hex(m.head_hash));
  EXPECT_EQ(d.at("backup_taken_at"), m.created_at_us);
  EXPECT_EQ(d.at("file_seq"), 9);
  EXPECT_EQ(d.at("manifest"), core::to_hex(manifest_digest(m)));
}

}  // namespace
}  // namespace rempart::audit
