#pragma once
// `rempart mailing …`: operators' view of mailings at the keeper host
// (docs/mailings.md). Counts and states only: no command prints an
// address or a name.
#include <cstdint>
#include <filesystem>
#include <string>

namespace rempart::cli {

struct MailingArgs {
  std::filesystem::path config = "rempart.toml";
  std::int64_t id = 0;
  // create
  std::string name, subject, segment;
  std::filesystem::path body_file;
};

int run_mailing_list(const MailingArgs& a);
int run_mailing_show(const MailingArgs& a);
int run_mailing_create(const MailingArgs& a);
// Draws the recipients of a draft, then starts it when no second person's
// approval is needed (or it is approved); serve sends it.
int run_mailing_send(const MailingArgs& a);
int run_mailing_pause(const MailingArgs& a);
int run_mailing_resume(const MailingArgs& a);
int run_mailing_cancel(const MailingArgs& a);

}  // namespace rempart::cli
