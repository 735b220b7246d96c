#pragma once
// Shared by the Redis store tests: one redis-server per test suite (AOF, fsync always, in a temp
// dir), a key prefix per test so tests never see each other's keys, and a manual clock.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/store/redis_store.hpp"
#include "store_fixture.hpp"
#include "tests/support/redis_server.hpp"

namespace store_test {

/// The parsed form of a redis:// URL the test built (cluster/redis/options.hpp).
inline cluster::redis::options endpoint(const std::string& url) {
  cluster::redis::options o;
  std::string why;
  if (cluster::redis::parse_url(url, o, why)) ADD_FAILURE() << url << ": " << why;
  return o;
}

/// A clock the test moves by hand, shared with the store.
struct manual_wall_clock {
  std::shared_ptr<std::atomic<std::int64_t>> now_ms =
      std::make_shared<std::atomic<std::int64_t>>(1'700'000'000'000);
  std::function<std::chrono::system_clock::time_point()> fn() const {
    return [now = now_ms] {
      return std::chrono::system_clock::time_point(std::chrono::milliseconds(now->load()));
    };
  }
  void advance(std::chrono::milliseconds d) { *now_ms += d.count(); }
};

/// Polls `done` (bounded, generous): for state that changes on the store's own thread.
template <typename Pred>
bool eventually(Pred done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

/// Base of the Redis suites: the server is shared by the suite's tests.
class redis_suite : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    if (test_support::redis_server::executable().empty()) return;
    dir_ = std::make_unique<temp_dir>();
    server_ = std::make_unique<test_support::redis_server>(dir_->str());
    server_->start();
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }

 protected:
  void SetUp() override {
    if (!server_) GTEST_SKIP() << "redis-server not found: apt-get install redis-server";
  }

  /// Options for this test's own keys on the suite's server; quick reconnects.
  static cluster::redis_store_options options() {
    cluster::redis_store_options o;
    o.url = server_->url();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    o.key_prefix = std::string("t:") + info->test_suite_name() + "." + info->name() + ":";
    o.reconnect_max = std::chrono::milliseconds(200);
    return o;
  }

  static test_support::redis_server& server() { return *server_; }

 private:
  static inline std::unique_ptr<temp_dir> dir_;
  static inline std::unique_ptr<test_support::redis_server> server_;
};

}  // namespace store_test
