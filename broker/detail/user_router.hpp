#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/cluster.hpp"
#include "broker/connection.hpp"
#include "broker/destination.hpp"
#include "broker/message.hpp"
#include "broker/stats.hpp"
#include "broker/store/store.hpp"

namespace broker::detail {

class stomp_session;

/// A session's subscription to one user destination.
struct user_subscriber {
  std::uint64_t handle = 0;  ///< registry-unique subscription handle
  std::weak_ptr<connection> conn;
  std::weak_ptr<stomp_session> session;
};

/// A stored message on its way to a subscriber: `seq` orders it and names it for ACKs.
struct stored_delivery {
  std::uint64_t seq = 0;
  message_ptr msg;
};

/// Routes user destinations (Spring semantics): a message for `/user/{owner}/...` reaches every
/// session of the owner subscribed to the same `/user/...` name. User queues are durable: each
/// message is appended to the store first and fanned out once committed, carrying its seq, so a
/// subscriber replaying the backlog and receiving live messages can deliver each seq once.
///
/// Thread-safe. Keys are destination::resolved() names. mutex_ is held only to copy or change
/// the tables: nothing is posted, stored or loaded under it. Completions of appends run on the
/// store's thread and post to sessions from there (in commit order, so per-queue FIFO holds).
class user_router {
 public:
  /// Called once per routed message: for user queues after the store's commit (or failure), with
  /// its seq; for user topics at once with seq 0.
  using done_fn = std::function<void(std::error_code ec, std::uint64_t seq)>;

  /// Called once per load_async: the page and a read error (on the store's thread or inline).
  using load_fn = std::function<void(std::vector<stored_delivery> page, std::error_code ec)>;

  user_router(std::shared_ptr<store::store> s, stats& counters);

  /// The link to the other nodes (null = none). Set once, before the first subscription.
  void set_cluster(cluster_link* link) noexcept { cluster_ = link; }

  /// Routes `m` (a user destination with its owner) here and, through the cluster link, on the
  /// other nodes. `done` may be empty.
  void route(const message_ptr& m, done_fn done);

  /// A message another node routed (`seq` its store seq, 0 for user topics): to this node's
  /// subscribed sessions of the owner only.
  void deliver_remote(const message_ptr& m, std::uint64_t seq);

  /// Adds a subscriber to the user destination `key` (resolved name). `replaying`: live messages
  /// for it are held (see end_replay) until its stored backlog has been delivered.
  void subscribe(const std::string& key, user_subscriber who, bool replaying = false);
  /// Removes it; unknown handles are ignored.
  void unsubscribe(const std::string& key, std::uint64_t handle);

  /// The backlog replay of subscription `handle` is over: returns the live messages held for it
  /// meanwhile (seq order), which the session delivers itself; later ones are posted as usual.
  std::vector<stored_delivery> end_replay(const std::string& key, std::uint64_t handle);

  /// Up to `max` stored messages of user queue `d` (owner resolved) with seq > `after`, oldest
  /// first; ones delivered before and never acked come back `redelivered`. `ec` on a read error.
  std::vector<stored_delivery> load(const destination& d, std::uint64_t after, std::size_t max,
                                    std::error_code& ec);
  /// As load, without blocking on a remote store: `done` runs inline or on the store's thread.
  void load_async(const destination& d, std::uint64_t after, std::size_t max, load_fn done);

  /// Message `seq` of user queue `key` was acked (or auto-acked): removed from the store.
  void acked(const std::string& key, std::uint64_t seq);
  /// Message `seq` went to a client-ack subscriber: redelivered on a later replay until acked.
  void delivered(const std::string& key, std::uint64_t seq);

  /// The store key of a resolved user-queue name: "alice/queue/x".
  static std::string store_key(const std::string& key);

 private:
  struct entry {
    std::unordered_map<std::uint64_t, user_subscriber> subscribers;  // by handle
    std::set<std::uint64_t> unacked;  // seqs delivered to a client-ack subscriber, not acked
    // Live messages held for subscribers whose backlog replay is still loading (by handle).
    std::unordered_map<std::uint64_t, std::vector<stored_delivery>> held;
  };

  void fan_out(const std::string& key, std::uint64_t seq, const message_ptr& m);
  void erase_if_idle_locked(std::unordered_map<std::string, entry>::iterator it);
  std::vector<stored_delivery> restore_locked(const destination& d,
                                              std::vector<store::stored_message> rows,
                                              bool from_start, bool read_ok);
  void interest_locked(const std::string& key, bool on);

  std::shared_ptr<store::store> store_;
  cluster_link* cluster_ = nullptr;
  stats& stats_;
  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace broker::detail
