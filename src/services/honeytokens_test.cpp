#include "services/honeytokens.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <random>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/blast_radius.hpp"
#include "audit/chain.hpp"
#include "core/validate.hpp"
#include "services/directory.hpp"
#include "services/records.hpp"
#include "services/synth.hpp"
#include "services/test_support.hpp"

namespace rempart::services {
namespace {

constexpr std::size_t kReal = 9500;
constexpr std::size_t kTokens = 500;
constexpr std::size_t kRealPhones = 4000;
constexpr std::int64_t kEpoch = 1'700'000'000;
constexpr std::uint64_t kSeed = 77;

// What a masked record shows, one string per feature a watcher could use.
constexpr std::size_t kFeatures = 13;
constexpr std::array<const char*, kFeatures> kFeatureNames = {
    "email domain", "email first letter", "phone prefix", "postcode prefix", "name initials", "locality",
    "tags",         "consents",           "created hour", "id first byte",   "listing decile", "updated later",
    "id first hex digit"};
using Features = std::array<std::string, kFeatures>;

// A directory of real (synthetic) supporters whose timestamps, tags,
// consents and updates have the texture of a real one: sign-ups over 120
// days, mostly in the evening; a petition tag during one month; some
// records updated weeks later.
class PlantedDirectory : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fx_ = new testing::Fixture();
    keys_ = new crypto::KeeperKeyring(fx_->keeper_keys());
    vault_ = new Vault(*keys_);
    auto st = store::open_sqlite_keeper(fx_->db);
    ASSERT_TRUE(st.has_value()) << st.error().internal;
    store_ = st->release();
    seed_real();
    auto n = plant_honeytokens(*store_, *vault_, kTokens, "operator:test", kSeed);
    ASSERT_TRUE(n.has_value()) << n.error().internal;
    ASSERT_EQ(*n, kTokens);
  }
  static void TearDownTestSuite() {
    delete store_;
    delete vault_;
    delete keys_;
    delete fx_;
  }

  static void seed_real() {
    std::mt19937_64 gen(2026);
    auto uniform = [&](std::int64_t lo, std::int64_t hi) {
      return std::uniform_int_distribution<std::int64_t>(lo, hi)(gen);
    };
    // Sign-ups by hour of day: quiet nights, busy evenings.
    const std::array<int, 24> hour_weight = {1, 1, 1, 1, 1, 1,  2,  4,  6,  6,  6,  7,
                                             9, 8, 6, 6, 7, 9, 12, 16, 18, 14,  8,  3};
    std::discrete_distribution<int> hour(hour_weight.begin(), hour_weight.end());
    RecordWriter writer(*keys_);
    constexpr std::size_t kPerTx = 2000;
    for (std::size_t start = 0; start < kReal; start += kPerTx) {
      const std::size_t end = std::min(kReal, start + kPerTx);
      std::vector<core::Person> people;
      std::vector<PreparedUpsert> prepared;
      std::vector<std::int64_t> created, updated;
      for (std::size_t i = start; i < end; ++i) {
        core::Person p = synth_person(kSeed, i, i < kRealPhones);
        const std::int64_t day = uniform(0, 119);
        const std::int64_t at = kEpoch + day * 86400 + hour(gen) * 3600 + uniform(0, 3599);
        if (day >= 30 && day < 60 && uniform(0, 9) < 7) p.tags.push_back("petition-eau");
        if (uniform(0, 9) == 0) p.tags.push_back("benevole");
        if (uniform(0, 19) == 0) p.tags.push_back("donateur");
        std::sort(p.tags.begin(), p.tags.end());
        real_tag_count_["petition-eau"] += std::count(p.tags.begin(), p.tags.end(), "petition-eau");
        real_tag_count_["benevole"] += std::count(p.tags.begin(), p.tags.end(), "benevole");
        real_tag_count_["donateur"] += std::count(p.tags.begin(), p.tags.end(), "donateur");
        created.push_back(at);
        updated.push_back(uniform(0, 9) < 3 ? at + uniform(3600, 30 * 86400) : at);
        // Made at `at`, as a record signing up then would have been: its id
        // names that moment.
        prepared.push_back(writer.prepare(p, at * 1000 + uniform(0, 999)));
        people.push_back(std::move(p));
      }
      auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
        for (std::size_t k = 0; k < people.size(); ++k) {
          store::Bytes id;
          auto u = writer.upsert(tx, people[k], prepared[k], created[k], &id);
          if (!u) return std::unexpected(u.error());
          if (*u != Upsert::created) return fail(Errc::internal, "seed: not created");
          if (updated[k] != created[k]) {
            auto row = tx.find_supporter(id);
            if (!row || !*row) return fail(Errc::internal, "seed: row missing");
            (*row)->updated_at = updated[k];
            if (auto x = tx.update_supporter(**row); !x) return x;
          }
        }
        return {};
      });
      ASSERT_TRUE(r.has_value()) << r.error().internal;
    }
  }

  // Every record through the directory, masked, in listing order.
  static std::vector<MaskedSupporter> read_all(std::int64_t* total = nullptr) {
    Directory dir(*store_, *vault_);
    std::vector<MaskedSupporter> all;
    ListQuery q;
    q.limit = 200;
    for (int guard = 0; guard < 1000; ++guard) {
      auto page = dir.list(Asker{"operator:test", ""}, q);
      EXPECT_TRUE(page.has_value()) << page.error().internal;
      if (!page) break;
      if (total != nullptr) *total = page->total;
      for (auto& m : page->items) all.push_back(std::move(m));
      if (page->next_cursor.empty()) break;
      q.cursor = page->next_cursor;
    }
    return all;
  }

  static store::Bytes id_bytes(const std::string& hex) {
    store::Bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
      out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    return out;
  }

  static Features features(const MaskedSupporter& m, std::size_t rank, std::size_t total) {
    const std::string bullet = "\u2022";
    auto before_bullet = [&](const std::string& s) { return s.substr(0, s.find(bullet)); };
    std::string tags;
    for (const auto& t : m.tags) tags += t + ",";
    const auto at = m.email.find('@');
    return Features{at == std::string::npos ? "" : m.email.substr(at + 1),
                    before_bullet(m.email),
                    before_bullet(m.phone),
                    m.postal_code,
                    m.name,
                    m.locality,
                    tags,
                    std::string(m.consent_email ? "e" : "-") + (m.consent_sms ? "s" : "-"),
                    std::to_string((m.created_at % 86400) / 3600),
                    m.id.substr(0, 2),
                    std::to_string(rank * 10 / total),
                    m.updated_at != m.created_at ? "yes" : "no",
                    // 256 byte values are too many for a chi-square over 500
                    // records; its first hex digit is not.
                    m.id.substr(0, 1)};
  }

  static testing::Fixture* fx_;
  static crypto::KeeperKeyring* keys_;
  static Vault* vault_;
  static store::KeeperStore* store_;
  static std::map<std::string, std::int64_t> real_tag_count_;
};

testing::Fixture* PlantedDirectory::fx_ = nullptr;
crypto::KeeperKeyring* PlantedDirectory::keys_ = nullptr;
Vault* PlantedDirectory::vault_ = nullptr;
store::KeeperStore* PlantedDirectory::store_ = nullptr;
std::map<std::string, std::int64_t> PlantedDirectory::real_tag_count_;

// ---- Statistics -----------------------------------------------------------------

// Chi-square test of "both classes draw this feature from one distribution"
// on the 2 x k table, values rare among honeytokens (expected < 5) pooled.
// Returns the Wilson-Hilferty z score of the statistic: ~N(0,1) when the
// distributions agree; z > 4 means p < 3e-5.
double chi_square_z(const std::vector<Features>& rows, const std::vector<bool>& token, std::size_t f) {
  std::map<std::string, std::array<double, 2>> table;
  double n[2] = {0, 0};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    table[rows[i][f]][token[i] ? 1 : 0] += 1;
    n[token[i] ? 1 : 0] += 1;
  }
  const double total = n[0] + n[1];
  std::vector<std::array<double, 2>> cells;
  std::array<double, 2> pooled{0, 0};
  for (const auto& [value, c] : table) {
    const double expected_tokens = (c[0] + c[1]) * n[1] / total;
    if (expected_tokens < 5) {
      pooled[0] += c[0];
      pooled[1] += c[1];
    } else {
      cells.push_back(c);
    }
  }
  if (pooled[0] + pooled[1] > 0) cells.push_back(pooled);
  if (cells.size() < 2) return 0;
  double chi = 0;
  for (const auto& c : cells) {
    const double col = c[0] + c[1];
    for (int k = 0; k < 2; ++k) {
      const double e = col * n[k] / total;
      chi += (c[static_cast<std::size_t>(k)] - e) * (c[static_cast<std::size_t>(k)] - e) / e;
    }
  }
  const double df = static_cast<double>(cells.size() - 1);
  const double a = 2.0 / (9.0 * df);
  return (std::cbrt(chi / df) - (1 - a)) / std::sqrt(a);
}

struct Scores {
  double auc = 0.5;
  double balanced_accuracy = 0.5;
};

// Naive Bayes over every feature (Laplace smoothing, equal priors), trained
// on the rows with even `split` and scored on the others.
Scores naive_bayes(const std::vector<Features>& rows, const std::vector<bool>& token, const std::vector<int>& split) {
  std::array<std::map<std::string, std::array<double, 2>>, kFeatures> counts;
  double n[2] = {0, 0};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (split[i] % 2 != 0) continue;
    const std::size_t c = token[i] ? 1 : 0;
    n[c] += 1;
    for (std::size_t f = 0; f < kFeatures; ++f) counts[f][rows[i][f]][c] += 1;
  }
  std::vector<std::pair<double, bool>> scored;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (split[i] % 2 == 0) continue;
    double s = 0;
    for (std::size_t f = 0; f < kFeatures; ++f) {
      const double k = static_cast<double>(counts[f].size() + 1);
      const auto it = counts[f].find(rows[i][f]);
      const double c0 = it == counts[f].end() ? 0 : it->second[0];
      const double c1 = it == counts[f].end() ? 0 : it->second[1];
      s += std::log((c1 + 1) / (n[1] + k)) - std::log((c0 + 1) / (n[0] + k));
    }
    scored.emplace_back(s, token[i]);
  }
  // AUC by ranks (Mann-Whitney), ties sharing their mean rank.
  std::sort(scored.begin(), scored.end());
  double rank_sum = 0, pos = 0, neg = 0, true_pos = 0, true_neg = 0;
  for (std::size_t i = 0; i < scored.size();) {
    std::size_t j = i;
    while (j < scored.size() && scored[j].first == scored[i].first) ++j;
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k) {
      if (scored[k].second) rank_sum += mean_rank;
    }
    i = j;
  }
  for (const auto& [s, t] : scored) {
    if (t) {
      pos += 1;
      if (s > 0) true_pos += 1;
    } else {
      neg += 1;
      if (s <= 0) true_neg += 1;
    }
  }
  Scores out;
  out.auc = (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
  out.balanced_accuracy = (true_pos / pos + true_neg / neg) / 2;
  return out;
}

// One test per set-up where it can: the suite's set-up (9,500 records and
// a planting) runs once per process, and ctest runs each test in its own.
TEST_F(PlantedDirectory, MaskedViewsDoNotTellHoneytokensApartNorCountThem) {
  std::int64_t total = 0;
  const auto all = read_all(&total);
  ASSERT_EQ(all.size(), kReal + kTokens);
  std::vector<Features> rows;
  std::vector<bool> token;
  for (std::size_t i = 0; i < all.size(); ++i) {
    rows.push_back(features(all[i], i, all.size()));
    auto h = store_->is_honeytoken(id_bytes(all[i].id));
    ASSERT_TRUE(h.has_value());
    token.push_back(*h);
  }
  ASSERT_EQ(static_cast<std::size_t>(std::count(token.begin(), token.end(), true)), kTokens);

  for (std::size_t f = 0; f < kFeatures; ++f) {
    const double z = chi_square_z(rows, token, f);
    EXPECT_LT(z, 4.0) << kFeatureNames[f];
  }

  std::mt19937 gen(9);
  std::vector<int> split(rows.size());
  for (auto& s : split) s = static_cast<int>(gen() % 2);
  const Scores s = naive_bayes(rows, token, split);
  // The figures the docs quote come from here.
  RecordProperty("naive_bayes_auc", std::to_string(s.auc));
  RecordProperty("naive_bayes_balanced_accuracy", std::to_string(s.balanced_accuracy));
  EXPECT_LT(s.auc, 0.6);
  EXPECT_GT(s.auc, 0.4);
  EXPECT_LT(s.balanced_accuracy, 0.6);

  // The same tests do catch a naive planting: honeytokens created now
  // (all at one hour, at the top of the listing) with a phone each.
  std::vector<Features> naive = rows;
  for (std::size_t i = 0; i < naive.size(); ++i) {
    if (!token[i]) continue;
    naive[i][8] = "13";
    naive[i][10] = "0";
    naive[i][2] = "+33 6";
  }
  EXPECT_GT(chi_square_z(naive, token, 8), 4.0);
  EXPECT_GT(chi_square_z(naive, token, 10), 4.0);
  const Scores caught = naive_bayes(naive, token, split);
  EXPECT_GT(caught.auc, 0.9);
  EXPECT_GT(caught.balanced_accuracy, 0.9);

  // Listed in their place, never counted.
  EXPECT_EQ(total, static_cast<std::int64_t>(kReal));
  EXPECT_EQ(*store_->count_supporters(), static_cast<std::int64_t>(kReal + kTokens));
  EXPECT_EQ(*store_->count_honeytokens(), static_cast<std::int64_t>(kTokens));

  Directory dir(*store_, *vault_);
  auto tags = dir.tags();
  ASSERT_TRUE(tags.has_value());
  std::map<std::string, std::int64_t> got;
  for (const auto& t : *tags) got[t.tag] = t.supporters;
  EXPECT_EQ(got, real_tag_count_);
  // Honeytokens do carry tags: a tagged page lists more rows than it counts.
  ListQuery q;
  q.tag = "benevole";
  q.limit = 200;
  std::size_t tagged_rows = 0;
  std::int64_t tagged_total = 0;
  for (int guard = 0; guard < 100; ++guard) {
    auto page = dir.list(Asker{"operator:test", ""}, q);
    ASSERT_TRUE(page.has_value());
    tagged_total = page->total;
    tagged_rows += page->items.size();
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  EXPECT_EQ(tagged_total, real_tag_count_["benevole"]);
  EXPECT_GT(tagged_rows, static_cast<std::size_t>(tagged_total));
}

TEST_F(PlantedDirectory, HoneytokensAreWellFormedOwnTheirContactsAndAreAuditedOnce) {
  std::set<std::string> emails, phones;
  std::size_t tokens = 0;
  store::SupporterPageQuery q;
  q.limit = 1000;
  for (int guard = 0; guard < 100; ++guard) {
    auto page = store_->supporter_page(q);
    ASSERT_TRUE(page.has_value());
    for (const auto& item : page->items) {
      auto p = testing::inspect_record(*keys_, item.row);
      ASSERT_TRUE(p.has_value());
      if (!p->email.empty()) {
        EXPECT_TRUE(emails.insert(p->email).second);
      }
      if (!p->phone.empty()) {
        EXPECT_TRUE(phones.insert(p->phone).second);
      }
      // Every id, a honeytoken's included, names the second its record says
      // it was created in: ids do not set honeytokens apart either.
      EXPECT_EQ(record_id_millis(item.row.id).value_or(-1000) / 1000, item.row.created_at);
      if (!*store_->is_honeytoken(item.row.id)) continue;
      ++tokens;
      // What intake would accept, stored as intake would store it.
      EXPECT_EQ(core::normalize_email(p->email).value_or("bad"), p->email);
      if (!p->phone.empty()) {
        EXPECT_EQ(core::normalize_phone(p->phone, "").value_or("bad"), p->phone);
      }
      EXPECT_FALSE(p->given_name.empty());
      EXPECT_FALSE(p->family_name.empty());
      EXPECT_EQ(p->country, "FR");
      EXPECT_LE(item.row.created_at, item.row.updated_at);
    }
    if (page->items.size() < q.limit) break;
    q.after = store::SupporterPosition{page->items.back().row.created_at, page->items.back().row.id};
  }
  EXPECT_EQ(tokens, kTokens);

  // One audit entry for the planting, with the count only.
  std::vector<store::AuditEntryRow> plants;
  ASSERT_TRUE(store_->scan_audit(1, [&](const store::AuditEntryRow& r) {
    if (r.action == audit::action::honeytoken_plant) plants.push_back(r);
    // No entry anywhere names a honeytoken's creation.
    EXPECT_NE(r.action, audit::action::supporter_create);
    return true;
  }));
  ASSERT_EQ(plants.size(), 1u);
  EXPECT_EQ(plants[0].actor, "operator:test");
  EXPECT_EQ(plants[0].subject, "");
  EXPECT_EQ(nlohmann::json::parse(plants[0].details), (nlohmann::json{{"count", kTokens}}));

  // Every real record opened to copy shapes from is named, in one
  // `supporter.sample` entry, and only real records: blast radius sees what
  // planting read, and the entry tells no honeytoken apart.
  std::vector<std::string> sampled;
  ASSERT_TRUE(store_->scan_audit(1, [&](const store::AuditEntryRow& r) {
    if (r.action == audit::action::supporter_sample) {
      const auto details = nlohmann::json::parse(r.details);
      for (const auto& id : details["records"]) sampled.push_back(id.get<std::string>());
    }
    return true;
  }));
  ASSERT_FALSE(sampled.empty());
  for (const auto& id : sampled) {
    store::Bytes raw;
    for (std::size_t i = 0; i < id.size(); i += 2) raw.push_back(static_cast<std::uint8_t>(std::stoi(id.substr(i, 2), nullptr, 16)));
    EXPECT_FALSE(*store_->is_honeytoken(raw));
  }
  auto blast = audit::blast_radius(*store_, {"operator:test", std::numeric_limits<std::int64_t>::min(),
                                             std::numeric_limits<std::int64_t>::max(), ""});
  ASSERT_TRUE(blast);
  // Every record sampled shows as opened, or as seen masked when a test of
  // this suite listed it before (the suite shares one directory).
  std::set<std::string> seen;
  for (const auto& e : blast->opened_only) seen.insert(e.record);
  for (const auto& e : blast->masked_only) seen.insert(e.record);
  for (const auto& id : sampled) EXPECT_TRUE(seen.contains(id)) << id;
  EXPECT_LE(blast->opened_only.size(), sampled.size());
  EXPECT_TRUE(blast->revealed.empty());
}

// ---- Refusals ---------------------------------------------------------------------

TEST(PlantHoneytokens, RefusedWithoutRealSupporters) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  auto r = plant_honeytokens(*st, Vault(keys), 5, "operator:test", 0);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  EXPECT_NE(r.error().internal.find("plant after importing supporters"), std::string::npos);
  EXPECT_EQ(*st->count_supporters(), 0);
  EXPECT_EQ(*st->audit_head(), std::nullopt);
}

TEST(PlantHoneytokens, CountOutOfRangeIsRefused) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  for (std::size_t n : {std::size_t{0}, kMaxHoneytokensPerPlant + 1}) {
    auto r = plant_honeytokens(*st, Vault(keys), n, "operator:test", 0);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::invalid_input);
  }
}

// A second planting in a small directory (every e-mail domain rare) only
// adds records, dated within the real records' span.
TEST(PlantHoneytokens, SmallDirectoryAndSecondPlanting) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  RecordWriter writer(keys);
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    for (std::uint64_t i = 0; i < 3; ++i) {
      core::Person p = synth_person(5, i, true);
      auto u = writer.upsert(tx, p, kEpoch + static_cast<std::int64_t>(i) * 60);
      if (!u) return std::unexpected(u.error());
    }
    return {};
  }).has_value());
  auto a = plant_honeytokens(*st, Vault(keys), 4, "operator:test", 0);
  ASSERT_TRUE(a.has_value()) << a.error().internal;
  auto b = plant_honeytokens(*st, Vault(keys), 2, "operator:test", 0);
  ASSERT_TRUE(b.has_value()) << b.error().internal;
  EXPECT_EQ(*st->count_supporters(), 9);
  EXPECT_EQ(*st->count_honeytokens(), 6);
  auto page = st->supporter_page(store::SupporterPageQuery{});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->total, 3);
  for (const auto& item : page->items) {
    // Every creation time lies within the real records' span.
    EXPECT_GE(item.row.created_at, kEpoch);
    EXPECT_LE(item.row.created_at, kEpoch + 120);
  }
}

}  // namespace
}  // namespace rempart::services
