#include "store/store.hpp"

#include "store/tag_list.hpp"

namespace rempart::store {

// Defined out of line so each interface's vtable lives in one object file.
IntakeStore::~IntakeStore() = default;
SignupLimiter::~SignupLimiter() = default;
InboxStore::~InboxStore() = default;
SupporterReads::~SupporterReads() = default;
SupporterWrites::~SupporterWrites() = default;
FoldLedger::~FoldLedger() = default;
AuditReads::~AuditReads() = default;
AuditWrites::~AuditWrites() = default;
AccountPort::~AccountPort() = default;
GuardReads::~GuardReads() = default;
GuardWrites::~GuardWrites() = default;
ExportReads::~ExportReads() = default;
ExportWrites::~ExportWrites() = default;
NotePort::~NotePort() = default;
ErasurePort::~ErasurePort() = default;
KeyVersionPort::~KeyVersionPort() = default;
BreachReads::~BreachReads() = default;
BreachWrites::~BreachWrites() = default;
SegmentReads::~SegmentReads() = default;
SegmentWrites::~SegmentWrites() = default;
CallListPort::~CallListPort() = default;
MailPort::~MailPort() = default;
MailingPort::~MailingPort() = default;
KeeperTx::~KeeperTx() = default;

Result<std::vector<InboxRow>> KeeperTx::claim_inbox(std::size_t, KeyVersions) {
  return fail(Errc::internal, "claim_inbox: this backend's inbox is a store of its own");
}
Result<std::optional<BatchRow>> KeeperTx::inbox_batch(const Bytes&) {
  return fail(Errc::internal, "inbox_batch: this backend's inbox is a store of its own");
}
Result<std::int64_t> KeeperTx::delete_inbox(std::span<const std::int64_t>, std::span<const Bytes>) {
  return fail(Errc::internal, "delete_inbox: this backend's inbox is a store of its own");
}
KeeperStore::~KeeperStore() = default;

std::optional<std::string> tag_list(std::span<const std::string> tags) {
  constexpr char kSep = '|';
  if (tags.empty()) return std::string();
  std::string out(1, kSep);
  for (const std::string& t : tags) {
    if (t.empty() || t.find(kSep) != std::string::npos) return std::nullopt;
    out += t;
    out += kSep;
  }
  return out;
}

}  // namespace rempart::store
