#pragma once
// Segments: saved filters over the directory (tags all of / any of / none
// of, consent per channel, sign-up and update date ranges, where records
// came from, a place), their counts, the record ids they match, and what acts on
// every member at once (a tag added or removed) or on every record (a tag
// renamed or merged). docs/console.md, "Segments".
//
// A count shows an aggregate only: it is neither audited nor charged, and
// what people see of a count below kSmallCount is "fewer than 5" (shown())
// so that a narrow segment does not tell whether one person is a supporter.
// Pages of members go through Directory::list (masked, audited, charged).
//
// Every change commits its audit entry in the same transaction; entries
// name segments, tags, counts and record ids, never a value. Errors carry
// fixed texts, never what was typed.
//
// Thread-compatible: one Segments per thread, like the KeeperStore it uses.
#include <cstddef>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "crypto/keyring.hpp"
#include "services/directory.hpp"
#include "store/store.hpp"

namespace rempart::services {

// What a segment selects. Every part left at its default selects everyone.
struct SegmentDefinition {
  std::vector<std::string> tags_all, tags_any, tags_none;  // normalised, sorted, unique; up to 10 each
  std::string email = "any";  // any | given | refused (refused or withdrawn) | unknown (never asked)
  std::string sms = "any";
  // The sign-up date (the earlier of the record's creation and the date a
  // source system recorded), "YYYY-MM-DD" (UTC, both ends included) or "".
  std::string signed_up_from, signed_up_to;
  std::string updated_from, updated_to;  // the record's last change, the same way
  // "" any | "intake" (sign-up form and OSDI API) | "import" (any import tool)
  // | "import:<tool>" | "synth" | "unknown" (records older than origins)
  std::string origin;
  // "" any, or one place as a place search takes it (search_tokens.hpp,
  // place_query): a postcode, a département ("69", "2A"), a region's name
  // or a locality; the record holds one of its search tokens. Kept as
  // typed, surrounding spaces trimmed.
  std::string place;

  bool operator==(const SegmentDefinition&) const = default;
};

// Reads a definition from JSON (the API's and the stored form): an object
// with only the keys of SegmentDefinition, each optional. Tags are
// validated and normalised like intake tags. Errc::invalid_input with a
// fixed message naming the key at fault.
Result<SegmentDefinition> parse_segment_definition(const nlohmann::json& j);
nlohmann::json to_json(const SegmentDefinition& d);  // only the parts that are set
// The store's form of `d` (dates as unix seconds, the place as its search
// tokens under `keys`, the current key set). Errc::invalid_input if `d`
// is not valid (a place that gives no token is never read as "anywhere").
Result<store::SegmentFilter> segment_filter(const SegmentDefinition& d, const crypto::KeySet& keys);

// A segment name: 1..48 of a-z, 0-9, '-' and '_' (it appears in addresses),
// neither "new" nor "count".
bool valid_segment_name(std::string_view name);

struct Segment {
  std::string name;
  SegmentDefinition definition;
  std::string created_by;  // audit actor
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// A count as people see it: exact from kSmallCount up, else only "fewer".
inline constexpr std::int64_t kSmallCount = 5;
struct ShownCount {
  std::int64_t supporters = 0;  // 0 when `fewer`
  bool fewer = false;           // fewer than kSmallCount (0 included)
};
ShownCount shown(std::int64_t exact) noexcept;

// Record ids of a segment's members, newest first, for what takes a set of
// people (exports, call lists, mailings). Honeytokens are in their place,
// as in the directory's pages: a caller that must leave them out asks
// KeeperStore::is_honeytoken.
struct SegmentIdPage {
  std::vector<store::Bytes> ids;
  std::string next_cursor;  // "" on the last page
};

class Segments {
 public:
  // `store` and `keys` must outlive this object.
  Segments(store::KeeperStore& store, const crypto::KeeperKeyring& keys);

  // Every saved segment, by name. Errc::storage if a stored definition no
  // longer validates (it is never used half-read).
  Result<std::vector<Segment>> list();
  // nullopt if there is none; Errc::invalid_input for a bad name.
  Result<std::optional<Segment>> find(std::string_view name);
  // Saves `d` under `name`. A name in use is Errc::conflict unless
  // `replace`; with `replace`, a name not in use is Errc::not_found.
  // Audit `segment.save` {name, change: created|changed, definition}.
  Result<void> save(const Asker& who, std::string_view name, const SegmentDefinition& d, bool replace);
  // Audit `segment.delete` {name}. Errc::not_found if there is none.
  Result<void> remove(const Asker& who, std::string_view name);

  // Supporters matching `d`, honeytokens left out. Not audited (an aggregate).
  Result<std::int64_t> count(const SegmentDefinition& d);
  // A page of member ids (limit 1..1000). Not audited here: the caller that
  // opens or hands out the records audits that. Errc::invalid_input for a
  // bad cursor or limit.
  Result<SegmentIdPage> ids(const SegmentDefinition& d, std::string_view cursor, std::size_t limit);

  // Adds (`add`) or removes `tag` for every member of the saved segment
  // `name`, in chunks of 500 records, one transaction and one audit entry
  // each: `supporter.tag_bulk` {segment, change: added|removed, tag, count,
  // records}. `expected` is the count the person confirmed: if the
  // segment's count differs when the work starts, nothing is done
  // (Errc::conflict). Returns how many members (honeytokens left out) the
  // chunks went through. Errc::invalid_input for a bad tag or name,
  // Errc::not_found for no such segment.
  Result<std::int64_t> bulk_tag(const Asker& who, std::string_view name, std::string_view tag, bool add,
                                std::int64_t expected);

  // Renames tag `from` to `to` on every record (`merge` false: `to` must be
  // in use by nobody, else Errc::conflict) or merges `from` into `to`
  // (`merge` true: records holding both keep one). Saved segments naming
  // `from` name `to` instead. One transaction; audit `tag.rename` or
  // `tag.merge` {from, to, count}. Returns the supporters that held `from`
  // (honeytokens left out). Errc::invalid_input for a bad or identical tag
  // pair, Errc::not_found when nobody holds `from`.
  Result<std::int64_t> rename_tag(const Asker& who, std::string_view from, std::string_view to, bool merge);

 private:
  store::KeeperStore* store_;
  const crypto::KeeperKeyring* keys_;
};

// Counts for the page that lists every saved segment, shared by the
// console's workers: a count is made again once it is kCountMaxAge old, by
// the first request that finds it so, while the others meanwhile get the
// last one. So twenty people opening the list do not each walk the
// directory once per segment. What takes a decision (a segment's own page,
// the builder's count, a bulk change's confirmation, a call list) counts
// live. Aggregates only: nothing here names a person.
inline constexpr std::int64_t kCountMaxAge = 60;  // seconds

struct CountAt {
  std::int64_t supporters = 0;
  std::int64_t counted_at = 0;  // unix seconds
};

class CountCache {
 public:
  // `d`'s count, made through `segs` at `now` unless a count of the same
  // definition is younger than kCountMaxAge, or is being made by another
  // request: then the older one if there is one, else the one being made
  // once it is (one walk however many ask at once). Thread-safe.
  Result<CountAt> count(Segments& segs, const SegmentDefinition& d, std::int64_t now);

 private:
  struct Entry {
    std::optional<CountAt> last;
    bool counting = false;
  };
  std::mutex mu_;
  std::condition_variable counted_;
  std::unordered_map<std::string, Entry> entries_;  // by the definition's JSON text
};

}  // namespace rempart::services
