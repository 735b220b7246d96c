#include "broker/detail/user_router.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker/detail/stomp_session.hpp"
#include "broker/printable.hpp"

namespace broker::detail {

// A store may run an append's completion inline (a stopped store, an unreachable Redis): route
// holds mutex_ then, so the completion only records its result here and route finishes it once
// the lock is released.
namespace {

struct inline_completion {
  const user_router* router = nullptr;
  bool ran = false;
  std::error_code ec;
  std::uint64_t seq = 0;
};

thread_local inline_completion* appending = nullptr;  // route's, while it appends

}  // namespace

user_router::user_router(std::shared_ptr<store::store> s, stats& counters)
    : store_(std::move(s)), stats_(counters) {}

std::string user_router::store_key(const std::string& key) {
  constexpr std::size_t prefix = std::string_view("/user/").size();
  return key.substr(prefix);
}

void user_router::route(const message_ptr& m, done_fn done) {
  std::string key = m->target.resolved();
  if (m->target.kind == destination_kind::user_topic) {
    {
      keep_alive keep;
      std::lock_guard lock(mutex_);
      post_live_locked(key, 0, m, keep);
    }
    if (cluster_) cluster_->publish(m, 0);
    if (done) done({}, 0);
    return;
  }
  inline_completion here;
  here.router = this;
  keep_alive keep;
  std::unique_lock lock(mutex_);
  ++uncommitted_[key];
  appending = &here;
  const std::uint64_t seq =
      store_->append(store_key(key), m->id, stored_form(m), expires_ms(m),
                     [this, key, m, done](std::error_code ec, std::uint64_t seq) {
                       if (appending && appending->router == this) {
                         *appending = inline_completion{this, true, ec, seq};
                         return;
                       }
                       on_appended(key, m, ec, seq, done);
                     });
  appending = nullptr;
  if (seq != 0) {
    early_ = true;
    if (!here.ran) post_live_locked(key, seq, m, keep);  // before the commit: RECEIPT waits
  }
  lock.unlock();
  if (here.ran) on_appended(key, m, here.ec, here.seq, done);
}

// The store's completion: committed (or failed). Pulling subscribers learn of it; without early
// seqs the live ones get their copy now; then the other nodes, then the publisher's RECEIPT.
void user_router::on_appended(const std::string& key, const message_ptr& m, std::error_code ec,
                              std::uint64_t seq, const done_fn& done) {
  {
    keep_alive keep;
    std::lock_guard lock(mutex_);
    auto pending = uncommitted_.find(key);
    if (pending != uncommitted_.end() && --pending->second == 0) uncommitted_.erase(pending);
    if (!ec && !early_) post_live_locked(key, seq, m, keep);
    changed_locked(key, keep);  // a failed append too: a subscriber waiting for it loads again
  }
  if (ec) {
    bump(stats_.messages_dropped);
    spdlog::error("user queue {}: message {} not stored: {}", printable(key, 200), m->id,
                  ec.message());
  } else {
    bump(stats_.messages_stored);
    // Committed first: another node's subscriber loading the shared store and receiving this
    // copy hands the seq out once.
    if (cluster_) cluster_->publish(m, seq);
  }
  if (done) done(ec, seq);
}

void user_router::deliver_remote(const message_ptr& m, std::uint64_t seq) {
  const std::string key = m->target.resolved();
  keep_alive keep;
  std::lock_guard lock(mutex_);
  post_live_locked(key, seq, m, keep);
  if (seq != 0) changed_locked(key, keep);
}

void user_router::post_live_locked(const std::string& key, std::uint64_t seq, const message_ptr& m,
                                   keep_alive& keep) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  for (const auto& [handle, state] : it->second.subscribers) {
    if (!state.live) continue;
    if (auto conn = state.who.conn.lock()) {
      conn->post([s = state.who.session, handle = handle, seq, m] {
        if (auto target = s.lock()) target->deliver_user(handle, seq, m);
      });
      keep.push_back(std::move(conn));
    }
  }
}

// A commit a pulling subscriber's next load will see: its go_live must not pass it.
void user_router::changed_locked(const std::string& key, keep_alive& keep) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  for (auto& [handle, state] : it->second.subscribers) {
    if (state.live) continue;
    ++state.changes;
    nudge_locked(state, handle, keep);
  }
}

void user_router::nudge_locked(subscriber_state& state, std::uint64_t handle, keep_alive& keep) {
  if (!std::exchange(state.wants_nudge, false)) return;
  if (auto conn = state.who.conn.lock()) {
    conn->post([s = state.who.session, handle] {
      if (auto target = s.lock()) target->nudge_user(handle);
    });
    keep.push_back(std::move(conn));
  }
}

live_answer user_router::go_live(const std::string& key, std::uint64_t handle,
                                 std::uint64_t changes) {
  std::lock_guard lock(mutex_);
  subscriber_state* state = find_locked(key, handle);
  if (!state) return live_answer::wait;  // unsubscribed meanwhile: nothing to feed
  if (state->changes != changes) return live_answer::reload;
  if (uncommitted_.contains(key)) {
    state->wants_nudge = true;
    return live_answer::wait;
  }
  state->live = true;
  return live_answer::live;
}

void user_router::retry_load(const std::string& key, std::uint64_t handle) {
  std::lock_guard lock(mutex_);
  subscriber_state* state = find_locked(key, handle);
  if (!state) return;
  state->wants_nudge = true;
  failed_loads_.emplace_back(key, handle);
}

void user_router::retry_failed_loads() {
  keep_alive keep;
  std::lock_guard lock(mutex_);
  for (const auto& [key, handle] : failed_loads_) {
    if (subscriber_state* state = find_locked(key, handle)) nudge_locked(*state, handle, keep);
  }
  failed_loads_.clear();
}

void user_router::go_pulling(const std::string& key, std::uint64_t handle) {
  std::lock_guard lock(mutex_);
  if (subscriber_state* state = find_locked(key, handle)) {
    state->live = false;
    state->wants_nudge = false;
  }
}

user_router::subscriber_state* user_router::find_locked(const std::string& key,
                                                        std::uint64_t handle) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  auto sub = it->second.subscribers.find(handle);
  return sub == it->second.subscribers.end() ? nullptr : &sub->second;
}

// The cluster listens per user: the owner's encoded name is the segment after "/user/".
void user_router::interest_locked(const std::string& key, bool on) {
  if (!cluster_) return;
  constexpr std::size_t prefix = std::string_view("/user/").size();
  const std::size_t end = key.find('/', prefix);
  cluster_->interest(interest_kind::user, key.substr(prefix, end - prefix), on);
}

void user_router::subscribe(const std::string& key, user_subscriber who, bool durable) {
  std::lock_guard lock(mutex_);
  const std::uint64_t handle = who.handle;
  entry& e = entries_[key];
  e.subscribers.emplace(handle, subscriber_state{std::move(who), !durable});
  interest_locked(key, true);  // under mutex_: on/off for one key reach the link in order
}

void user_router::unsubscribe(const std::string& key, std::uint64_t handle) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.subscribers.erase(handle) != 0) interest_locked(key, false);
  if (it->second.subscribers.empty()) entries_.erase(it);
}

void user_router::load_async(const destination& d, std::uint64_t handle, std::uint64_t after,
                             std::size_t max, load_fn done) {
  std::uint64_t changes = 0;
  {
    std::lock_guard lock(mutex_);
    if (const subscriber_state* state = find_locked(d.resolved(), handle)) changes = state->changes;
  }
  store_->load_async(store_key(d.resolved()), after, max,
                     [this, d, max, changes, done = std::move(done)](
                         std::vector<store::stored_message> rows, std::error_code ec) {
                       const bool full = rows.size() >= max;
                       done(restore(d, std::move(rows)), ec, full, changes);
                     });
}

// Stored rows as messages for `d`; ones marked delivered (store::mark_delivered) come back
// redelivered.
std::vector<stored_delivery> user_router::restore(const destination& d,
                                                  std::vector<store::stored_message> rows) {
  std::vector<stored_delivery> out;
  out.reserve(rows.size());
  for (store::stored_message& row : rows) {
    message_ptr m;
    if (!restore_message(row.payload, d, m)) {
      // Never deliverable: removed, or every load would stop at it again.
      spdlog::error("user queue {}: stored message {} is corrupt; removed",
                    printable(d.resolved(), 200), row.seq);
      store_->remove(store_key(d.resolved()), row.seq);
      continue;
    }
    if (row.delivered) m = redelivered_copy(m);
    out.push_back(stored_delivery{row.seq, std::move(m)});
  }
  return out;
}

void user_router::acked(const std::string& key, std::uint64_t seq) {
  store_->remove(store_key(key), seq);
}

// The store shows the mark to every load from now on, also before it is committed.
void user_router::delivered(const std::string& key, std::uint64_t seq) {
  store_->mark_delivered(store_key(key), seq);
}

}  // namespace broker::detail
