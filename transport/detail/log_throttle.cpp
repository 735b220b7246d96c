#include "transport/detail/log_throttle.hpp"

#include <chrono>

namespace transport::detail {

bool log_throttle::allow(std::uint64_t& suppressed) noexcept {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  auto last = last_second_.load(std::memory_order_relaxed);
  if (now > last && last_second_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
    return true;
  }
  suppressed_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace transport::detail
