#include "broker/store/detail/batch_writer.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <unordered_map>

namespace broker::store::detail {
namespace {

// seq is assigned by the store at submission (see sqlite_store.cpp) and inserted as the rowid;
// SQLite raises the AUTOINCREMENT high-water mark to it, which the next open starts above.
constexpr const char* insert_sql =
    "INSERT INTO messages(seq, queue, message_id, payload, stored_at, expires_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* remove_sql = "DELETE FROM messages WHERE queue = ?1 AND seq = ?2";
constexpr const char* mark_sql = "UPDATE messages SET delivered = 1 WHERE queue = ?1 AND seq = ?2";
// Everything at or below the (max_count+1)-th newest row: nothing when the queue is short.
constexpr const char* trim_sql =
    "DELETE FROM messages WHERE queue = ?1 AND seq <= (SELECT seq FROM messages WHERE queue = ?1"
    " ORDER BY seq DESC LIMIT 1 OFFSET ?2)";
constexpr const char* purge_deadline_sql =
    "DELETE FROM messages WHERE expires_at > 0 AND expires_at <= ?1";
constexpr const char* purge_age_sql = "DELETE FROM messages WHERE stored_at <= ?1";

// An append and the remove of its seq in one batch: the broker handed the message out and it was
// acknowledged before the commit. Inserting and deleting it would only cost WAL pages and index
// updates; neither is written. A remove names a seq its append returned, so it always comes
// after that append in the batch: one pass finds every pair.
std::uint64_t cancel_pairs(std::vector<write_op>& ops) {
  const bool any_remove = std::any_of(
      ops.begin(), ops.end(), [](const write_op& op) { return op.what == write_op::kind::remove; });
  if (!any_remove) return 0;
  std::unordered_map<std::uint64_t, write_op*> appends;  // by seq: store-wide unique
  std::uint64_t pairs = 0;
  for (auto& op : ops) {
    if (op.what == write_op::kind::append) {
      appends.emplace(op.seq, &op);
    } else if (op.what == write_op::kind::remove) {
      auto it = appends.find(op.seq);
      if (it == appends.end() || it->second->queue != op.queue) continue;
      it->second->cancelled = true;
      op.cancelled = true;
      appends.erase(it);  // a second remove of the seq stays a DELETE that finds nothing
      ++pairs;
    }
  }
  return pairs;
}

bool writes_anything(const std::vector<write_op>& ops) {
  return std::any_of(ops.begin(), ops.end(), [](const write_op& op) { return !op.cancelled; });
}

}  // namespace

batch_writer::batch_writer(sqlite_db& db)
    : db_(db),
      insert_(db, insert_sql),
      remove_(db, remove_sql),
      mark_(db, mark_sql),
      trim_(db, trim_sql),
      purge_deadline_(db, purge_deadline_sql),
      purge_age_(db, purge_age_sql) {}

batch_result batch_writer::run(std::vector<write_op>& ops, const retention& policy,
                               std::int64_t now_ms, bool purge) {
  batch_result out;
  out.cancelled = cancel_pairs(ops);
  // Nothing left to write: no BEGIN, no COMMIT, no fsync. The cancelled appends complete now.
  if (!purge && !writes_anything(ops)) return out;
  out.transaction = true;
  const auto start = std::chrono::steady_clock::now();
  // IMMEDIATE takes the write lock up front: a busy database fails here, before any work.
  int rc = db_.exec("BEGIN IMMEDIATE");
  if (rc == SQLITE_OK) {
    out.ec = apply_locked_txn(ops, policy, now_ms, purge, out);
    if (!out.ec) {
      rc = db_.exec("COMMIT");
      out.ec = to_error_code(rc);
    }
  } else {
    out.ec = to_error_code(rc);
  }
  // Some errors (SQLITE_FULL, IOERR) already rolled the transaction back; a failed COMMIT may
  // leave it open. Either way nothing of this batch is reported as stored.
  if (out.ec && !db_.autocommit()) db_.exec("ROLLBACK");
  out.latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  return out;
}

std::error_code batch_writer::apply_locked_txn(std::vector<write_op>& ops,
                                               const retention& policy, std::int64_t now_ms,
                                               bool purge, batch_result& out) {
  std::vector<const std::string*> appended_queues;
  for (auto& op : ops) {
    if (op.cancelled) continue;
    std::error_code ec;
    switch (op.what) {
      case write_op::kind::append:
        ec = insert(op);
        ++out.appended;
        appended_queues.push_back(&op.queue);
        break;
      case write_op::kind::remove: ec = erase(op, out); break;
      case write_op::kind::mark: ec = mark(op); break;
      case write_op::kind::purge: purge = true; break;
    }
    if (ec) return ec;
  }
  if (policy.max_count > 0) {
    // Trim each queue once per batch, after all its appends.
    std::sort(appended_queues.begin(), appended_queues.end(),
              [](const std::string* a, const std::string* b) { return *a < *b; });
    auto last = std::unique(appended_queues.begin(), appended_queues.end(),
                            [](const std::string* a, const std::string* b) { return *a == *b; });
    for (auto it = appended_queues.begin(); it != last; ++it) {
      if (auto ec = trim(**it, policy.max_count, out)) return ec;
    }
  }
  return purge ? purge_expired(policy, now_ms, out) : std::error_code{};
}

std::error_code batch_writer::insert(const write_op& op) {
  insert_.reset();
  insert_.bind(1, static_cast<std::int64_t>(op.seq));
  insert_.bind_text(2, op.queue);
  insert_.bind_text(3, op.message_id);
  insert_.bind_blob(4, op.payload);
  insert_.bind(5, op.stored_at_ms);
  insert_.bind(6, op.expires_at_ms);
  return to_error_code(insert_.step());
}

std::error_code batch_writer::erase(const write_op& op, batch_result& out) {
  remove_.reset();
  remove_.bind_text(1, op.queue);
  remove_.bind(2, static_cast<std::int64_t>(op.seq));
  return run_delete(remove_, out.removed);
}

// Unknown seqs (removed, trimmed, expired, a failed append) update nothing: ignored.
std::error_code batch_writer::mark(const write_op& op) {
  mark_.reset();
  mark_.bind_text(1, op.queue);
  mark_.bind(2, static_cast<std::int64_t>(op.seq));
  return to_error_code(mark_.step());
}

std::error_code batch_writer::trim(const std::string& queue, std::size_t max_count,
                                   batch_result& out) {
  trim_.reset();
  trim_.bind_text(1, queue);
  trim_.bind(2, static_cast<std::int64_t>(max_count));
  return run_delete(trim_, out.dropped_overflow);
}

std::error_code batch_writer::purge_expired(const retention& policy, std::int64_t now_ms,
                                            batch_result& out) {
  purge_deadline_.reset();
  purge_deadline_.bind(1, now_ms);
  if (auto ec = run_delete(purge_deadline_, out.dropped_expired)) return ec;
  if (policy.max_age.count() <= 0) return {};
  purge_age_.reset();
  purge_age_.bind(1, now_ms - policy.max_age.count());
  return run_delete(purge_age_, out.dropped_expired);
}

std::error_code batch_writer::run_delete(sqlite_stmt& stmt, std::uint64_t& counter) {
  const int rc = stmt.step();
  if (rc != SQLITE_DONE) return to_error_code(rc);
  counter += static_cast<std::uint64_t>(sqlite3_changes64(db_.native()));
  return {};
}

}  // namespace broker::store::detail
