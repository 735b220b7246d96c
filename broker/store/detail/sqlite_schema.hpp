#pragma once
// Opening sqlite_store's database: the connection settings (WAL, synchronous=FULL), the schema
// and its migrations, and the seq high-water mark. Start-up only: everything here throws
// std::runtime_error with a clear message on failure.

#include <cstdint>
#include <memory>

#include "broker/store/detail/sqlite_db.hpp"
#include "broker/store/sqlite_store.hpp"

namespace broker::store::detail {

/// The writer connection: creates the directory and the database if missing, switches to WAL,
/// creates or migrates the schema, applies max_page_count.
std::unique_ptr<sqlite_db> open_writer_db(const sqlite_options& o);

/// A query-only connection beside the writer; null for ":memory:" (one shared connection).
std::unique_ptr<sqlite_db> open_reader_db(const sqlite_options& o);

/// The highest seq this database ever used: the AUTOINCREMENT high-water mark of `messages`
/// (which outlives deleted rows), or its largest seq if that is higher. 0 for a new database.
std::uint64_t highest_seq(sqlite_db& db);

}  // namespace broker::store::detail
