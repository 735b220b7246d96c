// Retention of sqlite_store: max count (oldest dropped), max age and per-message expiry, with an
// injected clock.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "broker/store/sqlite_store.hpp"
#include "store_fixture.hpp"

namespace {

using broker::store::retention;
using broker::store::sqlite_options;
using broker::store::sqlite_store;
using broker::store::stored_message;
using store_test::append_sync;
using store_test::options_in;
using store_test::temp_dir;
using namespace std::chrono_literals;

std::vector<std::string> ids_of(const std::vector<stored_message>& messages) {
  std::vector<std::string> ids;
  for (const auto& m : messages) ids.push_back(m.message_id);
  return ids;
}

// A clock the test moves by hand, shared with the store.
struct manual_clock {
  std::shared_ptr<std::atomic<std::int64_t>> now =
      std::make_shared<std::atomic<std::int64_t>>(1'700'000'000'000);
  std::function<std::int64_t()> fn() const {
    return [now = now] { return now->load(); };
  }
  void advance(std::chrono::milliseconds d) { *now += d.count(); }
};

TEST(Retention, DefaultsAreAThousandMessagesAndSevenDays) {
  retention r;
  EXPECT_EQ(r.max_count, 1000u);
  EXPECT_EQ(r.max_age, std::chrono::hours(24 * 7));
}

TEST(Retention, OverflowDropsTheOldestAndCountsIt) {
  temp_dir dir;
  auto o = options_in(dir);
  o.policy.max_count = 3;
  sqlite_store s(o);
  for (int i = 0; i < 5; ++i) append_sync(s, "q", "m" + std::to_string(i), "x");
  append_sync(s, "other", "o0", "x");
  EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"m2", "m3", "m4"}));
  EXPECT_EQ(ids_of(s.load("other", 0, 10)), (std::vector<std::string>{"o0"}));
  EXPECT_EQ(s.stats().dropped_overflow, 2u);
}

TEST(Retention, OverflowWithinOneBatchKeepsTheNewest) {
  temp_dir dir;
  auto o = options_in(dir);
  o.policy.max_count = 10;
  {
    sqlite_store s(o);
    for (int i = 0; i < 100; ++i) s.append("q", "m" + std::to_string(i), "x", 0, nullptr);
    s.flush();
    auto loaded = s.load("q", 0, 1000);
    ASSERT_EQ(loaded.size(), 10u);
    EXPECT_EQ(loaded.front().message_id, "m90");
    EXPECT_EQ(loaded.back().message_id, "m99");
    EXPECT_EQ(s.stats().dropped_overflow, 90u);
  }
  sqlite_store reopened(options_in(dir));  // the drop is on disk too
  EXPECT_EQ(reopened.load("q", 0, 1000).size(), 10u);
}

TEST(Retention, SetRetentionAppliesOnTheNextAppend) {
  temp_dir dir;
  sqlite_store s(options_in(dir));
  for (int i = 0; i < 5; ++i) append_sync(s, "q", "m" + std::to_string(i), "x");
  s.set_retention({2, 0ms});
  append_sync(s, "q", "m5", "x");
  EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"m4", "m5"}));
  EXPECT_EQ(s.stats().dropped_overflow, 4u);
}

TEST(Retention, ZeroMaxCountKeepsEverything) {
  temp_dir dir;
  auto o = options_in(dir);
  o.policy.max_count = 0;
  sqlite_store s(o);
  for (int i = 0; i < 1200; ++i) s.append("q", "m", "x", 0, nullptr);
  s.flush();
  EXPECT_EQ(s.load("q", 0, 5000).size(), 1200u);
  EXPECT_EQ(s.stats().dropped_overflow, 0u);
}

TEST(Retention, MessagesOlderThanMaxAgeAreNotLoadedAndAreDropped) {
  temp_dir dir;
  manual_clock clock;
  auto o = options_in(dir);
  o.now_ms = clock.fn();
  o.policy.max_age = 1000ms;
  sqlite_store s(o);
  append_sync(s, "q", "old", "x");
  clock.advance(600ms);
  append_sync(s, "q", "young", "x");
  clock.advance(600ms);  // "old" is 1200 ms old, "young" 600 ms
  EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"young"}));
  s.flush();  // the load asked the writer to purge
  EXPECT_EQ(s.stats().dropped_expired, 1u);
  clock.advance(600ms);
  EXPECT_TRUE(s.load("q", 0, 10).empty());
  s.flush();
  EXPECT_EQ(s.stats().dropped_expired, 2u);
}

TEST(Retention, ExpiredRowsAreDeletedFromDisk) {
  temp_dir dir;
  manual_clock clock;
  auto o = options_in(dir);
  o.now_ms = clock.fn();
  o.policy.max_age = 1000ms;
  {
    sqlite_store s(o);
    append_sync(s, "q", "old", "x");
    clock.advance(2000ms);
    EXPECT_TRUE(s.load("q", 0, 10).empty());
    s.flush();
  }
  // Reopened with no age limit and the clock back: the row is gone, not merely filtered.
  o.policy.max_age = 0ms;
  *clock.now = 0;
  sqlite_store reopened(o);
  EXPECT_TRUE(reopened.load("q", 0, 10).empty());
}

TEST(Retention, PerMessageExpiryHidesAndDropsIt) {
  temp_dir dir;
  manual_clock clock;
  auto o = options_in(dir);
  o.now_ms = clock.fn();
  sqlite_store s(o);
  const std::int64_t t0 = *clock.now;
  append_sync(s, "q", "short", "x", t0 + 100);
  append_sync(s, "q", "long", "x", t0 + 10'000);
  append_sync(s, "q", "never", "x", 0);
  EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"short", "long", "never"}));
  clock.advance(200ms);
  EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"long", "never"}));
  s.flush();
  EXPECT_EQ(s.stats().dropped_expired, 1u);
}

TEST(Retention, LoadFillsMaxPastExpiredMessages) {
  temp_dir dir;
  manual_clock clock;
  auto o = options_in(dir);
  o.now_ms = clock.fn();
  sqlite_store s(o);
  const std::int64_t t0 = *clock.now;
  for (int i = 0; i < 5; ++i) append_sync(s, "q", "gone" + std::to_string(i), "x", t0 + 1);
  for (int i = 0; i < 3; ++i) append_sync(s, "q", "kept" + std::to_string(i), "x");
  clock.advance(10ms);
  EXPECT_EQ(ids_of(s.load("q", 0, 2)), (std::vector<std::string>{"kept0", "kept1"}));
}

TEST(Retention, PeriodicPurgeRunsWithoutLoads) {
  temp_dir dir;
  manual_clock clock;
  auto o = options_in(dir);
  o.now_ms = clock.fn();
  o.policy.max_age = 1000ms;
  o.purge_interval = 1ms;  // the idle writer wakes up to purge
  sqlite_store s(o);
  append_sync(s, "q", "old", "x");
  clock.advance(2000ms);
  // No load, no append: only the periodic purge can drop it. Wait for it (bounded, generous).
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (s.stats().dropped_expired == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(s.stats().dropped_expired, 1u);
}

}  // namespace
