// rempart_token_bench: what a data key's wrap and unwrap cost when a PKCS#11
// token does them (SoftHSM2 through p11-kit, keys/pkcs11_token.hpp) beside
// the key file's libsodium wrap the keeper does today, and an Ed25519
// signature in the token beside libsodium's. The figures a record rewrap and
// a token-backed fold will be compared with (docs/benchmarks.md, "Key
// custody: the token").
//
// It makes a SoftHSM2 token of its own (keys/test_support.hpp) and removes
// it at the end. Usage:
//   rempart_token_bench [--module PATH] [google benchmark flags]
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "crypto/field_codec.hpp"
#include "keys/pkcs11_token.hpp"
#include "keys/test_support.hpp"

namespace rempart::bench {
namespace {


struct World {
  std::unique_ptr<keys::Token> token;
  keys::Token::Handle wrap_key = 0;
  keys::Token::Handle sign_key = 0;
  crypto::Bytes token_sealed;                  // a 32-byte data key sealed by the token
  std::array<std::uint8_t, 32> file_key{};     // the key file's record wrapping key, as the keeper holds it
  crypto::Bytes file_wrapped;                  // the same data key wrapped by libsodium
  std::array<std::uint8_t, 64> sign_secret{};  // libsodium's Ed25519 secret, for the baseline
  std::array<std::uint8_t, 16> record_id{};
};

World* world = nullptr;

std::array<std::uint8_t, 36> aad_of(const World& w) {
  // The record id and the key version: what binds a wrapped key to its record.
  std::array<std::uint8_t, 36> aad{};
  std::memcpy(aad.data(), w.record_id.data(), w.record_id.size());
  aad[16] = 1;
  return aad;
}

crypto::detail::Binding binding_of(const World& w) {
  return crypto::detail::Binding{crypto::detail::kRecordContext, w.record_id, 1, {}};
}

void BM_FileWrap(benchmark::State& state) {
  crypto::detail::DataKey key;
  ::randombytes_buf(key.data(), key.bytes.size());
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto::detail::wrap_key(world->file_key, key, binding_of(*world)));
  }
}
BENCHMARK(BM_FileWrap);

void BM_FileUnwrap(benchmark::State& state) {
  crypto::detail::DataKey out;
  for (auto _ : state) {
    auto r = crypto::detail::unwrap_key(world->file_key, world->file_wrapped, binding_of(*world), out);
    if (!r) state.SkipWithError("unwrap failed");
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_FileUnwrap);

void BM_TokenSeal(benchmark::State& state) {
  std::array<std::uint8_t, 32> key{};
  ::randombytes_buf(key.data(), key.size());
  const auto aad = aad_of(*world);
  for (auto _ : state) {
    auto r = world->token->seal(world->wrap_key, key, aad);
    if (!r) state.SkipWithError("seal failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_TokenSeal);

void BM_TokenOpen(benchmark::State& state) {
  const auto aad = aad_of(*world);
  for (auto _ : state) {
    auto r = world->token->open(world->wrap_key, world->token_sealed, aad);
    if (!r) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_TokenOpen);

// A record's rewrap with the token: its data key opened under one version
// and sealed under the next, never leaving guarded memory in between.
void BM_TokenRewrap(benchmark::State& state) {
  const auto aad = aad_of(*world);
  for (auto _ : state) {
    auto key = world->token->open(world->wrap_key, world->token_sealed, aad);
    if (!key) state.SkipWithError("open failed");
    auto again = world->token->seal(world->wrap_key, key->span(), aad);
    if (!again) state.SkipWithError("seal failed");
    benchmark::DoNotOptimize(again);
  }
}
BENCHMARK(BM_TokenRewrap);

void BM_SodiumSign(benchmark::State& state) {
  std::array<std::uint8_t, 96> message{};
  std::array<std::uint8_t, 64> sig{};
  for (auto _ : state) {
    ::crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), world->sign_secret.data());
    benchmark::DoNotOptimize(sig.data());
  }
}
BENCHMARK(BM_SodiumSign);

void BM_TokenSign(benchmark::State& state) {
  std::array<std::uint8_t, 96> message{};
  for (auto _ : state) {
    auto r = world->token->sign(world->sign_key, message);
    if (!r) state.SkipWithError("sign failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_TokenSign);

}  // namespace
}  // namespace rempart::bench

int main(int argc, char** argv) {
  using namespace rempart;
  using namespace rempart::bench;
  std::string module = keys::test_support::kSoftHsmModule;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--module") == 0 && i + 1 < argc) {
      module = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (::sodium_init() < 0) return 1;
  keys::test_support::ThrowawayToken hsm("rempart-bench", "271828", module);
  if (!hsm.ok()) {
    std::fprintf(stderr, "rempart_token_bench: softhsm2-util could not make a token (scripts/deps test)\n");
    return 1;
  }
  auto token = keys::Token::open(hsm.options());
  if (!token) {
    std::fprintf(stderr, "rempart_token_bench: %s\n", token.error().internal.c_str());
    return 1;
  }
  World w;
  w.token = std::move(*token);
  ::randombytes_buf(w.record_id.data(), w.record_id.size());
  ::randombytes_buf(w.file_key.data(), w.file_key.size());
  std::array<std::uint8_t, 32> pk{};
  ::crypto_sign_keypair(pk.data(), w.sign_secret.data());
  auto wrap = w.token->aes_key("record-wrap-v1", true);
  auto sign = w.token->ed25519_key("audit-sign-v1", true);
  crypto::detail::DataKey key;
  ::randombytes_buf(key.data(), key.bytes.size());
  w.file_wrapped = crypto::detail::wrap_key(w.file_key, key, binding_of(w));
  auto sealed = wrap ? w.token->seal(*wrap, key.span(), aad_of(w)) : Result<crypto::Bytes>{};
  int status = 1;
  if (wrap && sign && sealed) {
    w.wrap_key = *wrap;
    w.sign_key = *sign;
    w.token_sealed = std::move(*sealed);
    world = &w;
    int n = static_cast<int>(rest.size());
    benchmark::Initialize(&n, rest.data());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    world = nullptr;
    status = 0;
  } else {
    std::fprintf(stderr, "rempart_token_bench: the token refused to make or use its keys\n");
  }
  ::sodium_memzero(w.sign_secret.data(), w.sign_secret.size());
  return status;
}
