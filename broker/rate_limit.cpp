#include "broker/rate_limit.hpp"

#include <algorithm>

namespace broker {

token_bucket::token_bucket(double rate, double burst, clock::time_point now) noexcept
    : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

void token_bucket::refill(clock::time_point now) noexcept {
  if (now <= last_) return;
  const std::chrono::duration<double> elapsed = now - last_;
  tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
  last_ = now;
}

bool token_bucket::try_take(clock::time_point now) noexcept {
  if (unlimited()) return true;
  refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

std::chrono::nanoseconds token_bucket::take_on_credit(clock::time_point now) noexcept {
  if (unlimited()) return {};
  refill(now);
  tokens_ -= 1.0;
  if (tokens_ >= 0.0) return {};
  const double target = std::min(burst_, std::max(1.0, rate_ / 100.0));
  const std::chrono::duration<double> wait((target - tokens_) / rate_);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(wait);
}

}  // namespace broker
