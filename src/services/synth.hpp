#pragma once
// Plausible synthetic supporters for benchmarks and breach drills. Every
// e-mail is at a domain reserved for documentation (RFC 2606) and every phone
// number is in a range the French regulator reserves for fiction, so no
// generated record can ever reach a real person.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/person.hpp"
#include "crypto/keyring.hpp"
#include "services/records.hpp"
#include "store/store.hpp"

namespace rempart::services {

// The given and family names synth_person draws from (UTF-8, one word
// each), for other generators of plausible records (honeytokens.cpp).
std::span<const std::string_view> synth_given_names() noexcept;
std::span<const std::string_view> synth_family_names() noexcept;
// A name from those lists as synthetic e-mail local parts spell it:
// lower-case ASCII, accents dropped.
std::string synth_ascii_fold(std::string_view name);
// A street address line as French ones read ("12 rue Martin"), chosen by
// `draw` (any random number): for honeytokens and canaries whose real
// neighbours have one.
std::string synth_street(std::uint64_t draw);

// Deterministic for a given seed: person `i` is the same on every run.
// Persons [0, phones) have a phone number; phones <= 50000.
core::Person synth_person(std::uint64_t seed, std::uint64_t i, bool with_phone);

struct SynthOptions {
  std::uint64_t count = 120000;
  std::uint64_t phones = 20000;
  std::uint64_t seed = 2026;
  std::size_t rows_per_transaction = 2000;
  std::function<void(std::uint64_t done)> progress;
  std::string actor = "operator:unknown";  // for the audit log
};

// Like import: one audit entry per person (details {"via":"synth"}) in the
// transaction that stores it, then one `synth.run` entry with the counts.

Result<FoldCounts> synth_supporters(store::KeeperStore& store, const crypto::KeeperKeyring& keys,
                                    const SynthOptions& opts);

}  // namespace rempart::services
