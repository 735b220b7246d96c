#pragma once
// The embedded durable store: SQLite in WAL mode with group commit.
//
// Threads: this adapter owns ONE writer thread, a deliberate exception to "broker owns no
// threads": group commit needs someone to wait on fsync off the io threads. Appends and removes
// are queued to it; it commits whatever is queued (up to max_batch) in one transaction, then
// runs the append completions. Loads read through a second connection (WAL lets readers run
// beside the writer) and never wait for an fsync.
//
// Submitted operations wait in an in-memory queue with no bound of its own: the broker bounds
// what it submits (its pending RECEIPTs / unacked messages). A remove (or mark_delivered) whose
// commit fails stays reflected by load and is retried with the next batch; if the process stops
// first, the message is delivered again after restart (never lost). Measured on the dev VM
// (fsync ~9 ms): one append in flight ~110/s; a burst from 4 threads ~64,000/s at 1000 appends
// per commit.
//
// Seqs: `append` assigns the seq at once from a counter that starts, at open, above the
// table's AUTOINCREMENT high-water mark (so above every seq the file ever held, deleted rows
// included), and queues the append in the same step: seq order is submission order and commit
// order. The broker may thus hand a message out before its commit and remove it before its
// completion; an append and its remove in one batch cancel out unwritten. Seqs that never
// reached the file (a failed batch, a cancelled pair) are never reused by this object, but may
// be handed out again after a restart: no stored message ever carried them. One store object
// per database file: a second writer process would collide on seqs (its INSERTs fail the batch
// on the primary key; nothing is overwritten).
//
// Schema: one table `messages`; a file from before the `delivered` column is migrated at open
// (ALTER TABLE ... ADD COLUMN, no row rewritten).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "broker/store/error.hpp"
#include "broker/store/store.hpp"

namespace broker::store {

/// Settings of sqlite_store, with their defaults.
struct sqlite_options {
  /// Directory holding `stompbox.db` (+ its -wal/-shm files); created if missing.
  /// ":memory:" keeps everything in memory (lost at exit; for tests and demos).
  std::string data_dir = "./data";
  std::string file_name = "stompbox.db";  ///< database file inside data_dir
  retention policy;                       ///< initial retention (see set_retention)
  std::size_t max_batch = 1000;           ///< most operations committed in one transaction
  /// Under load (operations were already waiting when the last commit ended) the writer waits
  /// this long for more before it commits: fewer, larger commits (one fsync each), and an
  /// append acked meanwhile (a message delivered before its commit) is never written at all.
  /// Adds at most this much to a RECEIPT under load; an idle writer commits at once. 0 = never.
  std::chrono::microseconds commit_delay{1000};
  /// How often the writer deletes expired messages even when idle (loads also trigger it).
  std::chrono::milliseconds purge_interval{60'000};
  std::chrono::milliseconds busy_timeout{5'000};  ///< waiting on another process's lock
  /// Page limit of the database (PRAGMA max_page_count); 0 = SQLite's default. Hitting it fails
  /// appends with error::disk_full exactly as a full disk does: tests use it for that.
  std::int64_t max_page_count = 0;
  /// The wall clock in ms since the epoch (stored_at, expiry); empty = system_clock. Tests
  /// inject one to age messages. Must be thread-safe.
  std::function<std::int64_t()> now_ms;
};

/// store on SQLite. Thread-safe; see store.hpp for the contract.
class sqlite_store final : public store {
 public:
  /// Opens (or creates) the database and starts the writer thread. Throws std::runtime_error
  /// with a clear message when the directory or database cannot be created or opened.
  explicit sqlite_store(sqlite_options options);
  /// Commits everything submitted, runs its completions, stops the writer thread.
  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  /// Returns the message's seq (assigned at once; 0 only when the store is closing).
  std::uint64_t append(std::string queue, std::string message_id, std::string payload,
                       std::int64_t expires_at_ms, append_handler done) override;
  using store::load;
  std::vector<stored_message> load(std::string_view queue, std::uint64_t after_seq,
                                   std::size_t max, std::error_code& ec) override;
  void remove(std::string queue, std::uint64_t seq) override;
  void mark_delivered(std::string queue, std::uint64_t seq) override;
  void set_retention(retention r) override;
  /// One grouped read of the table (through the reader connection), inline.
  void summarize_async(std::size_t max, summary_handler done) override;
  store_stats stats() const override;
  void flush() override;
  bool writable() const override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace broker::store
