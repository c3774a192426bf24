#pragma once
// A fixed set of threads for the console's blocking work (SQLite, Argon2id),
// so the HTTP threads never wait on either. Each thread owns one Worker —
// its own KeeperStore, AccountService and Directory — because a store
// belongs to one thread at a time.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/mutex.hpp"
#include "auth/accounts.hpp"
#include "core/error.hpp"
#include "services/call_lists.hpp"
#include "services/casework.hpp"
#include "services/directory.hpp"
#include "services/exports.hpp"
#include "services/mailings.hpp"
#include "services/segments.hpp"
#include "store/store.hpp"

namespace rempart::console {

struct Worker {
  std::unique_ptr<store::KeeperStore> store;
  std::unique_ptr<auth::AccountService> accounts;
  std::unique_ptr<services::Directory> directory;
  std::unique_ptr<services::Casework> casework;  // the record page's writes
  std::unique_ptr<services::Exports> exports;
  std::unique_ptr<services::Segments> segments;  // made on first use (segment_routes.cpp)
  std::unique_ptr<services::CallLists> calls;
  std::unique_ptr<services::Mailings> mailings;  // made on first use (mailing_routes.cpp)
};

using WorkerFactory = std::function<Result<std::unique_ptr<Worker>>()>;

class WorkerPool {
 public:
  using Job = std::function<void(Worker&)>;

  // Makes `threads` workers with `make` (all before any thread starts, so a
  // failure leaves nothing running) and starts the threads. At most
  // `max_queued` jobs wait; past that post() refuses.
  static Result<std::unique_ptr<WorkerPool>> start(std::size_t threads, std::size_t max_queued,
                                                   const WorkerFactory& make);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job`; false when the queue is full or the pool stopped (the job
  // is then not run). Thread-safe.
  bool post(Job job);
  // Runs the jobs already queued, then joins the threads. Idempotent; not
  // from a worker thread.
  void stop();

 private:
  WorkerPool() = default;
  void run(Worker& w);

  Mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_ REMPART_GUARDED_BY(mu_);
  std::size_t max_queued_ = 0;  // set before the threads start
  bool stopping_ REMPART_GUARDED_BY(mu_) = false;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace rempart::console
