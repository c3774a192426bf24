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
  bool unconfirmed_too = false;  // also consents never confirmed (services::MailingDraft)
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
// Reads the bounce mailbox once now, as serve does every [bounces]
// poll_seconds, and prints the counts.
int run_mailing_bounces(const MailingArgs& a);

// `rempart notify --from-blast-radius FILE --template breach --lang fr|en
// --details-file FILE`: the breach notification to exactly the records the
// blast radius CSV names (services::Mailings::notify), started at once
// unless a second person must approve it.
struct NotifyArgs {
  std::filesystem::path config = "rempart.toml";
  std::filesystem::path blast_radius;
  std::string template_name = "breach";
  std::string lang = "fr";
  std::filesystem::path details_file;
};
int run_notify(const NotifyArgs& a);

}  // namespace rempart::cli
