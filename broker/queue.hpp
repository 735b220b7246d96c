#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "broker/byte_budget.hpp"
#include "broker/cluster.hpp"
#include "broker/connection.hpp"
#include "broker/message.hpp"

namespace broker {
namespace detail {
class stomp_session;
}

/// A consumer as its queue sees it (one SUBSCRIBE to a /queue/).
struct queue_consumer {
  std::uint64_t handle = 0;                        ///< registry subscription handle
  std::weak_ptr<connection> conn;                  ///< where deliveries are posted
  std::weak_ptr<detail::stomp_session> session;    ///< who delivers on that strand
  bool auto_ack = true;    ///< auto: removed when handed to the connection, never capped
  std::size_t prefetch = 0;  ///< client modes: max unacked messages; 0 = no cap
};

/// A publisher whose reading is paused until a queue drains (publisher flow control).
struct queue_waiter {
  std::uint64_t session_no = 0;                  ///< one entry per session
  std::weak_ptr<connection> conn;                ///< where the wake-up is posted
  std::weak_ptr<detail::stomp_session> session;  ///< told on that strand (on_queue_room)
};

/// A queue's numbers at one instant, for the operator's console.
struct queue_counts {
  std::size_t consumers = 0;
  std::size_t waiting = 0;     ///< messages waiting for a consumer
  std::size_t in_flight = 0;   ///< delivered, not yet settled
  std::uint64_t enqueued = 0;  ///< messages ever added (not counting requeues)
  std::uint64_t delivered = 0; ///< deliveries ever posted to consumers (redeliveries included)
};

/// A point-to-point /queue/: each message goes to exactly one consumer, round-robin among those
/// with capacity; messages wait (bounded) while none has. A message is always either waiting or
/// in flight to exactly one consumer, so it is never lost: consumers that go away give theirs
/// back (redelivered:true, to the head of the queue).
///
/// Clustered (a cluster_link given), the queue holds only what this node took from the shared
/// queue for its own consumers: every message that leaves it is settled with the link (consumed,
/// or given back when the last local consumer goes), and the link asks room() how many more to
/// take, so a node never hoards what other nodes' consumers could take.
///
/// Thread-safe: state is guarded by the queue's own mutex. Lock order (see registry.hpp):
/// registry mutex -> queue mutex -> connection::post's internal lock (or the cluster link's:
/// its settle and queue_room only post to its strand). Deliveries are posted while the queue
/// mutex is held (keeps per-consumer FIFO order) but nothing else is called under it;
/// connections locked there are released only after the mutex.
class queue : public std::enable_shared_from_this<queue> {
 public:
  /// `link` (may be null: one node) must outlive the queue or be detached with set_link.
  /// `max_bytes` bounds the held_size of the waiting messages like `max_waiting` bounds their
  /// number (0 = no byte bound; a message alone always fits). `held` (may be null), the
  /// server-wide budget, is charged every message the queue holds, waiting or in flight, until
  /// it leaves (acked, expired, given back, or the queue destroyed); it must outlive the queue.
  queue(std::string name, std::size_t max_waiting, cluster_link* link = nullptr,
        std::size_t max_bytes = 0, std::shared_ptr<byte_budget> held = nullptr);
  ~queue();

  /// Replaces the cluster link (null: detached, at shutdown; what leaves the queue afterwards
  /// is no longer settled with the shared queue).
  void set_link(cluster_link* link);

  /// Messages taken from the shared queue fill at most this many places per consumer without a
  /// prefetch (auto ack, or client ack without one).
  static constexpr std::size_t cluster_window = 64;

  const std::string& name() const noexcept { return name_; }

  /// Adds `m` and dispatches. error::queue_full when max_waiting messages already wait, or when
  /// `m` would take the waiting bytes past max_bytes.
  std::error_code enqueue(message_ptr m);

  /// Flow-controlled enqueue: adds `m` and dispatches; when max_waiting or more then wait,
  /// `paused` is set and `w` is registered, to be told (posted to its strand) once the queue has
  /// drained to low_watermark(). Past hard_max() (a peer ignoring back-pressure) it refuses
  /// with error::queue_full like enqueue.
  std::error_code enqueue(message_ptr m, const queue_waiter& w, bool& paused);

  /// Forgets the waiter of session `session_no` (it is closing). Idempotent.
  void forget_waiter(std::uint64_t session_no);

  /// Clustered: `w` paused on the shared queue (it reached max_waiting); told (posted to its
  /// strand, on_queue_room) at the next wake_shared_waiters. Apart from the local waiters: the
  /// local queue's own fill says nothing about the shared queue's.
  void wait_shared(const queue_waiter& w);
  /// Clustered: the shared queue drained to its low watermark: every wait_shared waiter is told.
  void wake_shared_waiters();

  /// Paused publishers resume when waiting messages drop to this (90% of max_waiting), and
  /// waiting bytes to 90% of max_bytes.
  std::size_t low_watermark() const noexcept { return max_waiting_ - max_waiting_ / 10; }
  /// Waiting messages past which even a flow-controlled SEND is refused: twice max_waiting, at
  /// least max_waiting + 4096. Paused publishers add at most one read each, far less than this.
  std::size_t hard_max() const noexcept { return hard_max_for(max_waiting_); }
  /// hard_max() of a queue bounded at `max_waiting` (the clustered queue refuses there too).
  static std::size_t hard_max_for(std::size_t max_waiting) noexcept;
  /// The same for bytes: twice max_bytes (0 = none).
  std::size_t hard_max_bytes() const noexcept { return 2 * max_bytes_; }
  std::size_t max_bytes() const noexcept { return max_bytes_; }

  /// Clustered: adds `m`, taken from the shared queue (no bound: the link takes at most room()),
  /// and dispatches; given back at once when no consumer is left.
  void enqueue_taken(message_ptr m);

  /// Clustered: how many more messages local consumers can take now (their free prefetch, or
  /// cluster_window, less what is already waiting); 0 without consumers.
  std::size_t room() const;

  /// Adds a consumer and dispatches waiting messages to it.
  void add_consumer(queue_consumer c);

  /// Removes a consumer; its in-flight messages go back to the head, redelivered. Idempotent.
  void remove_consumer(std::uint64_t handle);

  /// Settles in-flight deliveries of one consumer: removed, or (`requeue`) back to the head of
  /// the queue redelivered. Unknown ids are ignored (already settled or requeued).
  void settle(std::uint64_t handle, const std::vector<std::uint64_t>& deliveries, bool requeue);

  /// Drops waiting messages whose `expires` passed; returns how many expired since the last call
  /// (these and those dropped at dispatch), for metrics.
  std::size_t purge_expired();

  /// Messages waiting for a consumer (for tests and metrics).
  std::size_t waiting() const;
  /// Messages delivered and not yet settled, over all consumers.
  std::size_t in_flight() const;
  /// held_size of the waiting messages.
  std::size_t waiting_bytes() const;
  /// held_size of every message held, waiting or in flight (what `held` is charged).
  std::size_t held_bytes() const;
  /// Every number above at once, and the counters since the queue was created.
  queue_counts counts() const;

 private:
  struct consumer_state {
    queue_consumer spec;
    std::map<std::uint64_t, message_ptr> in_flight;  // by delivery id: delivery order
  };
  using keep_alive = std::vector<std::shared_ptr<connection>>;

  void dispatch_locked(keep_alive& keep);
  void hand_out_locked(keep_alive& keep);
  void wake_locked(keep_alive& keep);
  void tell_waiters_locked(std::map<std::uint64_t, queue_waiter>& waiters, keep_alive& keep);
  std::size_t pick_locked();
  void requeue_locked(std::map<std::uint64_t, message_ptr>& msgs);
  void erase_consumer_locked(std::size_t index);
  void post_locked(consumer_state& c, const std::shared_ptr<connection>& conn, message_ptr m);
  void release_locked(const message_ptr& m);
  void uncharge_locked(std::size_t bytes);
  void push_back_locked(message_ptr m);
  message_ptr pop_front_locked();
  bool fits_locked(std::size_t bytes, std::size_t max_n, std::size_t max_b) const;
  bool full_locked() const;
  void give_back_locked();
  std::size_t room_locked() const;
  void tell_room_locked();

  const std::string name_;
  const std::size_t max_waiting_;
  const std::size_t max_bytes_;
  // May be null. Shared: a queue captured in a closure posted to a connection may outlive the
  // broker, and gives back what it holds when it goes.
  const std::shared_ptr<byte_budget> budget_;
  cluster_link* link_;  // null: not clustered; guarded by mutex_
  mutable std::mutex mutex_;
  std::deque<message_ptr> waiting_;
  std::size_t waiting_bytes_ = 0;  // held_size of waiting_
  std::size_t held_ = 0;           // held_size of waiting_ and every in_flight: charged to budget_
  std::vector<consumer_state> consumers_;  // round-robin order
  std::size_t next_ = 0;                   // where the next round-robin search starts
  std::uint64_t next_delivery_ = 0;  // also the count of deliveries ever posted
  std::uint64_t enqueued_ = 0;       // messages ever added by push_back_locked
  std::size_t expired_ = 0;  // dropped for expiry since the last purge_expired()
  std::map<std::uint64_t, queue_waiter> waiters_;  // paused publishers, by session_no
  std::map<std::uint64_t, queue_waiter> shared_waiters_;  // paused on the shared queue (cluster)
};

}  // namespace broker
