#pragma once
// The blast-radius report: from the audit log, the supporters whose personal
// data an actor (or everyone, in a time window) revealed or exported, with
// which fields and when, and apart from them those only seen masked. Its
// record ids feed the notification campaign after a breach.
//
// What counts (docs/audit.md):
//   supporter.reveal  subject = record id, details.fields = fields shown
//   supporter.export  details.records = record ids, details.fields
//   supporter.list    details.records = record ids shown masked
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/store.hpp"

namespace rempart::audit {

struct BlastQuery {
  std::string actor;  // empty: every actor (then a window is expected)
  std::int64_t since = std::numeric_limits<std::int64_t>::min();  // unix µs, inclusive
  std::int64_t until = std::numeric_limits<std::int64_t>::max();  // unix µs, exclusive
  // Only what one console session did: the short label the console puts in
  // each entry's details ("session") and in its alerts. Empty: any.
  std::string session{};
};

struct Exposure {
  std::string record;             // record id, hex
  std::set<std::string> fields;   // fields revealed; empty when only seen masked
  std::set<std::string> actors;
  std::int64_t first_at = 0;      // unix µs
  std::int64_t last_at = 0;
  std::size_t times = 0;          // entries naming this record
};

struct BlastRadius {
  std::vector<Exposure> revealed;     // by record id
  std::vector<Exposure> masked_only;  // seen masked, never revealed in the window
  std::vector<Exposure> opened_only;  // opened inside the keeper and shown to nobody (supporter.sample)
  std::size_t entries = 0;            // audit entries that named any record
  std::size_t malformed = 0;          // entries whose details could not be read
};

// Reads only reveal/export/list entries through the actor or action index,
// so it stays fast on a long log. Errors only when the store fails.
// Thread-compatible; `store` is used from this thread.
Result<BlastRadius> blast_radius(store::KeeperStore& store, const BlastQuery& q);

// "412 supporters: 398 email, 14 email+phone; 30 more seen masked only".
std::string summary(const BlastRadius& b);

}  // namespace rempart::audit
