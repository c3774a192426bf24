// GET /selfcheck (admins): the self-check's findings on the keeper's own
// configuration, accounts and libraries, and the plaintext scan as the CLI
// last recorded it (services/selfcheck.hpp). Reads only; nothing is scanned
// here, so a view costs a few stats and one read of the accounts.
#include <chrono>
#include <string>

#include "console/console_internal.hpp"
#include "console/selfcheck_pages.hpp"
#include "services/selfcheck_scan.hpp"
#include "services/selfcheck_versions.hpp"

namespace rempart::console::detail {

namespace sc = services::selfcheck;

Response get_selfcheck(Call& c) {
  const auto* s = c.impl.opt.selfcheck.get();
  sc::Report r;
  r.at = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (s == nullptr) return html(bhttp::status::ok, selfcheck_page(c.viewer(), r, false));
  sc::check_keys(*s, r.findings);
  sc::check_data(*s, r.findings);
  sc::check_listeners(*s, r.findings, r.at);
  sc::check_accounts(*c.w.store, r.findings, r.at);
  sc::check_settings(*s, r.findings);
  const auto bytes = sc::embedded_vulnerable_list();
  if (auto list = sc::parse_vulnerable_list(
          std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()))) {
    std::vector<std::string> packages;
    const auto libs = sc::linked_libraries();
    for (const auto& l : libs) {
      if (!l.debian_package.empty()) packages.push_back(l.debian_package);
    }
    sc::check_libraries(*list, libs, sc::installed_packages("/var/lib/dpkg/status", packages), r.findings, r.at);
  }
  sc::recorded_scan(*s, r.findings, r.at, sc::scan_texts());
  return html(bhttp::status::ok, selfcheck_page(c.viewer(), r, true));
}

}  // namespace rempart::console::detail
