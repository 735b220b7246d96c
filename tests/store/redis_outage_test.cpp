// redis_store when Redis fails: killed (kill -9) and restarted on the same AOF, hung (SIGSTOP),
// full (maxmemory with noeviction), and the destructor with Redis gone. Each test owns its
// redis-server.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "cluster/store/detail/redis_link.hpp"
#include "cluster/store/redis_store.hpp"
#include "redis_fixture.hpp"

namespace {

using cluster::redis_store;
using cluster::redis_store_options;
using store_test::append_sync;
using store_test::eventually;
using store_test::ids_of;
using namespace std::chrono_literals;

// Each test owns its redis-server: it kills, restarts or pauses it.
class RedisStoreOutage : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test_support::redis_server::executable().empty()) {
      GTEST_SKIP() << "redis-server not found: apt-get install redis-server";
    }
    server_ = std::make_unique<test_support::redis_server>(dir_.str());
    server_->start();
  }
  redis_store_options options() const {
    redis_store_options o;
    o.url = server_->url();
    o.reconnect_max = 200ms;
    o.command_timeout = 1000ms;
    return o;
  }
  store_test::temp_dir dir_;
  std::unique_ptr<test_support::redis_server> server_;
};

TEST_F(RedisStoreOutage, KilledRedisFailsAppendsThenRestartedRedisHasTheData) {
  redis_store s(options());
  ASSERT_TRUE(s.writable());
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < 5; ++i) seqs.push_back(append_sync(s, "q", "m" + std::to_string(i), "x").seq);
  s.remove("q", seqs[0]);
  s.flush();
  server_->kill();
  // Idle: no append tells the store; its PING does, so /readyz goes not-ready by itself.
  EXPECT_TRUE(eventually([&] { return !s.writable(); }));
  for (int i = 0; i < 3; ++i) {  // never a false success
    auto r = append_sync(s, "q", "lost" + std::to_string(i), "x");
    EXPECT_TRUE(r.ec);
    EXPECT_EQ(r.seq, 0u);
  }
  EXPECT_FALSE(s.writable());
  std::error_code ec;
  EXPECT_TRUE(s.load("q", 0, 10, ec).empty());
  EXPECT_TRUE(ec);
  std::promise<std::error_code> async_ec;
  s.load_async("q", 0, 10, [&](auto, std::error_code e) { async_ec.set_value(e); });
  EXPECT_TRUE(async_ec.get_future().get());
  EXPECT_EQ(s.stats().append_failures, 3u);

  server_->start();  // same port and dir: the AOF is replayed
  ASSERT_TRUE(eventually([&] { return s.writable(); }));
  auto after = append_sync(s, "q", "after", "x");
  ASSERT_FALSE(after.ec) << after.ec.message();
  EXPECT_GT(after.seq, seqs.back());  // the counter survived too
  std::vector<broker::store::stored_message> loaded;
  ASSERT_TRUE(eventually([&] {  // the reader reconnects after its own short backoff
    std::error_code load_ec;
    loaded = s.load("q", 0, 10, load_ec);
    return !load_ec;
  }));
  EXPECT_EQ(ids_of(loaded), (std::vector<std::string>{"m1", "m2", "m3", "m4", "after"}));
}

TEST_F(RedisStoreOutage, HungRedisTimesOutInsteadOfBlocking) {
  auto o = options();
  o.command_timeout = 300ms;
  redis_store s(o);
  ASSERT_FALSE(append_sync(s, "q", "before", "x").ec);
  server_->pause();
  auto r = append_sync(s, "q", "unknown", "x");
  EXPECT_EQ(r.ec, broker::store::error::timed_out);
  EXPECT_FALSE(s.writable());
  server_->resume();
  ASSERT_TRUE(eventually([&] { return s.writable(); }));
  EXPECT_FALSE(append_sync(s, "q", "after", "x").ec);
  // "unknown" timed out after it was sent: Redis may have stored it (a duplicate, never a loss).
  const auto ids = ids_of(s.load("q", 0, 10));
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids.front(), "before");
  EXPECT_EQ(ids.back(), "after");
}

TEST_F(RedisStoreOutage, DestructorFailsWhatItCannotSendAndReturns) {
  std::atomic<int> failed{0}, succeeded{0};
  {
    redis_store s(options());
    ASSERT_TRUE(s.writable());
    server_->kill();
    for (int i = 0; i < 50; ++i) {
      s.append("q", "m", "x", 0,
               [&](std::error_code ec, std::uint64_t) { ++(ec ? failed : succeeded); });
    }
  }
  EXPECT_EQ(failed.load(), 50);
  EXPECT_EQ(succeeded.load(), 0);
}

// Redis at maxmemory with noeviction refuses writes: the appends fail (never a false success)
// with the "full" code, and succeed again once there is room.
TEST_F(RedisStoreOutage, FullRedisRefusesAppendsWithDiskFullThenAcceptsThemAgain) {
  redis_store s(options());
  ASSERT_FALSE(append_sync(s, "q", "before", "x").ec);
  cluster::detail::redis_link admin(
      store_test::endpoint(server_->url()), 2s);
  ASSERT_FALSE(admin.connect());
  std::error_code ec;
  admin.command({"CONFIG", "SET", "maxmemory", "1"}, ec);
  ASSERT_FALSE(ec);
  auto refused = append_sync(s, "q", "refused", "x");
  EXPECT_EQ(refused.ec, broker::store::error::disk_full);
  EXPECT_EQ(refused.seq, 0u);
  EXPECT_FALSE(s.writable());
  admin.command({"CONFIG", "SET", "maxmemory", "0"}, ec);
  ASSERT_FALSE(ec);
  EXPECT_FALSE(append_sync(s, "q", "after", "x").ec);
  EXPECT_TRUE(s.writable());
  EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"before", "after"}));
}

}  // namespace
