#pragma once
// The Redis side of redis_store: key names, the append script, one pipelined batch of writes
// (group commit: one round trip), and stream reads. Used by the store's threads over their own
// redis_link; nothing here is shared or locked.
//
// Keys (all under the configured prefix):
//   {p}seq          INCR counter: the store-wide seq, shared by every node
//   {p}uq:{queue}   one stream per queue; entry id "{seq}-0", fields message_id, payload,
//                   stored_at, expires_at
//   {p}dl:{queue}   sorted set of the queue's delivered seqs (member and score = seq): marks
//                   are added only for an entry that exists, and leave with it (XDEL with ZREM
//                   in one transaction, trim and drop in the same script), so it is always a
//                   subset of the stream and a page of marks matches a page of entries
//   {p}queues       set of queue names appended to (the periodic expiry sweep walks it)

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <vector>

#include "cluster/store/detail/redis_link.hpp"
#include "broker/store/store.hpp"

namespace cluster::detail {
using namespace broker::store;  // the interface this adapter implements

/// Key names under one prefix.
struct redis_keys {
  std::string prefix;                                       ///< e.g. "stompbox:"
  std::string seq() const { return prefix + "seq"; }        ///< the seq counter
  std::string queues() const { return prefix + "queues"; }  ///< the set of known queues
  /// The stream of `queue`.
  std::string stream(std::string_view queue) const { return prefix + "uq:" + std::string(queue); }
  /// The delivered marks of `queue`.
  std::string delivered(std::string_view queue) const {
    return prefix + "dl:" + std::string(queue);
  }
};

/// One unit of work for the store's worker thread.
struct redis_op {
  enum class kind { append, remove, mark, expire, load, summarize };
  kind what = kind::append;
  std::string queue;
  std::string message_id;              ///< append
  std::string payload;                 ///< append
  std::int64_t stored_at_ms = 0;       ///< append
  std::int64_t expires_at_ms = 0;      ///< append
  std::uint64_t seq = 0;               ///< remove/mark: the target; append: the result
  std::vector<std::uint64_t> expired;  ///< expire: entries to delete
  std::size_t max = 0;                 ///< load, summarize
  append_handler done;                 ///< append
  store::load_handler loaded;          ///< load
  store::summary_handler summarized;   ///< summarize
  std::error_code ec;                  ///< append/remove/mark/expire: the outcome
};

/// WAIT after a batch holding appends: its appends succeed only if `count` replicas confirmed
/// them within `timeout` (count 0: no WAIT).
struct replica_wait {
  int count = 0;
  std::chrono::milliseconds timeout{1000};
};

/// What one pipeline did; counts only what Redis confirmed.
struct redis_batch_result {
  std::error_code ec;  ///< first failure (connection or error reply), if any
  std::uint64_t appended = 0;
  std::uint64_t append_failures = 0;
  std::uint64_t removed = 0;
  std::uint64_t dropped_overflow = 0;
  std::uint64_t dropped_expired = 0;
  std::chrono::microseconds latency{0};  ///< first send to last reply
};

/// SCRIPT LOADs the append script; returns its SHA1 (empty with `ec` on failure).
std::string load_append_script(redis_link& link, std::error_code& ec);

/// Sends every append/remove/mark/expire of `ops` as one MULTI/EXEC in one pipeline (submission
/// order), reads every reply, and sets each op's `ec` (and an append's `seq`). An append whose
/// reply is NOSCRIPT (script cache flushed) is retried once after reloading the script into `sha`.
/// Loads in `ops` are skipped. A dropped connection fails every op whose reply was not read.
/// With `replicas.count` > 0 a batch holding appends is followed, in the same pipeline, by
/// `WAIT count timeout`; answered fewer, its appends fail with error::too_few_replicas.
redis_batch_result run_batch(redis_link& link, const redis_keys& keys, std::string& sha,
                             std::size_t max_count, std::vector<redis_op>& ops,
                             const replica_wait& replicas = {});

/// Up to `count` entries of `queue` with seq > `after_seq`, oldest first, unfiltered;
/// `delivered` is not read (always false).
std::vector<stored_message> read_range(redis_link& link, const redis_keys& keys,
                                       std::string_view queue, std::uint64_t after_seq,
                                       std::size_t count, std::error_code& ec);

/// As read_range, with `delivered` set from the queue's marks, read in the same transaction.
std::vector<stored_message> read_page(redis_link& link, const redis_keys& keys,
                                      std::string_view queue, std::uint64_t after_seq,
                                      std::size_t count, std::error_code& ec);

/// Up to `max` entries of `queue` with seq > `after_seq`, oldest first, with their delivered
/// marks, paging past those `is_expired` rejects (their seqs are added to `expired`) and those
/// in `hidden`. On a read failure `ec` is set and what was read before it is returned.
std::vector<stored_message> read_live(redis_link& link, const redis_keys& keys,
                                      std::string_view queue, std::uint64_t after_seq,
                                      std::size_t max,
                                      const std::function<bool(const stored_message&)>& is_expired,
                                      const std::unordered_set<std::uint64_t>& hidden,
                                      std::vector<std::uint64_t>& expired, std::error_code& ec);

/// One SSCAN step over the known queues: the names, and `cursor` moved on ("0" = wrapped).
std::vector<std::string> scan_queues(redis_link& link, const redis_keys& keys, std::string& cursor,
                                     std::size_t count, std::error_code& ec);

/// Every known queue whose stream holds entries (a whole SSCAN of the set, then XLEN and the
/// oldest entry of each), at most `max`, most entries first. Entries not yet swept for age are
/// counted. Stops at `ec` with what was read.
std::vector<queue_summary> summarize_queues(redis_link& link, const redis_keys& keys,
                                            std::size_t max, std::error_code& ec);

/// Where the periodic expiry sweep stands between two runs.
struct sweep_position {
  std::string cursor = "0";         ///< SSCAN cursor over the known queues
  std::deque<std::string> pending;  ///< names scanned but not examined yet
};

/// What one sweep found.
struct sweep_result {
  std::vector<redis_op> purges;    ///< one expire op per queue holding expired entries
  std::vector<std::string> empty;  ///< queues whose stream had no entry left
};

/// Reads the oldest entries of known queues, at most `budget` entries in all (an empty queue
/// counts one), collecting those for which `is_expired` is true. Stops early on `ec`.
sweep_result find_expired(redis_link& link, const redis_keys& keys, sweep_position& at,
                          std::size_t budget,
                          const std::function<bool(const stored_message&)>& is_expired,
                          std::error_code& ec);

/// Deletes the stream of `queue` (and its marks) and forgets the queue if, atomically, it has
/// no entry (an append from another node in between keeps it). True when deleted.
bool drop_queue_if_empty(redis_link& link, const redis_keys& keys, const std::string& queue,
                         std::error_code& ec);

}  // namespace cluster::detail
