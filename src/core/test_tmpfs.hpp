#pragma once
// TEST-ONLY: a small tmpfs of a test's own, for what a full disk does
// (services/disk_reserve_test.cpp, tests/integration/disk_reserve_test.cpp).
//
// Mounting needs CAP_SYS_ADMIN (root in the test container). The mount is
// made in a mount namespace private to the calling thread
// (unshare(CLONE_NEWNS), propagation private), so that only this process
// and the children it starts from this thread see it, never the rest of
// the machine, and the kernel drops it with the process even when the
// process is killed; the destructor unmounts it all the same. A test that
// cannot mount skips, saying why (why_not()).
#include <sched.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

namespace rempart::core::testing {

class ScopedTmpfs {
 public:
  ScopedTmpfs(const std::filesystem::path& dir, std::uint64_t bytes) : dir_(dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
      why_not_ = "cannot make the mount point: " + ec.message();
      return;
    }
    if (::unshare(CLONE_NEWNS) != 0) {
      why_not_ = "unshare(CLONE_NEWNS) failed (" + std::generic_category().message(errno) +
                 "): mounting a tmpfs needs root with CAP_SYS_ADMIN";
      return;
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      why_not_ = "cannot make the mount namespace private (" + std::generic_category().message(errno) + ")";
      return;
    }
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      why_not_ = "mount -t tmpfs failed (" + std::generic_category().message(errno) +
                 "): mounting a tmpfs needs root with CAP_SYS_ADMIN";
      return;
    }
    mounted_ = true;
  }
  ~ScopedTmpfs() {
    if (!mounted_) return;
    // Lazily if something still holds a file open on it (a child that
    // outlived a failed test): it goes once that is closed.
    if (::umount2(dir_.c_str(), 0) != 0) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  ScopedTmpfs(const ScopedTmpfs&) = delete;
  ScopedTmpfs& operator=(const ScopedTmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& why_not() const { return why_not_; }
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
  std::string why_not_;
};

}  // namespace rempart::core::testing
