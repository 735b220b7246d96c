#include "broker/detail/idempotency_cache.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

namespace broker::detail {

idempotency_cache::idempotency_cache(std::chrono::milliseconds window, std::size_t max_keys)
    : window_(window), max_keys_(max_keys) {}

namespace {

// splitmix64's finaliser: every input bit reaches every output bit.
std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  std::uint64_t z = h + 0x9e3779b97f4a7c15ULL + v;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The length goes in too, so that ("ab", "c") and ("a", "bc") differ.
std::uint64_t mix(std::uint64_t h, std::string_view piece) {
  return mix(mix(h, piece.size()), std::hash<std::string_view>{}(piece));
}

}  // namespace

std::uint64_t idempotency_cache::fingerprint(const publish_request& r) {
  // A retry may list the same headers in another order (a JSON object has none).
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  headers.reserve(r.headers.size());
  for (const auto& h : r.headers) headers.emplace_back(h.name, h.value);
  std::sort(headers.begin(), headers.end());
  std::uint64_t h = mix(0, r.destination);
  h = mix(h, headers.size());
  for (const auto& [name, value] : headers) h = mix(mix(h, name), value);
  return mix(h, r.body);
}

idempotency_cache::outcome idempotency_cache::begin(const std::string& key, std::uint64_t print,
                                                    const std::string& message_id,
                                                    clock::time_point now, done_fn& done) {
  publish_result ready;
  {
    std::lock_guard lock(mutex_);
    evict_locked(now);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      entry e;
      e.generation = ++next_generation_;
      e.print = print;
      e.created = now;
      e.result.message_id = message_id;
      order_.push_back(order{now, key, e.generation});
      entries_.emplace(key, std::move(e));
      return outcome::publish;
    }
    if (it->second.print != print) return outcome::reused;
    if (it->second.pending) {
      it->second.waiters.push_back(std::move(done));
      return outcome::retry;
    }
    ready = it->second.result;
  }
  done(std::move(ready));  // outside the lock: `done` may do anything
  return outcome::retry;
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
