#include "auth/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;

/// A clock the test moves by hand.
struct manual_clock {
  std::chrono::steady_clock::time_point now{};
  auth::login_rate_limiter::clock fn() {
    return [this] { return now; };
  }
};

TEST(PeerIp, StripsThePort) {
  EXPECT_EQ(auth::peer_ip("192.0.2.7:61613"), "192.0.2.7");
  EXPECT_EQ(auth::peer_ip("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(auth::peer_ip("[::1]:15674"), "::1");
  EXPECT_EQ(auth::peer_ip("[2001:db8::5]:1"), "2001:db8::5");
  EXPECT_EQ(auth::peer_ip("2001:db8::5"), "2001:db8::5");
  EXPECT_EQ(auth::peer_ip(""), "");
  EXPECT_EQ(auth::peer_ip("[::1"), "[::1");
}

TEST(LoginRateLimiter, RefusesAfterNFailuresAndSparesOtherAddresses) {
  manual_clock clock;
  auth::login_rate_limiter limiter(3, clock.fn());
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.allow("10.0.0.1:1000"));
    limiter.record_failure("10.0.0.1:" + std::to_string(1000 + i));  // new port each time
  }
  EXPECT_FALSE(limiter.allow("10.0.0.1:2000"));
  EXPECT_TRUE(limiter.allow("10.0.0.2:1000"));
  EXPECT_TRUE(limiter.allow("[::1]:1000"));
}

TEST(LoginRateLimiter, RegainsOneAttemptPerIntervalUpToTheBurst) {
  manual_clock clock;
  auth::login_rate_limiter limiter(6, clock.fn());  // one attempt back every 10 s
  for (int i = 0; i < 6; ++i) limiter.record_failure("10.0.0.1:1");
  EXPECT_FALSE(limiter.allow("10.0.0.1:1"));
  clock.now += 9s;
  EXPECT_FALSE(limiter.allow("10.0.0.1:1"));
  clock.now += 1s;
  EXPECT_TRUE(limiter.allow("10.0.0.1:1"));
  limiter.record_failure("10.0.0.1:1");
  EXPECT_FALSE(limiter.allow("10.0.0.1:1"));
  clock.now += 1h;  // a long pause restores the burst, not more
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(limiter.allow("10.0.0.1:1"));
    limiter.record_failure("10.0.0.1:1");
  }
  EXPECT_FALSE(limiter.allow("10.0.0.1:1"));
}

TEST(LoginRateLimiter, ZeroDisablesLimiting) {
  manual_clock clock;
  auth::login_rate_limiter limiter(0, clock.fn());
  for (int i = 0; i < 100; ++i) limiter.record_failure("10.0.0.1:1");
  EXPECT_TRUE(limiter.allow("10.0.0.1:1"));
  EXPECT_EQ(limiter.tracked(), 0u);
}

TEST(LoginRateLimiter, ForgetsAddressesWhoseBudgetRefilled) {
  manual_clock clock;
  auth::login_rate_limiter limiter(10, clock.fn());
  for (int i = 0; i < 1023; ++i) limiter.record_failure("10.1." + std::to_string(i) + ":1");
  EXPECT_EQ(limiter.tracked(), 1023u);
  clock.now += 1min;
  limiter.record_failure("10.2.0.1:1");  // reaching the sweep threshold drops refilled ones
  EXPECT_EQ(limiter.tracked(), 1u);
}

}  // namespace
