#include "broker/registry.hpp"

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "broker/detail/stomp_session.hpp"
#include "broker/error.hpp"

namespace broker {

registry::registry(std::size_t queue_max_messages, std::size_t queue_max_bytes,
                   std::shared_ptr<byte_budget> held)
    : queue_max_messages_(queue_max_messages),
      queue_max_bytes_(queue_max_bytes),
      held_(std::move(held)) {}

void registry::set_cluster(cluster_link* link) {
  std::unique_lock lock(mutex_);
  cluster_ = link;
  for (const auto& [name, q] : queues_) q->set_link(link);  // null at shutdown: none keeps it
}

// A session's reverse index. Made with two buckets, not the 13 libstdc++ makes on the first
// insert: most sessions hold one or two subscriptions (an idle connection's memory).
registry::handle_map& registry::handles_of_locked(std::uint64_t session_no) {
  auto [it, fresh] = by_session_.try_emplace(session_no);
  if (fresh) it->second.reserve(1);
  return it->second;
}

std::uint64_t registry::subscribe(const subscriber& who, const destination& d, bool auto_ack,
                                  std::size_t prefetch, std::shared_ptr<queue>& q) {
  const std::uint64_t handle = next_handle();
  if (d.kind == destination_kind::queue) {
    q = queue_for(d.name);
    {
      std::unique_lock lock(mutex_);
      handles_of_locked(who.session_no).emplace(handle, owned{d.kind, false, d.name, q});
      if (cluster_) cluster_->interest(interest_kind::queue, d.name, true);
    }
    // Outside mutex_: adding a consumer may post deliveries.
    q->add_consumer(queue_consumer{handle, who.conn, who.session, auto_ack, prefetch});
    return handle;
  }
  std::unique_lock lock(mutex_);
  topic_target t{who.conn, who.session};
  if (d.wildcard) {
    wildcards_.emplace(handle, wildcard_target{topic_matcher(d.path()), std::move(t), d.name});
  } else {
    topics_[d.name].targets.emplace(handle, std::move(t));
  }
  handles_of_locked(who.session_no).emplace(handle, owned{d.kind, d.wildcard, d.name, nullptr});
  if (cluster_) {  // the link counts references: one call per subscription
    cluster_->interest(d.wildcard ? interest_kind::topic_pattern : interest_kind::topic, d.name,
                       true);
  }
  return handle;
}

void registry::unsubscribe(std::uint64_t session_no, std::uint64_t handle) {
  std::shared_ptr<queue> q;
  {
    std::unique_lock lock(mutex_);
    auto s = by_session_.find(session_no);
    if (s == by_session_.end()) return;
    auto it = s->second.find(handle);
    if (it == s->second.end()) return;
    q = remove_locked(handle, it->second);
    s->second.erase(it);
    if (s->second.empty()) by_session_.erase(s);
  }
  if (q) q->remove_consumer(handle);  // requeues; may post, so after mutex_
}

void registry::remove_session(std::uint64_t session_no) {
  std::vector<std::pair<std::shared_ptr<queue>, std::uint64_t>> consumers;
  {
    std::unique_lock lock(mutex_);
    auto s = by_session_.find(session_no);
    if (s == by_session_.end()) return;
    for (const auto& [handle, o] : s->second) {
      if (auto q = remove_locked(handle, o)) consumers.emplace_back(std::move(q), handle);
    }
    by_session_.erase(s);
  }
  for (auto& [q, handle] : consumers) q->remove_consumer(handle);
}

// Drops the topic entry of `handle`; returns the queue whose consumer the caller must remove.
std::shared_ptr<queue> registry::remove_locked(std::uint64_t handle, const owned& o) {
  if (o.kind == destination_kind::queue) {
    if (cluster_) cluster_->interest(interest_kind::queue, o.name, false);
    return o.q;
  }
  if (cluster_) {
    cluster_->interest(o.wildcard ? interest_kind::topic_pattern : interest_kind::topic, o.name,
                       false);
  }
  if (o.wildcard) {
    wildcards_.erase(handle);
    return nullptr;
  }
  auto t = topics_.find(o.name);
  if (t != topics_.end()) {
    t->second.targets.erase(handle);
    if (t->second.targets.empty()) topics_.erase(t);
  }
  return nullptr;
}

std::error_code registry::route(const message_ptr& m) {
  // User destinations have their own table (detail::user_router); never a queue by that name.
  if (m->target.is_user()) return error::invalid_destination;
  if (m->target.kind == destination_kind::topic) return route_topic(m);
  if (cluster_) return error::invalid_destination;  // clustered queues: cluster_link::enqueue
  return queue_for(m->target.name)->enqueue(m);
}

// Relaxed atomics under the shared lock: the console reads them, nothing orders by them.
void registry::count_locked(const topic_entry& t) {
  t.messages.fetch_add(1, std::memory_order_relaxed);
  t.deliveries.fetch_add(t.targets.size(), std::memory_order_relaxed);
}

std::error_code registry::route_topic(const message_ptr& m) const {
  std::vector<std::shared_ptr<connection>> reached;
  {
    std::shared_lock lock(mutex_);
    if (auto t = topics_.find(m->target.name); t != topics_.end()) {
      reached.reserve(t->second.targets.size());
      for (const auto& [handle, target] : t->second.targets) post_locked(handle, target, m, reached);
      count_locked(t->second);
    }
    for (const auto& [handle, w] : wildcards_) {
      if (w.matcher.matches(m->target.path())) post_locked(handle, w.target, m, reached);
    }
  }
  reached.clear();  // may end connections: after mutex_ (see post_locked)
  if (cluster_) cluster_->publish(m, 0);  // after local routing: the other nodes' subscribers
  return {};
}

void registry::route_remote(const message_ptr& m, std::string_view pattern) const {
  std::vector<std::shared_ptr<connection>> reached;
  std::shared_lock lock(mutex_);
  if (pattern.empty()) {
    if (auto t = topics_.find(m->target.name); t != topics_.end()) {
      reached.reserve(t->second.targets.size());
      for (const auto& [handle, target] : t->second.targets) post_locked(handle, target, m, reached);
      count_locked(t->second);
    }
  } else {
    // Only the subscriptions this pattern stands for: a message that came through several
    // (a channel and a pattern, or two patterns) reaches each subscription once.
    for (const auto& [handle, w] : wildcards_) {
      if (w.pattern == pattern && w.matcher.matches(m->target.path())) {
        post_locked(handle, w.target, m, reached);
      }
    }
  }
  lock.unlock();
  reached.clear();  // may end connections: after mutex_ (see post_locked)
}

// Under the shared lock, without a snapshot of the targets: deliver_later and post only append
// to the target's inbox or strand queue (lock order: registry::mutex_ -> the connection's
// inbox/post lock) and never run a session. The session re-checks on its strand that the
// subscription still exists. `reached` keeps each connection alive until the caller has released
// mutex_: dropping the last reference here would destroy its session, whose cleanup takes
// mutex_ exclusively.
void registry::post_locked(std::uint64_t handle, const topic_target& t, const message_ptr& m,
                           std::vector<std::shared_ptr<connection>>& reached) {
  auto conn = t.conn.lock();
  if (!conn) return;
  if (!conn->deliver_later(handle, m)) {
    conn->post([s = t.session, handle, m] {
      if (auto target = s.lock()) target->deliver(handle, m);
    });
  }
  reached.push_back(std::move(conn));
}

std::shared_ptr<queue> registry::queue_for(const std::string& name) {
  {
    std::shared_lock lock(mutex_);
    if (auto it = queues_.find(name); it != queues_.end()) return it->second;
  }
  std::unique_lock lock(mutex_);
  auto& q = queues_[name];  // another thread may have created it meanwhile
  if (!q) q = std::make_shared<queue>(name, queue_max_messages_, cluster_, queue_max_bytes_, held_);
  return q;
}

std::uint64_t registry::next_handle() noexcept {
  return next_handle_.fetch_add(1, std::memory_order_relaxed) + 1;
}

std::size_t registry::purge_expired() {
  std::vector<std::shared_ptr<queue>> all;
  {
    std::shared_lock lock(mutex_);
    all.reserve(queues_.size());
    for (const auto& [name, q] : queues_) all.push_back(q);
  }
  std::size_t n = 0;
  for (const auto& q : all) n += q->purge_expired();  // queue locks after mutex_ is released
  return n;
}

std::size_t registry::subscription_count() const {
  std::shared_lock lock(mutex_);
  std::size_t n = 0;
  for (const auto& [no, handles] : by_session_) n += handles.size();
  return n;
}

destination_list registry::describe(std::size_t max) const {
  std::vector<destination_summary> all;
  std::vector<std::shared_ptr<queue>> queues;
  {
    std::shared_lock lock(mutex_);
    all.reserve(topics_.size() + queues_.size());
    for (const auto& [name, t] : topics_) {
      all.push_back({name, "topic", t.targets.size(),
                     t.messages.load(std::memory_order_relaxed),
                     t.deliveries.load(std::memory_order_relaxed), 0, 0});
    }
    std::unordered_map<std::string, std::size_t> patterns;
    for (const auto& [handle, w] : wildcards_) ++patterns[w.pattern];
    for (const auto& [name, n] : patterns) all.push_back({name, "pattern", n, 0, 0, 0, 0});
    queues.reserve(queues_.size());
    for (const auto& [name, q] : queues_) queues.push_back(q);
  }
  for (const auto& q : queues) {  // queue locks after mutex_ is released (lock order)
    const queue_counts c = q->counts();
    all.push_back({q->name(), "queue", c.consumers, c.enqueued, c.delivered, c.waiting,
                   c.in_flight});
  }
  destination_list out;
  out.total = all.size();
  const auto first = all.begin() + static_cast<std::ptrdiff_t>(std::min(max, all.size()));
  std::partial_sort(all.begin(), first, all.end(), [](const auto& a, const auto& b) {
    return a.subscribers != b.subscribers ? a.subscribers > b.subscribers : a.name < b.name;
  });
  all.erase(first, all.end());
  out.destinations = std::move(all);
  return out;
}

}  // namespace broker
