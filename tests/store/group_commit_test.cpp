// Group commit and concurrency of sqlite_store.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "broker/store/sqlite_store.hpp"
#include "store_fixture.hpp"

namespace {

using broker::store::sqlite_store;
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

}  // namespace
