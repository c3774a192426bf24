// In-process figures: lookups per second on a real instance (read-only,
// audited search, audited reveal), and the generators the driver needs (a
// plausible CSV export, e-mails of synthetic supporters). The per-record
// crypto costs are in crypto_gbench.cpp (rempart_crypto_bench).
#include <sodium.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "bench.hpp"
#include "cli/config.hpp"
#include "cli/keeper_access.hpp"
#include "core/validate.hpp"
#include "crypto/blind_index.hpp"
#include "crypto/keyring.hpp"
#include "crypto/seal.hpp"
#include "services/directory.hpp"
#include "services/records.hpp"
#include "services/search_tokens.hpp"
#include "services/synth.hpp"
#include "services/vault.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::bench {

// Three ways to find one supporter by e-mail on a real instance, each timed
// for `seconds` on the same keys:
//  - read: what every lookup costs before anything is recorded (normalise,
//    blind index, one indexed SELECT of the record and its tags, open the
//    record), no write at all;
//  - search: services::Directory::search, what the admin API's search runs
//    (the read, masking, and a durable `supporter.list` audit entry);
//  - reveal: services::Vault::reveal_by_contact (open in full, durable
//    `supporter.reveal` entry), what `supporters show` runs.
// The two audited ones commit a transaction each (one fsync), so they are
// bound by the disk, not by the lookup.
int lookup_inprocess(const Args& a) {
  const std::string config = a.str("config");
  if (config.empty()) die("--config is required");
  const auto count = static_cast<std::uint64_t>(a.num("count", 120000));
  const auto phones = static_cast<std::uint64_t>(a.num("phones", 0));
  const auto seed = static_cast<std::uint64_t>(a.num("seed", 2026));
  const double seconds = a.num("seconds", 3);
  const std::string modes = a.str("modes", "read,search,reveal");
  const auto threads = static_cast<unsigned>(std::max(1.0, a.num("threads", 1)));
  auto c = cli::load_config(config);
  if (!c) die("config: " + c.error().internal);
  if (sodium_init() < 0) die("libsodium");
  // As the keeper opens it: plain, or sealed by the configuration's token,
  // whose key versions then wrap and unwrap record keys in the token.
  auto source = cli::open_key_source(*c);
  if (!source) die("key source: " + source.error().internal);
  auto keys = source->load(c->keys_dir);
  if (!keys) die("keyring: " + keys.error().internal);
  const services::Vault vault(*keys);
  auto st = store::open_sqlite_keeper((c->data_dir / store::sqlite::kRecordsFile));
  if (!st) die("store: " + st.error().internal);

  // 200,000 random draws, as many as lookup-baseline's sample, so that both
  // spread their reads alike over the table and its index (20,000 gave the
  // same rates on a 1,000,000-supporter base: docs/benchmarks.md).
  std::mt19937_64 rng(11);
  std::vector<std::string> emails;
  emails.reserve(200000);
  for (int k = 0; k < 200000; ++k) {
    const std::uint64_t i = rng() % count;
    auto e = core::normalize_email(services::synth_person(seed, i, i < phones).email);
    if (!e) die("synthetic e-mail refused");
    emails.push_back(*e);
  }
  const auto timed = [&](std::string_view name, auto&& one) {
    std::uint64_t n = 0;
    Stopwatch w;
    while (w.seconds() < seconds) {
      for (int k = 0; k < 64; ++k, ++n) {
        if (!one(emails[n % emails.size()])) {
          die("a synthetic supporter was not found (was the base made with the same seed?)");
        }
      }
    }
    const double elapsed = w.seconds();
    const std::string prefix = name.empty() ? std::string("lookup.") : "lookup." + std::string(name) + "_";
    emit(prefix + "per_s", static_cast<double>(n) / elapsed, "lookups/s");
    emit(prefix + "mean_us", elapsed * 1e6 / static_cast<double>(n), "us");
  };
  const auto read_one = [&](store::KeeperStore& s, const std::string& typed) {
    auto e = core::normalize_email(typed);
    if (!e) return false;
    const auto idx = crypto::blind_index(keys->current(), crypto::kBlindIndexEmail, *e);
    // The supporter and its tags in one statement, as the console's search
    // and record views read them.
    auto listed = s.find_listing_by_email_index(store::Bytes(idx.begin(), idx.end()));
    if (!listed || !*listed) return false;
    // The open the Vault makes, here with no audit entry: the benchmark
    // times the lookup alone (the product opens records in vault.cpp only).
    const store::SupporterRow& row = (*listed)->row;
    return crypto::open_record(*keys, row.id, crypto::SealedRecord{row.key_version, row.wrapped_key, row.fields})
        .has_value();
  };
  if (modes.find("read") != std::string::npos) {
    timed("read", [&](const std::string& typed) { return read_one(**st, typed); });
  }
  // The same read-only lookup on every core at once, one keeper connection
  // per thread (as the console's workers each hold their own).
  if (threads > 1 && modes.find("read") != std::string::npos) {
    std::vector<std::uint64_t> done(threads, 0);
    std::vector<char> failed(threads, 0);
    Stopwatch w;
    {
      std::vector<std::jthread> pool;
      for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
          auto mine = store::open_sqlite_keeper((c->data_dir / store::sqlite::kRecordsFile));
          if (!mine) {
            failed[t] = 1;
            return;
          }
          const std::size_t offset = emails.size() * t / threads;
          std::uint64_t n = 0;
          while (w.seconds() < seconds) {
            for (int k = 0; k < 64; ++k, ++n) {
              if (!read_one(**mine, emails[(offset + n) % emails.size()])) {
                failed[t] = 1;
                return;
              }
            }
          }
          done[t] = n;
        });
      }
    }
    const double elapsed = w.seconds();
    std::uint64_t n = 0;
    for (unsigned t = 0; t < threads; ++t) {
      if (failed[t] != 0) die("a threaded lookup failed or found nothing");
      n += done[t];
    }
    emit("lookup.read_threads", threads, "threads");
    emit("lookup.read_mt_per_s", static_cast<double>(n) / elapsed, "lookups/s");
  }
  // Name search, read-only: the query's tokens, the ids of its first page
  // of 50 and its count (services::match_page, as Directory::find reads
  // them), no record opened, nothing written: what a name search costs
  // before its one page is opened and recorded. `name2` searches given and
  // family name (one pair token), `name1` the family name alone.
  for (const std::string_view mode : {std::string_view("name1"), std::string_view("name2")}) {
    if (modes.find(mode) == std::string::npos) continue;
    std::vector<std::string> names;
    for (int k = 0; k < 20000; ++k) {
      const std::uint64_t i = rng() % count;
      const auto p = services::synth_person(seed, i, false);
      names.push_back(mode == "name1" ? p.family_name : p.given_name + " " + p.family_name);
    }
    std::uint64_t n = 0, matched = 0;
    Stopwatch w;
    while (w.seconds() < seconds) {
      for (int k = 0; k < 16; ++k, ++n) {
        auto q = services::name_query(keys->current(), names[n % names.size()]);
        if (!q) die("a synthetic name was refused");
        auto page = services::match_page(**st, *q, std::nullopt, 50);
        if (!page || page->ids.empty()) die("a synthetic name found nobody (was the base made with the same seed?)");
        matched += static_cast<std::uint64_t>(page->total);
      }
    }
    double elapsed = w.seconds();
    emit("lookup." + std::string(mode) + "_per_s", static_cast<double>(n) / elapsed, "searches/s");
    // The same tokens' first page alone (no count): what the count costs.
    std::uint64_t pages = 0;
    Stopwatch pw;
    while (pw.seconds() < seconds) {
      for (int k = 0; k < 16; ++k, ++pages) {
        auto q = services::name_query(keys->current(), names[pages % names.size()]);
        if (!q) die("a synthetic name was refused");
        auto ids = (*st)->search_token_page(q->front().front(), std::nullopt, 51);
        if (!ids || ids->empty()) die("a synthetic name found nobody");
      }
    }
    elapsed = pw.seconds();
    emit("lookup." + std::string(mode) + "_page_only_per_s", static_cast<double>(pages) / elapsed, "pages/s");
    emit("lookup." + std::string(mode) + "_matches", static_cast<double>(matched) / static_cast<double>(n),
         "records (counted up to 100)");
  }
  if (modes.find("search") != std::string::npos) {
    services::Directory dir(**st, vault);  // no budgets: operator-style, nothing charged
    const services::Asker who{"operator:bench", "", ""};
    timed("search", [&](const std::string& typed) {
      auto found = dir.search(who, crypto::kBlindIndexEmail, typed, "FR");
      return found.has_value() && found->size() == 1;
    });
  }
  if (modes.find("reveal") != std::string::npos) {
    timed("", [&](const std::string& e) {
      auto s = vault.reveal_by_contact(**st, "operator:bench", "email", e, "benchmark");
      return s.has_value() && s->has_value();
    });
  }
  return 0;
}

// A CRM export as a French organisation would have it: semicolon-separated,
// French headers, national phone format. Every e-mail is at a documentation
// domain and every phone in a block reserved for fiction (services/synth).
int gen_csv(const Args& a) {
  const std::string out_path = a.str("out");
  if (out_path.empty()) die("--out is required");
  const auto rows = static_cast<std::uint64_t>(a.num("rows", 120000));
  const auto phones = static_cast<std::uint64_t>(std::min(a.num("phones", 20000), 50000.0));
  const auto seed = static_cast<std::uint64_t>(a.num("seed", 2027));
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << "Prénom;Nom;Courriel;Téléphone;Code postal;Ville;Pays\n";
  for (std::uint64_t i = 0; i < rows; ++i) {
    const auto p = services::synth_person(seed, i, i < phones);
    std::string phone;
    if (!p.phone.empty()) {  // +33XYYYYYYYY -> 0X YY YY YY YY
      std::string d(1, '0');
      d.append(p.phone, 3);
      for (std::size_t k = 0; k < d.size(); k += 2) {
        if (k != 0) phone.push_back(' ');
        phone.append(d, k, 2);
      }
    }
    out << p.given_name << ';' << p.family_name << ';' << p.email << ';' << phone << ';' << p.postal_code << ';'
        << p.locality << ";FR\n";
  }
  if (!out) die("cannot write the CSV");
  return 0;
}

int synth_emails(const Args& a) {
  const auto count = static_cast<std::uint64_t>(a.num("count", 120000));
  const auto sample = static_cast<std::uint64_t>(a.num("sample", 10));
  const auto seed = static_cast<std::uint64_t>(a.num("seed", 2026));
  std::mt19937_64 rng(13);
  for (std::uint64_t k = 0; k < sample; ++k) {
    std::cout << services::synth_person(seed, rng() % count, false).email << "\n";
  }
  return 0;
}

}  // namespace rempart::bench
