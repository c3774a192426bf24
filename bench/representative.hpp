#pragma once
// The representative sign-up of the benchmarks, shared by rempart_bench and
// rempart_crypto_bench so that both cost the same submission. It matches
// what bench/signup.lua posts: a unique e-mail per index, one in six with a
// phone. Synthetic data only (documentation domain, fiction numbers).
#include <cstdint>
#include <string>

#include "core/person.hpp"

namespace rempart::bench {

// The sign-up the HTTP load posts: used to size and cost one submission
// outside HTTP. Pure; thread-safe.
inline core::Person representative_signup(std::uint64_t i) {
  core::Person p;
  p.given_name = "Camille";
  p.family_name = "Martin";
  p.email = "camille.martin.1." + std::to_string(i) + "@example.org";
  if (i % 6 == 0) p.phone = "+3319900" + std::to_string(1000 + i % 9000);
  p.postal_code = "75011";
  p.locality = "Paris";
  p.country = "FR";
  p.tags = {"bench"};
  p.consent.email = true;
  return p;
}

// The same sign-up as the OSDI JSON body the intake parses. Pure; thread-safe.
inline std::string osdi_body(std::uint64_t i) {
  const auto p = representative_signup(i);
  std::string b = R"({"person":{"given_name":")" + p.given_name + R"(","family_name":")" + p.family_name +
                  R"(","email_addresses":[{"address":")" + p.email + R"("}],)";
  if (!p.phone.empty()) b += R"("phone_numbers":[{"number":")" + p.phone + R"("}],)";
  b += R"("postal_addresses":[{"postal_code":"75011","locality":"Paris","country":"FR"}]},)"
       R"("add_tags":["bench"],"consent":{"email":true}})";
  return b;
}

}  // namespace rempart::bench
