#pragma once
// Honeytokens: supporter records that belong to nobody, planted among the
// real ones so that a stolen session or a rogue insider who reveals,
// searches for or exports a handful of records trips an alarm
// (docs/honeytokens.md). The guard that watches them lives in the
// directory and the console; this unit only makes them.
//
// A honeytoken must not be told apart from a real record in any masked
// view, in its id, in its place in the listing or in its timestamps. Each
// one copies the *shape* of a real record chosen at random and opened in
// the keeper (Vault::open_for_honeytoken_shape): the e-mail domain, the first letter of the e-mail local
// part, the phone's country code and first national digit and its length,
// the postcode's first two characters, the locality, the country, the tag
// set, the consents and their delays, the gap between creation and last
// update; its initials are those of the real record where the synthetic
// name lists allow (synth.hpp). Everything else is drawn at random: the
// rest of the e-mail local part, the other phone digits (a number
// libphonenumber takes as valid), the rest of the postcode, the names
// themselves. Its creation time falls between two real records' near the
// source's place in the listing. No value of the real record is logged,
// returned or kept once the call ends, and every real record opened is
// named in the planting's `supporter.sample` entry, which blast-radius
// reports read.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "services/vault.hpp"
#include "store/store.hpp"

namespace rempart::services {

inline constexpr std::size_t kMaxHoneytokensPerPlant = 10000;

// Creates `n` (1..kMaxHoneytokensPerPlant) honeytokens shaped like the real
// supporters of `store`, and returns n. All of them, their marks
// (KeeperTx::insert_honeytoken), one `supporter.sample` entry by `actor`
// naming every real record opened for its shape (details {"records": [ids],
// "purpose": "honeytoken_shapes"}) and one `honeytoken.plant` entry
// (details {"count": n}, never an id) are committed in one transaction: on
// any error nothing is planted (the records opened then showed nothing to
// anyone and no entry names them). Records are written by
// RecordWriter, so sealing and blind indexes are those of every record; a
// honeytoken never takes an e-mail or phone a record already has.
// `seed_or_0` 0 draws from the system CSPRNG (what production does); any
// other value makes the choices repeatable (tests; record ids and keys are
// random either way).
// Errors: Errc::invalid_input for n out of range, or "plant after importing
// supporters" when there is no real supporter to copy shapes from; store
// and crypto errors as they come. Reads every row's position once (cost
// grows with the directory) and opens a sample of at most
// max(n, 4000) records. Thread-compatible: `store` is used from this thread.
Result<std::size_t> plant_honeytokens(store::KeeperStore& store, const Vault& vault, std::size_t n,
                                      const std::string& actor, std::uint64_t seed_or_0);

}  // namespace rempart::services
