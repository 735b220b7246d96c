#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "auth/authenticator.hpp"
#include "broker/broker.hpp"
#include "broker/cluster.hpp"
#include "broker/detail/history_gate.hpp"
#include "broker/detail/login_pool.hpp"
#include "broker/detail/user_router.hpp"
#include "broker/message_id.hpp"
#include "broker/registry.hpp"
#include "broker/stats.hpp"
#include "broker/store/store.hpp"
#include "broker/user_limit.hpp"

namespace broker::detail {

class stomp_session;

/// Sessions listed by number so broker::tick can reach them (entries hold weak pointers, so a
/// listed session may be gone). Thread-safe.
template <class Entry>
class session_list {
 public:
  using entry = Entry;
  /// Adds or replaces session `no`.
  void add(std::uint64_t no, Entry e) {
    std::lock_guard lock(mutex_);
    entries_.insert_or_assign(no, std::move(e));
  }
  /// Forgets session `no` (no-op when absent).
  void remove(std::uint64_t no) {
    std::lock_guard lock(mutex_);
    entries_.erase(no);
  }
  /// The entries for which `wanted(entry)` holds now (they stay listed).
  template <class Pred>
  std::vector<Entry> select(Pred wanted) const {
    std::vector<Entry> out;
    std::lock_guard lock(mutex_);
    for (const auto& [no, e] : entries_) {
      if (wanted(e)) out.push_back(e);
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::uint64_t, Entry> entries_;
};

/// A session whose credentials expire: tick() closes it once `expires` has passed.
struct expiring_session {
  std::chrono::system_clock::time_point expires;
  std::weak_ptr<connection> conn;
  std::weak_ptr<stomp_session> session;
};
using expiry_list = session_list<expiring_session>;

/// A session whose reading the server-wide budget (config::max_held_bytes) paused: tick() posts
/// it a check once a second until the budget is relieved.
struct budget_paused_session {
  std::weak_ptr<connection> conn;
  std::weak_ptr<stomp_session> session;
};
using budget_waiters = session_list<budget_paused_session>;

/// What every session of one broker shares. Owned by broker::impl; outlives its sessions.
/// Thread-safe: config is immutable; registry, router, stats and id generators are.
struct broker_core {
  explicit broker_core(config c);

  /// The broker's clock: config::clock, or the system clock.
  std::chrono::system_clock::time_point now() const {
    return cfg.clock ? cfg.clock() : std::chrono::system_clock::now();
  }
  /// Routes `m` and counts it. Topics and queues: routed now, the result returned (queue_full),
  /// `on_stored` unused. User destinations and clustered queues: returns {}; for user queues and
  /// clustered queues `on_stored` (may be empty) runs after the store's (the shared queue's)
  /// commit or failure, on the store's (the cluster link's) thread.
  std::error_code route(const message_ptr& m, user_router::done_fn on_stored = {});

  /// Clustered /queue/: appends `m` to the shared queue and counts it; `done` runs as
  /// cluster_link::enqueue's. With `flow_control` the append is refused only past
  /// queue::hard_max_for (the publisher pauses at the bound, `full`), else at the bound.
  void enqueue_shared(const message_ptr& m, bool flow_control,
                      std::function<void(std::error_code, bool full)> done);

  /// Whether `m` is stored before it counts as accepted (route's `on_stored` reports it): user
  /// queues, /queue/ when clustered (the shared queue in Redis), topics with a shared history.
  bool stored_first(const message_ptr& m) const {
    return m->target.kind == destination_kind::user_queue ||
           (cluster && m->target.kind == destination_kind::queue) ||
           (history.shared() && history.keeps(m->target));  // the RECEIPT once in Redis
  }

  /// Whether `who` may do `what` with canonical `d` (user destinations as resolved()).
  bool allowed(const auth::principal& who, auth::action what, const destination& d) const;

  const config cfg;
  std::shared_ptr<const auth::authorizer> authorizer;  ///< cfg's, or the default rules
  std::shared_ptr<store::store> store;                 ///< cfg's, or an in-memory SQLite store
  std::shared_ptr<cluster_link> cluster;  ///< null unless attached (before any session)
  ::broker::stats counters;
  /// Server-wide held bytes. Shared with the queues, which charge it until they are destroyed
  /// (a queue captured in a closure posted to a connection may outlive the broker).
  std::shared_ptr<byte_budget> held_budget = std::make_shared<byte_budget>(cfg.max_held_bytes);
  byte_budget& held = *held_budget;
  registry reg;
  history_gate history;  ///< topic history and recovery; keeps nothing without [[history]]
  budget_waiters budget_paused;  ///< sessions paused by `held`, woken once it is relieved
  user_router users;
  expiry_list expiring;
  user_limit user_sessions{cfg.max_connections_per_user};  ///< sessions per principal name
  message_id message_ids;               ///< MESSAGE message-id values
  message_id session_ids;               ///< CONNECTED session values
  std::atomic<std::uint64_t> next_session_no{0};  ///< registry key per session
  std::uint64_t overflow_reported = 0;  ///< store_stats::dropped_overflow logged (broker::tick)
  /// Password checks off the I/O threads. Last: stopped (joined) first, while all the rest that
  /// its jobs reach is alive; broker::~broker stops it earlier still.
  login_pool logins{cfg.verify_threads, cfg.verify_queue};
};

}  // namespace broker::detail
