#include "services/prepare_pipeline.hpp"

namespace rempart::services {

BackgroundTask::BackgroundTask(std::function<void()> fn)
    : thread_([this, f = std::move(fn)]() noexcept {
        try {
          f();
        } catch (...) {
          error_ = std::current_exception();
        }
      }) {}

BackgroundTask::~BackgroundTask() {
  if (thread_.joinable()) thread_.join();
}

std::exception_ptr BackgroundTask::wait() noexcept {
  if (!thread_.joinable()) return nullptr;
  thread_.join();
  return std::exchange(error_, nullptr);
}

}  // namespace rempart::services
