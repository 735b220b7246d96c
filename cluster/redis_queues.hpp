#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "broker/broker.hpp"
#include "cluster/redis_connection.hpp"

struct redisReply;

namespace cluster {


/// Counters for /metrics. Any thread.
struct queue_stats {
  std::atomic<std::uint64_t> appended{0};       ///< SENDs the shared queues accepted
  std::atomic<std::uint64_t> append_errors{0};  ///< SENDs refused: Redis down, error, queue full
  std::atomic<std::uint64_t> taken{0};          ///< entries read for local consumers
  std::atomic<std::uint64_t> claimed{0};        ///< entries taken over (a dead node's, returned)
  std::atomic<std::uint64_t> consumed{0};       ///< entries acknowledged and deleted
  std::atomic<std::uint64_t> given_back{0};     ///< entries returned for other nodes
  std::atomic<std::uint64_t> replica_shortfalls{0};  ///< appends WAIT did not confirm
  std::atomic<std::uint64_t> pruned{0};         ///< consumers of gone nodes removed
};

/// Clustered /queue/ destinations over Redis streams (docs/cluster.md, "Queues"): one stream
/// per queue, one consumer group ("stompbox") shared by every node, each node one consumer of
/// it (its node id). Redis hands each entry to exactly one node; the node's local broker::queue
/// hands it to exactly one consumer, and tells us when it is consumed (XACK + XDEL) or must go
/// back (no local consumer left: the entry is parked idle for any other node to claim).
///
/// A node takes only what its consumers can take now (broker::queue_room): when a SEND
/// announces an entry (a PUBLISH on the queue's channel), when a local consumer has room again,
/// and every second. Every second it also claims (XAUTOCLAIM) entries idle longer than
/// `claim_after`: those of a node that died, and those given back. A live node keeps the
/// entries it holds from looking idle by renewing them (XCLAIM to itself, only while it is
/// still their owner) every claim_after / 3; settles Redis did not apply are retried every
/// second and the entry stays held (renewed) meanwhile.
///
/// Publisher flow control: an append answers the stream's length; at the bound the SEND is
/// receipted and its publisher pauses (broker side), and this node polls XLEN every 100 ms
/// (and reads the consume script's answer) until the stream is down to the low watermark,
/// then broker::shared_queue_room resumes the publishers. Consumers of the group idle past
/// claim_after with nothing pending (gone nodes) are removed, every claim_after / 3. Every
/// script goes as EVALSHA once its text went on the connection (redis::connection::eval). With min_replicas > 0
/// appends go on a connection of their own, each followed by WAIT (see set_replication).
///
/// Everything runs on the link's strand; nothing blocks.
class redis_queues : public std::enable_shared_from_this<redis_queues> {
 public:
  redis_queues(int db, std::string node_id, broker::broker& b,
               std::chrono::milliseconds claim_after);

  /// The command connection to use (the link's). Before anything else.
  void set_connection(std::shared_ptr<redis_connection> redis) { redis_ = std::move(redis); }
  /// min_replicas > 0: appends go on `appends` (a connection of their own: WAIT blocks the
  /// connection it is sent on, which must not hold up settles, reads and PINGs) and succeed only
  /// once `WAIT min_replicas timeout` answers at least min_replicas. Before anything else.
  void set_replication(std::shared_ptr<redis_connection> appends, int min_replicas,
                       std::chrono::milliseconds timeout) {
    appends_ = std::move(appends);
    min_replicas_ = min_replicas;
    replicas_timeout_ = timeout;
  }

  /// One more or one fewer local consumer of /queue/ `name` (reference-counted).
  void interest(const std::string& name, bool on);
  /// As cluster_link::enqueue: {} and whether `name` holds `max` entries or more with it; refused
  /// (queue_full) when it held `refuse_at` entries already.
  using append_done = std::function<void(std::error_code, bool full)>;
  /// Appends `payload` (a stored_form MESSAGE) to `name`.
  void enqueue(const std::string& name, std::string payload, std::size_t max,
               std::size_t refuse_at, append_done done);
  /// As cluster_link::watch_room: broker::shared_queue_room(name) once the stream holds
  /// `low_watermark` entries or fewer.
  void watch_room(const std::string& name, std::size_t low_watermark);
  /// Asks the length of every watched stream (a question at a time per stream).
  void poll_room();
  /// Entry `id` of `name` left the local queue: consumed, or `give_back` for other nodes (only
  /// while this node still owns it).
  void settle(const std::string& name, const std::string& id, bool give_back);
  /// A SEND announced an entry of `name` (or, `claim`, a node gave entries back): take some.
  void announced(const std::string& name, bool claim);
  /// A local consumer of `name` has room again: take more if the stream may have more.
  void room_freed(const std::string& name);
  /// Every second: claims idle entries, keeps this node's own from looking idle.
  void tick();
  /// After the command connection came back: groups again, settles that failed, pulls.
  void reconnected();

  /// Settles sent whose reply has not come yet (the link waits for them when it stops).
  std::size_t settling() const noexcept { return settling_; }

  const queue_stats& stats() const noexcept { return stats_; }
  /// Prometheus families (complete) appended to `out`.
  void metrics_text(std::string& out) const;

 private:
  struct queue_state {
    int refs = 0;
    bool reading = false;      // a claim or read is in flight
    bool again = false;        // pull asked for while reading
    bool claim_again = false;  // ... with claim_first
    // False once a read came back short and nothing was announced since: a consumer's ACK then
    // costs no read (every ACK of a busy queue would otherwise be one XREADGROUP).
    bool maybe_more = true;
    // Where the next XAUTOCLAIM scan starts: a scan looks at a bounded stretch of the pending
    // list, so a long list of live nodes' entries is walked over several ticks.
    std::string claim_cursor = "0-0";
  };
  using entry_list = std::tuple<std::string, std::string, bool>;  // name, id, give_back

  void pull(const std::string& name, bool claim_first);
  void create_group(const std::string& name);
  void claim(const std::string& name, std::size_t room);
  void read(const std::string& name, std::size_t room);
  void finish(const std::string& name, bool more);
  std::size_t take(const std::string& name, const redisReply* entries, bool redelivered);
  void refresh_leases();
  void prune(const std::string& name);
  void forget(const std::string& name, const std::string& id);
  void retry_unsettled();
  bool run(const redis::script& script, std::vector<std::string> args,
           redis_connection::reply_fn done, redis_connection* on = nullptr);
  void wait_replicas(append_done done, bool full);
  void room_seen(const std::string& name, const redisReply* length);

  const int db_;
  const std::string node_id_;
  broker::broker& broker_;
  const std::chrono::milliseconds claim_after_;
  std::shared_ptr<redis_connection> redis_;
  std::shared_ptr<redis_connection> appends_;  // min_replicas > 0 only
  int min_replicas_ = 0;
  std::chrono::milliseconds replicas_timeout_{1000};
  std::map<std::string, queue_state> queues_;   // with local consumers
  // Entry ids taken and not yet settled in Redis, per queue: renewed, skipped when claimed again.
  std::map<std::string, std::set<std::string>> held_;
  struct watch {
    std::size_t low_watermark;
    bool asking;  // an XLEN in flight
  };
  std::map<std::string, watch> watched_;  // queues with publishers paused on them (this node)
  std::vector<entry_list> unsettled_;  // settles Redis did not apply: sent again every second
  std::size_t settling_ = 0;           // settles sent, reply not yet in
  std::chrono::steady_clock::time_point last_refresh_;
  std::chrono::steady_clock::time_point claims_from_;  // no claims before (see reconnected)
  queue_stats stats_;
};

}  // namespace cluster
