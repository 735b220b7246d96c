#include "broker/store/detail/sqlite_db.hpp"

#include <sqlite3.h>

#include <stdexcept>

#include "broker/store/error.hpp"

namespace broker::store::detail {

std::error_code to_error_code(int rc) noexcept {
  switch (rc & 0xff) {  // the primary code is the low byte of an extended one
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return {};
    case SQLITE_FULL: return error::disk_full;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return error::read_only;
    case SQLITE_IOERR:  // the unix VFS already reports ENOSPC as SQLITE_FULL
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN: return error::io_error;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return error::busy;
    default: return error::failed;
  }
}

sqlite_db::sqlite_db(const std::string& path, bool read_only) {
  const int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX;  // each connection is used by one thread at a time
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open store database '" + path + "': " + why);
  }
  sqlite3_extended_result_codes(db_, 1);
}

sqlite_db::~sqlite_db() { sqlite3_close(db_); }

int sqlite_db::exec(const char* sql) noexcept {
  return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
}

void sqlite_db::exec_or_throw(const char* sql) {
  if (exec(sql) != SQLITE_OK) {
    throw std::runtime_error(std::string("store: '") + sql + "' failed: " + last_message());
  }
}

std::string sqlite_db::query_text_or_throw(const char* sql) {
  sqlite_stmt stmt(*this, sql);
  const int rc = stmt.step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    throw std::runtime_error(std::string("store: '") + sql + "' failed: " + last_message());
  }
  return rc == SQLITE_ROW ? stmt.column_bytes(0) : std::string{};
}

void sqlite_db::set_busy_timeout(int ms) noexcept { sqlite3_busy_timeout(db_, ms); }

bool sqlite_db::autocommit() const noexcept { return sqlite3_get_autocommit(db_) != 0; }

std::string sqlite_db::last_message() const { return sqlite3_errmsg(db_); }

sqlite_stmt::sqlite_stmt(const sqlite_db& db, const char* sql) {
  const int rc = sqlite3_prepare_v3(db.native(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_,
                                    nullptr);
  if (rc != SQLITE_OK) {
    throw std::runtime_error(std::string("store: cannot prepare '") + sql +
                             "': " + db.last_message());
  }
}

sqlite_stmt::~sqlite_stmt() { sqlite3_finalize(stmt_); }

void sqlite_stmt::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void sqlite_stmt::bind(int index, std::int64_t value) noexcept {
  sqlite3_bind_int64(stmt_, index, value);
}

void sqlite_stmt::bind_text(int index, std::string_view text) noexcept {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void sqlite_stmt::bind_blob(int index, std::string_view bytes) noexcept {
  // A zero-length blob needs a non-null pointer, or SQLite stores NULL.
  static const char empty = 0;
  sqlite3_bind_blob64(stmt_, index, bytes.empty() ? &empty : bytes.data(), bytes.size(),
                      SQLITE_TRANSIENT);
}

int sqlite_stmt::step() noexcept { return sqlite3_step(stmt_); }

std::int64_t sqlite_stmt::column_int(int index) const noexcept {
  return sqlite3_column_int64(stmt_, index);
}

std::string sqlite_stmt::column_bytes(int index) const {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, index));
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index));
  return data != nullptr ? std::string(data, size) : std::string{};
}

}  // namespace broker::store::detail
