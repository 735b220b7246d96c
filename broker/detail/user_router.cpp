#include "broker/detail/user_router.hpp"

#include <spdlog/spdlog.h>

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
                   }
                   if (done) done(ec, seq);
                 });
}

void user_router::fan_out(const std::string& key, std::uint64_t seq, const message_ptr& m) {
  std::vector<user_subscriber> targets;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    targets.reserve(it->second.subscribers.size());
    for (const auto& [handle, who] : it->second.subscribers) targets.push_back(who);
  }
  for (const user_subscriber& t : targets) {
    if (auto conn = t.conn.lock()) {
      conn->post([s = t.session, handle = t.handle, seq, m] {
        if (auto target = s.lock()) target->deliver_user(handle, seq, m);
      });
    }
  }
}

void user_router::subscribe(const std::string& key, user_subscriber who) {
  std::lock_guard lock(mutex_);
  const std::uint64_t handle = who.handle;
  entries_[key].subscribers.emplace(handle, std::move(who));
}

void user_router::unsubscribe(const std::string& key, std::uint64_t handle) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  it->second.subscribers.erase(handle);
  erase_if_idle_locked(it);
}

void user_router::erase_if_idle_locked(std::unordered_map<std::string, entry>::iterator it) {
  if (it->second.subscribers.empty() && it->second.unacked.empty()) entries_.erase(it);
}

std::vector<stored_delivery> user_router::load(const destination& d, std::uint64_t after,
                                               std::size_t max, std::error_code& ec) {
  const std::string key = d.resolved();
  std::vector<store::stored_message> rows = store_->load(store_key(key), after, max, ec);
  std::vector<stored_delivery> out;
  out.reserve(rows.size());
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it != entries_.end() && after == 0 && !ec) {
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
