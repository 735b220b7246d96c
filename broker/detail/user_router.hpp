#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
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

/// What a pulling subscriber does after a load came back short (see user_router::go_live).
enum class live_answer {
  live,    ///< from now on every new message is posted to it
  reload,  ///< something was committed since the load started: load again now
  wait,    ///< appends are being committed: a nudge (stomp_session::nudge_user) follows
};

/// Routes user destinations (Spring semantics): a message for `/user/{owner}/...` reaches every
/// session of the owner subscribed to the same `/user/...` name.
///
/// User queues are durable and pulled: a subscriber starts "pulling" (it loads the stored backlog
/// page by page, as fast as its connection writes and its prefetch allow) and turns "live" once a
/// load finds nothing more; then each new message is posted to it as it is routed. When a live
/// subscriber has no room it drops the copy and pulls again: the store holds the message, so a
/// slow reader costs the broker no memory and loses nothing. Every message carries its store
/// seq, so a session hands each seq out once.
///
/// Ordering: when the store assigns seqs at append (SQLite) a message is posted to live
/// subscribers at once, before its commit (its RECEIPT still waits for the commit), and seq
/// assignment and posting happen under mutex_, so live copies of one key reach a strand in seq
/// order. Otherwise (Redis) it is posted when committed, in commit order; copies from other
/// nodes may arrive out of seq order (ordered() is false).
///
/// Thread-safe. Keys are destination::resolved() names. mutex_ is held to change the tables and
/// while posting live copies and nudges (connection::post only queues); never while loading.
class user_router {
 public:
  /// Called once per routed message: for user queues after the store's commit (or failure), with
  /// its seq; for user topics at once with seq 0.
  using done_fn = std::function<void(std::error_code ec, std::uint64_t seq)>;

  /// Called once per load_async: the page, a read error, whether the page is full (more may be
  /// stored) and the subscriber's change count taken before the read (for go_live).
  using load_fn = std::function<void(std::vector<stored_delivery> page, std::error_code ec,
                                     bool full, std::uint64_t changes)>;

  user_router(std::shared_ptr<store::store> s, stats& counters);

  /// The link to the other nodes (null = none). Set once, before the first subscription.
  void set_cluster(cluster_link* link) noexcept { cluster_ = link; }

  /// Whether live copies of one key reach a subscriber in seq order (no cluster).
  bool ordered() const noexcept { return cluster_ == nullptr; }

  /// Routes `m` (a user destination with its owner) here and, through the cluster link, on the
  /// other nodes. `done` may be empty.
  void route(const message_ptr& m, done_fn done);

  /// A message another node routed (`seq` its store seq, 0 for user topics), committed: to this
  /// node's subscribed sessions of the owner only.
  void deliver_remote(const message_ptr& m, std::uint64_t seq);

  /// Adds a subscriber to the user destination `key` (resolved name). `durable` (user queues):
  /// it starts pulling and gets nothing posted until go_live.
  void subscribe(const std::string& key, user_subscriber who, bool durable);
  /// Removes it; unknown handles are ignored.
  void unsubscribe(const std::string& key, std::uint64_t handle);

  /// Subscriber `handle` of `key` found nothing more to load: see live_answer. `changes` is the
  /// count its last load_async reported.
  live_answer go_live(const std::string& key, std::uint64_t handle, std::uint64_t changes);
  /// Subscriber `handle` of `key` could not load: it is nudged at the next commit to `key` or
  /// at the next retry_failed_loads, whichever comes first.
  void retry_load(const std::string& key, std::uint64_t handle);
  /// Nudges every subscriber whose load failed (broker::tick, once a second).
  void retry_failed_loads();
  /// Subscriber `handle` of `key` has no room: nothing more is posted to it until go_live.
  void go_pulling(const std::string& key, std::uint64_t handle);

  /// Up to `max` stored messages of user queue `d` (owner resolved) with seq > `after`, oldest
  /// first, for subscriber `handle`; ones delivered before and never acked come back
  /// `redelivered`. `done` runs inline or on the store's thread.
  void load_async(const destination& d, std::uint64_t handle, std::uint64_t after, std::size_t max,
                  load_fn done);

  /// Message `seq` of user queue `key` was acked (or auto-acked once written): removed.
  void acked(const std::string& key, std::uint64_t seq);
  /// Message `seq` may have been seen by a client that did not ack it: redelivered from now on,
  /// also after a restart.
  void delivered(const std::string& key, std::uint64_t seq);

  /// The store key of a resolved user-queue name: "alice/queue/x".
  static std::string store_key(const std::string& key);

 private:
  struct subscriber_state {
    user_subscriber who;
    bool live = false;
    bool wants_nudge = false;   // go_live answered wait: nudge at the next commit
    std::uint64_t changes = 0;  // commits seen while pulling
  };
  struct entry {
    std::unordered_map<std::uint64_t, subscriber_state> subscribers;  // by handle
  };
  // Connections locked while posting under mutex_, released after it: the last reference to a
  // connection may go with them, and its session's cleanup takes mutex_.
  using keep_alive = std::vector<std::shared_ptr<connection>>;

  void on_appended(const std::string& key, const message_ptr& m, std::error_code ec,
                   std::uint64_t seq, const done_fn& done);
  void post_live_locked(const std::string& key, std::uint64_t seq, const message_ptr& m,
                        keep_alive& keep);
  void changed_locked(const std::string& key, keep_alive& keep);
  void nudge_locked(subscriber_state& state, std::uint64_t handle, keep_alive& keep);
  subscriber_state* find_locked(const std::string& key, std::uint64_t handle);
  std::vector<stored_delivery> restore(const destination& d,
                                       std::vector<store::stored_message> rows);
  void interest_locked(const std::string& key, bool on);

  std::shared_ptr<store::store> store_;
  cluster_link* cluster_ = nullptr;
  stats& stats_;
  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
  // Appends submitted and not yet completed, per key: a subscriber cannot go live past them.
  std::unordered_map<std::string, std::size_t> uncommitted_;
  bool early_ = false;  // the store assigns seqs at append: live copies go before the commit
  std::vector<std::pair<std::string, std::uint64_t>> failed_loads_;  // key, handle
};

}  // namespace broker::detail
