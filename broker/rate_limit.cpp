#include "broker/rate_limit.hpp"

#include <algorithm>

namespace broker {

token_bucket::token_bucket(double rate, double burst, clock::time_point now) noexcept
    : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

bool token_bucket::try_take(clock::time_point now) noexcept {
  if (unlimited()) return true;
  if (now > last_) {
    const std::chrono::duration<double> elapsed = now - last_;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
    last_ = now;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace broker
