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
/// once. Each key also keeps a fingerprint of its request (8 bytes, whatever the request's size),
/// so that the key reused for a different request is told apart from a retry. Bounded: the
/// oldest finished keys go first when over `max_keys`. Thread-safe.
class idempotency_cache {
 public:
  using clock = std::chrono::system_clock;
  using done_fn = std::function<void(publish_result)>;

  /// What begin() found.
  enum class outcome {
    publish,  ///< a new key: the caller publishes now, then calls finish()
    retry,    ///< the same request again: `done` gets the first attempt's result
    reused,   ///< the key names a different request: refuse it (`done` is not called)
  };

  idempotency_cache(std::chrono::milliseconds window, std::size_t max_keys);

  /// A hash of what a publish request asks for: destination, headers (in any order) and body.
  /// Not cryptographic: keys are scoped to one user, who can only confuse their own requests.
  static std::uint64_t fingerprint(const publish_request& r);

  /// Records a new `key` as pending with `message_id` and `print` (outcome::publish). A known
  /// key with the same `print`: `done` is called with the first attempt's result, now if it has
  /// finished, else when it does (outcome::retry). A known key with another `print`:
  /// outcome::reused, nothing recorded, `done` untouched.
  outcome begin(const std::string& key, std::uint64_t print, const std::string& message_id,
                clock::time_point now, done_fn& done);

  /// The attempt for `key` ended with `r`: waiters get it. Accepted results are kept for the
  /// window; any other result is forgotten so a retry tries again.
  void finish(const std::string& key, const publish_result& r);

 private:
  struct entry {
    std::uint64_t generation = 0;
    std::uint64_t print = 0;  // fingerprint() of the request that took the key
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
