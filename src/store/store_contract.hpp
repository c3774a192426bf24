#pragma once
// Test-only: the behaviour every store backend must show, written once
// against the interfaces of store.hpp (store_contract_test.cpp) and run for
// each backend by instantiating StoreContract in that backend's test file:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContract, ::testing::Values(backend),
//                            backend_name);
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "store/backend.hpp"
#include "store/store.hpp"

namespace rempart::store::test_support {

// A backend under test: `make` gives a fresh, empty database of it (its
// records and its inbox) each call. Every open_* call opens a new store on
// that same database.
struct BackendCase {
  std::string name;
  std::function<std::unique_ptr<Backend>()> make;
};

inline void PrintTo(const BackendCase& b, std::ostream* os) { *os << b.name; }
inline std::string backend_name(const ::testing::TestParamInfo<BackendCase>& info) { return info.param.name; }

class StoreContract : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override {
    db_ = GetParam().make();
    ASSERT_NE(db_, nullptr);
    auto in = db_->open_intake();
    ASSERT_TRUE(in.has_value()) << in.error().internal;
    intake_ = std::move(*in);
    auto ib = db_->open_inbox();
    ASSERT_TRUE(ib.has_value()) << ib.error().internal;
    inbox_ = std::move(*ib);
    auto kp = db_->open_keeper();
    ASSERT_TRUE(kp.has_value()) << kp.error().internal;
    keeper_ = std::move(*kp);
  }

  std::unique_ptr<Backend> db_;
  std::unique_ptr<IntakeStore> intake_;
  std::unique_ptr<InboxStore> inbox_;
  std::unique_ptr<KeeperStore> keeper_;
};

}  // namespace rempart::store::test_support
