#pragma once
// Search tokens: finding people by name and place without decrypting the
// directory.
//
// A record's search tokens are keyed hashes (crypto::blind_index, cut to
// 16 bytes) of:
// - each word of its given and family names ("name"), folded for case and
//   accents: "Jean-Étienne" gives "jean" and "etienne";
// - each pair of two different words among the first six of those, in
//   sorted order ("namepair": "etienne jean"), so that a search by given
//   and family name is one lookup whatever the order they are typed in;
// - its postcode without spaces or hyphens ("postcode");
// - for a French postcode (country FR, or none and five digits), the
//   département it lies in ("dept": "69", "2A", "974") and that
//   département's region ("region": INSEE code, "84");
// - its locality, folded and its words joined by one space ("locality":
//   "Saint-Étienne" gives "saint etienne").
// The store keeps (token, record id) pairs (store::SupporterReads::
// ids_by_search_token). A search computes the same hashes from what was
// typed and looks them up: exact tokens only, no prefix or substring (a
// prefix index on ciphertext would leak far more). docs/console.md,
// "Finding people", says what the tokens reveal to someone holding the
// database, with or without the blind-index key.
//
// Everything here that takes text handles personal data: never log it.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/person.hpp"
#include "crypto/keyring.hpp"
#include "store/store.hpp"

namespace rempart::services {

inline constexpr std::size_t kSearchTokenBytes = 16;

// The words of `text` folded for search: NFD, combining marks removed,
// case folded ("ß" gives "ss"), split at every character that is neither a
// letter nor a digit. Empty words are dropped. Invalid UTF-8 gives none.
std::vector<std::string> folded_words(std::string_view text);

// The département of a postcode as a French postcode: its first two digits,
// "2A" or "2B" in Corsica (20000-20199, 20200-20699), three digits overseas
// (971-989). nullopt unless the country is "FR" or empty and the postcode
// (spaces and hyphens removed) is five digits.
std::optional<std::string> departement_of(std::string_view postal_code, std::string_view country);

// The INSEE code of the region a département lies in ("69" gives "84");
// nullopt for a code that is no département of a region (e.g. "975").
std::optional<std::string_view> region_of(std::string_view departement) noexcept;

// Every search token of `p`, sorted, without repeats. Thread-safe.
std::vector<store::Bytes> search_tokens(const crypto::KeySet& keys, const core::Person& p);

// A search as tokens: a record matches when, for every group, it holds at
// least one of the group's tokens.
using TokenGroups = std::vector<std::vector<store::Bytes>>;

// The groups of a name search: the pair token of its first two folded
// words (when they differ), then one group per further word (1..5 words,
// 1..100 bytes), each required. Errc::invalid_input
// otherwise; the message names the rule, never the value.
Result<TokenGroups> name_query(const crypto::KeySet& keys, std::string_view name);

// What place_query accepts: 1..100 bytes holding at least one letter or
// digit. Errc::invalid_input otherwise; the message names the rule, never
// the value. Needs no key: a saved segment's place is checked with it.
Result<void> check_place(std::string_view place);

// The group of a place search (1..100 bytes): a postcode, a département
// code ("69", "2a", "974"), a region's name ("Bretagne", "Île-de-France",
// "PACA") or a locality ("Saint-Étienne"); one group holding each reading
// of the value that applies. Errc::invalid_input when it has no word.
Result<TokenGroups> place_query(const crypto::KeySet& keys, std::string_view place);

// The ids of the records matching every group (see TokenGroups), newest
// first (highest id first: an id begins with its record's creation time),
// honeytokens included. No group: no record.
Result<std::vector<store::Bytes>> match_ids(store::SupporterReads& reads, std::span<const std::vector<store::Bytes>> groups);

// Counts of matches stop here: past it a search says "more than".
inline constexpr std::int64_t kMatchCountCap = 100;

// One page of match_ids' answer, below `after` (a record id) when given.
struct MatchPage {
  std::vector<store::Bytes> ids;  // at most `limit`, newest first
  bool more = false;              // another page follows
  std::int64_t total = 0;         // every match, at most kMatchCountCap
  bool total_capped = false;      // there are more than kMatchCountCap
};
// A query of one token (a name of one or two words) reads only its page
// and a count that stops at kMatchCountCap, from the primary key, whatever
// how many hold the token; any other query reads every match (match_ids).
Result<MatchPage> match_page(store::SupporterReads& reads, std::span<const std::vector<store::Bytes>> groups,
                             const std::optional<store::Bytes>& after, std::size_t limit);

}  // namespace rempart::services
