#include "broker/byte_budget.hpp"

namespace broker {

bool byte_budget::try_charge(std::size_t n) noexcept {
  std::size_t used = used_.load(std::memory_order_relaxed);
  do {
    if (limit_ != 0 && used + n > limit_) return false;
  } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
  return true;
}

}  // namespace broker
