#include "broker/store/detail/sqlite_schema.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>

namespace broker::store::detail {
namespace {

// One table; seq is the store-wide order, (queue, seq) the access path of load, remove and
// mark_delivered. The other two indexes serve the expiry purge. seq is assigned by the store
// (sqlite_store.cpp) and inserted explicitly; AUTOINCREMENT is kept for its high-water mark in
// sqlite_sequence, which SQLite raises on every insert and never lowers when rows are deleted:
// the store starts above it, so a seq is never reused even after the newest row was removed.
constexpr const char* schema_sql =
    "CREATE TABLE IF NOT EXISTS messages ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " queue TEXT NOT NULL,"
    " message_id TEXT NOT NULL,"
    " payload BLOB NOT NULL,"
    " stored_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL DEFAULT 0,"
    " delivered INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS messages_by_queue ON messages(queue, seq);"
    "CREATE INDEX IF NOT EXISTS messages_by_age ON messages(stored_at);"
    "CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages(expires_at) WHERE expires_at > 0;";

// Files written before `delivered` existed keep their table (CREATE TABLE IF NOT EXISTS leaves it
// alone): add the column. ADD COLUMN with a constant default rewrites no row, so it is instant
// whatever the file's size, and old rows read as never delivered.
constexpr const char* has_delivered_sql =
    "SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'delivered'";
constexpr const char* add_delivered_sql =
    "ALTER TABLE messages ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0";

constexpr const char* highest_seq_sql =
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0),"
    " coalesce((SELECT max(seq) FROM messages), 0))";

bool in_memory(const sqlite_options& o) { return o.data_dir == ":memory:"; }

std::string database_path(const sqlite_options& o) {
  if (in_memory(o)) return ":memory:";
  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) {
    throw std::runtime_error("cannot create store data dir '" + o.data_dir + "': " +
                             ec.message());
  }
  return (std::filesystem::path(o.data_dir) / o.file_name).string();
}

std::uint64_t to_u64(const std::string& text) {
  return text.empty() ? 0 : static_cast<std::uint64_t>(std::stoll(text));
}

// In one write transaction: two processes opening an old file at once migrate it once.
void create_or_migrate(sqlite_db& db) {
  db.exec_or_throw("BEGIN IMMEDIATE");
  db.exec_or_throw(schema_sql);
  if (db.query_text_or_throw(has_delivered_sql) == "0") db.exec_or_throw(add_delivered_sql);
  db.exec_or_throw("COMMIT");
}

}  // namespace

std::unique_ptr<sqlite_db> open_writer_db(const sqlite_options& o) {
  auto db = std::make_unique<sqlite_db>(database_path(o), false);
  db->set_busy_timeout(static_cast<int>(o.busy_timeout.count()));
  if (!in_memory(o)) {
    // WAL: one writer and any number of readers run side by side; a commit appends to the WAL.
    if (db->query_text_or_throw("PRAGMA journal_mode=WAL") != "wal") {
      throw std::runtime_error("store: cannot switch '" + o.data_dir + "' to WAL mode");
    }
    // synchronous=FULL, not NORMAL: in WAL mode NORMAL fsyncs only at checkpoints, so a
    // committed transaction can vanish on power loss (it survives kill -9, not a power cut).
    // FULL fsyncs the WAL at every COMMIT, which is what "RECEIPT only once the message is on
    // disk" means. Group commit pays that one fsync per batch, not per message.
    db->exec_or_throw("PRAGMA synchronous=FULL");
  }
  create_or_migrate(*db);
  if (o.max_page_count > 0) {
    db->query_text_or_throw(
        ("PRAGMA max_page_count=" + std::to_string(o.max_page_count)).c_str());
  }
  return db;
}

std::unique_ptr<sqlite_db> open_reader_db(const sqlite_options& o) {
  if (in_memory(o)) return nullptr;  // an in-memory database has one connection: shared
  auto db = std::make_unique<sqlite_db>(database_path(o), false);
  db->set_busy_timeout(static_cast<int>(o.busy_timeout.count()));
  db->exec_or_throw("PRAGMA query_only=1");
  return db;
}

std::uint64_t highest_seq(sqlite_db& db) { return to_u64(db.query_text_or_throw(highest_seq_sql)); }

}  // namespace broker::store::detail
