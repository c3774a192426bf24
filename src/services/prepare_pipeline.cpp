#include "services/prepare_pipeline.hpp"

#include <stdexcept>

namespace rempart::services {

Worker::~Worker() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Worker::post(std::function<void()> fn) {
  MutexLock lock(mu_);
  if (busy_) throw std::logic_error("Worker::post: the previous task was not waited for");
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });  // may throw: nothing posted yet
  task_ = std::move(fn);
  busy_ = true;
  error_ = nullptr;
  lock.unlock();
  cv_.notify_all();
}

std::exception_ptr Worker::wait() noexcept {
  MutexLock lock(mu_);
  while (busy_) lock.wait(cv_);
  return std::exchange(error_, nullptr);
}

void Worker::loop() noexcept {
  MutexLock lock(mu_);
  for (;;) {
    // A task posted before the destructor ran is still run.
    while (task_ == nullptr && !stopping_) lock.wait(cv_);
    if (task_ == nullptr) return;
    std::function<void()> fn = std::exchange(task_, nullptr);
    lock.unlock();
    std::exception_ptr thrown;
    try {
      fn();
    } catch (...) {
      thrown = std::current_exception();
    }
    fn = nullptr;  // what the task captured is released before waiters resume
    lock.lock();
    error_ = thrown;
    busy_ = false;
    cv_.notify_all();
  }
}

BackgroundTask::BackgroundTask(std::function<void()> fn)
    : thread_([this, f = std::move(fn)]() noexcept {
        try {
          f();
        } catch (...) {
          error_ = std::current_exception();
        }
      }) {}

BackgroundTask::BackgroundTask(Worker& worker, std::function<void()> fn) {
  worker.post(std::move(fn));
  worker_ = &worker;
}

BackgroundTask::~BackgroundTask() {
  if (worker_ != nullptr) (void)worker_->wait();
  if (thread_.joinable()) thread_.join();
}

std::exception_ptr BackgroundTask::wait() noexcept {
  if (worker_ != nullptr) return std::exchange(worker_, nullptr)->wait();
  if (!thread_.joinable()) return nullptr;
  thread_.join();
  return std::exchange(error_, nullptr);
}

}  // namespace rempart::services
