#pragma once
// The durable message store behind per-user queues (`/user/{name}/queue/x` messages sent while
// no session of that user is subscribed). The broker sees only this interface; SQLite
// (sqlite_store.hpp) is the embedded engine, Redis streams may replace it later.
//
// Naming: namespace `broker::store` (the module), the interface is `broker::store::store`, as the
// broker facade is `broker::broker`.
//
// Contract the broker can rely on:
//  - `append` completes only after the row is durably committed; a failure (disk full, read-only,
//    I/O) completes with an error, never with a false success. A RECEIPT is sent from there.
//  - Completion order follows submission order; seqs grow in submission order (one store-wide
//    counter, never reused), so per queue they are strictly increasing and oldest-first.
//  - `load` sees exactly the committed appends: once a completion has run, a later load returns
//    the message (unless removed, dropped or expired). The committed messages of a queue are
//    always a prefix of its appends in seq order, so a load returns a prefix too.
//  - `remove` is asynchronous, but from the moment it returns, no later `load` of this store
//    object returns that message. Crash window: a removal not yet committed when the process dies
//    (kill -9, power loss) is lost, so the message is delivered again after restart: a
//    redelivery, never a loss.
//  - When `append` returns the seq at once (SQLite), the broker may hand the message out before
//    the commit and `remove` it before its completion ran: an append and its remove that meet
//    in one group commit are both dropped unwritten (store_stats::cancelled), the append still
//    completes with success after that commit.
//  - `mark_delivered` is asynchronous like `remove`; from the moment it returns, `load` of this
//    store object reports the message as delivered. Crash window: a mark not yet committed is
//    lost, so the message is delivered again after restart without the redelivered flag.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace broker::store {

/// One message held for a queue. `payload` is opaque bytes (the broker stores the serialised
/// frame there).
struct stored_message {
  std::uint64_t seq = 0;            ///< store-wide, strictly increasing, never reused
  std::string queue;                ///< e.g. "alice/queue/orders": the broker chooses the key
  std::string message_id;           ///< the broker's message-id, kept for logs and dedup
  std::string payload;              ///< opaque bytes
  std::int64_t stored_at_ms = 0;    ///< wall clock (store's clock) when `append` was called
  std::int64_t expires_at_ms = 0;   ///< absolute deadline in ms since epoch; 0 = never
  bool delivered = false;           ///< handed to a client-ack subscriber (see mark_delivered)
};

/// How much a queue keeps. Applied per queue: over `max_count` the oldest messages are dropped
/// when a new one is appended; older than `max_age` they are dropped (and never loaded).
struct retention {
  std::size_t max_count = 1000;                                        ///< 0 = unlimited
  std::chrono::milliseconds max_age = std::chrono::hours{24 * 7};      ///< 0 = unlimited
};

/// Counters since the store was opened (not persisted).
struct store_stats {
  std::uint64_t appended = 0;          ///< appends committed (cancelled ones not included)
  std::uint64_t append_failures = 0;   ///< appends completed with an error
  std::uint64_t removed = 0;           ///< rows actually deleted by `remove`
  std::uint64_t cancelled = 0;         ///< appends removed before their commit: neither was written
  std::uint64_t dropped_overflow = 0;  ///< oldest messages dropped over `max_count`
  std::uint64_t dropped_expired = 0;   ///< messages deleted for age or their own expiry
  std::uint64_t commit_batches = 0;    ///< transactions committed (group commit: << appended)
  std::uint64_t failed_batches = 0;    ///< transactions that failed and were rolled back
  std::chrono::microseconds last_commit_latency{0};  ///< BEGIN to COMMIT (fsync included)
};

/// The committed messages of one queue, for an operator's console.
struct queue_summary {
  std::string queue;
  std::uint64_t messages = 0;            ///< expired ones not yet deleted included
  std::int64_t oldest_stored_at_ms = 0;  ///< stored_at of the oldest
};

/// Called once per append: `ec` empty and the message's `seq` when durably committed (or
/// cancelled by a `remove` in the same commit); an error (see error.hpp) and seq 0 otherwise. May
/// run on the store's writer thread: keep it short, never call `flush()` from it.
using append_handler = std::function<void(std::error_code ec, std::uint64_t seq)>;

/// The durable store. Every member is thread-safe. Destroying it commits what was submitted
/// (completions run) and then stops; no member may be called concurrently with the destructor.
class store {
 public:
  virtual ~store() = default;

  /// Queues `payload` for `queue`; `done` is called exactly once, after the commit or failure.
  /// `expires_at_ms` is an absolute deadline (ms since epoch), 0 = only `max_age` applies.
  /// Returns the message's seq when the store assigns it at submission (SQLite: strictly
  /// increasing in submission order, above every seq this database ever used, never reused), or 0
  /// when it is known only at commit (Redis: the completion carries it). `done` gets the same seq.
  /// A seq returned here may be passed to `remove` and `mark_delivered` before `done` ran. When
  /// the append fails, its seq is burnt: `done` gets 0 and no message ever carries it.
  virtual std::uint64_t append(std::string queue, std::string message_id, std::string payload,
                               std::int64_t expires_at_ms, append_handler done) = 0;

  /// Up to `max` messages of `queue` with seq > `after_seq`, oldest first, skipping removed and
  /// expired ones. Synchronous (one indexed read); meant for when a user subscribes. Page with
  /// `after_seq` = the last seq returned. On a read failure `ec` is set and the messages read
  /// before it are returned; nothing is lost (they stay stored), but the caller should not treat
  /// the backlog as drained.
  virtual std::vector<stored_message> load(std::string_view queue, std::uint64_t after_seq,
                                           std::size_t max, std::error_code& ec) = 0;

  /// As above, for callers that treat a read failure as "nothing more stored right now".
  std::vector<stored_message> load(std::string_view queue, std::uint64_t after_seq,
                                   std::size_t max) {
    std::error_code ignored;
    return load(queue, after_seq, max, ignored);
  }

  /// Called once per load_async with what `load` would return: the messages and a read error.
  using load_handler = std::function<void(std::vector<stored_message> messages,
                                          std::error_code ec)>;

  /// As `load`, without blocking the caller on a remote store (Redis): `done` runs exactly once,
  /// inline or on the store's own thread (keep it short: post to your strand). The default runs
  /// the synchronous `load` inline, which is right for an embedded store (SQLite).
  virtual void load_async(std::string queue, std::uint64_t after_seq, std::size_t max,
                          load_handler done) {
    std::error_code ec;
    auto messages = load(queue, after_seq, max, ec);
    done(std::move(messages), ec);
  }

  /// Deletes message `seq` of `queue` (ack, or auto-ack once written). Batched and committed
  /// asynchronously; hidden from `load` at once. Unknown seqs are ignored. `seq` may be one that
  /// `append` returned before its completion ran: when both land in the same commit, neither is
  /// written (counted in store_stats::cancelled); otherwise the row is deleted after its commit.
  virtual void remove(std::string queue, std::uint64_t seq) = 0;

  /// Message `seq` of `queue` was handed to a client-ack subscriber: from now on `load` returns
  /// it with `delivered = true` (also after a restart), so the broker marks it redelivered.
  /// Batched and committed asynchronously like remove; unknown seqs are ignored.
  virtual void mark_delivered(std::string queue, std::uint64_t seq) = 0;

  /// Called once per summarize_async: the queues holding messages, or an error.
  using summary_handler = std::function<void(std::vector<queue_summary> queues,
                                             std::error_code ec)>;

  /// Every queue holding committed messages (at most `max` of them, most messages first), for
  /// an operator's console; removes not yet committed are still counted. `done` runs exactly
  /// once, inline or on the store's thread. The default answers error::not_supported.
  virtual void summarize_async(std::size_t max, summary_handler done);

  /// Called once per purge_async: how many messages were removed, and the error that stopped
  /// it early (messages removed before it stay removed).
  using purge_handler = std::function<void(std::uint64_t removed, std::error_code ec)>;

  /// Removes every message stored for `queue` now (an administrator's purge): pages through
  /// load_async and removes each message, so it works on any store and needs no lock of its
  /// own. Messages appended meanwhile may survive. `done` runs exactly once, inline or on the
  /// store's thread (keep it short).
  void purge_async(std::string queue, purge_handler done);

  /// Changes the retention of every queue; takes effect on the next append / expiry purge.
  virtual void set_retention(retention r) = 0;

  /// A snapshot of the counters.
  virtual store_stats stats() const = 0;

  /// Blocks until everything submitted before the call is committed (or failed). For tests and
  /// shutdown. Never from an append_handler.
  virtual void flush() = 0;

  /// Health probe for /readyz: false once the last commit failed (disk full, read-only), true
  /// again after a commit succeeds.
  virtual bool writable() const = 0;
};

}  // namespace broker::store
