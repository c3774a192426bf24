#include "services/synth.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>
#include <vector>

#include "audit/chain.hpp"
#include "services/prepare_pipeline.hpp"

namespace rempart::services {

// Synthetic people's consent is logged as such.
const Provenance kSynthetic{.consent_source = "synth",
                            .from_the_person = false,
                            .joined_at = {},
                            .source_index = {},
                            .older_source_indexes = {},
                            .origin = "synth"};
namespace {

constexpr std::array<std::string_view, 40> kGiven = {
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Jade", "Louise", "Emma", "Zoé",
    "Alice", "Lina", "Mila", "Rose", "Anaïs", "Nadia", "Fatou", "Aïcha", "Hélène", "Margaux",
    "Lucas", "Hugo", "Louis", "Nathan", "Gabriel", "Arthur", "Jules", "Adam", "Yanis", "Karim",
    "Mehdi", "Théo", "Mathis", "Raphaël", "Noah", "Paul", "Bastien", "Étienne", "Mamadou", "Sacha"};
constexpr std::array<std::string_view, 40> kFamily = {
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
    "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Diallo",
    "Benali", "Nguyen", "Traoré", "Haddad", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Chevalier"};
constexpr std::array<std::string_view, 3> kDomains = {"example.org", "example.net", "example.com"};
constexpr std::array<std::string_view, 12> kPostcodes = {"75011", "75020", "93100", "69007", "13001", "31000",
                                                          "59000", "44000", "33000", "67000", "34000", "35000"};
constexpr std::array<std::string_view, 12> kCities = {"Paris", "Paris", "Montreuil", "Lyon", "Marseille", "Toulouse",
                                                       "Lille", "Nantes", "Bordeaux", "Strasbourg", "Montpellier",
                                                       "Rennes"};
// Numbers the French regulator reserves for audiovisual fiction, 10,000 in
// each block: 01 99 00 xx xx, 02 61 91 xx xx, 03 53 20 xx xx, 04 65 71 xx xx,
// 05 36 49 xx xx. (The mobile fiction block 06 39 98 is not a valid range
// for libphonenumber, so it is not used.)
constexpr std::array<std::string_view, 5> kFictionBlocks = {"+3319900", "+3326191", "+3335320", "+3346571",
                                                             "+3353649"};

std::uint64_t mix(std::uint64_t x) {  // splitmix64: spreads indices, not for secrecy
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string ascii_fold(std::string_view s) {
  // Enough for the names above: drop accents for the e-mail local part.
  static constexpr std::array<std::pair<std::string_view, char>, 13> kMap = {{
      {"é", 'e'}, {"è", 'e'}, {"ë", 'e'}, {"É", 'e'}, {"ï", 'i'}, {"î", 'i'}, {"ç", 'c'},
      {"à", 'a'}, {"â", 'a'}, {"ô", 'o'}, {"ü", 'u'}, {"û", 'u'}, {"Ï", 'i'}}};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool done = false;
    for (const auto& [from, to] : kMap) {
      if (s.substr(i).starts_with(from)) {
        out += to;
        i += from.size();
        done = true;
        break;
      }
    }
    if (done) continue;
    const char c = s[i++];
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

}  // namespace

std::span<const std::string_view> synth_given_names() noexcept { return kGiven; }
std::span<const std::string_view> synth_family_names() noexcept { return kFamily; }
std::string synth_ascii_fold(std::string_view name) { return ascii_fold(name); }

std::string synth_street(std::uint64_t draw) {
  static constexpr std::string_view kWays[] = {"rue", "rue", "rue", "avenue", "boulevard", "allée", "impasse", "chemin", "place"};
  const std::uint64_t number = 1 + draw % 150;
  draw /= 150;
  const std::string_view way = kWays[draw % std::size(kWays)];
  draw /= std::size(kWays);
  const std::string_view name = kFamily[draw % std::size(kFamily)];
  return std::to_string(number) + " " + std::string(way) + " " + std::string(name);
}

core::Person synth_person(std::uint64_t seed, std::uint64_t i, bool with_phone) {
  const std::uint64_t h = mix(seed ^ mix(i));
  core::Person p;
  p.given_name = std::string(kGiven[h % kGiven.size()]);
  p.family_name = std::string(kFamily[(h >> 8) % kFamily.size()]);
  // The index makes every address unique; the rest makes it look ordinary.
  p.email = ascii_fold(p.given_name) + "." + ascii_fold(p.family_name) + "." + std::to_string(i) + "@" +
            std::string(kDomains[(h >> 16) % kDomains.size()]);
  if (with_phone) {
    const std::uint64_t block = i / 10000;
    const std::uint64_t n = i % 10000;
    std::string digits = std::to_string(n);
    p.phone = std::string(kFictionBlocks[block % kFictionBlocks.size()]) + std::string(4 - digits.size(), '0') + digits;
  }
  const std::size_t place = (h >> 24) % kPostcodes.size();
  p.postal_code = std::string(kPostcodes[place]);
  p.locality = std::string(kCities[place]);
  p.country = "FR";
  p.consent.email = ((h >> 32) % 10) < 8;
  p.consent.sms = with_phone && ((h >> 36) % 10) < 5;
  return p;
}

Result<FoldCounts> synth_supporters(store::KeeperStore& store, const crypto::KeeperKeyring& keys,
                                    const SynthOptions& opts) {
  if (opts.phones > opts.count) return fail(Errc::invalid_input, "--phones cannot exceed the number of supporters");
  if (opts.phones > 10000 * kFictionBlocks.size()) {
    return fail(Errc::invalid_input, "at most 50000 synthetic phone numbers exist in the fiction ranges");
  }
  // People, blind indexes and sealing of chunk k+1 on a worker while chunk
  // k's transaction runs here (see run_pipelined, RecordWriter::prepare).
  RecordWriter writer(keys);
  FoldCounts total;
  struct Chunk {
    std::vector<core::Person> people;
    std::vector<PreparedUpsert> prepared;  // prepared[k] for people[k]
    std::uint64_t end = 0;                 // index after the chunk's last person
  };
  const std::uint64_t step = std::max<std::uint64_t>(1, opts.rows_per_transaction);
  std::uint64_t start = 0;
  auto produce = [&]() -> Result<std::optional<Chunk>> {
    if (start >= opts.count) return std::optional<Chunk>{};
    Chunk chunk;
    chunk.end = std::min<std::uint64_t>(opts.count, start + step);
    chunk.people.reserve(chunk.end - start);
    chunk.prepared.reserve(chunk.end - start);
    for (std::uint64_t i = start; i < chunk.end; ++i) {
      chunk.people.push_back(synth_person(opts.seed, i, i < opts.phones));
      chunk.prepared.push_back(writer.prepare(chunk.people.back()));
    }
    start = chunk.end;
    return std::optional<Chunk>{std::move(chunk)};
  };
  auto consume = [&](Chunk& chunk) -> Result<void> {
    const std::int64_t now = unix_now();
    const std::int64_t now_us = audit::now_us();
    auto r = store.transact([&](store::KeeperTx& tx) -> Result<void> {
      auto log = audit::Appender::begin(tx, keys);
      if (!log) return std::unexpected(log.error());
      for (std::size_t k = 0; k < chunk.people.size(); ++k) {
        store::Bytes id;
        auto u = writer.upsert(tx, chunk.people[k], chunk.prepared[k], now, &id, nullptr, kSynthetic);
        if (!u) return std::unexpected(u.error());
        total.add(*u);
        auto e = log->append(
            audit::Event{opts.actor, std::string(audit_action(*u)), audit::to_hex(id), {{"via", "synth"}}, ""},
            now_us);
        if (!e) return std::unexpected(e.error());
      }
      return {};
    });
    if (!r) return r;
    if (opts.progress) opts.progress(chunk.end);
    return {};
  };
  if (auto r = run_pipelined<Chunk>(produce, consume); !r) return std::unexpected(r.error());
  auto done = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto e = audit::record(tx, keys,
                           audit::Event{opts.actor, std::string(audit::action::synth_run), "",
                                        {{"count", opts.count},
                                         {"seed", opts.seed},
                                         {"created", total.created},
                                         {"merged", total.merged},
                                         {"unchanged", total.unchanged}},
                                        ""});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  if (!done) return std::unexpected(done.error());
  return total;
}

}  // namespace rempart::services
