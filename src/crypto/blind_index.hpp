#pragma once
// Blind indexes: keyed BLAKE2b of a normalised e-mail address or phone
// number, so the keeper can find and merge a known supporter by equality
// without storing the value in clear. Without the blind-index key a stolen
// database does not allow testing a guessed address against the index.
#include <array>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "crypto/keyring.hpp"

namespace rempart::crypto {

inline constexpr std::string_view kBlindIndexEmail = "email";
inline constexpr std::string_view kBlindIndexPhone = "phone";

// BLAKE2b-256 keyed with the blind-index key of `keys`, personalised for this use, over
// lp(kind) || lp(normalised) (u32 little-endian length prefixes), so that the
// same string under two kinds, or under two key versions, gives unrelated
// indexes. `normalised` must already be normalised (core layer); it is
// personal data and is never logged. Deterministic and thread-safe. A key
// set whose blind-index key is not 32 bytes is a programming error (key sets
// from this layer's factories always have one) and aborts the process rather
// than silently computing an unkeyed hash.
std::array<std::uint8_t, 32> blind_index(const KeySet& keys, std::string_view kind, std::string_view normalised);

// Whether two key sets hold the same blind-index key (a version that
// carried it over from the one before).
bool same_blind_index_key(const KeySet& a, const KeySet& b) noexcept;

// One key set per blind-index key the keyring holds: the current version
// first, then, newest first, the most recent version of each older key.
// One entry unless the blind-index key was rotated (KeeperKeyring::
// BlindIndexKey::renew). A stored index made under an older key (a record
// not yet indexed again, a suppression, a source id) is found by trying
// these in turn; new indexes are made under the first.
std::vector<std::reference_wrapper<const KeySet>> blind_index_sets(const KeeperKeyring& keys);

// blind_index of `normalised` under each of blind_index_sets but the first:
// the indexes a value may still be stored under. Empty unless the
// blind-index key was rotated.
std::vector<std::array<std::uint8_t, 32>> older_blind_indexes(const KeeperKeyring& keys, std::string_view kind,
                                                              std::string_view normalised);

}  // namespace rempart::crypto
