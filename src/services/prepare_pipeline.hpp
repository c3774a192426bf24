#pragma once
// Overlaps the CPU-bound preparation of a bulk write (parsing, validation,
// blind indexes, sealing) with the transaction of the chunk before it, on a
// 2-core keeper. Transactions stay on the calling thread and in order; one
// worker thread prepares at most one chunk ahead. Not a thread pool: each
// look-ahead is one short-lived thread, joined before the next starts.
#include <exception>
#include <functional>
#include <optional>
#include <thread>
#include <utility>

#include "core/error.hpp"

namespace rempart::services {

// Runs one function on a thread of its own. The thread is always joined:
// by wait() or, on every other path (early return, exception), by the
// destructor. An exception thrown by the function is caught on its thread
// (none escapes it) and handed back by wait().
class BackgroundTask {
 public:
  // Starts `fn` at once. Throws std::system_error if no thread can be
  // started (nothing then runs).
  explicit BackgroundTask(std::function<void()> fn);
  // Joins; an exception not collected by wait() is dropped.
  ~BackgroundTask();
  BackgroundTask(const BackgroundTask&) = delete;
  BackgroundTask& operator=(const BackgroundTask&) = delete;

  // Blocks until the function has returned, then gives what it threw
  // (null if it returned normally). Later calls return null at once.
  // Call from the thread that made the task.
  std::exception_ptr wait() noexcept;

 private:
  std::exception_ptr error_;  // written by the worker, read after join
  std::thread thread_;
};

// Feeds chunks from `produce` to `consume` in order, making chunk k+1 on a
// worker thread while `consume` handles chunk k on the calling thread.
//
//  - produce: () -> Result<std::optional<Chunk>>; nullopt at the end. Runs
//    on the calling thread for the first chunk and on a worker after that,
//    never two at once, so it may keep state (a reader) without locking; it
//    must not touch anything `consume` touches.
//  - consume: (Chunk&) -> Result<void>; always on the calling thread.
//
// Stops at the first error from either, returning it; when consume fails,
// the chunk being made ahead is finished (bounded: one chunk) and dropped.
// An exception from produce is rethrown on the calling thread, unless
// consume already failed. No thread is left running on any return or throw.
template <class Chunk, class Produce, class Consume>
Result<void> run_pipelined(Produce&& produce, Consume&& consume) {
  Result<std::optional<Chunk>> current = produce();
  for (;;) {
    if (!current) return std::unexpected(current.error());
    if (!*current) return {};
    Result<std::optional<Chunk>> next{std::nullopt};
    BackgroundTask ahead([&] { next = produce(); });
    Result<void> r = consume(**current);
    std::exception_ptr thrown = ahead.wait();
    if (!r) return r;
    if (thrown) std::rethrow_exception(thrown);
    current = std::move(next);
  }
}

}  // namespace rempart::services
