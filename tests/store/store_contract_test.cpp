// The store contract (store.hpp), run against both engines: sqlite_store and redis_store on a
// real redis-server. Typed tests, so a behaviour is written once and holds for both. Suite name
// RedisStoreContract, so `ctest -R store.RedisStore` runs every Redis-related test.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

#include "cluster/store/redis_store.hpp"
#include "broker/store/sqlite_store.hpp"
#include "redis_fixture.hpp"

namespace {

using broker::store::retention;
using broker::store::store;
using broker::store::stored_message;
using store_test::append_sync;
using store_test::delivered_of;
using store_test::ids_of;
using store_test::manual_wall_clock;
using namespace std::chrono_literals;

// Each engine opens "the same" store again and again (reopen = a new object on the same data).
struct sqlite_engine {
  static constexpr bool needs_redis = false;
  static constexpr bool seq_at_submission = true;  // append returns the seq
  store_test::temp_dir dir;
  std::unique_ptr<store> open(const retention& keep, const manual_wall_clock* clock) {
    auto o = store_test::options_in(dir);
    o.policy = keep;
    if (clock != nullptr) {
      o.now_ms = [now = clock->now_ms] { return now->load(); };
    }
    return std::make_unique<broker::store::sqlite_store>(o);
  }
};

struct redis_engine {
  static constexpr bool needs_redis = true;
  static constexpr bool seq_at_submission = false;  // append returns 0
  cluster::redis_store_options base;
  std::unique_ptr<store> open(const retention& keep, const manual_wall_clock* clock) {
    auto o = base;
    o.keep = keep;
    if (clock != nullptr) o.clock = clock->fn();
    return std::make_unique<cluster::redis_store>(o);
  }
};

template <typename Engine>
class RedisStoreContract : public store_test::redis_suite {
 protected:
  void SetUp() override {
    if (Engine::needs_redis) {
      store_test::redis_suite::SetUp();
      if (IsSkipped()) return;
    }
    if constexpr (Engine::needs_redis) engine_.base = options();
  }
  std::unique_ptr<store> open(retention keep = {}, const manual_wall_clock* clock = nullptr) {
    return engine_.open(keep, clock);
  }
  Engine engine_;
};

struct engine_names {
  template <typename T>
  static std::string GetName(int) {
    return T::needs_redis ? "Redis" : "Sqlite";
  }
};
using engines = ::testing::Types<sqlite_engine, redis_engine>;
TYPED_TEST_SUITE(RedisStoreContract, engines, engine_names);

TYPED_TEST(RedisStoreContract, LoadsAppendsOldestFirstWithEveryField) {
  auto s = this->open();
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < 5; ++i) {
    auto r = append_sync(*s, "alice/queue/a", "m" + std::to_string(i), "body" + std::to_string(i),
                         i == 2 ? 4'000'000'000'000 : 0);
    ASSERT_FALSE(r.ec) << r.ec.message();
    seqs.push_back(r.seq);
  }
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  EXPECT_EQ(std::adjacent_find(seqs.begin(), seqs.end()), seqs.end());  // strictly
  auto loaded = s->load("alice/queue/a", 0, 100);
  ASSERT_EQ(loaded.size(), 5u);
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    EXPECT_EQ(loaded[i].seq, seqs[i]);
    EXPECT_EQ(loaded[i].queue, "alice/queue/a");
    EXPECT_EQ(loaded[i].message_id, "m" + std::to_string(i));
    EXPECT_EQ(loaded[i].payload, "body" + std::to_string(i));
    EXPECT_GT(loaded[i].stored_at_ms, 0);
    EXPECT_EQ(loaded[i].expires_at_ms, i == 2 ? 4'000'000'000'000 : 0);
  }
}

TYPED_TEST(RedisStoreContract, PagesWithAfterSeqAndMax) {
  auto s = this->open();
  for (int i = 0; i < 7; ++i) append_sync(*s, "q", "m" + std::to_string(i), "x");
  auto first = s->load("q", 0, 3);
  ASSERT_EQ(ids_of(first), (std::vector<std::string>{"m0", "m1", "m2"}));
  auto second = s->load("q", first.back().seq, 3);
  ASSERT_EQ(ids_of(second), (std::vector<std::string>{"m3", "m4", "m5"}));
  EXPECT_EQ(ids_of(s->load("q", second.back().seq, 3)), (std::vector<std::string>{"m6"}));
  EXPECT_TRUE(s->load("q", 0, 0).empty());
}

TYPED_TEST(RedisStoreContract, KeepsBinaryPayloadsExactly) {
  auto s = this->open();
  const std::string payload("MESSAGE\ndestination:/user/queue/a\n\n\0\x01\xff tail\0", 44);
  const std::string id("id\0with-nul", 11);
  ASSERT_FALSE(append_sync(*s, "q", id, payload).ec);
  ASSERT_FALSE(append_sync(*s, "q", "empty", "").ec);
  auto loaded = s->load("q", 0, 10);
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0].payload, payload);
  EXPECT_EQ(loaded[0].message_id, id);
  EXPECT_EQ(loaded[1].payload, "");
}

TYPED_TEST(RedisStoreContract, RemovedMessageIsHiddenAtOnceAndNeverLoadedAgain) {
  {
    auto s = this->open();
    std::vector<std::uint64_t> seqs;
    for (int i = 0; i < 5; ++i)
      seqs.push_back(append_sync(*s, "q", "m" + std::to_string(i), "x").seq);
    s->remove("q", seqs[1]);
    s->remove("q", seqs[3]);
    EXPECT_EQ(ids_of(s->load("q", 0, 10)), (std::vector<std::string>{"m0", "m2", "m4"}));
    s->flush();
    EXPECT_EQ(s->stats().removed, 2u);
    s->remove("q", 999'999'999);  // unknown: ignored, not counted
    s->flush();
    EXPECT_EQ(s->stats().removed, 2u);
  }
  auto reopened = this->open();
  EXPECT_EQ(ids_of(reopened->load("q", 0, 10)), (std::vector<std::string>{"m0", "m2", "m4"}));
}

TYPED_TEST(RedisStoreContract, DestructorCommitsWhatWasSubmittedAndReopenFindsIt) {
  std::atomic<int> ok{0};
  {
    auto s = this->open();
    for (int i = 0; i < 200; ++i) {
      s->append("q", "m" + std::to_string(i), "x", 0, [&](std::error_code ec, std::uint64_t) {
        if (!ec) ++ok;
      });
    }
  }
  EXPECT_EQ(ok.load(), 200);
  auto reopened = this->open();
  auto loaded = reopened->load("q", 0, 1000);
  ASSERT_EQ(loaded.size(), 200u);
  EXPECT_EQ(loaded.front().message_id, "m0");
  EXPECT_EQ(loaded.back().message_id, "m199");
}

TYPED_TEST(RedisStoreContract, SeqIsNeverReusedAfterTheNewestIsRemoved) {
  std::uint64_t newest = 0;
  {
    auto s = this->open();
    append_sync(*s, "q", "a", "x");
    newest = append_sync(*s, "q", "b", "x").seq;
    s->remove("q", newest);
    s->flush();
  }
  auto reopened = this->open();
  EXPECT_GT(append_sync(*reopened, "q", "c", "x").seq, newest);
}

TYPED_TEST(RedisStoreContract, QueuesAreIndependent) {
  auto s = this->open();
  auto a0 = append_sync(*s, "alice/queue/a", "a0", "x").seq;
  append_sync(*s, "bob/queue/a", "b0", "x");
  append_sync(*s, "alice/queue/a", "a1", "x");
  append_sync(*s, "bob/queue/a", "b1", "x");
  EXPECT_EQ(ids_of(s->load("alice/queue/a", 0, 10)), (std::vector<std::string>{"a0", "a1"}));
  EXPECT_EQ(ids_of(s->load("bob/queue/a", 0, 10)), (std::vector<std::string>{"b0", "b1"}));
  s->remove("bob/queue/a", a0);  // a seq of another queue: not removed there
  s->flush();
  EXPECT_EQ(ids_of(s->load("alice/queue/a", 0, 10)), (std::vector<std::string>{"a0", "a1"}));
  EXPECT_TRUE(s->load("nobody/queue/a", 0, 10).empty());
}

TYPED_TEST(RedisStoreContract, LoadAsyncReturnsWhatLoadWould) {
  auto s = this->open();
  for (int i = 0; i < 50; ++i) append_sync(*s, "q", "m" + std::to_string(i), "x");
  std::promise<std::pair<std::vector<stored_message>, std::error_code>> done;
  s->load_async("q", 0, 1000, [&](std::vector<stored_message> ms, std::error_code ec) {
    done.set_value({std::move(ms), ec});
  });
  auto [messages, ec] = done.get_future().get();
  EXPECT_FALSE(ec);
  ASSERT_EQ(messages.size(), 50u);
  EXPECT_EQ(messages.front().message_id, "m0");
  EXPECT_EQ(messages.back().message_id, "m49");
}

TYPED_TEST(RedisStoreContract, OverflowDropsTheOldestAndCountsIt) {
  auto s = this->open({3, 0ms});
  for (int i = 0; i < 5; ++i) append_sync(*s, "q", "m" + std::to_string(i), "x");
  append_sync(*s, "other", "o0", "x");
  EXPECT_EQ(ids_of(s->load("q", 0, 10)), (std::vector<std::string>{"m2", "m3", "m4"}));
  EXPECT_EQ(ids_of(s->load("other", 0, 10)), (std::vector<std::string>{"o0"}));
  EXPECT_EQ(s->stats().dropped_overflow, 2u);
  s->set_retention({1, 0ms});
  append_sync(*s, "q", "m5", "x");
  EXPECT_EQ(ids_of(s->load("q", 0, 10)), (std::vector<std::string>{"m5"}));
  EXPECT_EQ(s->stats().dropped_overflow, 5u);
}

TYPED_TEST(RedisStoreContract, MessagesOlderThanMaxAgeAreNotLoadedAndAreDropped) {
  manual_wall_clock clock;
  {
    auto s = this->open({1000, 1000ms}, &clock);
    append_sync(*s, "q", "old", "x");
    clock.advance(600ms);
    append_sync(*s, "q", "young", "x");
    clock.advance(600ms);  // "old" is 1200 ms old, "young" 600 ms
    EXPECT_EQ(ids_of(s->load("q", 0, 10)), (std::vector<std::string>{"young"}));
    s->flush();  // the load asked the worker to delete "old"
    EXPECT_EQ(s->stats().dropped_expired, 1u);
  }
  // Reopened with no age limit: "old" is gone from storage, not merely filtered.
  auto reopened = this->open({1000, 0ms}, &clock);
  EXPECT_EQ(ids_of(reopened->load("q", 0, 10)), (std::vector<std::string>{"young"}));
}

TYPED_TEST(RedisStoreContract, PerMessageExpiryHidesAndDropsIt) {
  manual_wall_clock clock;
  auto s = this->open({}, &clock);
  const std::int64_t t0 = *clock.now_ms;
  append_sync(*s, "q", "short", "x", t0 + 100);
  append_sync(*s, "q", "long", "x", t0 + 10'000);
  append_sync(*s, "q", "never", "x", 0);
  EXPECT_EQ(ids_of(s->load("q", 0, 10)), (std::vector<std::string>{"short", "long", "never"}));
  clock.advance(200ms);
  EXPECT_EQ(ids_of(s->load("q", 0, 2)), (std::vector<std::string>{"long", "never"}));
  s->flush();
  EXPECT_EQ(s->stats().dropped_expired, 1u);
}

// Either the seq at once (and then the completion's very seq, increasing with submission) or 0.
TYPED_TEST(RedisStoreContract, AppendReturnsTheCompletionsSeqOrZero) {
  auto s = this->open();
  std::vector<std::uint64_t> returned;
  std::vector<std::future<store_test::append_result>> completed;
  for (int i = 0; i < 20; ++i) {
    auto done = std::make_shared<std::promise<store_test::append_result>>();
    completed.push_back(done->get_future());
    returned.push_back(s->append("q", "m" + std::to_string(i), "x", 0,
                                 [done](std::error_code ec, std::uint64_t seq) {
                                   done->set_value({ec, seq});
                                 }));
  }
  for (std::size_t i = 0; i < returned.size(); ++i) {
    const auto r = completed[i].get();
    ASSERT_FALSE(r.ec) << r.ec.message();
    if (TypeParam::seq_at_submission) {
      EXPECT_EQ(returned[i], r.seq);
      if (i > 0) {
        EXPECT_GT(returned[i], returned[i - 1]);
      }
    } else {
      EXPECT_EQ(returned[i], 0u);
    }
  }
}

TYPED_TEST(RedisStoreContract, MarkedMessageLoadsAsDeliveredAlsoAfterReopen) {
  std::vector<std::uint64_t> seqs;
  {
    auto s = this->open();
    for (int i = 0; i < 4; ++i)
      seqs.push_back(append_sync(*s, "q", "m" + std::to_string(i), "x").seq);
    append_sync(*s, "other", "o0", "x");
    s->mark_delivered("q", seqs[1]);
    s->mark_delivered("q", seqs[2]);
    s->mark_delivered("q", 999'999'999);  // unknown: ignored
    s->mark_delivered("other", seqs[3]);  // a seq of another queue: not marked there
    auto at_once = s->load("q", 0, 10);   // before the commit
    ASSERT_EQ(at_once.size(), 4u);
    EXPECT_EQ(delivered_of(at_once), (std::vector<bool>{false, true, true, false}));
    s->flush();
    EXPECT_EQ(delivered_of(s->load("q", 0, 10)), (std::vector<bool>{false, true, true, false}));
    s->remove("q", seqs[2]);
    s->mark_delivered("q", seqs[1]);  // twice: still just delivered
  }
  auto reopened = this->open();
  auto loaded = reopened->load("q", 0, 10);
  EXPECT_EQ(ids_of(loaded), (std::vector<std::string>{"m0", "m1", "m3"}));
  EXPECT_EQ(delivered_of(loaded), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(delivered_of(reopened->load("other", 0, 10)), (std::vector<bool>{false}));
  EXPECT_EQ(delivered_of(reopened->load("q", seqs[0], 1)), (std::vector<bool>{true}));  // paged
}

// A mark for a message retention dropped (or that was never there) marks nothing that comes
// later, and the trimmed message's mark does not come back.
TYPED_TEST(RedisStoreContract, MarksLeaveWithTrimmedMessages) {
  auto s = this->open({2, 0ms});
  const auto m0 = append_sync(*s, "q", "m0", "x").seq;
  const auto m1 = append_sync(*s, "q", "m1", "x").seq;
  s->mark_delivered("q", m0);
  s->mark_delivered("q", m1);
  s->flush();
  append_sync(*s, "q", "m2", "x");  // trims m0
  s->mark_delivered("q", m0);       // gone: ignored
  append_sync(*s, "q", "m3", "x");  // trims m1
  s->flush();
  auto loaded = s->load("q", 0, 10);
  EXPECT_EQ(ids_of(loaded), (std::vector<std::string>{"m2", "m3"}));
  EXPECT_EQ(delivered_of(loaded), (std::vector<bool>{false, false}));
}

// The worker is held inside the first completion, so the next 1000 appends queue up behind it:
// a burst, without timing. They share one commit (one transaction / one pipeline).
TYPED_TEST(RedisStoreContract, ABurstSharesOneCommitAndCompletesInSubmissionOrder) {
  auto s = this->open({0, 0ms});
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  s->append("q", "first", "x", 0, [&](std::error_code, std::uint64_t) {
    entered.set_value();
    released.wait();
  });
  entered.get_future().wait();
  std::mutex m;
  std::vector<std::uint64_t> seqs;
  std::atomic<int> failures{0};
  for (int i = 0; i < 1000; ++i) {
    s->append("q", "m" + std::to_string(i), "p", 0, [&](std::error_code ec, std::uint64_t seq) {
      if (ec) ++failures;
      std::lock_guard lk(m);
      seqs.push_back(seq);
    });
  }
  release.set_value();
  s->flush();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(seqs.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  EXPECT_EQ(s->stats().appended, 1001u);
  EXPECT_EQ(s->stats().commit_batches, 2u);
  EXPECT_TRUE(s->writable());
  EXPECT_EQ(s->load("q", 0, 2000).size(), 1001u);
}

}  // namespace

namespace {

std::vector<broker::store::queue_summary> summarize_sync(store& s, std::size_t max) {
  std::promise<std::vector<broker::store::queue_summary>> got;
  s.summarize_async(max, [&](std::vector<broker::store::queue_summary> queues,
                             std::error_code ec) {
    EXPECT_FALSE(ec) << ec.message();
    got.set_value(std::move(queues));
  });
  return got.get_future().get();
}

std::uint64_t purge_sync(store& s, std::string queue) {
  std::promise<std::uint64_t> got;
  s.purge_async(std::move(queue), [&](std::uint64_t n, std::error_code ec) {
    EXPECT_FALSE(ec) << ec.message();
    got.set_value(n);
  });
  return got.get_future().get();
}

}  // namespace

// The web console's inbox list (broker::inboxes): committed messages per queue, oldest first.
TYPED_TEST(RedisStoreContract, SummarizeCountsEachQueueAndItsOldestMessage) {
  manual_wall_clock clock;
  auto s = this->open({}, &clock);
  const std::int64_t first = clock.now_ms->load();
  append_sync(*s, "carol/queue/a", "m0", "x");
  clock.advance(1000ms);
  append_sync(*s, "carol/queue/a", "m1", "x");
  append_sync(*s, "carol/queue/a", "m2", "x");
  append_sync(*s, "dave/queue/b", "m3", "x");
  s->flush();
  const auto queues = summarize_sync(*s, 10);
  ASSERT_EQ(queues.size(), 2u);
  EXPECT_EQ(queues[0].queue, "carol/queue/a");
  EXPECT_EQ(queues[0].messages, 3u);
  EXPECT_EQ(queues[0].oldest_stored_at_ms, first);
  EXPECT_EQ(queues[1].queue, "dave/queue/b");
  EXPECT_EQ(queues[1].messages, 1u);
  EXPECT_EQ(summarize_sync(*s, 1).size(), 1u);  // capped, the biggest kept
}

// An administrator's purge: every message of the queue goes, other queues stay.
TYPED_TEST(RedisStoreContract, PurgeRemovesEveryMessageOfOneQueue) {
  auto s = this->open(retention{0, 0ms});  // keep all 1500
  for (int i = 0; i < 1500; ++i) {  // group-committed: one flush, not 1500 commits
    s->append("carol/queue/a", "m" + std::to_string(i), "x", 0, [](std::error_code, std::uint64_t) {});
  }
  append_sync(*s, "dave/queue/b", "keep", "x");
  EXPECT_EQ(purge_sync(*s, "carol/queue/a"), 1500u);  // more than one page of 1000
  EXPECT_TRUE(s->load("carol/queue/a", 0, 10).empty());
  s->flush();
  EXPECT_EQ(ids_of(s->load("dave/queue/b", 0, 10)), (std::vector<std::string>{"keep"}));
  const auto queues = summarize_sync(*s, 10);
  ASSERT_EQ(queues.size(), 1u);
  EXPECT_EQ(queues[0].queue, "dave/queue/b");
}
