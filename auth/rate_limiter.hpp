#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace auth {

/// The address part of "ip:port", "[v6]:port", a bare IPv4 or a bare IPv6 address, so one
/// peer's attempts from many source ports share one budget. Never throws.
std::string_view peer_ip(std::string_view peer_address) noexcept;

/// Failed-login budget per peer IP, a token bucket: each address may fail `per_minute` times
/// in a burst, then regains one attempt every 60/per_minute seconds. Thread-safe (one mutex).
class login_rate_limiter {
 public:
  /// Where "now" comes from; tests inject a manual clock.
  using clock = std::function<std::chrono::steady_clock::time_point()>;

  /// `per_minute` = 0 disables limiting.
  explicit login_rate_limiter(unsigned per_minute = 10,
                              clock now = &std::chrono::steady_clock::now);

  /// True when `peer_address` ("ip:port") still has an attempt left. Does not consume one.
  bool allow(std::string_view peer_address) const;

  /// Spends one attempt of `peer_address`'s budget.
  void record_failure(std::string_view peer_address);

  /// Addresses currently tracked (those with a partly spent budget), for metrics and tests.
  std::size_t tracked() const;

 private:
  struct bucket {
    double tokens;
    std::chrono::steady_clock::time_point updated;
  };
  void refill_locked(bucket& b, std::chrono::steady_clock::time_point now) const;
  void sweep_locked(std::chrono::steady_clock::time_point now);

  double capacity_;
  double per_second_;
  clock now_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, bucket, std::less<>> buckets_;
  std::size_t sweep_at_ = 1024;  ///< grows with the table so sweeps stay amortised O(1)
};

}  // namespace auth
