#pragma once
// The admins' self-check page (GET /selfcheck): the findings of
// services/selfcheck.hpp with their fixes, worst first, the plaintext scan
// as `rempart selfcheck` last recorded it (the page never scans).
#include <string>

#include "console/pages.hpp"
#include "http/server.hpp"
#include "services/selfcheck.hpp"

namespace rempart::console {

// selfcheck_pages.cpp. `configured` false: the process was started
// without the self-check's settings; the page says so.
std::string selfcheck_page(const Viewer& v, const services::selfcheck::Report& r, bool configured);

namespace detail {
struct Call;
// selfcheck_routes.cpp; route: admins only (Action::manage_accounts).
http::Response get_selfcheck(Call& c);
}  // namespace detail

}  // namespace rempart::console
