#pragma once
// Overlaps the CPU-bound preparation of a bulk write (parsing, validation,
// blind indexes, sealing) with the transaction of the chunk before it, on a
// 2-core keeper. Transactions stay on the calling thread and in order; one
// worker thread prepares at most one chunk ahead. Not a thread pool: one
// thread runs the look-aheads of a pipeline one after another.
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "core/error.hpp"
#include "core/mutex.hpp"

namespace rempart::services {

// One thread kept for many background tasks, run one at a time. A thread
// started per task costs its creation and, when it ends, the allocator
// handing back that thread's caches (an madvise, so a TLB shootdown on
// every core): a pipelined import paid that for every chunk. (The keeper's
// fold still starts one per pass, for the reason given in folder.cpp.) The
// thread starts with the first task and is joined by the destructor, which
// first lets a task still running finish. Tasks are given to it through
// BackgroundTask. Not thread-safe: one owning thread posts and waits.
class Worker {
 public:
  Worker() = default;
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

 private:
  friend class BackgroundTask;
  // Hands `fn` to the thread (starting it if need be). Throws
  // std::logic_error if the task posted before has not been waited for,
  // std::system_error if the thread cannot be started; nothing runs then.
  void post(std::function<void()> fn);
  // Blocks until the task posted last has returned; gives what it threw.
  std::exception_ptr wait() noexcept;
  void loop() noexcept;

  Mutex mu_;
  std::condition_variable cv_;
  std::function<void()> task_ REMPART_GUARDED_BY(mu_);  // posted, not yet taken
  bool busy_ REMPART_GUARDED_BY(mu_) = false;  // posted, not yet returned
  bool stopping_ REMPART_GUARDED_BY(mu_) = false;
  std::exception_ptr error_ REMPART_GUARDED_BY(mu_);  // what the last task threw
  std::thread thread_;
};

// Runs one function in the background: on a thread of its own, or on a
// Worker. The function has always returned once the task is gone: wait()
// or, on every other path (early return, exception), the destructor waits
// for it. An exception thrown by the function is caught where it runs (none
// escapes) and handed back by wait().
class BackgroundTask {
 public:
  // Starts `fn` at once on a new thread. Throws std::system_error if no
  // thread can be started (nothing then runs).
  explicit BackgroundTask(std::function<void()> fn);
  // Starts `fn` at once on `worker`, which must outlive the task and have
  // no other task running (std::logic_error otherwise; nothing then runs).
  BackgroundTask(Worker& worker, std::function<void()> fn);
  // Waits; an exception not collected by wait() is dropped.
  ~BackgroundTask();
  BackgroundTask(const BackgroundTask&) = delete;
  BackgroundTask& operator=(const BackgroundTask&) = delete;

  // Blocks until the function has returned, then gives what it threw
  // (null if it returned normally). Later calls return null at once.
  // Call from the thread that made the task.
  std::exception_ptr wait() noexcept;

 private:
  Worker* worker_ = nullptr;  // set while a task on a worker is not waited for
  std::exception_ptr error_;  // written by the thread, read after join
  std::thread thread_;
};

// Feeds chunks from `produce` to `consume` in order, making chunk k+1 on a
// worker thread (one for the whole run) while `consume` handles chunk k on
// the calling thread.
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
  Worker worker;  // one thread for every look-ahead of this pipeline
  Result<std::optional<Chunk>> current = produce();
  for (;;) {
    if (!current) return std::unexpected(current.error());
    if (!*current) return {};
    Result<std::optional<Chunk>> next{std::nullopt};
    BackgroundTask ahead(worker, [&] { next = produce(); });
    Result<void> r = consume(**current);
    std::exception_ptr thrown = ahead.wait();
    if (!r) return r;
    if (thrown) std::rethrow_exception(thrown);
    current = std::move(next);
  }
}

}  // namespace rempart::services
