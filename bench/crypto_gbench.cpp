// rempart_crypto_bench: per-record CPU costs of the product's crypto paths
// (intake: parse, validate, seal; keeper: open, revalidate, blind indexes,
// re-seal), each beside the libsodium primitives it is made of, timed by
// Google Benchmark. bench/run.py runs it with --benchmark_format=json; the
// benchmark names are what it looks up, so renaming one means changing
// run.py too. See docs/benchmarks.md.
//
// Every case works on the same fixed data built once before any timing (one
// keyring, one batch sealer and its opener, 600 representative sign-ups),
// so the loops time the work of one record and nothing else.
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/validate.hpp"
#include "crypto/blind_index.hpp"
#include "crypto/keyring.hpp"
#include "crypto/seal.hpp"
#include "representative.hpp"

namespace rempart::bench {
namespace {

// Distinct sign-ups cycled through, so that e-mails and phone/no-phone
// shapes vary as under the HTTP load.
constexpr std::uint64_t kSamples = 600;

// The shared state of every case. Built once in main() before the runs;
// read-only afterwards (the cases run one after the other on one thread).
struct World {
  crypto::KeeperKeyring keyring;
  std::shared_ptr<const crypto::BatchSealer> sealer;
  crypto::BatchOpener opener;
  core::IntakeOptions opts;
  std::vector<std::string> bodies;                   // OSDI bodies the intake parses
  std::vector<std::vector<core::Field>> fields;      // the same sign-ups as fields
  std::vector<std::pair<std::vector<std::uint8_t>, crypto::Sealed>> items;  // sealed inbox items
};

World* world = nullptr;

// Nullopt (and a message on stderr) if any step of the set-up fails.
std::optional<World> make_world() {
  auto keyring = crypto::KeeperKeyring::generate();
  if (!keyring) return std::nullopt;
  auto sealer = crypto::BatchSealer::create(keyring->intake());
  if (!sealer) return std::nullopt;
  auto opener = crypto::BatchOpener::create(*keyring, (*sealer)->key_version(), (*sealer)->ephemeral_public());
  if (!opener) return std::nullopt;
  World w{std::move(*keyring), std::move(*sealer), std::move(*opener), {}, {}, {}, {}};
  for (std::uint64_t i = 0; i < kSamples; ++i) {
    w.bodies.push_back(osdi_body(i));
    w.fields.push_back(core::to_fields(representative_signup(i)));
  }
  for (std::uint64_t i = 0; i < kSamples; ++i) {
    std::vector<std::uint8_t> id(16);
    randombytes_buf(id.data(), id.size());
    auto sealed = w.sealer->seal(id, w.fields[i]);
    if (!sealed) return std::nullopt;
    w.items.emplace_back(std::move(id), std::move(*sealed));
  }
  return w;
}

// -- baselines: the primitives a record is made of ---------------------------

void random_24B(benchmark::State& state) {
  std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce{};
  for (auto _ : state) {
    randombytes_buf(nonce.data(), nonce.size());
    benchmark::DoNotOptimize(nonce.data());
    benchmark::ClobberMemory();
  }
}

void aead_64B(benchmark::State& state) {
  std::array<std::uint8_t, 64> msg{};
  std::array<std::uint8_t, 64 + crypto_aead_xchacha20poly1305_ietf_ABYTES> ct{};
  std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce{};
  std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_KEYBYTES> key{};
  randombytes_buf(key.data(), key.size());
  std::uint64_t i = 0;
  for (auto _ : state) {
    nonce[0] = static_cast<std::uint8_t>(i++);
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), nullptr, msg.data(), msg.size(), nullptr, 0, nullptr,
                                               nonce.data(), key.data());
    benchmark::DoNotOptimize(ct.data());
    benchmark::ClobberMemory();
  }
}

void blake2b_keyed_32B(benchmark::State& state) {
  std::array<std::uint8_t, 32> msg{}, key{}, out{};
  randombytes_buf(key.data(), key.size());
  for (auto _ : state) {
    crypto_generichash(out.data(), out.size(), msg.data(), msg.size(), key.data(), key.size());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
}

void box_seal_32B(benchmark::State& state) {
  std::array<std::uint8_t, 32> msg{};
  std::array<std::uint8_t, 32 + crypto_box_SEALBYTES> boxed{};
  randombytes_buf(msg.data(), msg.size());
  const auto& pk = world->keyring.current().seal_public;
  for (auto _ : state) {
    crypto_box_seal(boxed.data(), msg.data(), msg.size(), pk.data());
    benchmark::DoNotOptimize(boxed.data());
    benchmark::ClobberMemory();
  }
}

// -- the product's per-record paths --------------------------------------------

// Runs `op(i)` once per iteration, i = 0, 1, 2, ...; the first result that
// converts to false ends the case with `what` as its error.
template <class Op>
void each(benchmark::State& state, const char* what, Op&& op) {
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto r = op(i++);
    if (!r) {
      state.SkipWithError(what);
      break;
    }
    benchmark::DoNotOptimize(r);
  }
}

// Intake, per request: parse + validate the OSDI body, then seal it.
void intake_parse_validate(benchmark::State& state) {
  const World& w = *world;
  each(state, "representative body refused or invalid", [&](std::uint64_t i) {
    auto raw = core::parse_osdi_signup(w.bodies[i % kSamples]);
    return raw ? core::validate_submission(*raw, w.opts).has_value() : false;
  });
}

// Random item id drawn apart from the seal (what the intake did before
// seal_new); kept to show what the shared CSPRNG draw saves.
void intake_seal(benchmark::State& state) {
  const World& w = *world;
  std::vector<std::uint8_t> uid(16);
  each(state, "seal", [&](std::uint64_t i) {
    randombytes_buf(uid.data(), uid.size());
    return w.sealer->seal(uid, w.fields[i % kSamples]);
  });
}

// What the intake writer runs per submission: the id comes from the seal's
// own random draw.
void intake_seal_new(benchmark::State& state) {
  const World& w = *world;
  std::vector<std::uint8_t> uid(16);
  each(state, "seal_new", [&](std::uint64_t i) { return w.sealer->seal_new(uid, w.fields[i % kSamples]); });
}

// Once per group commit, not per record.
void intake_batch_create(benchmark::State& state) {
  const World& w = *world;
  each(state, "batch", [&](std::uint64_t) { return crypto::BatchSealer::create(w.keyring.intake()); });
}

// Keeper, per folded item (the store work is not included): open, validate
// again, two blind indexes, re-seal under the record's own key.
void keeper_fold_item(benchmark::State& state) {
  const World& w = *world;
  const crypto::KeySet& ks = w.keyring.current();
  each(state, "open, revalidate or reseal", [&](std::uint64_t i) -> bool {
    const auto& [id, sealed] = w.items[i % kSamples];
    auto f = w.opener.open(id, sealed);
    if (!f) return false;
    auto person = core::validate_submission(core::to_raw(core::to_person(*f)), w.opts);
    if (!person) return false;
    auto email_idx = crypto::blind_index(ks, crypto::kBlindIndexEmail, person->email);
    benchmark::DoNotOptimize(email_idx);
    if (!person->phone.empty()) {
      auto phone_idx = crypto::blind_index(ks, crypto::kBlindIndexPhone, person->phone);
      benchmark::DoNotOptimize(phone_idx);
    }
    auto record = crypto::seal_record(w.keyring, id, *f);
    benchmark::DoNotOptimize(record);
    return record.has_value();
  });
}

// The "crypto per record" at the keeper: the same without the
// re-validation (libidn2, ICU, libphonenumber), which is not cryptography.
void keeper_crypto_item(benchmark::State& state) {
  const World& w = *world;
  const crypto::KeySet& ks = w.keyring.current();
  each(state, "open or reseal", [&](std::uint64_t i) -> bool {
    const auto& [id, sealed] = w.items[i % kSamples];
    auto f = w.opener.open(id, sealed);
    if (!f) return false;
    bool indexed = false;
    for (const auto& field : *f) {
      if (field.name == "email") {
        indexed = true;
        auto email_idx = crypto::blind_index(ks, crypto::kBlindIndexEmail, field.value);
        benchmark::DoNotOptimize(email_idx);
      } else if (field.name == "phone" && !field.value.empty()) {
        auto phone_idx = crypto::blind_index(ks, crypto::kBlindIndexPhone, field.value);
        benchmark::DoNotOptimize(phone_idx);
      }
    }
    auto record = crypto::seal_record(w.keyring, id, *f);
    benchmark::DoNotOptimize(record);
    return indexed && record.has_value();
  });
}

void keeper_open(benchmark::State& state) {
  const World& w = *world;
  each(state, "open", [&](std::uint64_t i) {
    const auto& [id, sealed] = w.items[i % kSamples];
    return w.opener.open(id, sealed);
  });
}

void keeper_revalidate(benchmark::State& state) {
  const World& w = *world;
  each(state, "revalidate", [&](std::uint64_t i) {
    return core::validate_submission(core::to_raw(representative_signup(i)), w.opts);
  });
}

void register_all() {
  using Fn = void (*)(benchmark::State&);
  const std::array<std::pair<const char*, Fn>, 12> cases{{
      {"getrandom 24 B", random_24B},
      {"XChaCha20-Poly1305 encrypt 64 B", aead_64B},
      {"keyed BLAKE2b 32 B", blake2b_keyed_32B},
      {"crypto_box_seal 32 B", box_seal_32B},
      {"intake: parse+validate OSDI body", intake_parse_validate},
      {"intake: seal one submission", intake_seal},
      {"intake: seal_new one submission", intake_seal_new},
      {"intake: new batch", intake_batch_create},
      {"keeper: open+revalidate+2 blind indexes+re-seal", keeper_fold_item},
      {"keeper: open+2 blind indexes+re-seal", keeper_crypto_item},
      {"keeper: open only", keeper_open},
      {"keeper: revalidate only", keeper_revalidate},
  }};
  for (const auto& [name, fn] : cases) benchmark::RegisterBenchmark(name, fn)->Unit(benchmark::kMicrosecond);
}

}  // namespace
}  // namespace rempart::bench

int main(int argc, char** argv) {
  using namespace rempart::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  if (sodium_init() < 0) {
    std::fputs("rempart_crypto_bench: libsodium unavailable\n", stderr);
    return 1;
  }
  auto w = make_world();
  if (!w) {
    std::fputs("rempart_crypto_bench: setting up the keyring and sample items failed\n", stderr);
    return 1;
  }
  world = &*w;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  world = nullptr;
  return 0;
}
