#pragma once
// What the self-check reads of a configuration (services/selfcheck.hpp):
// made by `rempart selfcheck` and by `rempart serve` for the console's
// /selfcheck page. Defined in selfcheck_command.cpp.
#include "cli/config.hpp"
#include "services/selfcheck.hpp"

namespace rempart::cli {

services::selfcheck::Settings selfcheck_settings(const Config& c);

}  // namespace rempart::cli
