// Basic behaviour of sqlite_store: order, durability at completion, remove, reopen, queues,
// :memory:, start-up errors.
#include "broker/store/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <vector>

#include "store_fixture.hpp"

namespace {

using broker::store::sqlite_options;
using broker::store::sqlite_store;
using store_test::append_sync;
using store_test::ids_of;
using store_test::options_in;
using store_test::temp_dir;

TEST(SqliteStore, LoadsAppendsOldestFirst) {
  temp_dir dir;
  sqlite_store s(options_in(dir));
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < 5; ++i) {
    auto r = append_sync(s, "alice/queue/a", "m" + std::to_string(i), "body" + std::to_string(i));
    ASSERT_FALSE(r.ec) << r.ec.message();
    seqs.push_back(r.seq);
  }
  auto loaded = s.load("alice/queue/a", 0, 100);
  ASSERT_EQ(loaded.size(), 5u);
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    EXPECT_EQ(loaded[i].seq, seqs[i]);
    EXPECT_EQ(loaded[i].queue, "alice/queue/a");
    EXPECT_EQ(loaded[i].message_id, "m" + std::to_string(i));
    EXPECT_EQ(loaded[i].payload, "body" + std::to_string(i));
    EXPECT_GT(loaded[i].stored_at_ms, 0);
    if (i > 0) {
      EXPECT_GT(loaded[i].seq, loaded[i - 1].seq);
    }
  }
}

TEST(SqliteStore, PagesWithAfterSeqAndMax) {
  temp_dir dir;
  sqlite_store s(options_in(dir));
  for (int i = 0; i < 7; ++i) append_sync(s, "q", "m" + std::to_string(i), "x");
  auto first = s.load("q", 0, 3);
  ASSERT_EQ(ids_of(first), (std::vector<std::string>{"m0", "m1", "m2"}));
  auto second = s.load("q", first.back().seq, 3);
  EXPECT_EQ(ids_of(second), (std::vector<std::string>{"m3", "m4", "m5"}));
  auto rest = s.load("q", second.back().seq, 3);
  EXPECT_EQ(ids_of(rest), (std::vector<std::string>{"m6"}));
  EXPECT_TRUE(s.load("q", 0, 0).empty());
}

TEST(SqliteStore, KeepsBinaryPayloadsExactly) {
  temp_dir dir;
  sqlite_store s(options_in(dir));
  const std::string payload("MESSAGE\ndestination:/user/queue/a\n\n\0\x01\xff tail\0", 44);
  append_sync(s, "q", "bin", payload);
  append_sync(s, "q", "empty", "");
  auto loaded = s.load("q", 0, 10);
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0].payload, payload);
  EXPECT_EQ(loaded[1].payload, "");
}

// The completion runs only after the commit: a second store object on the same file, opened
// from inside the completion itself, already finds the row.
TEST(SqliteStore, CompletionComesAfterCommit) {
  temp_dir dir;
  sqlite_store s(options_in(dir));
  std::mutex m;
  std::vector<std::string> seen_by_other;
  std::vector<std::uint64_t> completed;
  for (int i = 0; i < 3; ++i) {
    const std::string id = "m" + std::to_string(i);
    s.append("q", id, "payload", 0, [&, id](std::error_code ec, std::uint64_t seq) {
      ASSERT_FALSE(ec);
      sqlite_store other(options_in(dir));
      std::lock_guard lk(m);
      completed.push_back(seq);
      for (const auto& msg : other.load("q", seq - 1, 1)) {
        if (msg.message_id == id) seen_by_other.push_back(id);
      }
    });
  }
  s.flush();
  EXPECT_EQ(completed.size(), 3u);
  EXPECT_EQ(seen_by_other, (std::vector<std::string>{"m0", "m1", "m2"}));
}

TEST(SqliteStore, ReopenFindsCommittedMessages) {
  temp_dir dir;
  std::uint64_t seq = 0;
  {
    sqlite_store s(options_in(dir));
    seq = append_sync(s, "bob/queue/x", "id-1", "hello").seq;
  }
  sqlite_store reopened(options_in(dir));
  auto loaded = reopened.load("bob/queue/x", 0, 10);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].seq, seq);
  EXPECT_EQ(loaded[0].payload, "hello");
}

TEST(SqliteStore, RemovedMessageIsNeverLoadedAgain) {
  temp_dir dir;
  {
    sqlite_store s(options_in(dir));
    std::vector<std::uint64_t> seqs;
    for (int i = 0; i < 5; ++i) seqs.push_back(append_sync(s, "q", "m" + std::to_string(i), "x").seq);
    s.remove("q", seqs[1]);
    s.remove("q", seqs[3]);
    // Hidden at once, before the removal is committed.
    EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"m0", "m2", "m4"}));
    s.flush();
    EXPECT_EQ(s.stats().removed, 2u);
    EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"m0", "m2", "m4"}));
    s.remove("q", 999'999);  // unknown: ignored, not counted
    s.flush();
    EXPECT_EQ(s.stats().removed, 2u);
  }
  sqlite_store reopened(options_in(dir));
  EXPECT_EQ(ids_of(reopened.load("q", 0, 10)), (std::vector<std::string>{"m0", "m2", "m4"}));
}

TEST(SqliteStore, SeqIsNeverReusedAfterTheNewestIsRemoved) {
  temp_dir dir;
  std::uint64_t newest = 0;
  {
    sqlite_store s(options_in(dir));
    append_sync(s, "q", "a", "x");
    newest = append_sync(s, "q", "b", "x").seq;
    s.remove("q", newest);
    s.flush();
  }
  sqlite_store reopened(options_in(dir));
  EXPECT_GT(append_sync(reopened, "q", "c", "x").seq, newest);
}

TEST(SqliteStore, QueuesAreIndependent) {
  temp_dir dir;
  sqlite_store s(options_in(dir));
  auto a0 = append_sync(s, "alice/queue/a", "a0", "x").seq;
  append_sync(s, "bob/queue/a", "b0", "x");
  append_sync(s, "alice/queue/a", "a1", "x");
  append_sync(s, "alice/queue/b", "ab0", "x");
  append_sync(s, "bob/queue/a", "b1", "x");
  EXPECT_EQ(ids_of(s.load("alice/queue/a", 0, 10)), (std::vector<std::string>{"a0", "a1"}));
  EXPECT_EQ(ids_of(s.load("bob/queue/a", 0, 10)), (std::vector<std::string>{"b0", "b1"}));
  EXPECT_EQ(ids_of(s.load("alice/queue/b", 0, 10)), (std::vector<std::string>{"ab0"}));
  s.remove("bob/queue/a", a0);  // a seq of another queue: not removed there
  s.flush();
  EXPECT_EQ(ids_of(s.load("alice/queue/a", 0, 10)), (std::vector<std::string>{"a0", "a1"}));
  EXPECT_TRUE(s.load("nobody/queue/a", 0, 10).empty());
}

TEST(SqliteStore, InMemoryWorks) {
  sqlite_options o;
  o.data_dir = ":memory:";
  sqlite_store s(o);
  auto first = append_sync(s, "q", "m0", "x");
  ASSERT_FALSE(first.ec);
  append_sync(s, "q", "m1", "y");
  append_sync(s, "other", "o0", "z");
  EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"m0", "m1"}));
  s.remove("q", first.seq);
  s.flush();
  EXPECT_EQ(ids_of(s.load("q", 0, 10)), (std::vector<std::string>{"m1"}));
  EXPECT_EQ(s.stats().removed, 1u);
  EXPECT_TRUE(s.writable());
}

TEST(SqliteStore, DestructorCommitsWhatWasSubmitted) {
  temp_dir dir;
  std::atomic<int> ok{0};
  {
    sqlite_store s(options_in(dir));
    for (int i = 0; i < 200; ++i) {
      s.append("q", "m" + std::to_string(i), "x", 0, [&](std::error_code ec, std::uint64_t) {
        if (!ec) ++ok;
      });
    }
  }
  EXPECT_EQ(ok.load(), 200);
  sqlite_store reopened(options_in(dir));
  EXPECT_EQ(reopened.load("q", 0, 1000).size(), 200u);
}

TEST(SqliteStore, CreatesMissingDataDir) {
  temp_dir dir;
  sqlite_options o;
  o.data_dir = (dir.path() / "nested" / "data").string();
  {
    sqlite_store s(o);
    EXPECT_FALSE(append_sync(s, "q", "m", "x").ec);
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "nested" / "data" / "stompbox.db"));
}

TEST(SqliteStore, ThrowsAClearErrorWhenTheDataDirCannotBeCreated) {
  temp_dir dir;
  std::ofstream(dir.path() / "a-file") << "not a directory";
  sqlite_options o;
  o.data_dir = (dir.path() / "a-file" / "data").string();
  try {
    sqlite_store s(o);
    FAIL() << "opened a store under a regular file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("a-file"), std::string::npos) << e.what();
  }
}

TEST(SqliteStore, ThrowsWhenTheFileIsNotADatabase) {
  temp_dir dir;
  std::ofstream(dir.path() / "stompbox.db") << std::string(8192, 'z');
  EXPECT_THROW(sqlite_store s(options_in(dir)), std::runtime_error);
}

}  // namespace
