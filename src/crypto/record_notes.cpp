#include "crypto/record_notes.hpp"

#include <sodium.h>

#include "crypto/field_codec.hpp"
#include "crypto/key_access.hpp"

namespace rempart::crypto {
namespace {

inline constexpr std::string_view kNoteContext = "record-note";

void put_lp(Bytes& out, std::span<const std::uint8_t> b) {
  const auto n = static_cast<std::uint32_t>(b.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), b.begin(), b.end());
}

// lp(record id) lp(note id) lp(kind): what a note's AD names as its item.
Bytes note_item(std::span<const std::uint8_t> record_id, std::span<const std::uint8_t> note_id,
                std::string_view kind) {
  Bytes item;
  item.reserve(12 + record_id.size() + note_id.size() + kind.size());
  put_lp(item, record_id);
  put_lp(item, note_id);
  put_lp(item, std::span(reinterpret_cast<const std::uint8_t*>(kind.data()), kind.size()));
  return item;
}

}  // namespace

Result<Bytes> seal_record_note(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                               const SealedRecord& record, std::string_view kind, std::span<const core::Field> fields,
                               NoteId& new_note_id) {
  if (kind.empty() || kind.size() > 64) return fail(Errc::invalid_input, "a note needs a kind");
  detail::DataKey key;
  if (auto ok = detail::unwrap_record_key(keyring, record_id, record, key); !ok) return std::unexpected(ok.error());
  randombytes_buf(new_note_id.data(), new_note_id.size());
  const Bytes item = note_item(record_id, new_note_id, kind);
  const detail::Binding b{kNoteContext, item, 0, {}};
  return detail::encrypt_fields(key, b, fields);
}

Result<std::vector<std::vector<core::Field>>> open_record_notes(const KeeperKeyring& keyring,
                                                                std::span<const std::uint8_t> record_id,
                                                                const SealedRecord& record,
                                                                std::span<const SealedNoteView> notes) {
  std::vector<std::vector<core::Field>> out;
  if (notes.empty()) return out;
  detail::DataKey key;
  if (auto ok = detail::unwrap_record_key(keyring, record_id, record, key); !ok) return std::unexpected(ok.error());
  auto wipe_all = [&] {
    for (auto& fields : out) {
      for (auto& f : fields) {
        if (!f.value.empty()) sodium_memzero(f.value.data(), f.value.size());
      }
    }
  };
  out.reserve(notes.size());
  for (const auto& n : notes) {
    if (n.kind.empty()) {
      wipe_all();
      return fail(Errc::invalid_input, "a note needs a kind");
    }
    const Bytes item = note_item(record_id, n.note_id, n.kind);
    const detail::Binding b{kNoteContext, item, 0, {}};
    auto fields = detail::decrypt_fields(key, b, n.blob);
    if (!fields) {
      wipe_all();
      return std::unexpected(fields.error());
    }
    out.push_back(std::move(*fields));
  }
  return out;
}

}  // namespace rempart::crypto
