// sqlite_store when things go wrong: a full disk, and a process killed right after a completion.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <set>

#include "broker/store/error.hpp"
#include "broker/store/sqlite_store.hpp"
#include "store_fixture.hpp"

namespace {

using broker::store::sqlite_store;
using store_test::append_sync;
using store_test::options_in;
using store_test::temp_dir;

// PRAGMA max_page_count makes SQLite fail the write with SQLITE_FULL, the very code a full disk
// gives: a faithful "disk full" without root or a loop device.
TEST(Failure, DiskFullCompletesWithAnErrorAndStoresNothing) {
  temp_dir dir;
  auto o = options_in(dir);
  o.max_page_count = 12;  // the empty schema takes 6 pages of 4 KiB
  std::set<std::string> stored;
  std::string failed_id;
  {
    sqlite_store s(o);
    const std::string payload(1500, 'p');
    for (int i = 0; i < 200 && failed_id.empty(); ++i) {
      const std::string id = "m" + std::to_string(i);
      auto r = append_sync(s, "q", id, payload);
      if (r.ec) {
        EXPECT_EQ(r.ec, broker::store::error::disk_full) << r.ec.message();
        EXPECT_EQ(r.seq, 0u);
        failed_id = id;
      } else {
        stored.insert(id);
      }
    }
    ASSERT_FALSE(failed_id.empty()) << "the page limit never filled";
    EXPECT_FALSE(stored.empty());
    EXPECT_FALSE(s.writable());
    const auto st = s.stats();
    EXPECT_GE(st.failed_batches, 1u);
    EXPECT_EQ(st.append_failures, 1u);
    EXPECT_EQ(st.appended, stored.size());
    std::set<std::string> loaded;
    for (const auto& m : s.load("q", 0, 1000)) loaded.insert(m.message_id);
    EXPECT_EQ(loaded, stored);
  }
  // Reopened without the limit: exactly what was acknowledged, and it accepts writes again.
  sqlite_store reopened(options_in(dir));
  std::set<std::string> loaded;
  for (const auto& m : reopened.load("q", 0, 1000)) loaded.insert(m.message_id);
  EXPECT_EQ(loaded, stored);
  EXPECT_FALSE(append_sync(reopened, "q", failed_id, "again").ec);
  EXPECT_TRUE(reopened.writable());
}

// A burst that does not fit fails as a whole batch: no message of it is half stored.
TEST(Failure, AFailedBatchFailsEveryAppendInIt) {
  temp_dir dir;
  auto o = options_in(dir);
  o.max_page_count = 12;
  sqlite_store s(o);
  std::atomic<int> ok{0};
  std::atomic<int> full{0};
  for (int i = 0; i < 300; ++i) {
    s.append("q", "m" + std::to_string(i), std::string(1500, 'p'), 0,
             [&](std::error_code ec, std::uint64_t) {
               if (!ec) {
                 ++ok;
               } else if (ec == broker::store::error::disk_full) {
                 ++full;
               }
             });
  }
  s.flush();
  EXPECT_GT(full.load(), 0);
  EXPECT_EQ(ok.load() + full.load(), 300);
  EXPECT_EQ(s.load("q", 0, 1000).size(), static_cast<std::size_t>(ok.load()));
}

// A removal that cannot be committed stays hidden from load while the process lives.
TEST(Failure, RemoveStaysHiddenWhenItsCommitFails) {
  temp_dir dir;
  auto o = options_in(dir);
  o.max_page_count = 12;
  sqlite_store s(o);
  const auto kept = append_sync(s, "q", "kept", "x");
  ASSERT_FALSE(kept.ec);
  // Fill the database, then queue the remove in the same batch as appends that cannot fit.
  std::atomic<int> failures{0};
  for (int i = 0; i < 300; ++i) {
    s.append("q", "fill", std::string(1500, 'p'), 0, [&](std::error_code ec, std::uint64_t) {
      if (ec) ++failures;
    });
  }
  s.remove("q", kept.seq);
  s.flush();
  ASSERT_GT(failures.load(), 0);
  for (const auto& m : s.load("q", 0, 1000)) EXPECT_NE(m.seq, kept.seq);
}

// A batch that cannot be committed fails its appends, a cancelled one included (the broker
// learns its message is not stored), and their seqs are burnt: the next append gets a higher one.
TEST(Failure, AFailedBatchFailsACancelledAppendAndBurnsItsSeqs) {
  temp_dir dir;
  auto o = options_in(dir);
  o.max_page_count = 12;
  sqlite_store s(o);
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  s.append("q", "first", "x", 0, [&](std::error_code, std::uint64_t) {
    entered.set_value();
    released.wait();
  });
  entered.get_future().wait();  // the writer is held: what follows lands in one batch
  std::atomic<int> full{0};
  std::uint64_t highest = 0;
  for (int i = 0; i < 100; ++i) {
    highest =
        s.append("q", "fill", std::string(1500, 'p'), 0, [&](std::error_code ec, std::uint64_t) {
          if (ec) ++full;
        });
  }
  std::promise<store_test::append_result> cancelled_done;
  const auto cancelled = s.append("q", "cancelled", "x", 0, [&](std::error_code ec, auto seq) {
    cancelled_done.set_value({ec, seq});
  });
  s.remove("q", cancelled);
  release.set_value();
  s.flush();
  EXPECT_EQ(full.load(), 100);
  const auto r = cancelled_done.get_future().get();
  EXPECT_EQ(r.ec, broker::store::error::disk_full) << r.ec.message();
  EXPECT_EQ(r.seq, 0u);
  EXPECT_EQ(s.stats().cancelled, 0u);
  const auto next = append_sync(s, "q", "next", "x");
  ASSERT_FALSE(next.ec) << next.ec.message();
  EXPECT_GT(next.seq, std::max(highest, cancelled));
  std::vector<std::string> ids;
  for (const auto& m : s.load("q", 0, 1000)) ids.push_back(m.message_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"first", "next"}));
}

// Each record a child sends up the pipe once a completion reported success.
struct completed_record {
  std::uint64_t index;
  std::uint64_t seq;
};

[[noreturn]] void crash_child(const std::string& dir, int fd) {
  broker::store::sqlite_options o;
  o.data_dir = dir;
  o.policy.max_count = 0;  // keep all 20'000: the check below wants every completed one
  auto* s = new sqlite_store(o);  // never destroyed: the process is killed
  std::atomic<int> completed{0};
  for (std::uint64_t i = 0; i < 20'000; ++i) {
    s->append("q", "m" + std::to_string(i), std::string(200, 'x'), 0,
              [fd, i, &completed](std::error_code ec, std::uint64_t seq) {
                if (ec) return;
                const completed_record r{i, seq};
                if (write(fd, &r, sizeof r) != static_cast<ssize_t>(sizeof r)) _exit(4);
                // Killed right after a completion, while later appends are still queued.
                if (++completed == 300) kill(getpid(), SIGKILL);
              });
  }
  s->flush();
  _exit(3);  // not reached unless the kill did not happen
}

TEST(Failure, EveryCompletedAppendSurvivesKillNine) {
  temp_dir dir;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    crash_child(dir.str(), fds[1]);
  }
  close(fds[1]);
  std::map<std::uint64_t, std::uint64_t> completed;  // index -> seq
  completed_record r{};
  while (read(fds[0], &r, sizeof r) == static_cast<ssize_t>(sizeof r)) completed[r.index] = r.seq;
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  ASSERT_GE(completed.size(), 300u);

  sqlite_store reopened(options_in(dir));
  std::map<std::string, std::uint64_t> on_disk;
  for (const auto& m : reopened.load("q", 0, 100'000)) on_disk[m.message_id] = m.seq;
  for (const auto& [index, seq] : completed) {
    auto it = on_disk.find("m" + std::to_string(index));
    ASSERT_NE(it, on_disk.end()) << "completed append m" << index << " lost";
    EXPECT_EQ(it->second, seq);
  }
  // And what is on disk is a prefix of the submission order: no gap before a stored message.
  std::uint64_t expected_index = 0;
  for (const auto& m : reopened.load("q", 0, 100'000)) {
    EXPECT_EQ(m.message_id, "m" + std::to_string(expected_index++));
  }
}

}  // namespace
