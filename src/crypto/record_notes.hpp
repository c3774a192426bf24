#pragma once
// Notes and contact history of a supporter record, sealed under the
// record's own data key (seal.hpp: a record keeps that key for its life,
// reseal_record), so erasing the record's wrapped key erases its notes too.
//
// A note is a list of fields (its text) encrypted like a record's fields
// (field_codec.hpp, format 2), with the associated data
//   lp("rempart/fields/v2") lp("record-note") lp(item) u32(0)
// where item = lp(record id) lp(note id) lp(kind): a note moved to another
// record, given another id or another kind fails to open. The key version
// in the AD is 0: a note is bound to the data key itself, not to the
// version that wraps it, so a rewrap of the record leaves its notes alone.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/person.hpp"
#include "crypto/keyring.hpp"
#include "crypto/seal.hpp"

namespace rempart::crypto {

inline constexpr std::size_t kNoteIdBytes = 16;
using NoteId = std::array<std::uint8_t, kNoteIdBytes>;

// One sealed note as stored; views, the caller keeps them alive.
struct SealedNoteView {
  std::span<const std::uint8_t> note_id;
  std::string_view kind;
  std::span<const std::uint8_t> blob;
};

// Seals `fields` as a new note of the record `record_id` (whose sealed data
// is `record`), and fills `new_note_id` with fresh random bytes.
// Errc::not_found if the record's key version is gone, Errc::crypto if its
// key does not unwrap, Errc::invalid_input for an empty kind or bad fields.
// Thread-safe.
Result<Bytes> seal_record_note(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                               const SealedRecord& record, std::string_view kind, std::span<const core::Field> fields,
                               NoteId& new_note_id);

// Opens `notes` of one record, unwrapping the record's data key once.
// Fails as a whole (Errc::crypto) if one of them does not open; nothing
// opened is returned then (and what was is wiped). The values are personal
// data. Thread-safe.
Result<std::vector<std::vector<core::Field>>> open_record_notes(const KeeperKeyring& keyring,
                                                                std::span<const std::uint8_t> record_id,
                                                                const SealedRecord& record,
                                                                std::span<const SealedNoteView> notes);

}  // namespace rempart::crypto
