#pragma once
// A mutex clang's thread-safety analysis understands. A member a mutex
// guards says so with REMPART_GUARDED_BY(mu_); clang (-Wthread-safety, an
// error in the clang build that scripts/fuzz makes) then refuses any access
// to it without the mutex held. Other compilers see plain std::mutex code.
//
// Condition waits go through MutexLock::wait, written as a loop at the
// call site (`while (!ready_) lock.wait(cv_);`): a predicate lambda would be
// analysed as a function of its own, outside the lock.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <utility>

#if defined(__clang__)
#define REMPART_TSA(x) __attribute__((x))
#else
#define REMPART_TSA(x)
#endif

#define REMPART_CAPABILITY(x) REMPART_TSA(capability(x))
#define REMPART_SCOPED_CAPABILITY REMPART_TSA(scoped_lockable)
#define REMPART_GUARDED_BY(x) REMPART_TSA(guarded_by(x))
#define REMPART_REQUIRES(...) REMPART_TSA(requires_capability(__VA_ARGS__))
#define REMPART_ACQUIRE(...) REMPART_TSA(acquire_capability(__VA_ARGS__))
#define REMPART_RELEASE(...) REMPART_TSA(release_capability(__VA_ARGS__))
#define REMPART_EXCLUDES(...) REMPART_TSA(locks_excluded(__VA_ARGS__))

namespace rempart {

class REMPART_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() REMPART_ACQUIRE() { m_.lock(); }
  void unlock() REMPART_RELEASE() { m_.unlock(); }

 private:
  friend class MutexLock;
  std::mutex m_;
};

// Holds a Mutex for its scope, like std::unique_lock.
class REMPART_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& m) REMPART_ACQUIRE(m) : lock_(m.m_) {}
  ~MutexLock() REMPART_RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Releases the mutex until `cv` is notified (or wakes spuriously), then
  // holds it again. `cv` is a std::condition_variable or _any.
  template <class CV>
  void wait(CV& cv) {
    cv.wait(lock_);
  }
  // The same on a condition_variable_any, returning early once `stop` is
  // requested.
  void wait(std::condition_variable_any& cv, std::stop_token stop) {
    bool woke = false;  // the predicate holds after one wait: a wait, not a loop
    cv.wait(lock_, std::move(stop), [&woke] { return std::exchange(woke, true); });
  }
  // Sleeps until `t`, or until `stop` is requested (`cv` is notified by the
  // stop request itself).
  template <class Clock, class Duration>
  void sleep_until(std::condition_variable_any& cv, std::stop_token stop,
                   std::chrono::time_point<Clock, Duration> t) {
    cv.wait_until(lock_, std::move(stop), t, [] { return false; });
  }
  // The same, until `t` at the latest; false if the time ran out.
  template <class CV, class Clock, class Duration>
  bool wait_until(CV& cv, std::chrono::time_point<Clock, Duration> t) {
    return cv.wait_until(lock_, t) == std::cv_status::no_timeout;
  }
  // Lets go of the mutex before the scope ends, and takes it back.
  void unlock() REMPART_RELEASE() { lock_.unlock(); }
  void lock() REMPART_ACQUIRE() { lock_.lock(); }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace rempart
