#include "console/worker_pool.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

namespace rempart::console {

Result<std::unique_ptr<WorkerPool>> WorkerPool::start(std::size_t threads, std::size_t max_queued,
                                                      const WorkerFactory& make) {
  if (threads == 0 || max_queued == 0) return fail(Errc::config, "console: worker pool needs threads and a queue");
  std::unique_ptr<WorkerPool> pool(new WorkerPool());
  pool->max_queued_ = max_queued;
  for (std::size_t i = 0; i < threads; ++i) {
    auto w = make();
    if (!w) return std::unexpected(w.error());
    pool->workers_.push_back(std::move(*w));
  }
  for (auto& w : pool->workers_) {
    pool->threads_.emplace_back([p = pool.get(), wp = w.get()] { p->run(*wp); });
  }
  return pool;
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::post(Job job) {
  {
    MutexLock lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::stop() {
  {
    MutexLock lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void WorkerPool::run(Worker& w) {
  for (;;) {
    Job job;
    {
      MutexLock lock(mu_);
      while (!stopping_ && queue_.empty()) lock.wait(cv_);
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      job(w);
    } catch (const std::exception&) {
      // A job that throws is a bug of ours; its Responder, dropped unanswered,
      // closes the connection. The text may hold anything: not logged.
      spdlog::error("console: a request job threw");
    }
  }
}

}  // namespace rempart::console
