#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace broker {

/// Counts the sessions of each user against config::max_connections_per_user, so one stolen or
/// leaked credential cannot hold the whole server. Thread-safe (one mutex, held for a map look-up).
class user_limit {
 public:
  /// `max_per_user` 0 = unlimited (sessions are still counted).
  explicit user_limit(std::size_t max_per_user) noexcept : max_(max_per_user) {}

  /// Counts one more session of `user`, unless it already has the maximum: then false and
  /// nothing is counted.
  bool try_enter(const std::string& user);
  /// Forgets one session of `user` (each successful try_enter is matched by one leave).
  void leave(const std::string& user);
  /// Sessions of `user` counted now.
  std::size_t count(const std::string& user) const;

 private:
  const std::size_t max_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> counts_;
};

}  // namespace broker
