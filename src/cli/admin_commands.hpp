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

// `rempart incident lockdown`: AccountService::lock_down (every session
// ended, every token revoked, every account but the break-glass `keep`
// disabled and sent back to enrolment), then every key rotated
// (rotate_keys), an audit checkpoint signed and a critical alert raised.
// Prints each step's count and what to do next. Exit 0; 2 when refused
// (nothing changed); 1 when the accounts were locked but a later step
// failed (it says which, and how to finish it).
int run_incident_lockdown(const std::filesystem::path& config, const std::string& keep, const std::string& reason);
// `rempart incident release NAME`: AccountService::release_account, and
// prints the enrolment link to hand to its owner.
int run_incident_release(const std::filesystem::path& config, const std::string& name, const std::string& reason);

}  // namespace rempart::cli
