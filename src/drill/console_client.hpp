#pragma once
// Internal to the drill: the console as a script sees it (docs/console.md):
// the two-step sign-in, TOTP codes of steps not yet spent, JSON API calls
// with the session's CSRF token, and form posts.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "drill/http_client.hpp"
#include "drill/instance.hpp"

namespace rempart::drill::detail {

struct Session {
  std::string cookie;  // "name=value", for the Cookie header
  std::string csrf;
  std::string actor;   // "account:<hex>", as alerts name it
  std::string source;  // the loopback address it signed in from (its client address)
};

// A code of a TOTP step this account has not spent and the server accepts
// now (one step either way); the step is then counted as spent.
std::string next_code(Account& a);
// A six-digit code that is none of the account's codes around now.
std::string wrong_code(const Account& a);

// The first sign-in step (name and password): the pending id of the code
// form, or the answer's status as an error when there is none.
Result<std::string> login_first_step(const Instance& in, const std::string& name, const std::string& password,
                                     const std::string& source);
// Both steps with a fresh code, then /api/v1/me for the CSRF token.
Result<Session> sign_in(const Instance& in, Account& a, const std::string& source);

// A JSON API call as `s` (with X-CSRF-Token); `body` null: no body.
Result<HttpAnswer> api(const Instance& in, const Session& s, const std::string& method, const std::string& target,
                       const nlohmann::json& body = nullptr);
// A console form post as `s`, with its `csrf` field.
Result<HttpAnswer> post_form(const Instance& in, const Session& s, const std::string& target,
                             std::vector<std::pair<std::string, std::string>> fields);
Result<HttpAnswer> get_page(const Instance& in, const Session& s, const std::string& target);

}  // namespace rempart::drill::detail
