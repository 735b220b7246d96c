#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/cluster.hpp"
#include "broker/connection.hpp"
#include "broker/destination.hpp"
#include "broker/message.hpp"
#include "broker/queue.hpp"
#include "broker/summary.hpp"
#include "broker/topic_matcher.hpp"

namespace broker {
namespace detail {
class stomp_session;
}

/// Who subscribes: the session (weakly) and the connection its deliveries are posted to.
struct subscriber {
  std::uint64_t session_no = 0;                  ///< key of the reverse index
  std::weak_ptr<connection> conn;
  std::weak_ptr<detail::stomp_session> session;
};

/// Every subscription of every session: topics (exact and wildcard), queues, and a reverse index
/// per session so a session's cleanup costs only its own subscriptions.
///
/// Thread-safe. LOCK ORDER (the only one in broker/): registry::mutex_ -> queue::mutex_ ->
/// connection::post's and deliver_later's internal locks; registry::mutex_ -> the cluster link's internal lock (its
/// interest() only posts, so on/off for one topic reach it in the order the table changed). No registry function calls connection::send/close or a
/// session while holding mutex_; topic routing hands each target its delivery under the shared
/// lock (connection::deliver_later or post: both only queue) and drops its references to the
/// connections after releasing it; queue calls happen after mutex_ is released.
class registry {
 public:
  /// `queue_max_messages` and `queue_max_bytes` (0 = none) bound each queue's waiting
  /// messages; `held` (may be null) is charged what the queues hold.
  explicit registry(std::size_t queue_max_messages, std::size_t queue_max_bytes = 0,
                    std::shared_ptr<byte_budget> held = nullptr);

  /// The link to the other nodes (null = none): told of every subscription to a topic, wildcard
  /// pattern or queue, and given to each queue. Set once, before the first subscription.
  void set_cluster(cluster_link* link);

  /// Adds a subscription to the canonical `d` (topics may be wildcards) and returns its handle,
  /// unique in the registry. For a queue, `q` receives the queue and the consumer is added
  /// (which may start deliveries).
  std::uint64_t subscribe(const subscriber& who, const destination& d, bool auto_ack,
                          std::size_t prefetch, std::shared_ptr<queue>& q);

  /// Removes one subscription of session `session_no`; a queue consumer's unacked messages are
  /// requeued. Unknown handles are ignored.
  void unsubscribe(std::uint64_t session_no, std::uint64_t handle);

  /// Removes every subscription of session `session_no` (cost: its own subscriptions).
  void remove_session(std::uint64_t session_no);

  /// Routes `m` to its destination: a copy to each matching topic subscriber, or into the queue
  /// (created on first use). error::queue_full when the queue is full. Not for queues when
  /// clustered (they go through cluster_link::enqueue).
  std::error_code route(const message_ptr& m);

  /// A topic message another node published: to the local subscribers of exactly its topic
  /// (`pattern` empty), or to the local wildcard subscriptions spelled `pattern` that match it.
  /// Never published again.
  void route_remote(const message_ptr& m, std::string_view pattern) const;

  /// The queue called `name` (canonical), created on first use.
  /// Clustered queues are created by the subscription and by messages taken for it.
  std::shared_ptr<queue> queue_for(const std::string& name);

  /// A fresh subscription handle, unique in the registry (user destinations use these too).
  std::uint64_t next_handle() noexcept;

  /// Drops expired waiting messages of every queue; returns how many expired since last time.
  std::size_t purge_expired();

  /// Number of subscriptions (for tests and metrics).
  std::size_t subscription_count() const;

  /// The destinations for the operator's console: topics with local subscribers, wildcard
  /// patterns, queues; the first `max` by subscribers. Takes the shared lock, then each
  /// queue's lock after releasing it.
  destination_list describe(std::size_t max) const;

 private:
  struct topic_target {
    std::weak_ptr<connection> conn;
    std::weak_ptr<detail::stomp_session> session;
  };
  /// One topic with local subscribers. The counters are bumped under the shared lock.
  struct topic_entry {
    std::unordered_map<std::uint64_t, topic_target> targets;
    mutable std::atomic<std::uint64_t> messages{0};    // routed to it (local or remote)
    mutable std::atomic<std::uint64_t> deliveries{0};  // copies posted to its subscribers
  };
  struct wildcard_target {
    topic_matcher matcher;
    topic_target target;
    std::string pattern;  // canonical name, e.g. "/topic/news.*"
  };
  struct owned {  // one entry of the reverse index
    destination_kind kind;
    bool wildcard;
    std::string name;
    std::shared_ptr<queue> q;
  };
  using handle_map = std::unordered_map<std::uint64_t, owned>;
  handle_map& handles_of_locked(std::uint64_t session_no);

  std::shared_ptr<queue> remove_locked(std::uint64_t handle, const owned& o);
  std::error_code route_topic(const message_ptr& m) const;
  static void count_locked(const topic_entry& t);
  static void post_locked(std::uint64_t handle, const topic_target& t, const message_ptr& m,
                          std::vector<std::shared_ptr<connection>>& reached);

  const std::size_t queue_max_messages_;
  const std::size_t queue_max_bytes_;
  const std::shared_ptr<byte_budget> held_;
  cluster_link* cluster_ = nullptr;
  std::atomic<std::uint64_t> next_handle_{0};
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, topic_entry> topics_;
  // Scanned on every topic SEND; fine for tens of patterns. TODO: a segment trie if it shows up.
  std::unordered_map<std::uint64_t, wildcard_target> wildcards_;
  std::unordered_map<std::string, std::shared_ptr<queue>> queues_;
  std::unordered_map<std::uint64_t, handle_map> by_session_;
};

}  // namespace broker
