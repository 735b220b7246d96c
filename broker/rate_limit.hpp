#pragma once

#include <chrono>

namespace broker {

/// A token bucket [RFC 2697's idea, as NATS and RabbitMQ use for publish rates]: refills at
/// `rate` tokens a second up to `burst`; each event takes one. Starts full. Not thread-safe: one
/// per session, used on its strand.
class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  /// `rate` 0 = unlimited (try_take always succeeds). `burst` below 1 is taken as 1.
  token_bucket(double rate, double burst, clock::time_point now = clock::now()) noexcept;

  /// Takes one token if one is there (after refilling for the time since the last call).
  bool try_take(clock::time_point now = clock::now()) noexcept;

  /// Takes one token even when none is left (the bucket goes into debt) and returns how long
  /// the taker should wait before the next: zero while tokens remain, else the time to refill
  /// the debt and a little more (1/100 s of tokens, at least one), so a slowed peer is resumed
  /// every few milliseconds rather than after every frame.
  std::chrono::nanoseconds take_on_credit(clock::time_point now = clock::now()) noexcept;

  /// True when the bucket never refuses.
  bool unlimited() const noexcept { return rate_ <= 0; }

 private:
  void refill(clock::time_point now) noexcept;

  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_;
};

}  // namespace broker
