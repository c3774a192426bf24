#pragma once
// `rempart admin …`: console accounts and API tokens, run by an operator who
// holds the keeper keyring. Every change is an audit entry with the actor
// "operator:<unix user>". Secrets (TOTP enrolment, recovery codes, API
// tokens) are printed once to stdout and never logged.
#include <cstdint>
#include <filesystem>
#include <string>

namespace rempart::cli {

struct AdminAddArgs {
  std::filesystem::path config = "rempart.toml";
  std::string name;
  std::string role;             // viewer | organiser | admin | auditor
  bool password_stdin = false;  // read one line from stdin instead of prompting on the TTY
};
int run_admin_add(const AdminAddArgs& a);
int run_admin_list(const std::filesystem::path& config);
int run_admin_invite(const std::filesystem::path& config, const std::string& name, const std::string& role);
int run_admin_disable(const std::filesystem::path& config, const std::string& name);
int run_admin_enable(const std::filesystem::path& config, const std::string& name);
int run_admin_set_role(const std::filesystem::path& config, const std::string& name, const std::string& role);
int run_admin_reset_mfa(const std::filesystem::path& config, const std::string& name);
int run_admin_unlock(const std::filesystem::path& config, const std::string& name, const std::string& reason);
int run_admin_revoke_sessions(const std::filesystem::path& config, const std::string& name);

struct AdminTokenCreateArgs {
  std::filesystem::path config = "rempart.toml";
  std::string scope;  // intake | read-masked | reveal | metrics
  std::int64_t expires_days = 90;
  std::string label;
};
int run_admin_token_create(const AdminTokenCreateArgs& a);
int run_admin_token_list(const std::filesystem::path& config);
int run_admin_token_revoke(const std::filesystem::path& config, std::int64_t id);

}  // namespace rempart::cli
