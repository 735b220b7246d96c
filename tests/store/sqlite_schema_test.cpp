// Opening an existing database file: the seq counter starts above every seq the file ever used,
// and a file written before the `delivered` column is migrated.
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
using store_test::delivered_of;
using store_test::ids_of;
using store_test::options_in;
using store_test::temp_dir;

std::string db_path(const temp_dir& dir) { return (dir.path() / "stompbox.db").string(); }

// What stompbox wrote before mark_delivered existed, verbatim.
constexpr const char* old_schema_sql =
    "CREATE TABLE IF NOT EXISTS messages ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " queue TEXT NOT NULL,"
    " message_id TEXT NOT NULL,"
    " payload BLOB NOT NULL,"
    " stored_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS messages_by_queue ON messages(queue, seq);"
    "CREATE INDEX IF NOT EXISTS messages_by_age ON messages(stored_at);"
    "CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages(expires_at) WHERE expires_at > 0;";

// Three rows (seq 1..3) by the old schema's own AUTOINCREMENT, then the newest deleted.
void write_old_file(const temp_dir& dir) {
  sqlite_db db(db_path(dir), false);
  db.exec_or_throw(old_schema_sql);
  db.exec_or_throw(
      "INSERT INTO messages(queue, message_id, payload, stored_at) VALUES"
      " ('q', 'old1', 'p1', strftime('%s', 'now') * 1000),"
      " ('q', 'old2', 'p2', strftime('%s', 'now') * 1000),"
      " ('q', 'old3', 'p3', strftime('%s', 'now') * 1000)");
  db.exec_or_throw("DELETE FROM messages WHERE seq = 3");
}

TEST(SqliteSchema, MigratesAFileFromBeforeTheDeliveredColumn) {
  temp_dir dir;
  write_old_file(dir);
  const auto o = options_in(dir);
  {
    sqlite_store s(o);
    auto loaded = s.load("q", 0, 10);
    EXPECT_EQ(ids_of(loaded), (std::vector<std::string>{"old1", "old2"}));
    EXPECT_EQ(delivered_of(loaded), (std::vector<bool>{false, false}));
    EXPECT_EQ(loaded[1].payload, "p2");
    s.mark_delivered("q", loaded[1].seq);
    const auto fresh = append_sync(s, "q", "new", "x");
    ASSERT_FALSE(fresh.ec) << fresh.ec.message();
    EXPECT_GT(fresh.seq, 3u);  // above the deleted seq 3 too
  }
  sqlite_db raw(db_path(dir), false);  // read-write: a WAL file's -shm may need creating
  EXPECT_EQ(raw.query_text_or_throw(
                "SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'delivered'"),
            "1");
  sqlite_store reopened(o);  // already migrated: opens as is
  auto loaded = reopened.load("q", 0, 10);
  EXPECT_EQ(ids_of(loaded), (std::vector<std::string>{"old1", "old2", "new"}));
  EXPECT_EQ(delivered_of(loaded), (std::vector<bool>{false, true, false}));
}

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
