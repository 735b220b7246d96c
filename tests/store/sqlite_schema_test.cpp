// Opening an existing database file: the seq counter starts above every seq the file ever used.
#include "broker/store/detail/sqlite_schema.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "broker/store/detail/sqlite_db.hpp"
#include "broker/store/sqlite_store.hpp"
#include "store_fixture.hpp"

namespace {

using broker::store::sqlite_store;
using broker::store::detail::sqlite_db;
using store_test::append_sync;
using store_test::ids_of;
using store_test::options_in;
using store_test::temp_dir;

std::string db_path(const temp_dir& dir) { return (dir.path() / "stompbox.db").string(); }

TEST(SqliteSchema, ReturnedSeqsContinueAboveDeletedOnesAfterReopen) {
  temp_dir dir;
  std::vector<std::uint64_t> seqs;
  {
    sqlite_store s(options_in(dir));
    for (int i = 0; i < 5; ++i) seqs.push_back(append_sync(s, "q", std::to_string(i), "x").seq);
    for (int i = 2; i < 5; ++i) s.remove("q", seqs[i]);  // the three newest
    s.flush();
  }
  sqlite_store reopened(options_in(dir));
  std::uint64_t completed = 0;
  const auto returned = reopened.append(
      "q", "after", "x", 0, [&](std::error_code, std::uint64_t seq) { completed = seq; });
  reopened.flush();
  EXPECT_GT(returned, seqs.back());
  EXPECT_EQ(completed, returned);
  EXPECT_EQ(ids_of(reopened.load("q", 0, 10)), (std::vector<std::string>{"0", "1", "after"}));
}

// A file whose AUTOINCREMENT record was lost or edited: the rows themselves still bound the seq.
TEST(SqliteSchema, HighestSeqAlsoCoversRowsAboveTheSequenceRecord) {
  temp_dir dir;
  {
    sqlite_store s(options_in(dir));
    for (int i = 0; i < 3; ++i) append_sync(s, "q", std::to_string(i), "x");
  }
  {
    sqlite_db db(db_path(dir), false);
    EXPECT_EQ(broker::store::detail::highest_seq(db), 3u);
    db.exec_or_throw("DELETE FROM sqlite_sequence");
    EXPECT_EQ(broker::store::detail::highest_seq(db), 3u);
  }
  sqlite_store reopened(options_in(dir));
  EXPECT_EQ(append_sync(reopened, "q", "next", "x").seq, 4u);
}

TEST(SqliteSchema, ANewFileStartsAtSeqOne) {
  temp_dir dir;
  sqlite_store s(options_in(dir));
  EXPECT_EQ(append_sync(s, "q", "first", "x").seq, 1u);
}

}  // namespace
