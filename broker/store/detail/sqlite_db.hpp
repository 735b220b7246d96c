#pragma once
// Thin RAII wrappers over the SQLite C API: one connection, one prepared statement. Not
// thread-safe: each object is used by one thread at a time (the owner serialises).

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

struct sqlite3;
struct sqlite3_stmt;

namespace broker::store::detail {

/// Maps a SQLite result code (primary or extended) to a broker::store::error.
std::error_code to_error_code(int rc) noexcept;

/// An open database connection. Closes on destruction (statements must be destroyed first).
class sqlite_db {
 public:
  /// Opens `path` (":memory:" for an in-memory database), creating it if missing.
  /// Throws std::runtime_error naming the path and SQLite's message: start-up only.
  sqlite_db(const std::string& path, bool read_only);
  ~sqlite_db();
  sqlite_db(const sqlite_db&) = delete;
  sqlite_db& operator=(const sqlite_db&) = delete;

  /// Runs `sql` (no results wanted); returns the SQLite result code.
  int exec(const char* sql) noexcept;
  /// Runs `sql` and throws std::runtime_error when it fails: start-up only.
  void exec_or_throw(const char* sql);
  /// Runs a single-row, single-column query such as "PRAGMA journal_mode=WAL" and returns the
  /// value as text. Throws on failure: start-up only.
  std::string query_text_or_throw(const char* sql);
  /// How long a statement waits on another process's lock before failing with SQLITE_BUSY.
  void set_busy_timeout(int ms) noexcept;
  /// True when no transaction is open (SQLite rolls some failures back by itself).
  bool autocommit() const noexcept;
  /// SQLite's message for the last failure on this connection.
  std::string last_message() const;
  sqlite3* native() const noexcept { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

/// A prepared statement, reset and re-bound for each use.
class sqlite_stmt {
 public:
  /// Prepares `sql` on `db` (persistent). Throws std::runtime_error: start-up only.
  sqlite_stmt(const sqlite_db& db, const char* sql);
  ~sqlite_stmt();
  sqlite_stmt(const sqlite_stmt&) = delete;
  sqlite_stmt& operator=(const sqlite_stmt&) = delete;

  /// Resets the statement and clears its bindings, ready for a new use.
  void reset() noexcept;
  /// Binds a parameter (1-based). The bytes are copied (SQLITE_TRANSIENT) only for text/blob.
  void bind(int index, std::int64_t value) noexcept;
  void bind_text(int index, std::string_view text) noexcept;
  void bind_blob(int index, std::string_view bytes) noexcept;
  /// One step: SQLITE_ROW, SQLITE_DONE or an error code.
  int step() noexcept;
  /// Reads a column of the current row (0-based).
  std::int64_t column_int(int index) const noexcept;
  std::string column_bytes(int index) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace broker::store::detail
