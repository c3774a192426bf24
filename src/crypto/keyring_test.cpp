#include "crypto/keyring.hpp"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <type_traits>
#include <vector>

#include "crypto/audit_keys.hpp"
#include "crypto/blind_index.hpp"
#include "crypto/key_access.hpp"
#include "crypto/test_support.hpp"

namespace rempart::crypto {
namespace {

namespace fs = std::filesystem;
using test::read_all;
using test::TempDir;
using test::write_all;
using K = detail::KeyAccess;

// The intake role's key material must be plain public data.
static_assert(std::is_trivially_copyable_v<IntakeKeyring>);
static_assert(sizeof(IntakeKeyring) == sizeof(std::uint32_t) + 32);

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 07777;
}

bool same_keys(const KeySet& a, const KeySet& b) {
  return a.version == b.version && K::seal_secret(a).equals(K::seal_secret(b).span()) &&
         a.seal_public == b.seal_public && K::blind_index(a).equals(K::blind_index(b).span()) &&
         K::record_wrap(a).equals(K::record_wrap(b).span()) && K::audit_mac(a).equals(K::audit_mac(b).span()) &&
         K::audit_sign_secret(a).equals(K::audit_sign_secret(b).span()) && a.audit_sign_public == b.audit_sign_public;
}

// The error of a load expected to fail; a successful load becomes an
// Errc::internal error so the caller's expectation fails cleanly.
template <typename T>
Error error_of(Result<T> r) {
  return r ? Error{Errc::internal, "unexpectedly loaded"} : r.error();
}

class KeyringFiles : public ::testing::Test {
 protected:
  TempDir tmp;
  fs::path dir = tmp.path() / "keys";
  fs::path keeper_file = dir / kKeeperKeyringFile;
  fs::path intake_file = dir / kIntakeKeyringFile;
};

TEST_F(KeyringFiles, CreateThenLoadRoundTrip) {
  ASSERT_TRUE(create_keyrings(dir));
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(mode_of(keeper_file), 0600u);
  EXPECT_EQ(mode_of(intake_file), 0600u);
  // No temporary files left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 2);

  auto keeper = load_keeper_keyring(dir);
  ASSERT_TRUE(keeper) << keeper.error().internal;
  auto intake = load_intake_keyring(dir);
  ASSERT_TRUE(intake) << intake.error().internal;

  const KeySet& cur = keeper->current();
  EXPECT_EQ(cur.version, 1u);
  EXPECT_EQ(intake->version, 1u);
  EXPECT_EQ(intake->seal_public, cur.seal_public);
  EXPECT_EQ(keeper->version(1), &cur);
  EXPECT_EQ(keeper->version(2), nullptr);
  EXPECT_EQ(K::seal_secret(cur).size(), 32u);
  EXPECT_EQ(K::audit_sign_secret(cur).size(), 64u);
  // Distinct keys, not one key copied into every slot.
  EXPECT_FALSE(K::blind_index(cur).equals(K::record_wrap(cur).span()));
  EXPECT_FALSE(K::record_wrap(cur).equals(K::audit_mac(cur).span()));
}

TEST_F(KeyringFiles, MultiVersionRoundTripKeepsEveryKey) {
  auto kr = KeeperKeyring::generate(3);
  ASSERT_TRUE(kr);
  ASSERT_TRUE(kr->add_version());
  ASSERT_TRUE(kr->add_version());
  ASSERT_EQ(kr->current().version, 5u);
  ASSERT_TRUE(write_keyrings(dir, *kr));

  auto loaded = load_keeper_keyring(dir);
  ASSERT_TRUE(loaded) << loaded.error().internal;
  ASSERT_EQ(loaded->all().size(), 3u);
  for (std::uint32_t v = 3; v <= 5; ++v) {
    ASSERT_NE(loaded->version(v), nullptr);
    EXPECT_TRUE(same_keys(*loaded->version(v), *kr->version(v))) << "version " << v;
  }
  EXPECT_EQ(loaded->version(2), nullptr);
  EXPECT_EQ(loaded->current().version, 5u);
  auto intake = load_intake_keyring(dir);
  ASSERT_TRUE(intake);
  EXPECT_EQ(intake->version, 5u);
  EXPECT_EQ(intake->seal_public, kr->version(5)->seal_public);
}

TEST_F(KeyringFiles, RefusesToOverwrite) {
  ASSERT_TRUE(create_keyrings(dir));
  const auto before = read_all(keeper_file);
  auto again = create_keyrings(dir);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::conflict);
  EXPECT_EQ(read_all(keeper_file), before);

  // Even when only one of the two files is present.
  fs::remove(keeper_file);
  auto partial = create_keyrings(dir);
  ASSERT_FALSE(partial);
  EXPECT_EQ(partial.error().code, Errc::conflict);
  EXPECT_FALSE(fs::exists(keeper_file));
}

TEST_F(KeyringFiles, RefusesFilesOpenToGroupOrOthers) {
  ASSERT_TRUE(create_keyrings(dir));
  for (const fs::path& file : {keeper_file, intake_file}) {
    for (unsigned mode : {0644u, 0640u, 0604u, 0660u, 0602u}) {
      ASSERT_EQ(::chmod(file.c_str(), mode), 0);
      auto err = file == keeper_file ? error_of(load_keeper_keyring(dir)) : error_of(load_intake_keyring(dir));
      EXPECT_EQ(err.code, Errc::permission) << std::oct << mode;
      EXPECT_NE(err.internal.find(file.string()), std::string::npos) << err.internal;
      EXPECT_NE(err.internal.find("chmod 600"), std::string::npos) << err.internal;
    }
    ASSERT_EQ(::chmod(file.c_str(), 0400), 0);  // owner-only read is fine
  }
  EXPECT_TRUE(load_keeper_keyring(dir));
  EXPECT_TRUE(load_intake_keyring(dir));
}

TEST_F(KeyringFiles, MissingFilesAreNotFound) {
  fs::create_directory(dir);
  auto k = load_keeper_keyring(dir);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code, Errc::not_found);
  EXPECT_NE(k.error().internal.find(keeper_file.string()), std::string::npos);
  auto i = load_intake_keyring(dir);
  ASSERT_FALSE(i);
  EXPECT_EQ(i.error().code, Errc::not_found);
  EXPECT_NE(i.error().internal.find(intake_file.string()), std::string::npos);
}

TEST_F(KeyringFiles, RefusesTruncatedFiles) {
  ASSERT_TRUE(create_keyrings(dir));
  for (const fs::path& file : {keeper_file, intake_file}) {
    const auto good = read_all(file);
    for (std::size_t len : {std::size_t{0}, std::size_t{4}, std::size_t{16}, good.size() / 2, good.size() - 32,
                            good.size() - 1}) {
      write_all(file, std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len)));
      auto err = file == keeper_file ? error_of(load_keeper_keyring(dir)) : error_of(load_intake_keyring(dir));
      EXPECT_EQ(err.code, Errc::invalid_input) << file << " truncated to " << len;
    }
    auto longer = good;
    longer.push_back(0);
    write_all(file, longer);
    auto err = file == keeper_file ? error_of(load_keeper_keyring(dir)) : error_of(load_intake_keyring(dir));
    EXPECT_EQ(err.code, Errc::invalid_input) << file << " with a trailing byte";
    write_all(file, good);
  }
  EXPECT_TRUE(load_keeper_keyring(dir));
  EXPECT_TRUE(load_intake_keyring(dir));
}

TEST_F(KeyringFiles, RefusesAnyFlippedBit) {
  ASSERT_TRUE(create_keyrings(dir));
  for (const fs::path& file : {keeper_file, intake_file}) {
    const auto good = read_all(file);
    for (std::size_t i = 0; i < good.size(); ++i) {
      auto bad = good;
      bad[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
      write_all(file, bad);
      const bool loaded = file == keeper_file ? load_keeper_keyring(dir).has_value() : load_intake_keyring(dir).has_value();
      ASSERT_FALSE(loaded) << file << " byte " << i;
    }
    write_all(file, good);
  }
}

TEST_F(KeyringFiles, RefusesSwappedFileKinds) {
  ASSERT_TRUE(create_keyrings(dir));
  const auto keeper = read_all(keeper_file);
  const auto intake = read_all(intake_file);
  write_all(keeper_file, intake);
  write_all(intake_file, keeper);
  EXPECT_EQ(error_of(load_keeper_keyring(dir)).code, Errc::invalid_input);
  EXPECT_EQ(error_of(load_intake_keyring(dir)).code, Errc::invalid_input);
}

TEST_F(KeyringFiles, RefusesInconsistentKeySetEvenWithValidChecksum) {
  ASSERT_TRUE(create_keyrings(dir));
  auto bytes = read_all(keeper_file);
  // Offset of seal_public in the first key set: magic 8 + format 4 + count 4
  // + version 4 + seal_secret 32.
  bytes[8 + 4 + 4 + 4 + 32] ^= 1;
  crypto_generichash(bytes.data() + bytes.size() - 32, 32, bytes.data(), bytes.size() - 32, nullptr, 0);
  write_all(keeper_file, bytes);
  auto k = load_keeper_keyring(dir);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code, Errc::invalid_input);
}

TEST_F(KeyringFiles, IntakeFileHoldsNoSecret) {
  ASSERT_TRUE(create_keyrings(dir));
  auto keeper = load_keeper_keyring(dir);
  ASSERT_TRUE(keeper);
  const auto intake = read_all(intake_file);
  ASSERT_FALSE(intake.empty());
  const KeySet& s = keeper->current();
  // No 8-byte window of any secret occurs anywhere in the intake file; the
  // Ed25519 secret includes its (public) last 32 bytes, so only its seed counts.
  for (auto secret : {K::seal_secret(s).span(), K::blind_index(s).span(), K::record_wrap(s).span(),
                      K::audit_mac(s).span(), K::audit_sign_secret(s).span().first(32)}) {
    ASSERT_GE(secret.size(), 32u);
    for (std::size_t at = 0; at + 8 <= secret.size(); ++at) {
      auto window = secret.subspan(at, 8);
      EXPECT_EQ(std::search(intake.begin(), intake.end(), window.begin(), window.end()), intake.end());
    }
  }
  // And it does hold the sealing public key.
  EXPECT_NE(std::search(intake.begin(), intake.end(), s.seal_public.begin(), s.seal_public.end()), intake.end());
}

TEST(KeeperKeyring, FromSetsRefusesBadSets) {
  EXPECT_EQ(error_of(KeeperKeyring::from_sets({})).code, Errc::invalid_input);

  std::vector<KeySet> descending;
  descending.push_back(*KeySet::generate(2));
  descending.push_back(*KeySet::generate(1));
  EXPECT_EQ(error_of(KeeperKeyring::from_sets(std::move(descending))).code, Errc::invalid_input);

  std::vector<KeySet> mismatched;
  mismatched.push_back(*KeySet::generate(1));
  mismatched[0].seal_public[0] ^= 1;
  EXPECT_EQ(error_of(KeeperKeyring::from_sets(std::move(mismatched))).code, Errc::invalid_input);

  std::vector<KeySet> short_key;
  short_key.push_back(*KeySet::generate(1));
  K::audit_mac(short_key[0]) = *SecretBytes::random(16);
  EXPECT_EQ(error_of(KeeperKeyring::from_sets(std::move(short_key))).code, Errc::invalid_input);

  EXPECT_FALSE(KeySet::generate(0));
}

TEST(KeeperKeyring, IntakeIsThePublicHalfOfCurrent) {
  auto kr = KeeperKeyring::generate();
  ASSERT_TRUE(kr);
  ASSERT_TRUE(kr->add_version());
  const IntakeKeyring ik = kr->intake();
  EXPECT_EQ(ik.version, 2u);
  EXPECT_EQ(ik.seal_public, kr->current().seal_public);
  EXPECT_NE(ik.seal_public, kr->version(1)->seal_public);
}

TEST(KeeperKeyring, ARotationCarriesTheBlindIndexKeyAndRenewsTheRest) {
  auto kr = KeeperKeyring::generate();
  ASSERT_TRUE(kr);
  ASSERT_TRUE(kr->add_version());
  ASSERT_EQ(kr->size(), 2u);
  const KeySet& a = *kr->version(1);
  const KeySet& b = kr->current();
  EXPECT_EQ(b.version, 2u);
  const auto same = [](const SecretBytes& x, const SecretBytes& y) {
    return x.size() == y.size() && sodium_memcmp(x.data(), y.data(), x.size()) == 0;
  };
  EXPECT_TRUE(same(detail::KeyAccess::blind_index(a), detail::KeyAccess::blind_index(b)));
  EXPECT_FALSE(same(detail::KeyAccess::record_wrap(a), detail::KeyAccess::record_wrap(b)));
  EXPECT_FALSE(same(detail::KeyAccess::seal_secret(a), detail::KeyAccess::seal_secret(b)));
  EXPECT_FALSE(same(detail::KeyAccess::audit_mac(a), detail::KeyAccess::audit_mac(b)));
  EXPECT_NE(a.seal_public, b.seal_public);
  EXPECT_NE(a.audit_sign_public, b.audit_sign_public);
  EXPECT_EQ(kr->first_version(), 1u);
}

// `keys rotate --key blind-index`: the new version's blind-index key is its
// own, the next ordinary rotation carries it over, and lookups get one key
// set per blind-index key, the current one first.
TEST_F(KeyringFiles, ARenewedBlindIndexKeyIsNewAndTheOlderOneStaysFindable) {
  auto kr = KeeperKeyring::generate();
  ASSERT_TRUE(kr);
  ASSERT_EQ(blind_index_sets(*kr).size(), 1u);
  EXPECT_TRUE(older_blind_indexes(*kr, kBlindIndexEmail, "ana@example.org").empty());
  const auto v1 = blind_index(kr->current(), kBlindIndexEmail, "ana@example.org");
  ASSERT_TRUE(kr->add_version(KeeperKeyring::BlindIndexKey::renew));
  ASSERT_TRUE(kr->add_version());  // an ordinary rotation afterwards
  ASSERT_EQ(kr->current().version, 3u);
  EXPECT_FALSE(same_blind_index_key(*kr->version(1), *kr->version(2)));
  EXPECT_TRUE(same_blind_index_key(*kr->version(2), *kr->version(3)));
  const auto v3 = blind_index(kr->current(), kBlindIndexEmail, "ana@example.org");
  EXPECT_NE(v1, v3);
  EXPECT_EQ(v3, blind_index(*kr->version(2), kBlindIndexEmail, "ana@example.org"));

  auto sets = blind_index_sets(*kr);
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].get().version, 3u);  // the current version's key first
  EXPECT_EQ(sets[1].get().version, 1u);
  const auto older = older_blind_indexes(*kr, kBlindIndexEmail, "ana@example.org");
  ASSERT_EQ(older.size(), 1u);
  EXPECT_EQ(older[0], v1);

  // The file keeps each version's key, and a keeper holding versions 1-2
  // adopts version 3 (same keys in common).
  ASSERT_TRUE(write_keyrings(dir, *kr));
  auto loaded = load_keeper_keyring(dir);
  ASSERT_TRUE(loaded) << loaded.error().internal;
  for (std::uint32_t v = 1; v <= 3; ++v) EXPECT_TRUE(same_keys(*loaded->version(v), *kr->version(v))) << v;
  EXPECT_EQ(older_blind_indexes(*loaded, kBlindIndexEmail, "ana@example.org"), older);
  // Retiring version 1 keeps its blind-index key: suppressions made under
  // it are still found.
  auto retired = loaded->with_retired(1);
  ASSERT_TRUE(retired) << retired.error().internal;
  EXPECT_EQ(older_blind_indexes(*retired, kBlindIndexEmail, "ana@example.org"), older);
}

TEST(KeeperKeyring, AdoptTakesTheNewerVersionsOfTheSameKeyringOnly) {
  TempDir dir;
  ASSERT_TRUE(create_keyrings(dir.path()));
  auto running = load_keeper_keyring(dir.path());
  ASSERT_TRUE(running);
  const KeySet* v1 = &running->current();
  auto rotated = load_keeper_keyring(dir.path());
  ASSERT_TRUE(rotated);
  ASSERT_TRUE(rotated->add_version());
  ASSERT_TRUE(rotated->add_version());
  const auto v3_public = rotated->current().seal_public;
  auto added = running->adopt(std::move(*rotated));
  ASSERT_TRUE(added) << added.error().internal;
  EXPECT_EQ(*added, 2u);
  EXPECT_EQ(running->current().version, 3u);
  EXPECT_EQ(running->current().seal_public, v3_public);
  EXPECT_EQ(running->version(1), v1);  // what readers hold stays where it was
  // The same keyring again adds nothing; the file before the rotation
  // lacks the current version and is refused.
  auto bytes = serialise_keeper_keyring(*running);
  ASSERT_TRUE(bytes);
  auto same = parse_keeper_keyring(bytes->span());
  ASSERT_TRUE(same);
  auto none = running->adopt(std::move(*same));
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0u);
  auto before = load_keeper_keyring(dir.path());
  ASSERT_TRUE(before);
  EXPECT_EQ(test::code_of(running->adopt(std::move(*before))), Errc::conflict);
  // Another instance's keyring, or one without the current version, is refused.
  auto other = KeeperKeyring::generate();
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->add_version());
  ASSERT_TRUE(other->add_version());
  EXPECT_EQ(test::code_of(running->adopt(std::move(*other))), Errc::conflict);
  auto older = KeeperKeyring::generate(1);
  ASSERT_TRUE(older);
  EXPECT_EQ(test::code_of(running->adopt(std::move(*older))), Errc::conflict);
  EXPECT_EQ(running->current().version, 3u);
}

TEST(KeeperKeyring, ReadersSeeWholeVersionsWhileOneIsAdded) {
  auto kr = KeeperKeyring::generate();
  ASSERT_TRUE(kr);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> reads{0};
  std::atomic<bool> torn{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const KeySet& cur = kr->current();
        if (kr->version(cur.version) != &cur || kr->all().back().get().version < cur.version) torn = true;
        reads.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(kr->add_version());
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_FALSE(torn.load());
  EXPECT_EQ(kr->current().version, 51u);
  EXPECT_GT(reads.load(), 0u);
}

TEST(KeeperKeyring, ARetiredVersionKeepsOnlyWhatVerifiesAndFinds) {
  TempDir dir;
  auto kr = KeeperKeyring::generate();
  ASSERT_TRUE(kr);
  ASSERT_TRUE(kr->add_version());
  EXPECT_EQ(test::code_of(kr->with_retired(2)), Errc::conflict);  // the current one
  EXPECT_EQ(test::code_of(kr->with_retired(7)), Errc::not_found);
  auto retired = kr->with_retired(1);
  ASSERT_TRUE(retired) << retired.error().internal;
  EXPECT_EQ(test::code_of(retired->with_retired(1)), Errc::conflict);  // already
  const KeySet& old = *retired->version(1);
  EXPECT_TRUE(old.retired);
  EXPECT_TRUE(K::seal_secret(old).empty());
  EXPECT_TRUE(K::record_wrap(old).empty());
  EXPECT_TRUE(K::audit_sign_secret(old).empty());
  EXPECT_EQ(K::audit_mac(old).size(), kKeySize);
  EXPECT_EQ(K::blind_index(old).size(), kKeySize);
  EXPECT_EQ(old.audit_sign_public, kr->version(1)->audit_sign_public);
  EXPECT_FALSE(kr->version(1)->retired);  // the original is untouched

  // Written and read back: the gone keys are zero bytes in the file.
  ASSERT_TRUE(write_keyrings(dir.path(), *retired));
  const auto file = read_all(dir.path() / kKeeperKeyringFile);
  const auto wrap = K::record_wrap(*kr->version(1)).span();
  EXPECT_EQ(std::search(file.begin(), file.end(), wrap.begin(), wrap.end()), file.end());
  auto back = load_keeper_keyring(dir.path());
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_TRUE(back->version(1)->retired);
  EXPECT_FALSE(back->version(2)->retired);
  // A running keeper of the unretired keyring adopts the retired file.
  auto none = kr->adopt(std::move(*back));
  ASSERT_TRUE(none) << none.error().internal;
  EXPECT_EQ(*none, 0u);
}

// A version whose audit signing key a token holds keeps only its public
// half, in memory and in the file (state 2), and signs nothing without the
// token; retiring it later is as for any version.
TEST(KeeperKeyring, ASigningKeyInATokenLeavesOnlyItsPublicHalf) {
  TempDir dir;
  auto kr = KeeperKeyring::generate();
  ASSERT_TRUE(kr);
  ASSERT_TRUE(kr->add_version());
  std::array<std::uint8_t, 32> pub{};
  std::array<std::uint8_t, 64> secret{};
  crypto_sign_keypair(pub.data(), secret.data());  // stands for the token's pair
  auto moved = kr->with_token_signing(pub);
  ASSERT_TRUE(moved) << moved.error().internal;
  EXPECT_EQ(test::code_of(moved->with_token_signing(pub)), Errc::conflict);  // once
  const KeySet& v2 = moved->current();
  EXPECT_TRUE(v2.sign_in_token);
  EXPECT_TRUE(K::audit_sign_secret(v2).empty());
  EXPECT_EQ(v2.audit_sign_public, pub);
  EXPECT_FALSE(moved->version(1)->sign_in_token);
  EXPECT_EQ(K::audit_sign_secret(*moved->version(1)).size(), kSignSecretSize);
  // Nothing signs for it without a token.
  EXPECT_EQ(test::code_of(AuditSigner::current(*moved)), Errc::config);

  ASSERT_TRUE(write_keyrings(dir.path(), *moved));
  const auto file = read_all(dir.path() / kKeeperKeyringFile);
  const auto old_secret = K::audit_sign_secret(kr->current()).span();
  EXPECT_EQ(std::search(file.begin(), file.end(), old_secret.begin(), old_secret.end()), file.end());
  auto back = load_keeper_keyring(dir.path());
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_TRUE(back->current().sign_in_token);
  EXPECT_EQ(back->current().audit_sign_public, pub);
  EXPECT_TRUE(K::audit_sign_secret(back->current()).empty());
  // What was signed under it checks against the public half.
  const std::uint8_t msg[] = {'c', 'p'};
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, msg, sizeof msg, secret.data());
  auto verifier = AuditVerifier::of(*back, 2);
  ASSERT_TRUE(verifier);
  EXPECT_TRUE(verifier->verify(msg, sig));
  // A keeper holding the file's keyring adopts it again unchanged, and a
  // newer version after it; the original, with the secret, is another keyring.
  ASSERT_TRUE(back->add_version());
  ASSERT_TRUE(replace_keyrings(dir.path(), *back));
  auto newer = load_keeper_keyring(dir.path());
  ASSERT_TRUE(newer);
  auto same = load_keeper_keyring(dir.path());
  ASSERT_TRUE(same);
  auto held = std::move(*moved);
  auto added = held.adopt(std::move(*newer));
  ASSERT_TRUE(added) << added.error().internal;
  EXPECT_EQ(*added, 1u);
  EXPECT_EQ(test::code_of(kr->adopt(std::move(*same))), Errc::conflict);
  // Retired, it is a retired version like any other.
  auto retired = held.with_retired(2);
  ASSERT_TRUE(retired) << retired.error().internal;
  EXPECT_TRUE(retired->version(2)->retired);
  EXPECT_EQ(retired->version(2)->audit_sign_public, pub);
}

TEST(KeeperKeyring, AFormatOneFileIsStillRead) {
  auto kr = KeeperKeyring::generate();
  ASSERT_TRUE(kr);
  ASSERT_TRUE(kr->add_version());
  auto bytes = serialise_keeper_keyring(*kr);
  ASSERT_TRUE(bytes);
  // Format 2 less its state bytes is format 1.
  std::vector<std::uint8_t> v1(bytes->span().begin(), bytes->span().end() - 32);
  v1[8] = 1;
  const std::size_t record = 4 + 1 + 5 * 32 + 64 + 32;
  for (int i = 1; i >= 0; --i) v1.erase(v1.begin() + 16 + i * record + 4);
  v1.resize(v1.size() + 32);
  crypto_generichash(v1.data() + v1.size() - 32, 32, v1.data(), v1.size() - 32, nullptr, 0);
  auto back = parse_keeper_keyring(v1);
  ASSERT_TRUE(back) << back.error().internal;
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ(back->current().seal_public, kr->current().seal_public);
  EXPECT_FALSE(back->version(1)->retired);
}

TEST(PathIsWithin, Lexical) {
  EXPECT_TRUE(path_is_within("/srv/data/keys", "/srv/data"));
  EXPECT_TRUE(path_is_within("/srv/data", "/srv/data"));
  EXPECT_TRUE(path_is_within("/srv/data/", "/srv/data"));
  EXPECT_TRUE(path_is_within("/srv/data", "/srv/data/"));
  EXPECT_TRUE(path_is_within("/srv/other/../data/keys", "/srv/data"));
  EXPECT_FALSE(path_is_within("/srv/data-keys", "/srv/data"));
  EXPECT_FALSE(path_is_within("/srv/data/../keys", "/srv/data"));
  EXPECT_FALSE(path_is_within("/srv", "/srv/data"));
  EXPECT_TRUE(path_is_within("/anything", "/"));
}

TEST(PathIsWithin, FollowsSymlinks) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data";
  fs::create_directories(data / "inner");
  fs::create_directory_symlink(data / "inner", tmp.path() / "keys");
  EXPECT_TRUE(path_is_within(tmp.path() / "keys", data));
  EXPECT_TRUE(path_is_within(tmp.path() / "keys" / "not-yet-created", data));
  EXPECT_FALSE(path_is_within(tmp.path() / "elsewhere", data));
}

}  // namespace
}  // namespace rempart::crypto
