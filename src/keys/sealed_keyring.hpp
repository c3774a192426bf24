#pragma once
// keeper.keyring sealed by a PKCS#11 token (docs/key-custody.md, "The
// keyring sealed by a token"): the file holds the keyring's bytes encrypted
// under an AES-256 key made in the token (sensitive, never extractable), so
// a copy of the key directory, or of a disk that held it, opens nothing
// without the token and its PIN. The keeper opens it once at start (and at
// each rotation) into guarded memory.
//
// File: kSealedKeeperMagic "RMPKSEAL", u32 format=1, u32 count, then count
// chunks of u32 length || the token's AES-GCM output (nonce || ciphertext ||
// tag) of at most kChunk bytes of the keyring; chunk i's associated data is
// "rempart/keyring/v1" || u32 i || u32 count, so chunks cannot be dropped,
// repeated or reordered. Integers little-endian.
#include <string_view>

#include "crypto/keyring.hpp"
#include "keys/pkcs11_token.hpp"

namespace rempart::keys {

// The label of the token's AES key that seals keeper.keyring.
inline constexpr std::string_view kKeyringKeyLabel = "rempart-keyring";

// Seals and opens keeper.keyring through `token` and its AES key `key`;
// `token` must outlive what this returns. Opening refuses (Errc::invalid_input)
// a file of another format and (Errc::crypto) one that does not
// authenticate under this token's key.
crypto::KeyringSeal token_keyring_seal(Token& token, Token::Handle key);

}  // namespace rempart::keys
