// redis_store's delivered marks in Redis itself: the sorted set beside each stream only ever
// holds seqs of entries that exist (remove, trim, expiry and the sweep take marks along), and a
// load finds every mark even past stale ones. (Marks as load reports them, and across a new
// store object, are the typed RedisStoreContract tests.)
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "cluster/store/detail/redis_link.hpp"
#include "cluster/store/redis_store.hpp"
#include "redis_fixture.hpp"

namespace {

using cluster::redis_store;
using cluster::detail::redis_link;
using store_test::append_sync;
using store_test::delivered_of;
using store_test::eventually;
using store_test::ids_of;
using store_test::manual_wall_clock;
using namespace std::chrono_literals;

class RedisStoreDelivered : public store_test::redis_suite {
 protected:
  void SetUp() override {
    store_test::redis_suite::SetUp();
    if (IsSkipped()) return;
    admin_ = std::make_unique<redis_link>(
        store_test::endpoint(server().url()), 2s);
    ASSERT_FALSE(admin_->connect());
  }

  /// A command on our own connection; its integer reply (-1 when it failed).
  long long integer(const std::vector<std::string_view>& args) {
    std::error_code ec;
    auto r = admin_->command(args, ec);
    return ec ? -1 : r->integer;
  }
  long long marks_of(const cluster::redis_store_options& o, const std::string& queue) {
    return integer({"ZCARD", o.key_prefix + "dl:" + queue});
  }

  std::unique_ptr<redis_link> admin_;
};

TEST_F(RedisStoreDelivered, MarksLeaveWithRemovedAndTrimmedEntries) {
  auto o = options();
  o.keep.max_count = 3;
  redis_store s(o);
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < 3; ++i) seqs.push_back(append_sync(s, "q", "m" + std::to_string(i), "x").seq);
  for (auto seq : seqs) s.mark_delivered("q", seq);
  s.mark_delivered("q", 999'999'999);  // no such entry: no mark
  s.flush();
  EXPECT_EQ(marks_of(o, "q"), 3);
  s.remove("q", seqs[1]);
  s.flush();
  EXPECT_EQ(marks_of(o, "q"), 2);
  append_sync(s, "q", "m3", "x");  // three live entries: nothing trimmed
  EXPECT_EQ(marks_of(o, "q"), 2);
  append_sync(s, "q", "m4", "x");  // trims m0
  EXPECT_EQ(marks_of(o, "q"), 1);
  auto loaded = s.load("q", 0, 10);
  EXPECT_EQ(ids_of(loaded), (std::vector<std::string>{"m2", "m3", "m4"}));
  EXPECT_EQ(delivered_of(loaded), (std::vector<bool>{true, false, false}));
}

TEST_F(RedisStoreDelivered, MarksLeaveWithExpiredEntries) {
  manual_wall_clock clock;
  auto o = options();
  o.clock = clock.fn();
  redis_store s(o);
  const auto seq = append_sync(s, "q", "short", "x", *clock.now_ms + 100).seq;
  append_sync(s, "q", "long", "x");
  s.mark_delivered("q", seq);
  s.flush();
  EXPECT_EQ(marks_of(o, "q"), 1);
  clock.advance(200ms);
  EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"long"}));
  s.flush();  // the load handed "short" to the worker for deletion
  EXPECT_EQ(s.stats().dropped_expired, 1u);
  EXPECT_EQ(marks_of(o, "q"), 0);
  EXPECT_EQ(integer({"EXISTS", o.key_prefix + "dl:q"}), 0);
}

TEST_F(RedisStoreDelivered, TheSweepDropsTheMarksOfAnEmptiedQueue) {
  auto o = options();
  o.purge_interval = 1ms;
  redis_store s(o);
  const auto seq = append_sync(s, "q", "m0", "x").seq;
  // A stale mark, as a node without marks would leave when it XDELs the entry.
  integer({"ZADD", o.key_prefix + "dl:q", std::to_string(seq), std::to_string(seq)});
  integer({"XDEL", o.key_prefix + "uq:q", std::to_string(seq) + "-0"});
  EXPECT_TRUE(eventually([&] { return integer({"EXISTS", o.key_prefix + "uq:q"}) == 0; }));
  EXPECT_EQ(integer({"EXISTS", o.key_prefix + "dl:q"}), 0);
}

// Stale marks (entries deleted by a node that knows nothing of marks) fill the page of marks a
// load reads beside a page of entries; the marks of the page's later entries are still found.
TEST_F(RedisStoreDelivered, StaleMarksDoNotHideTheMarksBehindThem) {
  auto o = options();
  redis_store s(o);
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < 4; ++i) seqs.push_back(append_sync(s, "q", "m" + std::to_string(i), "x").seq);
  for (int i = 1; i < 4; ++i) s.mark_delivered("q", seqs[i]);
  s.flush();
  for (int i = 1; i < 3; ++i)
    integer({"XDEL", o.key_prefix + "uq:q", std::to_string(seqs[i]) + "-0"});
  auto page = s.load("q", 0, 2);  // entries m0, m3; the first two marks are m1's and m2's
  EXPECT_EQ(ids_of(page), (std::vector<std::string>{"m0", "m3"}));
  EXPECT_EQ(delivered_of(page), (std::vector<bool>{false, true}));
}

}  // namespace
