#include "cli/guard_commands.hpp"

#include <sys/stat.h>

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/chain.hpp"
#include "audit/checkpoint.hpp"
#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/keeper_access.hpp"
#include "crypto/keyring.hpp"
#include "services/honeytokens.hpp"

namespace rempart::cli {

namespace fs = std::filesystem;

int run_honeytokens_plant(const HoneytokensPlantArgs& a) {
  if (a.count < 1 || a.count > static_cast<std::int64_t>(services::kMaxHoneytokensPerPlant)) {
    std::cerr << "rempart: plant between 1 and " << services::kMaxHoneytokensPerPlant << " honeytokens at a time\n";
    return 2;
  }
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  auto n = services::plant_honeytokens(*k->store, k->vault(), static_cast<std::size_t>(a.count), operator_actor(), 0);
  if (!n) return report(n.error());
  k->checkpoint_on_exit();
  auto total = k->store->count_honeytokens();
  if (!total) return report(total.error());
  std::cout << "rempart: " << *n << " honeytokens planted, " << *total << " in all\n";
  return 0;
}

int run_honeytokens_count(const fs::path& config) {
  auto k = open_keeper(config);
  if (!k) return report(k.error());
  auto total = k->store->count_honeytokens();
  if (!total) return report(total.error());
  std::cout << *total << "\n";
  return 0;
}

}  // namespace rempart::cli
