// Group commit and concurrency of sqlite_store, and what shares a batch: an append cancelled by
// its remove, a mark of an append not yet committed.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "broker/store/detail/sqlite_db.hpp"
#include "broker/store/sqlite_store.hpp"
#include "store_fixture.hpp"

namespace {

using broker::store::sqlite_store;
using store_test::append_result;
using store_test::delivered_of;
using store_test::ids_of;
using store_test::options_in;
using store_test::temp_dir;

// Holds the writer thread inside the first completion until `release` is set, so that every
// later append is queued while the writer is busy: what a burst looks like, without timing.
struct held_writer {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> entered;

  void hold_with_first_append(sqlite_store& s) {
    s.append("q", "first", "x", 0, [this](std::error_code, std::uint64_t) {
      entered.set_value();
      released.wait();
    });
    entered.get_future().wait();
  }
};

// An append whose completion the test waits for later: what it returned, and what it reported.
struct pending_append {
  std::uint64_t returned = 0;
  std::future<append_result> completed;
};

pending_append append_async(sqlite_store& s, const std::string& id) {
  auto done = std::make_shared<std::promise<append_result>>();
  pending_append out;
  out.completed = done->get_future();
  out.returned = s.append("q", id, "x", 0, [done](std::error_code ec, std::uint64_t seq) {
    done->set_value({ec, seq});
  });
  return out;
}

// Counts the rows of `queue` with `seq` straight from the file: "never written", not "hidden".
std::string rows_with_seq(const temp_dir& dir, std::uint64_t seq) {
  broker::store::detail::sqlite_db raw((dir.path() / "stompbox.db").string(), false);
  return raw.query_text_or_throw(
      ("SELECT count(*) FROM messages WHERE seq = " + std::to_string(seq)).c_str());
}

TEST(GroupCommit, ABurstOfAppendsSharesFewCommits) {
  temp_dir dir;
  auto o = options_in(dir);
  o.policy.max_count = 0;  // keep all 1001 (the default keeps 1000)
  sqlite_store s(o);
  held_writer hold;
  hold.hold_with_first_append(s);
  std::mutex m;
  std::vector<std::uint64_t> seqs;  // in completion order
  std::atomic<int> failures{0};
  for (int i = 0; i < 1000; ++i) {
    s.append("q", "m" + std::to_string(i), "payload", 0, [&](std::error_code ec, std::uint64_t seq) {
      if (ec) ++failures;
      std::lock_guard lk(m);
      seqs.push_back(seq);
    });
  }
  hold.release.set_value();
  s.flush();
  const auto st = s.stats();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(seqs.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));  // completions in submission order
  EXPECT_EQ(st.appended, 1001u);
  // One commit for "first", then the 1000 queued behind it in one batch.
  EXPECT_EQ(st.commit_batches, 2u);
  EXPECT_EQ(s.load("q", 0, 2000).size(), 1001u);
}

TEST(GroupCommit, BatchesAreBoundedByMaxBatch) {
  temp_dir dir;
  auto o = options_in(dir);
  o.max_batch = 100;
  sqlite_store s(o);
  held_writer hold;
  hold.hold_with_first_append(s);
  std::atomic<int> completed{0};
  for (int i = 0; i < 1000; ++i) {
    s.append("q", "m", "x", 0, [&](std::error_code ec, std::uint64_t) {
      if (!ec) ++completed;
    });
  }
  hold.release.set_value();
  s.flush();
  EXPECT_EQ(completed.load(), 1000);
  EXPECT_EQ(s.stats().commit_batches, 11u);  // "first", then 10 batches of 100
}

TEST(GroupCommit, ConcurrentAppendsLoseNothingAndKeepEachThreadsOrder) {
  temp_dir dir;
  sqlite_store s(options_in(dir));
  constexpr int threads = 4;
  constexpr int per_thread = 250;
  std::atomic<int> completed{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int n = 0; n < per_thread; ++n) {
        const std::string queue = t % 2 == 0 ? "even" : "odd";
        s.append(queue, std::to_string(t) + ":" + std::to_string(n), "x", 0,
                 [&](std::error_code ec, std::uint64_t) {
                   if (!ec) ++completed;
                 });
      }
    });
  }
  for (auto& w : workers) w.join();
  s.flush();
  EXPECT_EQ(completed.load(), threads * per_thread);
  std::size_t total = 0;
  for (const char* queue : {"even", "odd"}) {
    auto loaded = s.load(queue, 0, 10'000);
    total += loaded.size();
    std::map<int, int> last_n;  // thread -> last n seen
    for (std::size_t i = 0; i < loaded.size(); ++i) {
      if (i > 0) {
        ASSERT_GT(loaded[i].seq, loaded[i - 1].seq);
      }
      const auto& id = loaded[i].message_id;
      const int t = std::stoi(id.substr(0, id.find(':')));
      const int n = std::stoi(id.substr(id.find(':') + 1));
      auto it = last_n.find(t);
      if (it != last_n.end()) {
        EXPECT_EQ(n, it->second + 1) << "thread " << t << " out of order or gap";
      } else {
        EXPECT_EQ(n, 0);
      }
      last_n[t] = n;
    }
  }
  EXPECT_EQ(total, static_cast<std::size_t>(threads * per_thread));
}

TEST(GroupCommit, LoadsRunWhileAppendsCommit) {
  temp_dir dir;
  sqlite_store s(options_in(dir));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 500; ++i) s.append("q", std::to_string(i), "x", 0, nullptr);
    s.flush();
    done = true;
  });
  std::size_t last = 0;
  bool shrank = false;
  while (!done) {
    const auto n = s.load("q", 0, 1000).size();
    shrank = shrank || n < last;
    last = n;
  }
  writer.join();
  EXPECT_FALSE(shrank);
  EXPECT_EQ(s.load("q", 0, 1000).size(), 500u);
}

// The broker delivered and auto-acked the message before the commit: with the writer held, the
// append and its remove wait in the same batch, and cancel out. Only the neighbours are written.
TEST(GroupCommit, AnAppendAndItsRemoveInOneBatchWriteNothing) {
  temp_dir dir;
  sqlite_store s(options_in(dir));
  held_writer hold;
  hold.hold_with_first_append(s);
  const auto before = s.stats();
  auto kept_before = append_async(s, "before");
  auto gone = append_async(s, "gone");
  auto kept_after = append_async(s, "after");
  ASSERT_NE(gone.returned, 0u);
  s.remove("q", gone.returned);
  EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"first"}));
  hold.release.set_value();
  s.flush();
  for (auto* a : {&kept_before, &gone, &kept_after}) {
    const auto r = a->completed.get();
    EXPECT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.seq, a->returned);  // the cancelled one too: its completion reports success
  }
  EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"first", "before", "after"}));
  const auto st = s.stats();
  EXPECT_EQ(st.cancelled, 1u);
  EXPECT_EQ(st.appended - before.appended, 2u);
  EXPECT_EQ(st.removed, 0u);
  EXPECT_EQ(st.commit_batches - before.commit_batches, 1u);
  EXPECT_EQ(rows_with_seq(dir, gone.returned), "0");
  EXPECT_EQ(rows_with_seq(dir, kept_after.returned), "1");
}

// A batch holding nothing but cancelled pairs costs no transaction at all.
TEST(GroupCommit, ABatchOfCancelledPairsRunsNoTransaction) {
  temp_dir dir;
  sqlite_store s(options_in(dir));
  held_writer hold;
  hold.hold_with_first_append(s);
  const auto before = s.stats();
  std::vector<pending_append> pairs;
  for (int i = 0; i < 10; ++i) {
    pairs.push_back(append_async(s, "m" + std::to_string(i)));
    s.remove("q", pairs.back().returned);
  }
  hold.release.set_value();
  s.flush();
  for (auto& p : pairs) EXPECT_EQ(p.completed.get().seq, p.returned);
  const auto st = s.stats();
  EXPECT_EQ(st.cancelled, 10u);
  EXPECT_EQ(st.commit_batches, before.commit_batches);
  EXPECT_EQ(st.appended, before.appended);
  EXPECT_EQ(ids_of(s.load("q", 0, 100)), (std::vector<std::string>{"first"}));
  EXPECT_TRUE(s.writable());
}

// max_batch = 1 puts the remove in the batch after its append's: the row is inserted, then
// deleted, although the remove was called before the append's completion ran.
TEST(GroupCommit, ARemoveInALaterBatchDeletesTheRow) {
  temp_dir dir;
  auto o = options_in(dir);
  o.max_batch = 1;
  std::uint64_t seq = 0;
  {
    sqlite_store s(o);
    held_writer hold;
    hold.hold_with_first_append(s);
    auto gone = append_async(s, "gone");
    seq = gone.returned;
    s.remove("q", seq);
    EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"first"}));
    hold.release.set_value();
    s.flush();
    EXPECT_EQ(gone.completed.get().seq, seq);
    const auto st = s.stats();
    EXPECT_EQ(st.cancelled, 0u);
    EXPECT_EQ(st.removed, 1u);
    EXPECT_EQ(st.appended, 2u);
    EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"first"}));
  }
  EXPECT_EQ(rows_with_seq(dir, seq), "0");
  sqlite_store reopened(o);
  EXPECT_EQ(ids_of(reopened.load("q", 0, 10)), (std::vector<std::string>{"first"}));
}

// Delivered to a client-ack subscriber before the commit: the UPDATE follows the INSERT inside
// the same transaction.
TEST(GroupCommit, AMarkInTheSameBatchAsItsAppendIsStored) {
  temp_dir dir;
  {
    sqlite_store s(options_in(dir));
    held_writer hold;
    hold.hold_with_first_append(s);
    auto marked = append_async(s, "marked");
    auto plain = append_async(s, "plain");
    s.mark_delivered("q", marked.returned);
    hold.release.set_value();
    s.flush();
    EXPECT_FALSE(marked.completed.get().ec);
    EXPECT_FALSE(plain.completed.get().ec);
  }
  sqlite_store reopened(options_in(dir));
  auto loaded = reopened.load("q", 0, 10);
  EXPECT_EQ(ids_of(loaded), (std::vector<std::string>{"first", "marked", "plain"}));
  EXPECT_EQ(delivered_of(loaded), (std::vector<bool>{false, true, false}));
}

// What the broker does with auto-ack subscribers online: every append is removed as soon as it
// returned, from several threads. Whatever the batches turn out to be, each message is either
// cancelled or inserted and then deleted, and none is left behind.
TEST(GroupCommit, AppendsRemovedAtOnceFromManyThreadsLeaveNothing) {
  temp_dir dir;
  auto o = options_in(dir);
  o.max_batch = 7;  // many batch boundaries between an append and its remove
  sqlite_store s(o);
  constexpr int threads = 4;
  constexpr int per_thread = 250;
  std::atomic<int> ok{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::string queue = "q" + std::to_string(t % 2);
      for (int n = 0; n < per_thread; ++n) {
        const auto seq = s.append(queue, "m", "x", 0, [&](std::error_code ec, std::uint64_t) {
          if (!ec) ++ok;
        });
        s.remove(queue, seq);
      }
    });
  }
  for (auto& w : workers) w.join();
  s.flush();
  EXPECT_EQ(ok.load(), threads * per_thread);
  EXPECT_TRUE(s.load("q0", 0, 10'000).empty());
  EXPECT_TRUE(s.load("q1", 0, 10'000).empty());
  const auto st = s.stats();
  EXPECT_EQ(st.cancelled + st.appended, static_cast<std::uint64_t>(threads * per_thread));
  EXPECT_EQ(st.removed, st.appended);
}

TEST(GroupCommit, UnderLoadTheWriterGathersForCommitDelayAndAnAckedAppendIsNeverWritten) {
  temp_dir dir;
  auto o = options_in(dir);
  o.commit_delay = std::chrono::seconds(2);  // far longer than the test needs to ack
  sqlite_store s(o);
  held_writer hold;
  hold.hold_with_first_append(s);
  pending_append a = append_async(s, "delivered-before-commit");  // queued: the writer is busy
  hold.release.set_value();
  s.remove("q", a.returned);  // while the writer gathers: one batch with its append
  s.flush();
  EXPECT_FALSE(a.completed.get().ec);
  EXPECT_EQ(s.stats().cancelled, 1u);
  EXPECT_EQ(rows_with_seq(dir, a.returned), "0");
}

TEST(GroupCommit, AnIdleWriterCommitsAtOnceWhateverTheCommitDelay) {
  temp_dir dir;
  auto o = options_in(dir);
  o.commit_delay = std::chrono::hours(1);  // would hang this test if an idle writer waited
  sqlite_store s(o);
  pending_append a = append_async(s, "alone");
  EXPECT_FALSE(a.completed.get().ec);
  EXPECT_EQ(rows_with_seq(dir, a.returned), "1");
}

}  // namespace
