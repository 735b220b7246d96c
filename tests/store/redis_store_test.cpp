// redis_store on a real redis-server: two nodes sharing one Redis, the periodic sweep, SCRIPT
// FLUSH, the url, batch sizes, start-up with Redis unreachable, and a throughput print. (Redis
// killed, hung or full: redis_outage_test.cpp.)
// (Order, paging, retention, remove, binary payloads, load_async and reopening are the typed
// RedisStoreContract tests, run on both engines.)
#include "cluster/store/redis_store.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cluster/store/detail/redis_link.hpp"
#include "redis_fixture.hpp"

namespace {

using cluster::redis_store;
using cluster::redis_store_options;
using store_test::append_sync;
using store_test::eventually;
using store_test::ids_of;
using store_test::manual_wall_clock;
using namespace std::chrono_literals;

class RedisStore : public store_test::redis_suite {};

TEST_F(RedisStore, TwoNodesShareOneIncreasingSeqAndSeeEachOthersMessages) {
  redis_store a(options()), b(options());
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < 10; ++i) {
    auto& node = i % 2 == 0 ? a : b;
    auto r = append_sync(node, "alice/queue/n", "m" + std::to_string(i), "x");
    ASSERT_FALSE(r.ec) << r.ec.message();
    seqs.push_back(r.seq);
  }
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  EXPECT_EQ(std::adjacent_find(seqs.begin(), seqs.end()), seqs.end());
  const std::vector<std::string> all{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"};
  EXPECT_EQ(ids_of(a.load("alice/queue/n", 0, 100)), all);
  EXPECT_EQ(ids_of(b.load("alice/queue/n", 0, 100)), all);
}

TEST_F(RedisStore, ConcurrentNodesKeepEachQueueInSeqOrder) {
  redis_store a(options()), b(options());
  std::atomic<int> failures{0};
  auto flood = [&](redis_store& node, const std::string& tag) {
    for (int i = 0; i < 500; ++i) {
      node.append("shared", tag + std::to_string(i), "x", 0, [&](std::error_code ec, auto) {
        if (ec) ++failures;
      });
    }
    node.flush();
  };
  std::thread ta(flood, std::ref(a), "a"), tb(flood, std::ref(b), "b");
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  auto loaded = a.load("shared", 0, 2000);
  ASSERT_EQ(loaded.size(), 1000u);
  EXPECT_TRUE(
      std::is_sorted(loaded.begin(), loaded.end(), [](auto& x, auto& y) { return x.seq < y.seq; }));
  // Each node's own messages keep its submission order.
  int next_a = 0, next_b = 0;
  for (const auto& m : loaded) {
    int& next = m.message_id[0] == 'a' ? next_a : next_b;
    EXPECT_EQ(m.message_id.substr(1), std::to_string(next++));
  }
}

// The completion runs only once Redis has the message: another node, asked from inside the
// completion itself, already finds it.
TEST_F(RedisStore, CompletionComesAfterRedisHasTheMessage) {
  redis_store a(options()), b(options());
  std::mutex m;
  std::vector<std::string> seen_by_b;
  for (int i = 0; i < 3; ++i) {
    const std::string id = "m" + std::to_string(i);
    a.append("q", id, "p", 0, [&, id](std::error_code ec, std::uint64_t seq) {
      ASSERT_FALSE(ec);
      for (const auto& msg : b.load("q", seq - 1, 1)) {
        std::lock_guard lk(m);
        if (msg.message_id == id) seen_by_b.push_back(id);
      }
    });
  }
  a.flush();
  EXPECT_EQ(seen_by_b, (std::vector<std::string>{"m0", "m1", "m2"}));
}

TEST_F(RedisStore, ARemoveReachesTheOtherNodeOnceFlushed) {
  redis_store a(options()), b(options());
  const auto seq = append_sync(a, "q", "gone", "x").seq;
  append_sync(a, "q", "kept", "x");
  b.remove("q", seq);
  EXPECT_EQ(ids_of(b.load("q", 0, 10)), (std::vector<std::string>{"kept"}));  // at once on b
  b.flush();
  EXPECT_EQ(ids_of(a.load("q", 0, 10)), (std::vector<std::string>{"kept"}));  // in Redis
  EXPECT_EQ(b.stats().removed, 1u);
}

// Stronger than the contract (SQLite's load_async is an inline load): Redis's runs on the
// worker after the appends queued before it, so it sees them without a flush.
TEST_F(RedisStore, LoadAsyncRunsAfterTheAppendsSubmittedBeforeIt) {
  redis_store s(options());
  for (int i = 0; i < 50; ++i) s.append("q", "m" + std::to_string(i), "x", 0, nullptr);
  std::promise<std::vector<broker::store::stored_message>> done;
  s.load_async("q", 0, 1000, [&](auto messages, std::error_code ec) {
    EXPECT_FALSE(ec);
    done.set_value(std::move(messages));
  });
  auto messages = done.get_future().get();
  ASSERT_EQ(messages.size(), 50u);
  EXPECT_EQ(messages.back().message_id, "m49");
}

TEST_F(RedisStore, PeriodicSweepDropsExpiredMessagesWithoutLoads) {
  manual_wall_clock clock;
  auto o = options();
  o.clock = clock.fn();
  o.keep.max_age = 1000ms;
  o.purge_interval = 1ms;  // the idle worker sweeps
  redis_store s(o);
  append_sync(s, "q1", "old1", "x");
  append_sync(s, "q2", "old2", "x");
  clock.advance(2000ms);
  append_sync(s, "q2", "young", "x");
  // No load: only the sweep can delete them. Then a node with no age limit still sees "young".
  EXPECT_TRUE(eventually([&] { return s.stats().dropped_expired == 2; }));
  o.keep.max_age = 0ms;
  o.purge_interval = 60s;
  redis_store other(o);
  EXPECT_TRUE(other.load("q1", 0, 10).empty());
  EXPECT_EQ(ids_of(other.load("q2", 0, 10)), (std::vector<std::string>{"young"}));
}

// SCRIPT FLUSH (an operator, a failover to a fresh replica) under a connected store: the next
// append gets NOSCRIPT inside its transaction, reloads the script and is sent again.
TEST_F(RedisStore, ReloadsTheScriptAfterScriptFlush) {
  redis_store s(options());
  const auto first = append_sync(s, "q", "a", "x");
  ASSERT_FALSE(first.ec);
  cluster::detail::redis_link admin(
      store_test::endpoint(server().url()), 2s);
  ASSERT_FALSE(admin.connect());
  std::error_code ec;
  admin.command({"SCRIPT", "FLUSH"}, ec);
  ASSERT_FALSE(ec);
  const auto second = append_sync(s, "q", "b", "x");
  ASSERT_FALSE(second.ec) << second.ec.message();
  EXPECT_GT(second.seq, first.seq);
  EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(s.writable());
}

TEST_F(RedisStore, UrlSelectsTheDatabase) {
  auto in_db3 = options();
  in_db3.url = server().url() + "/3";
  {
    redis_store s(in_db3);
    ASSERT_FALSE(append_sync(s, "q", "in-3", "x").ec);
  }
  redis_store db0(options());
  EXPECT_TRUE(db0.load("q", 0, 10).empty());
  redis_store db3(in_db3);
  EXPECT_EQ(ids_of(db3.load("q", 0, 10)), (std::vector<std::string>{"in-3"}));
}

TEST_F(RedisStore, SweepDeletesEmptiedStreamsAndTheQueueLivesOn) {
  auto o = options();
  o.purge_interval = 1ms;
  redis_store s(o);
  const auto first = append_sync(s, "alice/queue/a", "m0", "x");
  append_sync(s, "bob/queue/b", "b0", "x");
  s.remove("alice/queue/a", first.seq);
  s.flush();
  cluster::detail::redis_link admin(
      store_test::endpoint(server().url()), 2s);
  ASSERT_FALSE(admin.connect());
  auto exists = [&](const std::string& key) {
    std::error_code ec;
    auto r = admin.command({"EXISTS", key}, ec);
    return !ec && r->integer == 1;
  };
  const std::string alice = o.key_prefix + "uq:alice/queue/a";
  EXPECT_TRUE(eventually([&] { return !exists(alice); }));
  EXPECT_TRUE(exists(o.key_prefix + "uq:bob/queue/b"));  // not empty: kept
  const auto again = append_sync(s, "alice/queue/a", "m1", "x");
  ASSERT_FALSE(again.ec) << again.ec.message();
  EXPECT_GT(again.seq, first.seq);
  EXPECT_EQ(ids_of(s.load("alice/queue/a", 0, 10)), (std::vector<std::string>{"m1"}));
}

// The worker is held inside the first completion so that the next appends queue up: batches
// then split at max_batch_bytes of payload (a message larger than the cap goes alone).
TEST_F(RedisStore, BatchesSplitAtMaxBatchBytes) {
  auto o = options();
  o.max_batch_bytes = 250;
  redis_store s(o);
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  s.append("q", "first", "x", 0, [&](std::error_code, std::uint64_t) {
    entered.set_value();
    released.wait();
  });
  entered.get_future().wait();
  for (int i = 0; i < 10; ++i)
    s.append("q", "m" + std::to_string(i), std::string(100, 'p'), 0, nullptr);
  s.append("q", "big", std::string(1000, 'b'), 0, nullptr);
  release.set_value();
  s.flush();
  EXPECT_EQ(s.stats().appended, 12u);
  EXPECT_EQ(s.stats().commit_batches, 7u);  // "first", 5 x 2 (100 B each), then "big"
  EXPECT_EQ(s.load("q", 0, 100).size(), 12u);
}

TEST_F(RedisStore, BadUrlThrowsAtConstruction) {
  auto o = options();
  o.url = "http://127.0.0.1:6379";
  EXPECT_THROW(redis_store s(o), std::runtime_error);
  o.url = "redis://127.0.0.1:notaport";
  EXPECT_THROW(redis_store s(o), std::runtime_error);
}

TEST_F(RedisStore, UnreachableRedisFailsAppendsAndLoadsWithAnError) {
  auto o = options();
  test_support::redis_server nobody(store_test::temp_dir().str());  // a free port, not started
  o.url = nobody.url();
  redis_store s(o);
  EXPECT_FALSE(s.writable());
  auto r = append_sync(s, "q", "m", "x");
  EXPECT_EQ(r.ec, broker::store::error::unavailable);
  EXPECT_EQ(r.seq, 0u);
  std::error_code ec;
  EXPECT_TRUE(s.load("q", 0, 10, ec).empty());
  EXPECT_TRUE(ec);
  EXPECT_EQ(s.stats().append_failures, 1u);
  EXPECT_EQ(s.stats().appended, 0u);
}

// Not a timing assertion: prints appends/s for the report, checks only that all succeeded and
// that pipelining grouped them.
TEST_F(RedisStore, PrintsPipelinedAppendRate) {
  auto o = options();
  o.keep.max_count = 0;
  redis_store s(o);
  constexpr int one_by_one = 500, burst = 20'000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < one_by_one; ++i) ASSERT_FALSE(append_sync(s, "seq", "m", "x").ec);
  auto t1 = std::chrono::steady_clock::now();
  std::atomic<int> failures{0};
  const std::string payload(200, 'p');
  for (int i = 0; i < burst; ++i) {
    s.append("burst", "m" + std::to_string(i), payload, 0, [&](std::error_code ec, auto) {
      if (ec) ++failures;
    });
  }
  s.flush();
  auto t2 = std::chrono::steady_clock::now();
  const auto st = s.stats();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(st.appended, static_cast<std::uint64_t>(one_by_one + burst));
  EXPECT_LT(st.commit_batches, st.appended);
  const auto secs = [](auto d) { return std::chrono::duration<double>(d).count(); };
  std::printf(
      "[redis_store] one in flight: %.0f appends/s; pipelined burst of %d (200 B): "
      "%.0f appends/s in %llu pipelines (appendfsync always)\n",
      one_by_one / secs(t1 - t0), burst, burst / secs(t2 - t1),
      static_cast<unsigned long long>(st.commit_batches - one_by_one));
}

}  // namespace
