#pragma once
// The durable store on Redis, for several stompbox nodes sharing users (issue #8): one Redis
// stream per queue, a store-wide seq from one Redis counter, group commit by pipelining.
//
// Threads: like sqlite_store, this adapter owns ONE worker thread (blocking Redis I/O never runs
// on an io thread). append, remove, load_async and the expiry purges are queued to it; it sends
// everything queued (up to max_batch / max_batch_bytes) as one MULTI/EXEC transaction in one
// pipeline (one round trip), then runs completions in submission order. Why MULTI/EXEC and not a
// bare pipeline: with appendfsync always Redis fsyncs once per event-loop pass and reads a pipeline
// 16 KiB at a time, so a bare pipeline of 1000 appends cost ~20 fsyncs; queued in a transaction
// nothing is written before EXEC, so the batch costs one fsync (measured ~5x more appends/s). A
// batch is thereby all-or-nothing (a command refused while queueing, e.g. OOM, fails the batch).
// The synchronous `load` reads through a second connection under a mutex, not through the worker: a
// user subscribing must not wait behind a 1000-append pipeline, and the worker never waits for a
// reader.
//
// Data (key names in detail/redis_batch.hpp): `{prefix}uq:{queue}` is a stream whose entry id
// is `{seq}-0`, so XRANGE from `{after_seq+1}-0` pages by seq; `{prefix}seq` is INCRed by every
// node, so seqs are unique and increasing across nodes. An append is ONE Lua script (INCR, XADD,
// XTRIM MAXLEN max_count, SADD to the set of known queues), run with EVALSHA (SCRIPT LOAD on
// connect and again on a NOSCRIPT reply): Redis runs it atomically, so two nodes appending to a
// queue keep it in seq order. The seq is known only then: `append` returns 0 and the completion
// carries the seq, so a remove can never name an append still in flight. remove = XDEL.
//
// Delivered marks: `{prefix}dl:{queue}`, a sorted set of seqs (score = member = seq) beside the
// stream. mark_delivered is a short script (ZADD only if the entry exists, so a mark never
// outlives its entry); remove and expiry XDEL the entries and ZREM their marks in the same
// MULTI; the append script's trim drops every mark below the oldest entry left; dropping an
// empty queue deletes both keys. A load reads a page of entries and the marks above after_seq in
// one MULTI (one round trip, one consistent view), so it never misses a mark committed before
// it; marks still in flight from this store object are applied from memory, as removes are.
//
// Age and per-message expiry are applied on read (never loaded) and the entries are XDELed
// lazily: by the load that saw them and by a periodic sweep over the known queues, capped at
// purge_max_entries examined per sweep (it reads each queue's oldest entries, where age-expired
// ones are).
//
// Durability: an append completes with success only after Redis replied to the script. With
// the deployment we document (`appendonly yes`, `appendfsync always`) Redis replies after the
// AOF write is fsynced, so a RECEIPT means "on disk"; with `appendfsync everysec` up to a second
// of receipted messages can be lost on a Redis crash. Any error reply, a timeout
// (command_timeout) or a dropped connection completes every affected append with an error
// (error::unavailable, error::timed_out, or the mapped reply); never a false success. After a
// timeout or a drop the outcome is unknown: the message may be stored and be delivered although
// its sender got an ERROR (a duplicate, never a loss).
//
// Replicas ([cluster] min_replicas, WAIT). What a RECEIPT guarantees:
// - min_replicas = 0 (the default): the master holds the message (on its disk with
//   `appendfsync always`). Replication is asynchronous: if the master dies before a replica
//   received the message and a replica is promoted (Sentinel failover), the receipted message
//   is lost. Nothing tells the sender.
// - min_replicas = N > 0: the master holds it AND at least N replicas acknowledged receiving
//   it (WAIT N min_replicas_timeout_ms answered >= N) before the RECEIPT; a failover that
//   promotes one of those replicas keeps it. A replica acknowledges what it received, not what
//   it fsynced: a replica losing power at the same moment as the master can still lose it.
//   Sentinel may also promote a replica that was not among the N (WAIT does not choose which).
//   When fewer than N confirm in time the SEND gets an ERROR and no RECEIPT, but the message
//   stays stored on the master (WAIT does not roll back): it may be delivered, and a sender
//   sending it again may cause a duplicate. Never a receipted loss under those conditions,
//   possibly a duplicate.
// - WAIT follows each batch holding appends on the worker's connection (after EXEC, same
//   pipeline): a batch costs one replication round trip more; the writer's reply timeout is
//   command_timeout + min_replicas_timeout.
//
// Availability: while Redis is unreachable appends fail at once (no queueing in memory), loads
// fail with error::unavailable and `writable()` is false (an idle worker PINGs every second,
// so an outage shows without traffic); the worker reconnects with
// exponential backoff (100 ms doubling up to reconnect_max) and `writable()` turns true again
// once connected and the script is loaded (not while Redis is still LOADING its AOF).
//
// Deployment: Redis must run with `maxmemory-policy noeviction` (an evicted seq counter or
// stream loses messages; with noeviction a full Redis refuses appends: error::disk_full).
// The synchronous `load` blocks its caller for up to command_timeout when Redis hangs: from an
// io thread use load_async.
//
// Deviations / limits: a plain Redis (or a Sentinel-managed primary), not Redis Cluster (the
// script touches keys in several hash slots). A remove is hidden at once from this store
// object's loads; other nodes see it once the XDEL is done (next batch). If NOSCRIPT forces a
// retry within a batch, the retried appends get seqs above later ones of that batch (order per
// queue stays seq order). The sweep also deletes streams it finds empty (and forgets the
// queue), atomically against appends from other nodes.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "broker/store/error.hpp"
#include "broker/store/store.hpp"
#include "cluster/redis/options.hpp"

namespace cluster {
using namespace broker::store;  // the interface this adapter implements

/// Settings of redis_store, with their defaults.
struct redis_store_options {
  std::string url = "redis://127.0.0.1:6379";       ///< any form of cluster/redis/options.hpp
  /// When set, used instead of `url`: the parsed URL plus TLS files and a password read from a
  /// file or the environment (app/config builds it).
  std::optional<redis::options> where;
  std::string key_prefix = "stompbox:";             ///< every key starts with it
  retention keep;                                   ///< initial retention (see set_retention)
  std::chrono::milliseconds reconnect_max{5000};    ///< backoff cap while Redis is down
  std::chrono::milliseconds command_timeout{2000};  ///< a reply slower than this = failure
  /// The wall clock (stored_at, expiry); null = system_clock. Tests inject one to age
  /// messages. Must be thread-safe.
  std::function<std::chrono::system_clock::time_point()> clock;
  std::size_t max_batch = 1000;  ///< most operations sent in one pipeline
  /// Most payload bytes in one pipeline (one larger message still goes alone): Redis runs a
  /// batch's EXEC as one step and serves no other client meanwhile.
  std::size_t max_batch_bytes = 8 << 20;
  /// How often the worker sweeps known queues for expired messages (loads also purge).
  std::chrono::milliseconds purge_interval{60'000};
  std::size_t purge_max_entries = 1000;  ///< most stream entries examined per sweep
  /// [cluster] min_replicas: > 0, a batch of appends is followed by `WAIT min_replicas
  /// min_replicas_timeout` and its appends succeed only if that many replicas confirmed them
  /// (else error::too_few_replicas). 0 = no WAIT (see "Durability" above).
  int min_replicas = 0;
  std::chrono::milliseconds min_replicas_timeout{1000};  ///< how long WAIT may take
};

/// store on Redis streams. Thread-safe; see store.hpp for the contract.
class redis_store final : public store {
 public:
  /// Tries a first connection (bounded by command_timeout) and starts the worker thread.
  /// Redis being down is not an error here (writable() is false until it is reached); throws
  /// std::runtime_error only for a malformed url.
  explicit redis_store(redis_store_options options);
  /// Sends everything submitted and runs its completions (failed at once if Redis cannot be
  /// reached within one command_timeout), then stops the worker thread.
  ~redis_store() override;
  redis_store(const redis_store&) = delete;
  redis_store& operator=(const redis_store&) = delete;

  /// Returns 0: the seq is assigned by Redis at commit; the completion carries it.
  std::uint64_t append(std::string queue, std::string message_id, std::string payload,
                       std::int64_t expires_at_ms, append_handler done) override;
  using store::load;
  std::vector<stored_message> load(std::string_view queue, std::uint64_t after_seq, std::size_t max,
                                   std::error_code& ec) override;
  /// Runs on the worker thread after the appends submitted before it: `done` runs there.
  void load_async(std::string queue, std::uint64_t after_seq, std::size_t max,
                  load_handler done) override;
  /// Queued to the worker: SSCAN of the known queues, XLEN and the oldest entry of each.
  void summarize_async(std::size_t max, summary_handler done) override;
  void remove(std::string queue, std::uint64_t seq) override;
  void mark_delivered(std::string queue, std::uint64_t seq) override;
  void set_retention(retention r) override;
  store_stats stats() const override;
  void flush() override;
  /// False while Redis is unreachable or after a failed append; true again once reconnected
  /// or an append succeeds.
  bool writable() const override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cluster
