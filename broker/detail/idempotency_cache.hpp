#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/broker.hpp"

namespace broker::detail {

/// Remembers publish API results by Idempotency-Key for a window, so a retried request publishes
/// once. Bounded: the oldest finished keys go first when over `max_keys`. Thread-safe.
class idempotency_cache {
 public:
  using clock = std::chrono::system_clock;
  using done_fn = std::function<void(publish_result)>;

  idempotency_cache(std::chrono::milliseconds window, std::size_t max_keys);

  /// True when the caller must publish now (`key` is recorded as pending with `message_id`).
  /// False when `key` is known: `done` is called with the first attempt's result, now if it has
  /// finished, else when it does.
  bool begin(const std::string& key, const std::string& message_id, clock::time_point now,
             done_fn& done);

  /// The attempt for `key` ended with `r`: waiters get it. Accepted results are kept for the
  /// window; any other result is forgotten so a retry tries again.
  void finish(const std::string& key, const publish_result& r);

 private:
  struct entry {
    std::uint64_t generation = 0;
    clock::time_point created;
    bool pending = true;
    publish_result result;
    std::vector<done_fn> waiters;
  };
  struct order {
    clock::time_point created;
    std::string key;
    std::uint64_t generation;
  };
  void evict_locked(clock::time_point now);

  const std::chrono::milliseconds window_;
  const std::size_t max_keys_;
  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
  std::deque<order> order_;  // insertion order, for expiry and the size bound
  std::uint64_t next_generation_ = 0;
};

}  // namespace broker::detail
