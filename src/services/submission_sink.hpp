#pragma once
// Where the intake routes hand over a validated person. The implementation
// seals it with the public sealing key and stores it durably with group
// commit; nothing behind this interface can read a submission back.
#include <functional>
#include <utility>
#include <vector>

#include "core/person.hpp"

namespace rempart::services {

class SubmissionSink {
 public:
  virtual ~SubmissionSink() = default;
  // Seals and durably stores `fields`: a person (core::to_fields) or a
  // mailed link followed (core::LinkAction). Calls `done(true)` once the submission's
  // transaction is durable, `done(false)` if it could not be stored (the
  // caller answers 503). `done` is called exactly once, possibly on another
  // thread, and must not block. Thread-safe.
  virtual void submit(std::vector<core::Field> fields, std::function<void(bool durable)> done) = 0;
  // A person's fields (core::to_fields).
  void submit(const core::Person& p, std::function<void(bool durable)> done) {
    submit(core::to_fields(p), std::move(done));
  }
};

}  // namespace rempart::services
