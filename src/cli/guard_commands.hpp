#pragma once
// `rempart honeytokens …`: plant and count honeytokens (docs/honeytokens.md),
// run by an operator who holds the keeper keyring. Planting is one audit
// entry `honeytoken.plant` by "operator:<unix user>" with the count only;
// nothing printed or logged names a honeytoken.
#include <cstdint>
#include <filesystem>

namespace rempart::cli {

struct HoneytokensPlantArgs {
  std::filesystem::path config = "rempart.toml";
  std::int64_t count = 0;  // 1..10000
};
// Prints how many were planted and how many there are now. Exit 0 on
// success, 2 for a bad count or configuration (or no supporter yet), 1
// otherwise.
int run_honeytokens_plant(const HoneytokensPlantArgs& a);
// Prints the number of honeytokens.
int run_honeytokens_count(const std::filesystem::path& config);

}  // namespace rempart::cli
