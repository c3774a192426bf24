#pragma once
// Whether the inbox may take more: asked by the intake's routes before a
// submission is sealed and handed to the SubmissionSink, so that a refused
// submission is never half-written. The implementation is DiskReserve
// (services/disk_reserve.hpp): free space on the inbox's filesystem above
// the configured reserve.

namespace rempart::services {

class InboxRoom {
 public:
  virtual ~InboxRoom() = default;
  // False while the intake must refuse (503) to keep what is left for the
  // keeper. Called on the server's I/O threads for every submission: must
  // not make a system call each time nor block for long. Thread-safe.
  virtual bool has_room() noexcept = 0;
};

}  // namespace rempart::services
