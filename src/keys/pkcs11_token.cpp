#include "keys/pkcs11_token.hpp"

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <sodium.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "crypto/secret_file.hpp"

namespace rempart::keys {

namespace {

// The DER of Ed25519's object identifier, 1.3.101.112 (RFC 8410): the
// curve's CKA_EC_PARAMS.
constexpr std::array<std::uint8_t, 5> kEd25519Oid = {0x06, 0x03, 0x2b, 0x65, 0x70};

std::string rv_name(CK_RV rv) {
  switch (rv) {
    case CKR_OK: return "CKR_OK";
    case CKR_HOST_MEMORY: return "CKR_HOST_MEMORY";
    case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
    case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
    case CKR_ARGUMENTS_BAD: return "CKR_ARGUMENTS_BAD";
    case CKR_ATTRIBUTE_SENSITIVE: return "CKR_ATTRIBUTE_SENSITIVE";
    case CKR_ATTRIBUTE_TYPE_INVALID: return "CKR_ATTRIBUTE_TYPE_INVALID";
    case CKR_ATTRIBUTE_VALUE_INVALID: return "CKR_ATTRIBUTE_VALUE_INVALID";
    case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
    case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
    case CKR_ENCRYPTED_DATA_INVALID: return "CKR_ENCRYPTED_DATA_INVALID";
    case CKR_ENCRYPTED_DATA_LEN_RANGE: return "CKR_ENCRYPTED_DATA_LEN_RANGE";
    case CKR_KEY_HANDLE_INVALID: return "CKR_KEY_HANDLE_INVALID";
    case CKR_KEY_TYPE_INCONSISTENT: return "CKR_KEY_TYPE_INCONSISTENT";
    case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
    case CKR_MECHANISM_PARAM_INVALID: return "CKR_MECHANISM_PARAM_INVALID";
    case CKR_OPERATION_ACTIVE: return "CKR_OPERATION_ACTIVE";
    case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
    case CKR_PIN_LEN_RANGE: return "CKR_PIN_LEN_RANGE";
    case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
    case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
    case CKR_TEMPLATE_INCOMPLETE: return "CKR_TEMPLATE_INCOMPLETE";
    case CKR_TEMPLATE_INCONSISTENT: return "CKR_TEMPLATE_INCONSISTENT";
    case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
    case CKR_TOKEN_NOT_RECOGNIZED: return "CKR_TOKEN_NOT_RECOGNIZED";
    case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
    case CKR_BUFFER_TOO_SMALL: return "CKR_BUFFER_TOO_SMALL";
    case CKR_CRYPTOKI_NOT_INITIALIZED: return "CKR_CRYPTOKI_NOT_INITIALIZED";
    default: {
      char buf[24];
      std::snprintf(buf, sizeof buf, "CKR 0x%lx", static_cast<unsigned long>(rv));
      return buf;
    }
  }
}

Error token_error(std::string_view what, CK_RV rv) {
  const Errc code = rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_LEN_RANGE ||
                            rv == CKR_USER_NOT_LOGGED_IN
                        ? Errc::permission
                        : Errc::crypto;
  return Error{code, "pkcs11 " + std::string(what) + ": " + rv_name(rv)};
}

// A token label as PKCS#11 stores it: 32 bytes, padded with spaces.
std::string trimmed_label(const unsigned char (&label)[32]) {
  std::string s(reinterpret_cast<const char*>(label), sizeof label);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// The longest secret sealed here, tag included: data keys and key
// material, never records.
constexpr std::size_t kMaxSealed = 1024;

// AES-GCM's parameters: a 96-bit nonce, the associated data, a 128-bit tag
// (the module reads them at C_EncryptInit / C_DecryptInit).
CK_GCM_PARAMS gcm_params(std::uint8_t* nonce, std::span<const std::uint8_t> aad) {
  CK_GCM_PARAMS p;
  p.pIv = nonce;
  p.ulIvLen = kGcmNonceBytes;
  p.ulIvBits = kGcmNonceBytes * 8;
  p.pAAD = const_cast<std::uint8_t*>(aad.data());
  p.ulAADLen = aad.size();
  p.ulTagBits = kGcmTagBytes * 8;
  return p;
}

CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, void* value, unsigned long len) {
  CK_ATTRIBUTE a;
  a.type = type;
  a.pValue = value;
  a.ulValueLen = len;
  return a;
}

}  // namespace

struct Token::Impl {
  CK_FUNCTION_LIST* module = nullptr;
  CK_SESSION_HANDLE session = 0;
  bool session_open = false;
  bool logged_in = false;
  bool initialized = false;

  ~Impl() {
    if (module == nullptr) return;
    if (logged_in) module->C_Logout(session);
    if (session_open) module->C_CloseSession(session);
    if (initialized) p11_kit_module_finalize(module);
    p11_kit_module_release(module);
  }

  // Every object of `klass` labelled `label` (at most `max`).
  Result<std::vector<CK_OBJECT_HANDLE>> find(CK_OBJECT_CLASS klass, std::string_view label, unsigned long max = 4) {
    std::string l(label);
    CK_ATTRIBUTE tmpl[] = {attr(CKA_CLASS, &klass, sizeof klass), attr(CKA_LABEL, l.data(), l.size())};
    if (CK_RV rv = module->C_FindObjectsInit(session, tmpl, 2); rv != CKR_OK) {
      return std::unexpected(token_error("C_FindObjectsInit", rv));
    }
    std::vector<CK_OBJECT_HANDLE> found(max);
    unsigned long n = 0;
    const CK_RV rv = module->C_FindObjects(session, found.data(), max, &n);
    module->C_FindObjectsFinal(session);
    if (rv != CKR_OK) return std::unexpected(token_error("C_FindObjects", rv));
    found.resize(n);
    return found;
  }

  Result<std::optional<CK_OBJECT_HANDLE>> find_one(CK_OBJECT_CLASS klass, std::string_view label) {
    auto f = find(klass, label);
    if (!f) return std::unexpected(f.error());
    if (f->size() > 1) return fail(Errc::conflict, "pkcs11: more than one key carries the label " + std::string(label));
    if (f->empty()) return std::optional<CK_OBJECT_HANDLE>{};
    return std::optional<CK_OBJECT_HANDLE>{f->front()};
  }
};

Token::Token(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Token::~Token() = default;

Result<std::unique_ptr<Token>> Token::open(const TokenOptions& o) {
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  auto pin = crypto::read_secret_file(o.pin_file, "token PIN");
  if (!pin) return std::unexpected(pin.error());
  auto impl = std::make_unique<Impl>();
  // Managed by p11-kit (flags 0): it initialises the module once per
  // process, however many tokens of it are open, with OS locking.
  impl->module = p11_kit_module_load(o.module.c_str(), 0);
  if (impl->module == nullptr) {
    return fail(Errc::config, "pkcs11: cannot load the module " + o.module.string());
  }
  if (CK_RV rv = p11_kit_module_initialize(impl->module); rv != CKR_OK) {
    return std::unexpected(token_error("C_Initialize", rv));
  }
  impl->initialized = true;

  unsigned long count = 0;
  if (CK_RV rv = impl->module->C_GetSlotList(CK_TRUE, nullptr, &count); rv != CKR_OK) {
    return std::unexpected(token_error("C_GetSlotList", rv));
  }
  std::vector<CK_SLOT_ID> slots(count);
  if (count > 0) {
    if (CK_RV rv = impl->module->C_GetSlotList(CK_TRUE, slots.data(), &count); rv != CKR_OK) {
      return std::unexpected(token_error("C_GetSlotList", rv));
    }
    slots.resize(count);
  }
  std::optional<CK_SLOT_ID> slot;
  for (CK_SLOT_ID s : slots) {
    CK_TOKEN_INFO info{};
    if (impl->module->C_GetTokenInfo(s, &info) != CKR_OK) continue;
    if (trimmed_label(info.label) != o.token_label) continue;
    if (slot) return fail(Errc::conflict, "pkcs11: more than one token is labelled " + o.token_label);
    slot = s;
  }
  if (!slot) return fail(Errc::not_found, "pkcs11: no token labelled " + o.token_label + " in " + o.module.string());

  if (CK_RV rv = impl->module->C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr,
                                             &impl->session);
      rv != CKR_OK) {
    return std::unexpected(token_error("C_OpenSession", rv));
  }
  impl->session_open = true;
  const CK_RV rv = impl->module->C_Login(impl->session, CKU_USER, pin->data(), pin->size());
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
    if (rv == CKR_PIN_INCORRECT) {
      return fail(Errc::permission, "pkcs11: the token refused the PIN in " + o.pin_file.string());
    }
    return std::unexpected(token_error("C_Login", rv));
  }
  impl->logged_in = rv == CKR_OK;
  return std::unique_ptr<Token>(new Token(std::move(impl)));
}

Result<Token::Handle> Token::aes_key(std::string_view label, bool create) {
  std::lock_guard lock(mu_);
  auto found = impl_->find_one(CKO_SECRET_KEY, label);
  if (!found) return std::unexpected(found.error());
  if (*found) return **found;
  if (!create) return fail(Errc::not_found, "pkcs11: no key labelled " + std::string(label));

  CK_OBJECT_CLASS klass = CKO_SECRET_KEY;
  CK_KEY_TYPE type = CKK_AES;
  CK_ULONG len = 32;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  std::string l(label);
  CK_ATTRIBUTE tmpl[] = {
      attr(CKA_CLASS, &klass, sizeof klass),  attr(CKA_KEY_TYPE, &type, sizeof type),
      attr(CKA_VALUE_LEN, &len, sizeof len),  attr(CKA_TOKEN, &yes, sizeof yes),
      attr(CKA_PRIVATE, &yes, sizeof yes),    attr(CKA_SENSITIVE, &yes, sizeof yes),
      attr(CKA_EXTRACTABLE, &no, sizeof no),  attr(CKA_ENCRYPT, &yes, sizeof yes),
      attr(CKA_DECRYPT, &yes, sizeof yes),    attr(CKA_WRAP, &no, sizeof no),
      attr(CKA_UNWRAP, &no, sizeof no),       attr(CKA_SIGN, &no, sizeof no),
      attr(CKA_VERIFY, &no, sizeof no),       attr(CKA_DERIVE, &no, sizeof no),
      attr(CKA_LABEL, l.data(), l.size()),
  };
  CK_MECHANISM mech{CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE key = 0;
  if (CK_RV rv = impl_->module->C_GenerateKey(impl_->session, &mech, tmpl, std::size(tmpl), &key); rv != CKR_OK) {
    return std::unexpected(token_error("C_GenerateKey", rv));
  }
  return key;
}

Result<Bytes> Token::seal(Handle key, std::span<const std::uint8_t> plaintext, std::span<const std::uint8_t> aad) {
  if (plaintext.size() + kGcmTagBytes > kMaxSealed) return fail(Errc::invalid_input, "pkcs11: too long to seal");
  Bytes out(kGcmNonceBytes);
  ::randombytes_buf(out.data(), kGcmNonceBytes);
  CK_GCM_PARAMS params = gcm_params(out.data(), aad);
  CK_MECHANISM mech{CKM_AES_GCM, &params, sizeof params};
  std::lock_guard lock(mu_);
  if (CK_RV rv = impl_->module->C_EncryptInit(impl_->session, &mech, key); rv != CKR_OK) {
    return std::unexpected(token_error("C_EncryptInit", rv));
  }
  Bytes sealed(plaintext.size() + kGcmTagBytes);
  unsigned long len = sealed.size();
  if (CK_RV rv = impl_->module->C_Encrypt(impl_->session, const_cast<std::uint8_t*>(plaintext.data()),
                                          plaintext.size(), sealed.data(), &len);
      rv != CKR_OK) {
    return std::unexpected(token_error("C_Encrypt", rv));
  }
  if (len != plaintext.size() + kGcmTagBytes) return fail(Errc::crypto, "pkcs11 C_Encrypt: unexpected length");
  out.insert(out.end(), sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(len));
  return out;
}

Result<SecretBytes> Token::open(Handle key, std::span<const std::uint8_t> sealed, std::span<const std::uint8_t> aad) {
  if (sealed.size() < kGcmNonceBytes + kGcmTagBytes) return fail(Errc::crypto, "pkcs11: sealed value too short");
  Bytes nonce(sealed.begin(), sealed.begin() + kGcmNonceBytes);
  CK_GCM_PARAMS params = gcm_params(nonce.data(), aad);
  CK_MECHANISM mech{CKM_AES_GCM, &params, sizeof params};
  const auto body = sealed.subspan(kGcmNonceBytes);
  if (body.size() > kMaxSealed) return fail(Errc::crypto, "pkcs11: sealed value too long");
  // Room for the whole input (some modules ask for it before they know how
  // much of it is tag), on the stack and wiped: one guarded allocation per
  // call, for the result.
  std::array<std::uint8_t, kMaxSealed> plain;
  struct Wipe {
    std::array<std::uint8_t, kMaxSealed>& b;
    ~Wipe() { ::sodium_memzero(b.data(), b.size()); }
  } wipe{plain};
  std::lock_guard lock(mu_);
  if (CK_RV rv = impl_->module->C_DecryptInit(impl_->session, &mech, key); rv != CKR_OK) {
    return std::unexpected(token_error("C_DecryptInit", rv));
  }
  unsigned long len = body.size();
  const CK_RV rv =
      impl_->module->C_Decrypt(impl_->session, const_cast<std::uint8_t*>(body.data()), body.size(), plain.data(), &len);
  if (rv != CKR_OK) {
    if (rv == CKR_KEY_HANDLE_INVALID || rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_DEVICE_ERROR ||
        rv == CKR_DEVICE_REMOVED || rv == CKR_USER_NOT_LOGGED_IN) {
      return std::unexpected(token_error("C_Decrypt", rv));
    }
    return fail(Errc::crypto, "pkcs11 C_Decrypt: the value does not authenticate (" + rv_name(rv) + ")");
  }
  if (len != body.size() - kGcmTagBytes) return fail(Errc::crypto, "pkcs11 C_Decrypt: unexpected length");
  return SecretBytes::copy_of(std::span<const std::uint8_t>(plain.data(), len));
}

Result<Token::Handle> Token::ed25519_key(std::string_view label, bool create) {
  std::lock_guard lock(mu_);
  auto found = impl_->find_one(CKO_PRIVATE_KEY, label);
  if (!found) return std::unexpected(found.error());
  if (*found) return **found;
  if (!create) return fail(Errc::not_found, "pkcs11: no key labelled " + std::string(label));

  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  std::string l(label);
  std::array<std::uint8_t, kEd25519Oid.size()> oid = kEd25519Oid;
  CK_ATTRIBUTE pub[] = {
      attr(CKA_TOKEN, &yes, sizeof yes), attr(CKA_EC_PARAMS, oid.data(), oid.size()),
      attr(CKA_VERIFY, &yes, sizeof yes), attr(CKA_LABEL, l.data(), l.size()),
  };
  CK_ATTRIBUTE priv[] = {
      attr(CKA_TOKEN, &yes, sizeof yes),      attr(CKA_PRIVATE, &yes, sizeof yes),
      attr(CKA_SENSITIVE, &yes, sizeof yes),  attr(CKA_EXTRACTABLE, &no, sizeof no),
      attr(CKA_SIGN, &yes, sizeof yes),       attr(CKA_DERIVE, &no, sizeof no),
      attr(CKA_LABEL, l.data(), l.size()),
  };
  CK_MECHANISM mech{CKM_EC_EDWARDS_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE pub_key = 0, priv_key = 0;
  if (CK_RV rv = impl_->module->C_GenerateKeyPair(impl_->session, &mech, pub, std::size(pub), priv, std::size(priv),
                                                  &pub_key, &priv_key);
      rv != CKR_OK) {
    return std::unexpected(token_error("C_GenerateKeyPair", rv));
  }
  return priv_key;
}

Result<std::array<std::uint8_t, 32>> Token::ed25519_public(std::string_view label) {
  std::lock_guard lock(mu_);
  auto found = impl_->find_one(CKO_PUBLIC_KEY, label);
  if (!found) return std::unexpected(found.error());
  if (!*found) return fail(Errc::not_found, "pkcs11: no public key labelled " + std::string(label));
  std::array<std::uint8_t, 64> point{};
  CK_ATTRIBUTE a = attr(CKA_EC_POINT, point.data(), point.size());
  if (CK_RV rv = impl_->module->C_GetAttributeValue(impl_->session, **found, &a, 1); rv != CKR_OK) {
    return std::unexpected(token_error("C_GetAttributeValue", rv));
  }
  // The point as a DER OCTET STRING (04 20 ...), or bare, as modules differ.
  std::span<const std::uint8_t> p(point.data(), a.ulValueLen);
  if (p.size() == 34 && p[0] == 0x04 && p[1] == 0x20) p = p.subspan(2);
  if (p.size() != 32) return fail(Errc::crypto, "pkcs11: the Ed25519 public key is not 32 bytes");
  std::array<std::uint8_t, 32> out{};
  std::memcpy(out.data(), p.data(), out.size());
  return out;
}

Result<std::array<std::uint8_t, 64>> Token::sign(Handle private_key, std::span<const std::uint8_t> message) {
  CK_MECHANISM mech{CKM_EDDSA, nullptr, 0};
  std::lock_guard lock(mu_);
  if (CK_RV rv = impl_->module->C_SignInit(impl_->session, &mech, private_key); rv != CKR_OK) {
    return std::unexpected(token_error("C_SignInit", rv));
  }
  std::array<std::uint8_t, 64> sig{};
  unsigned long len = sig.size();
  if (CK_RV rv = impl_->module->C_Sign(impl_->session, const_cast<std::uint8_t*>(message.data()), message.size(),
                                       sig.data(), &len);
      rv != CKR_OK) {
    return std::unexpected(token_error("C_Sign", rv));
  }
  if (len != sig.size()) return fail(Errc::crypto, "pkcs11 C_Sign: not an Ed25519 signature");
  return sig;
}

Result<KeyFacts> Token::facts(Handle key) {
  CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE, always = CK_FALSE, never = CK_FALSE, token = CK_FALSE;
  CK_ATTRIBUTE a[] = {
      attr(CKA_SENSITIVE, &sensitive, sizeof sensitive), attr(CKA_EXTRACTABLE, &extractable, sizeof extractable),
      attr(CKA_ALWAYS_SENSITIVE, &always, sizeof always), attr(CKA_NEVER_EXTRACTABLE, &never, sizeof never),
      attr(CKA_TOKEN, &token, sizeof token),
  };
  std::lock_guard lock(mu_);
  const CK_RV rv = impl_->module->C_GetAttributeValue(impl_->session, key, a, std::size(a));
  if (rv == CKR_OBJECT_HANDLE_INVALID) return KeyFacts{};
  if (rv != CKR_OK) return std::unexpected(token_error("C_GetAttributeValue", rv));
  return KeyFacts{true, sensitive == CK_TRUE, extractable == CK_TRUE, always == CK_TRUE, never == CK_TRUE,
                  token == CK_TRUE};
}

Result<bool> Token::value_readable(Handle key) {
  std::array<std::uint8_t, 64> value{};
  CK_ATTRIBUTE a = attr(CKA_VALUE, value.data(), value.size());
  std::lock_guard lock(mu_);
  const CK_RV rv = impl_->module->C_GetAttributeValue(impl_->session, key, &a, 1);
  ::sodium_memzero(value.data(), value.size());
  if (rv == CKR_ATTRIBUTE_SENSITIVE) return false;
  if (rv != CKR_OK) return std::unexpected(token_error("C_GetAttributeValue", rv));
  return true;
}

Result<int> Token::destroy(std::string_view label) {
  std::lock_guard lock(mu_);
  int n = 0;
  for (CK_OBJECT_CLASS klass : {CKO_SECRET_KEY, CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
    auto found = impl_->find(klass, label, 64);
    if (!found) return std::unexpected(found.error());
    for (CK_OBJECT_HANDLE h : *found) {
      if (CK_RV rv = impl_->module->C_DestroyObject(impl_->session, h); rv != CKR_OK) {
        return std::unexpected(token_error("C_DestroyObject", rv));
      }
      ++n;
    }
  }
  return n;
}

}  // namespace rempart::keys
