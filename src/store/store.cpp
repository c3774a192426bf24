#include "store/store.hpp"

namespace rempart::store {

// Defined out of line so each interface's vtable lives in one object file.
IntakeStore::~IntakeStore() = default;
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
SegmentReads::~SegmentReads() = default;
SegmentWrites::~SegmentWrites() = default;
CallListPort::~CallListPort() = default;
MailPort::~MailPort() = default;
MailingPort::~MailingPort() = default;
KeeperTx::~KeeperTx() = default;
KeeperStore::~KeeperStore() = default;

}  // namespace rempart::store
