#include "auth/rate_limiter.hpp"

#include <algorithm>
#include <iterator>

namespace auth {

std::string_view peer_ip(std::string_view address) noexcept {
  if (address.starts_with('[')) {  // "[::1]:61613" (RFC 3986 §3.2.2 IP-literal)
    const auto close = address.find(']');
    return close == std::string_view::npos ? address : address.substr(1, close - 1);
  }
  const auto colon = address.find(':');
  if (colon == std::string_view::npos) return address;  // bare IPv4 or host name
  if (address.find(':', colon + 1) != std::string_view::npos) return address;  // bare IPv6
  return address.substr(0, colon);
}

login_rate_limiter::login_rate_limiter(unsigned per_minute, clock now)
    : capacity_(per_minute), per_second_(per_minute / 60.0), now_(std::move(now)) {}

void login_rate_limiter::refill_locked(bucket& b, std::chrono::steady_clock::time_point now) const {
  const std::chrono::duration<double> elapsed = now - b.updated;
  b.tokens = std::min(capacity_, b.tokens + std::max(0.0, elapsed.count()) * per_second_);
  b.updated = std::max(b.updated, now);
}

bool login_rate_limiter::allow(std::string_view peer_address) const {
  if (capacity_ == 0) return true;
  const auto now = now_();
  std::lock_guard lock(mutex_);
  const auto it = buckets_.find(peer_ip(peer_address));
  if (it == buckets_.end()) return true;
  refill_locked(it->second, now);
  return it->second.tokens >= 1.0;
}

void login_rate_limiter::record_failure(std::string_view peer_address) {
  if (capacity_ == 0) return;
  const auto now = now_();
  std::lock_guard lock(mutex_);
  const auto ip = peer_ip(peer_address);
  auto it = buckets_.find(ip);
  if (it == buckets_.end()) {
    it = buckets_.emplace(std::string(ip), bucket{capacity_, now}).first;
  }
  refill_locked(it->second, now);
  it->second.tokens = std::max(0.0, it->second.tokens - 1.0);
  if (buckets_.size() >= sweep_at_) sweep_locked(now);
}

void login_rate_limiter::sweep_locked(std::chrono::steady_clock::time_point now) {
  // A full bucket is the same as no bucket: forget it, so memory follows recent failures only.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill_locked(it->second, now);
    it = it->second.tokens >= capacity_ ? buckets_.erase(it) : std::next(it);
  }
  sweep_at_ = std::max<std::size_t>(1024, buckets_.size() * 2);
}

std::size_t login_rate_limiter::tracked() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace auth
