#include "broker/detail/idempotency_cache.hpp"

#include <utility>

namespace broker::detail {

idempotency_cache::idempotency_cache(std::chrono::milliseconds window, std::size_t max_keys)
    : window_(window), max_keys_(max_keys) {}

bool idempotency_cache::begin(const std::string& key, const std::string& message_id,
                              clock::time_point now, done_fn& done) {
  publish_result ready;
  {
    std::lock_guard lock(mutex_);
    evict_locked(now);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      entry e;
      e.generation = ++next_generation_;
      e.created = now;
      e.result.message_id = message_id;
      order_.push_back(order{now, key, e.generation});
      entries_.emplace(key, std::move(e));
      return true;
    }
    if (it->second.pending) {
      it->second.waiters.push_back(std::move(done));
      return false;
    }
    ready = it->second.result;
  }
  done(std::move(ready));  // outside the lock: `done` may do anything
  return false;
}

void idempotency_cache::finish(const std::string& key, const publish_result& r) {
  std::vector<done_fn> waiters;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    waiters = std::move(it->second.waiters);
    if (r.status == publish_status::accepted) {
      it->second.pending = false;
      it->second.result = r;
    } else {
      entries_.erase(it);  // its order_ entry goes stale: the generation check skips it
    }
  }
  for (done_fn& w : waiters) w(r);
}

// Oldest first: expired keys, then finished keys over the bound. A pending key at the front
// stops eviction until it finishes (it completes within one store commit).
void idempotency_cache::evict_locked(clock::time_point now) {
  while (!order_.empty()) {
    const order& o = order_.front();
    auto it = entries_.find(o.key);
    if (it == entries_.end() || it->second.generation != o.generation) {
      order_.pop_front();
      continue;
    }
    const bool expired = o.created + window_ <= now;
    if ((!expired && entries_.size() < max_keys_) || it->second.pending) return;
    entries_.erase(it);
    order_.pop_front();
  }
}

}  // namespace broker::detail
