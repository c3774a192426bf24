#pragma once
// Test-only: a keyring and a SQLite store in a fresh temporary directory.
#include <filesystem>
#include <random>
#include <string>

#include <unistd.h>

#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::services::testing {

struct Fixture {
  std::filesystem::path dir;
  std::filesystem::path db;
  std::filesystem::path keys;

  Fixture() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() /
          ("rempart-services-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(dir / "data");
    db = dir / "data" / "rempart.db";
    keys = dir / "keys";
    if (!crypto::init() || !crypto::create_keyrings(keys)) throw std::runtime_error("keyring set-up failed");
  }
  ~Fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  crypto::KeeperKeyring keeper_keys() const { return std::move(crypto::load_keeper_keyring(keys).value()); }
  crypto::IntakeKeyring intake_keys() const { return crypto::load_intake_keyring(keys).value(); }
};

}  // namespace rempart::services::testing
