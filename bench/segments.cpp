// Segment counts (docs/console.md, "Segments"): how long one count takes on
// a large base, through the product's store (services::Segments::count, the
// statement the console runs). The base is made here, through the store's
// own inserts, of rows shaped like real ones (sealed fields of 320 random
// bytes, blind indexes, consents, origins, tags); counting opens no record,
// so the bytes need not decrypt. A base already at --db is reused.
#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench.hpp"
#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"
#include "services/segments.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::bench {
namespace {

store::Bytes random_bytes(std::size_t n) {
  store::Bytes b(n);
  randombytes_buf(b.data(), b.size());
  return b;
}

void fill(store::KeeperStore& st, std::int64_t count) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> pct(0, 99);
  const std::int64_t start = 1'672'531'200;  // 2023-01-01
  const std::int64_t span = 3 * 365 * 86400;
  const char* origins[] = {"intake", "intake", "intake", "import:csv", "import:action-network"};
  constexpr std::int64_t kTx = 10'000;
  Stopwatch w;
  for (std::int64_t done = 0; done < count;) {
    auto r = st.transact([&](store::KeeperTx& tx) -> Result<void> {
      for (std::int64_t k = 0; k < kTx && done < count; ++k, ++done) {
        store::SupporterRow row;
        row.id = random_bytes(16);
        row.key_version = 1;
        row.wrapped_key = random_bytes(72);
        row.fields = random_bytes(320);
        row.email_index = random_bytes(32);
        if (pct(rng) < 17) row.phone_index = random_bytes(32);
        row.created_at = start + done * span / count;
        row.updated_at = row.created_at + (pct(rng) < 20 ? 86400 * pct(rng) : 0);
        const int c = pct(rng);
        if (c < 60) row.consent_email_at = row.created_at;
        else if (c < 75) row.consent_email_refused_at = row.created_at;
        if (pct(rng) < 10) row.consent_sms_at = row.created_at;
        row.origin = origins[pct(rng) % 5];
        if (row.origin != "intake" && pct(rng) < 50) row.joined_at = row.created_at - 86400 * 400;
        if (auto i = tx.insert_supporter(row); !i) return i;
        std::vector<std::string> tags;
        if (pct(rng) < 30) tags.push_back("donor");
        if (pct(rng) < 10) tags.push_back("paris");
        if (pct(rng) < 5) tags.push_back("volunteer");
        if (pct(rng) < 1) tags.push_back("elu");
        if (!tags.empty()) {
          if (auto t = tx.add_tags(row.id, tags, row.created_at); !t) return t;
        }
      }
      return {};
    });
    if (!r) die("filling the base: " + r.error().internal);
  }
  emit("segments.fill_rows_per_s", static_cast<double>(count) / w.seconds(), "rows/s");
}

}  // namespace

int segment_counts(const Args& a) {
  const std::string db = a.str("db", "");
  if (db.empty()) die("segments needs --db FILE");
  const auto count = static_cast<std::int64_t>(a.num("count", 1'000'000));
  const int runs = static_cast<int>(a.num("runs", 5));
  const bool fresh = !std::filesystem::exists(db);
  auto st = store::open_sqlite_keeper(db);
  if (!st) die("open: " + st.error().internal);
  if (fresh) fill(**st, count);
  // Segments::count needs no key; a keyring made in memory satisfies the type.
  if (!crypto::init()) die("libsodium did not start");
  auto keys = crypto::KeeperKeyring::generate();
  if (!keys) die("keyring: " + keys.error().internal);
  services::Segments segs(**st, *keys);
  const struct {
    const char* figure;
    const char* definition;
  } cases[] = {
      {"segments.count_all_ms", R"({})"},
      {"segments.count_tag_ms", R"({"tags_all":["donor"]})"},
      {"segments.count_rare_tag_ms", R"({"tags_all":["elu"]})"},
      {"segments.count_any_none_ms", R"({"tags_any":["paris","volunteer"],"tags_none":["donor"]})"},
      {"segments.count_consent_dates_ms",
       R"({"email":"given","sms":"unknown","signed_up_from":"2024-01-01","signed_up_to":"2024-12-31"})"},
      {"segments.count_everything_ms",
       R"({"tags_all":["donor"],"tags_none":["elu"],"email":"given","signed_up_from":"2023-06-01",)"
       R"("updated_to":"2025-12-31","origin":"import"})"},
  };
  double worst = 0;
  for (const auto& c : cases) {
    auto d = services::parse_segment_definition(nlohmann::json::parse(c.definition));
    if (!d) die("definition refused");
    std::vector<double> ms;
    std::int64_t n = 0;
    for (int i = 0; i < runs + 1; ++i) {
      Stopwatch w;
      auto got = segs.count(*d);
      if (!got) die("count: " + got.error().internal);
      if (i > 0) ms.push_back(w.seconds() * 1000);  // the first run warms the cache
      n = *got;
    }
    const double median = quantile(ms, 0.5);
    worst = std::max(worst, median);
    emit(c.figure, median, "ms");
    emit(std::string(c.figure) + ".matches", static_cast<double>(n), "supporters");
  }
  emit("segments.count_worst_ms", worst, "ms");
  return 0;
}

}  // namespace rempart::bench
