#include "broker/detail/user_router.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker/detail/stomp_session.hpp"

namespace broker::detail {

user_router::user_router(std::shared_ptr<store::store> s, stats& counters)
    : store_(std::move(s)), stats_(counters) {}

std::string user_router::store_key(const std::string& key) {
  constexpr std::size_t prefix = std::string_view("/user/").size();
  return key.substr(prefix);
}

void user_router::route(const message_ptr& m, done_fn done) {
  std::string key = m->target.resolved();
  if (m->target.kind == destination_kind::user_topic) {
    fan_out(key, 0, m);
    if (cluster_) cluster_->publish(m, 0);
    if (done) done({}, 0);
    return;
  }
  // Fanned out only once committed: every live copy then carries the seq a replay would use,
  // and nobody sees a message the store might still lose.
  std::string queue = store_key(key);  // before `key` moves into the completion
  store_->append(std::move(queue), m->id, stored_form(m), expires_ms(m),
                 [this, key = std::move(key), m, done = std::move(done)](std::error_code ec,
                                                                          std::uint64_t seq) {
                   if (ec) {
                     bump(stats_.messages_dropped);
                     spdlog::error("user queue {}: message {} not stored: {}", key, m->id,
                                   ec.message());
                   } else {
                     bump(stats_.messages_stored);
                     fan_out(key, seq, m);
                     // Committed first: another node's subscriber replaying the shared store
                     // and receiving this copy dedups it by the same seq.
                     if (cluster_) cluster_->publish(m, seq);
                   }
                   if (done) done(ec, seq);
                 });
}

void user_router::deliver_remote(const message_ptr& m, std::uint64_t seq) {
  fan_out(m->target.resolved(), seq, m);
}

void user_router::fan_out(const std::string& key, std::uint64_t seq, const message_ptr& m) {
  std::vector<user_subscriber> targets;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    targets.reserve(it->second.subscribers.size());
    for (const auto& [handle, who] : it->second.subscribers) {
      auto held = it->second.held.find(handle);
      if (held != it->second.held.end()) {
        held->second.push_back(stored_delivery{seq, m});  // its backlog is still loading
      } else {
        targets.push_back(who);
      }
    }
  }
  for (const user_subscriber& t : targets) {
    if (auto conn = t.conn.lock()) {
      conn->post([s = t.session, handle = t.handle, seq, m] {
        if (auto target = s.lock()) target->deliver_user(handle, seq, m);
      });
    }
  }
}

// The cluster listens per user: the owner's encoded name is the segment after "/user/".
void user_router::interest_locked(const std::string& key, bool on) {
  if (!cluster_) return;
  constexpr std::size_t prefix = std::string_view("/user/").size();
  const std::size_t end = key.find('/', prefix);
  cluster_->interest(interest_kind::user, key.substr(prefix, end - prefix), on);
}

void user_router::subscribe(const std::string& key, user_subscriber who, bool replaying) {
  std::lock_guard lock(mutex_);
  const std::uint64_t handle = who.handle;
  entry& e = entries_[key];
  e.subscribers.emplace(handle, std::move(who));
  if (replaying) e.held[handle];
  interest_locked(key, true);  // under mutex_: on/off for one key reach the link in order
}

void user_router::unsubscribe(const std::string& key, std::uint64_t handle) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  it->second.held.erase(handle);
  if (it->second.subscribers.erase(handle) != 0) interest_locked(key, false);
  erase_if_idle_locked(it);
}

std::vector<stored_delivery> user_router::end_replay(const std::string& key,
                                                     std::uint64_t handle) {
  std::vector<stored_delivery> out;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return out;
    auto held = it->second.held.find(handle);
    if (held == it->second.held.end()) return out;
    out = std::move(held->second);
    it->second.held.erase(held);
  }
  // Only user queues replay, so every held copy has a seq; copies from several nodes may
  // have arrived out of seq order.
  std::sort(out.begin(), out.end(),
            [](const stored_delivery& a, const stored_delivery& b) { return a.seq < b.seq; });
  return out;
}

void user_router::erase_if_idle_locked(std::unordered_map<std::string, entry>::iterator it) {
  if (it->second.subscribers.empty() && it->second.unacked.empty()) entries_.erase(it);
}

std::vector<stored_delivery> user_router::load(const destination& d, std::uint64_t after,
                                               std::size_t max, std::error_code& ec) {
  std::vector<store::stored_message> rows = store_->load(store_key(d.resolved()), after, max, ec);
  std::lock_guard lock(mutex_);
  return restore_locked(d, std::move(rows), after == 0, !ec);
}

void user_router::load_async(const destination& d, std::uint64_t after, std::size_t max,
                             load_fn done) {
  store_->load_async(store_key(d.resolved()), after, max,
                     [this, d, after, done = std::move(done)](
                         std::vector<store::stored_message> rows, std::error_code ec) {
                       std::vector<stored_delivery> page;
                       {
                         std::lock_guard lock(mutex_);
                         page = restore_locked(d, std::move(rows), after == 0, !ec);
                       }
                       done(std::move(page), ec);
                     });
}

// Stored rows as messages for `d`; unacked ones marked redelivered.
std::vector<stored_delivery> user_router::restore_locked(const destination& d,
                                                         std::vector<store::stored_message> rows,
                                                         bool from_start, bool read_ok) {
  const std::string key = d.resolved();
  std::vector<stored_delivery> out;
  out.reserve(rows.size());
  auto it = entries_.find(key);
  if (it != entries_.end() && from_start && read_ok) {
    // Marks below the oldest stored message belong to rows retention dropped: forget them.
    const std::uint64_t oldest = rows.empty() ? UINT64_MAX : rows.front().seq;
    it->second.unacked.erase(it->second.unacked.begin(), it->second.unacked.lower_bound(oldest));
  }
  for (store::stored_message& row : rows) {
    message_ptr m;
    if (!restore_message(row.payload, d, m)) {
      spdlog::error("user queue {}: stored message {} is corrupt; skipped", key, row.seq);
      continue;
    }
    if (it != entries_.end() && it->second.unacked.contains(row.seq)) m = redelivered_copy(m);
    out.push_back(stored_delivery{row.seq, std::move(m)});
  }
  return out;
}

void user_router::acked(const std::string& key, std::uint64_t seq) {
  store_->remove(store_key(key), seq);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  it->second.unacked.erase(seq);
  erase_if_idle_locked(it);
}

void user_router::delivered(const std::string& key, std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  entries_[key].unacked.insert(seq);
}

}  // namespace broker::detail
