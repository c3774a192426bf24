#include "services/honeytokens.hpp"

#include <sodium.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/chain.hpp"
#include "auth/mask.hpp"
#include "core/validate.hpp"
#include "crypto/blind_index.hpp"
#include "services/records.hpp"
#include "services/synth.hpp"
#include "services/vault.hpp"

namespace rempart::services {
namespace {

// Rows per directory page while positions are read: big pages, because
// each page also counts the directory.
constexpr std::size_t kPageRows = 5000;
// Records opened to learn how common each e-mail domain is.
constexpr std::size_t kMinStatsSample = 4000;
// A domain seen fewer times than this in the sample may be one person's
// own: a honeytoken does not copy it (see choose_domain).
constexpr std::int64_t kMinDomainShare = 3;
// How far, in listing ranks, a honeytoken's creation time may land from its
// source record's: close enough to share its era (tags follow campaigns),
// far enough not to sit next to its twin.
constexpr std::int64_t kNeighbourhood = 50;
constexpr int kDigitAttempts = 200;
constexpr int kSourceAttempts = 20;
constexpr int kFreeContactAttempts = 20;

// The choices: the system CSPRNG, or a repeatable generator for tests.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : seeded_(seed != 0), gen_(seed) {}

  std::uint64_t next() {
    if (seeded_) return gen_();
    std::uint64_t v = 0;
    randombytes_buf(&v, sizeof v);
    return v;
  }
  // Uniform in [0, n); n > 0.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    const std::uint64_t limit = max - max % n;
    for (;;) {
      const std::uint64_t v = next();
      if (v < limit) return v % n;
    }
  }
  std::size_t index(std::size_t n) { return static_cast<std::size_t>(below(n)); }
  // Uniform in [lo, hi]; lo <= hi and hi - lo < 2^62 (timestamps, ranks).
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
  }
  char digit() { return static_cast<char>('0' + below(10)); }

 private:
  bool seeded_;
  std::mt19937_64 gen_;
};

void wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}


std::string_view first_code_point(std::string_view s) {
  if (s.empty()) return {};
  std::size_t n = 1;
  while (n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) ++n;
  return s.substr(0, n);
}

std::string_view domain_of(std::string_view email) {
  const auto at = email.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : email.substr(at + 1);
}

// What the masked view shows of a domain ("e•••.org"): domains alike here
// are interchangeable for anyone who has not revealed the address.
std::string masked_domain(std::string_view domain) {
  const std::string m = auth::mask_email("x@" + std::string(domain));
  const auto at = m.find('@');
  return at == std::string::npos ? m : m.substr(at + 1);
}

// Every real record's place in the listing, newest first, honeytokens left
// out (they are no model for new ones).
Result<std::vector<store::SupporterPosition>> real_positions(store::KeeperStore& store) {
  auto tokens = store.count_honeytokens();
  if (!tokens) return std::unexpected(tokens.error());
  std::vector<store::SupporterPosition> out;
  store::SupporterPageQuery q;
  q.limit = kPageRows;
  for (;;) {
    auto page = store.supporter_page(q);
    if (!page) return std::unexpected(page.error());
    if (!page->items.empty()) {
      const auto& last = page->items.back().row;
      q.after = store::SupporterPosition{last.created_at, last.id};
    }
    for (auto& item : page->items) {
      if (*tokens > 0) {
        auto h = store.is_honeytoken(item.row.id);
        if (!h) return std::unexpected(h.error());
        if (*h) continue;
      }
      out.push_back(store::SupporterPosition{item.row.created_at, std::move(item.row.id)});
    }
    if (page->items.size() < q.limit) break;
  }
  return out;
}

// A real record opened in the keeper, to copy its shape from. Personal
// data: wiped as soon as its shape is taken.
struct Source {
  std::size_t rank = 0;
  store::SupporterRow row;
  core::Person person;
  std::vector<std::string> tags;
};

// nullopt if the record went away since its position was read.
// Every record opened is added to `opened` (ids), for the audit entry.
Result<std::optional<Source>> open_source(store::KeeperStore& store, const Vault& vault,
                                          const std::vector<store::SupporterPosition>& positions, std::size_t rank,
                                          std::set<std::string>& opened) {
  // The record and its tags in one statement: one snapshot, so the tags are
  // the record's as it was read.
  auto listed = store.find_listing(positions[rank].id);
  if (!listed) return std::unexpected(listed.error());
  if (!*listed) return std::optional<Source>{};
  opened.insert(audit::to_hex((*listed)->row.id));
  auto person = vault.open_for_honeytoken_shape((*listed)->row);
  if (!person) return std::unexpected(person.error());
  return std::optional<Source>{
      Source{rank, std::move((*listed)->row), std::move(*person), std::move((*listed)->tags)}};
}

// How many sampled records use each e-mail domain.
struct DomainStats {
  std::map<std::string, std::int64_t> count;
  std::map<std::string, std::vector<std::string>> by_mask;  // masked_domain -> domains

  void add(std::string_view domain) {
    if (domain.empty()) return;
    auto [it, fresh] = count.try_emplace(std::string(domain), 0);
    ++it->second;
    if (fresh) by_mask[masked_domain(domain)].push_back(it->first);
  }

  // The source's own domain when it is common; otherwise the most common
  // domain that masks alike, so a honeytoken never carries a domain that
  // may be one family's, yet looks the same in every masked view. If no
  // such domain is common either (a small directory), the source's own.
  std::string choose(std::string_view source) const {
    const auto own = count.find(std::string(source));
    if (own != count.end() && own->second >= kMinDomainShare) return own->first;
    const auto group = by_mask.find(masked_domain(source));
    std::string best(source);
    std::int64_t best_n = 0;
    if (group != by_mask.end()) {
      for (const std::string& d : group->second) {
        const std::int64_t n = count.at(d);
        if (n > best_n) {
          best = d;
          best_n = n;
        }
      }
    }
    return best_n >= kMinDomainShare ? best : std::string(source);
  }
};

Result<DomainStats> domain_stats(store::KeeperStore& store, const Vault& vault,
                                 const std::vector<store::SupporterPosition>& positions, std::size_t want, Rng& rng,
                                 std::set<std::string>& opened) {
  DomainStats stats;
  const bool everyone = positions.size() <= want;
  const std::size_t m = everyone ? positions.size() : want;
  for (std::size_t k = 0; k < m; ++k) {
    auto s = open_source(store, vault, positions, everyone ? k : rng.index(positions.size()), opened);
    if (!s) return std::unexpected(s.error());
    if (!*s) continue;
    stats.add(domain_of((*s)->person.email));
    wipe_person((*s)->person);
  }
  return stats;
}

// What a honeytoken keeps of its source, to draw its contacts again if
// they turn out to be taken. Personal data (a domain may be one); wiped
// with the plan.
struct ContactShape {
  std::string domain;       // "" when the source has no e-mail
  std::string local_first;  // first code point of the source's local part
  std::string phone_prefix;  // "+", country code, first national digit; "" when no phone
  std::string phone_block;   // all but the last four digits: the fallback prefix
  std::size_t phone_length = 0;
};

// "+CC" as the masked view shows it, then the first national digit.
std::string phone_prefix(const std::string& e164) {
  const std::string masked = auth::mask_phone(e164);
  const auto space = masked.find(' ');
  if (masked.empty() || masked[0] != '+' || space == std::string::npos || space + 1 > e164.size()) return {};
  return e164.substr(0, space + 1);
}

// A valid number of the same length starting with `prefix`; nullopt if
// none was found in a few hundred draws.
std::optional<std::string> random_number(Rng& rng, const std::string& prefix, std::size_t length) {
  if (prefix.size() >= length) return std::nullopt;
  for (int attempt = 0; attempt < kDigitAttempts; ++attempt) {
    std::string candidate = prefix;
    while (candidate.size() < length) candidate.push_back(rng.digit());
    auto n = core::normalize_phone(candidate, "");
    if (n && *n == candidate) return candidate;
  }
  return std::nullopt;
}

std::optional<std::string> make_phone(Rng& rng, const ContactShape& s) {
  if (auto p = random_number(rng, s.phone_prefix, s.phone_length)) return p;
  // Some numbering plans are sparse past the first digit: keep more of the
  // source's block (never its last four digits).
  if (s.phone_block.size() > s.phone_prefix.size()) return random_number(rng, s.phone_block, s.phone_length);
  return std::nullopt;
}

std::string random_digits(Rng& rng) {
  std::string d;
  const std::size_t n = 2 + rng.index(3);
  for (std::size_t i = 0; i < n; ++i) d.push_back(rng.digit());
  return d;
}

std::string random_list_name(Rng& rng, std::span<const std::string_view> list) {
  return std::string(list[rng.index(list.size())]);
}

// A local part built from the honeytoken's names, the way people build
// theirs, that starts with the same code point as the source's.
std::string make_email(Rng& rng, const ContactShape& s, const std::string& given, const std::string& family) {
  const std::string g = synth_ascii_fold(given.empty() ? random_list_name(rng, synth_given_names()) : given);
  const std::string f = synth_ascii_fold(family.empty() ? random_list_name(rng, synth_family_names()) : family);
  const std::string digits = random_digits(rng);
  std::string local;
  if (!g.empty() && first_code_point(g) == s.local_first) {
    switch (rng.below(4)) {
      case 0: local = g + "." + f + digits; break;
      case 1: local = g + f + digits; break;
      case 2: local = g.substr(0, 1) + f + digits; break;
      default: local = g + "_" + f + digits; break;
    }
  } else if (!f.empty() && first_code_point(f) == s.local_first) {
    local = rng.below(2) == 0 ? f + "." + g + digits : f + digits;
  } else {
    local = s.local_first + f + digits;
  }
  auto e = core::normalize_email(local + "@" + s.domain);
  if (e && first_code_point(*e) == s.local_first) return *e;
  auto plain = core::normalize_email(g + "." + f + digits + "@" + s.domain);
  return plain ? *plain : std::string();
}

// A name from `list` with the same initials as `real`; a random one when
// the list has none (the limit documented in docs/honeytokens.md).
std::string pick_name(Rng& rng, std::span<const std::string_view> list, const std::string& real) {
  if (real.empty()) return {};
  const std::string want = auth::initials(real);
  std::vector<std::string_view> match;
  for (std::string_view name : list) {
    if (auth::initials(name) == want) match.push_back(name);
  }
  if (match.empty()) return random_list_name(rng, list);
  return std::string(match[rng.index(match.size())]);
}

// The first two characters kept, every other letter or digit redrawn in
// its class; the same length, so it masks alike.
std::string make_postcode(Rng& rng, const std::string& real) {
  if (real.empty()) return {};
  std::string out = real;
  for (std::size_t i = 2; i < out.size(); ++i) {
    char& c = out[i];
    if (c >= '0' && c <= '9') {
      c = rng.digit();
    } else if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>('A' + rng.below(26));
    } else if (c >= 'a' && c <= 'z') {
      c = static_cast<char>('a' + rng.below(26));
    }
  }
  auto n = core::normalize_postal_code(out);
  if (n && *n == out) return out;
  return real;
}

// One honeytoken ready to be written.
struct Plan {
  core::Person person;
  ContactShape shape;
  PreparedUpsert prepared;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> consent_email_at, consent_sms_at;
};

// The delay of a source's consent after its creation, moved to `created`
// and kept within [created, updated].
std::optional<std::int64_t> moved_consent(const std::optional<std::int64_t>& at, const store::SupporterRow& src,
                                          std::int64_t created, std::int64_t updated) {
  if (!at) return std::nullopt;
  return std::clamp(created + (*at - src.created_at), created, updated);
}

// nullopt when the source's phone has no valid sibling number: the caller
// draws another source.
std::optional<Plan> make_plan(Rng& rng, Source& src, const DomainStats& stats,
                              const std::vector<store::SupporterPosition>& positions, std::int64_t now) {
  Plan plan;
  core::Person& p = plan.person;
  const core::Person& real = src.person;
  ContactShape& s = plan.shape;
  if (!real.phone.empty()) {
    s.phone_prefix = phone_prefix(real.phone);
    s.phone_length = real.phone.size();
    if (s.phone_prefix.empty()) return std::nullopt;
    s.phone_block = real.phone.size() > 4 + s.phone_prefix.size() ? real.phone.substr(0, real.phone.size() - 4)
                                                                   : s.phone_prefix;
    auto phone = make_phone(rng, s);
    if (!phone) return std::nullopt;
    p.phone = std::move(*phone);
  }
  p.given_name = pick_name(rng, synth_given_names(), real.given_name);
  p.family_name = pick_name(rng, synth_family_names(), real.family_name);
  if (!real.email.empty()) {
    const auto at = real.email.rfind('@');
    s.local_first = std::string(first_code_point(std::string_view(real.email).substr(0, at)));
    s.domain = stats.choose(domain_of(real.email));
    p.email = make_email(rng, s, p.given_name, p.family_name);
    if (p.email.empty()) return std::nullopt;
  }
  p.postal_code = make_postcode(rng, real.postal_code);
  // A town is shared by many and must agree with the postcode's first
  // characters, so it is kept as it is.
  p.locality = real.locality;
  if (!real.street.empty()) p.street = synth_street(rng.below(std::uint64_t{1} << 40));
  p.country = real.country;
  p.tags = src.tags;
  p.consent.email = src.row.consent_email_at.has_value();
  p.consent.sms = src.row.consent_sms_at.has_value();

  // Between two real records' creation times, near the source's rank.
  const auto last = static_cast<std::int64_t>(positions.size()) - 1;
  const auto j = static_cast<std::size_t>(
      std::clamp<std::int64_t>(static_cast<std::int64_t>(src.rank) + rng.between(-kNeighbourhood, kNeighbourhood), 0,
                               last));
  const std::int64_t newer = positions[j].created_at;
  const std::int64_t older = j + 1 < positions.size() ? positions[j + 1].created_at : newer;
  plan.created_at = std::min(rng.between(std::min(older, newer), newer), now);
  const std::int64_t gap = std::max<std::int64_t>(0, src.row.updated_at - src.row.created_at);
  plan.updated_at = std::max(plan.created_at, std::min(plan.created_at + gap, now));
  plan.consent_email_at = moved_consent(src.row.consent_email_at, src.row, plan.created_at, plan.updated_at);
  plan.consent_sms_at = moved_consent(src.row.consent_sms_at, src.row, plan.created_at, plan.updated_at);
  return plan;
}

// True when neither the plan's e-mail nor its phone belongs to a record:
// RecordWriter would otherwise merge into it or drop the phone.
Result<bool> contacts_free(store::KeeperTx& tx, const RecordWriter& writer, const Plan& plan) {
  if (plan.prepared.email_index) {
    auto r = writer.find_holder(tx, crypto::kBlindIndexEmail, *plan.prepared.email_index, plan.person.email);
    if (!r) return std::unexpected(r.error());
    if (*r) return false;
  }
  if (plan.prepared.phone_index) {
    auto r = writer.find_holder(tx, crypto::kBlindIndexPhone, *plan.prepared.phone_index, plan.person.phone);
    if (!r) return std::unexpected(r.error());
    if (*r) return false;
  }
  return true;
}

// Draws the plan's e-mail and phone again (same shape) after a collision.
bool redraw_contacts(Rng& rng, Plan& plan) {
  if (!plan.person.phone.empty()) {
    auto phone = make_phone(rng, plan.shape);
    if (!phone) return false;
    plan.person.phone = std::move(*phone);
  }
  if (!plan.person.email.empty()) {
    plan.person.email = make_email(rng, plan.shape, plan.person.given_name, plan.person.family_name);
    if (plan.person.email.empty()) return false;
  }
  return true;
}

// Sealed under an id that names the invented creation time (a millisecond
// within that second, as a real record's id names the moment it was made):
// an id made now would set every honeytoken of a planting apart.
PreparedUpsert prepare_plan(const RecordWriter& writer, Rng& rng, const Plan& plan) {
  return writer.prepare(plan.person, plan.created_at * 1000 + rng.between(0, 999));
}

Result<void> write_plan(store::KeeperTx& tx, const RecordWriter& writer, Rng& rng, Plan& plan, std::int64_t now,
                        const std::string& actor) {
  for (int attempt = 0;; ++attempt) {
    auto free = contacts_free(tx, writer, plan);
    if (!free) return std::unexpected(free.error());
    if (*free) break;
    if (attempt + 1 >= kFreeContactAttempts || !redraw_contacts(rng, plan)) {
      return fail(Errc::conflict, "plant: no free e-mail or phone found for a honeytoken");
    }
    plan.prepared = prepare_plan(writer, rng, plan);
  }
  store::Bytes id;
  auto u = writer.upsert(tx, plan.person, plan.prepared, plan.created_at, &id);
  if (!u) return std::unexpected(u.error());
  if (*u != Upsert::created) return fail(Errc::internal, "plant: a honeytoken was merged into a record");
  // RecordWriter stamps every time with the creation time; move those the
  // source had elsewhere.
  const auto stamped = [&](bool given) { return given ? std::optional<std::int64_t>(plan.created_at) : std::nullopt; };
  if (plan.updated_at != plan.created_at || plan.consent_email_at != stamped(plan.person.consent.email) ||
      plan.consent_sms_at != stamped(plan.person.consent.sms)) {
    auto row = tx.find_supporter(id);
    if (!row) return std::unexpected(row.error());
    if (!*row) return fail(Errc::internal, "plant: the new honeytoken is missing");
    (*row)->updated_at = plan.updated_at;
    (*row)->consent_email_at = plan.consent_email_at;
    (*row)->consent_sms_at = plan.consent_sms_at;
    if (auto r = tx.update_supporter(**row); !r) return r;
  }
  return tx.insert_honeytoken(id, now, actor);
}

}  // namespace

Result<std::size_t> plant_honeytokens(store::KeeperStore& store, const Vault& vault, std::size_t n,
                                      const std::string& actor, std::uint64_t seed_or_0) {
  const crypto::KeeperKeyring& keys = vault.keyring();
  if (n < 1 || n > kMaxHoneytokensPerPlant) return fail(Errc::invalid_input, "plant: between 1 and 10000 honeytokens");
  Rng rng(seed_or_0);
  auto positions = real_positions(store);
  if (!positions) return std::unexpected(positions.error());
  if (positions->empty()) return fail(Errc::invalid_input, "plant after importing supporters");

  // Every real record opened here is named in a `supporter.sample` entry,
  // so that blast-radius reports show what planting read.
  std::set<std::string> opened;
  auto stats = domain_stats(store, vault, *positions, std::max(n, kMinStatsSample), rng, opened);
  if (!stats) return std::unexpected(stats.error());

  // Shapes, names and sealing outside the transaction: the write lock is
  // then held for the SQL only (as RecordWriter::prepare intends).
  const std::int64_t now = unix_now();
  const RecordWriter writer(keys);
  std::vector<Plan> plans;
  plans.reserve(n);
  for (std::size_t k = 0; k < n; ++k) {
    std::optional<Plan> plan;
    for (int attempt = 0; attempt < kSourceAttempts && !plan; ++attempt) {
      auto src = open_source(store, vault, *positions, rng.index(positions->size()), opened);
      if (!src) return std::unexpected(src.error());
      if (!*src) continue;
      plan = make_plan(rng, **src, *stats, *positions, now);
      wipe_person((*src)->person);
    }
    if (!plan) return fail(Errc::internal, "plant: no record to copy a shape from");
    plan->prepared = prepare_plan(writer, rng, *plan);
    plans.push_back(std::move(*plan));
  }

  auto r = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    for (Plan& plan : plans) {
      if (auto w = write_plan(tx, writer, rng, plan, now, actor); !w) return w;
    }
    auto s = audit::record(tx, keys,
                           audit::Event{actor, std::string(audit::action::supporter_sample), "",
                                        nlohmann::json{{"records", opened}, {"purpose", "honeytoken_shapes"}}, ""});
    if (!s) return std::unexpected(s.error());
    auto e = audit::record(tx, keys,
                           audit::Event{actor, std::string(audit::action::honeytoken_plant), "",
                                        nlohmann::json{{"count", n}}, ""});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  for (Plan& plan : plans) {
    wipe_person(plan.person);
    wipe(plan.shape.domain);
    wipe(plan.shape.phone_block);
  }
  if (!r) return std::unexpected(r.error());
  return n;
}

}  // namespace rempart::services
