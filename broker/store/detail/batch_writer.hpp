#pragma once
// The writer side of sqlite_store: applies a batch of queued writes in one transaction (group
// commit). Used only by the store's writer thread.

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "broker/store/detail/sqlite_db.hpp"
#include "broker/store/store.hpp"

namespace broker::store::detail {

/// One unit of work queued for the writer thread.
struct write_op {
  enum class kind { append, remove, mark, purge };
  kind what = kind::append;
  std::string queue;
  std::string message_id;
  std::string payload;
  std::int64_t stored_at_ms = 0;
  std::int64_t expires_at_ms = 0;
  std::uint64_t seq = 0;   ///< append: assigned at submission; remove/mark: the target
  append_handler done;     ///< append only
  bool cancelled = false;  ///< append/remove: paired with its remove/append in the same batch
};

/// What one batch did; the counts are meaningful only when `ec` is empty (committed).
struct batch_result {
  std::error_code ec;
  std::uint64_t appended = 0;
  std::uint64_t removed = 0;
  std::uint64_t cancelled = 0;  ///< append + remove pairs dropped unwritten (even if `ec`)
  std::uint64_t dropped_overflow = 0;
  std::uint64_t dropped_expired = 0;
  std::chrono::microseconds latency{0};
  bool transaction = false;  ///< false: the batch had nothing to write (all cancelled)
};

/// Owns the writer connection's prepared statements. Not thread-safe (writer thread only).
class batch_writer {
 public:
  /// Prepares the statements on `db`, which must outlive this object and hold the schema.
  explicit batch_writer(sqlite_db& db);

  /// Applies `ops` in order in one transaction, then trims every queue appended to down to
  /// `policy.max_count`, and deletes expired rows when `purge` (or a purge op) asks for it.
  /// First marks `cancelled` every append whose remove is in `ops` too, and that remove: neither
  /// touches the database; a batch left with nothing to write runs no transaction at all.
  /// On any failure the whole transaction is rolled back and `ec` says why.
  batch_result run(std::vector<write_op>& ops, const retention& policy, std::int64_t now_ms,
                   bool purge);

 private:
  std::error_code apply_locked_txn(std::vector<write_op>& ops, const retention& policy,
                                   std::int64_t now_ms, bool purge, batch_result& out);
  std::error_code insert(const write_op& op);
  std::error_code erase(const write_op& op, batch_result& out);
  std::error_code mark(const write_op& op);
  std::error_code trim(const std::string& queue, std::size_t max_count, batch_result& out);
  std::error_code purge_expired(const retention& policy, std::int64_t now_ms, batch_result& out);
  std::error_code run_delete(sqlite_stmt& stmt, std::uint64_t& counter);

  sqlite_db& db_;
  sqlite_stmt insert_;
  sqlite_stmt remove_;
  sqlite_stmt mark_;
  sqlite_stmt trim_;
  sqlite_stmt purge_deadline_;
  sqlite_stmt purge_age_;
};

}  // namespace broker::store::detail
