// Limits against floods from one peer or one user: the SEND token bucket and sessions per user,
// as units (injected clock) and through a session (fake connection).
#include <gtest/gtest.h>

#include <string>

#include "broker/rate_limit.hpp"
#include "broker/user_limit.hpp"
#include "fake_connection.hpp"

namespace {

using namespace broker_test;
using namespace std::chrono_literals;
using broker::close_reason;
using clock_type = broker::token_bucket::clock;

TEST(TokenBucket, StartsFullAndRefusesPastTheBurst) {
  const auto t0 = clock_type::time_point{} + 1h;
  broker::token_bucket b(10, 3, t0);
  EXPECT_TRUE(b.try_take(t0));
  EXPECT_TRUE(b.try_take(t0));
  EXPECT_TRUE(b.try_take(t0));
  EXPECT_FALSE(b.try_take(t0));
}

TEST(TokenBucket, RefillsAtTheRateUpToTheBurst) {
  const auto t0 = clock_type::time_point{} + 1h;
  broker::token_bucket b(10, 2, t0);  // one token per 100 ms
  EXPECT_TRUE(b.try_take(t0));
  EXPECT_TRUE(b.try_take(t0));
  EXPECT_FALSE(b.try_take(t0 + 50ms));
  EXPECT_TRUE(b.try_take(t0 + 100ms));
  EXPECT_FALSE(b.try_take(t0 + 100ms));
  // A long pause refills only up to the burst.
  EXPECT_TRUE(b.try_take(t0 + 10s));
  EXPECT_TRUE(b.try_take(t0 + 10s));
  EXPECT_FALSE(b.try_take(t0 + 10s));
}

TEST(TokenBucket, ClockGoingBackwardsAddsNothing) {
  const auto t0 = clock_type::time_point{} + 1h;
  broker::token_bucket b(1, 1, t0);
  EXPECT_TRUE(b.try_take(t0));
  EXPECT_FALSE(b.try_take(t0 - 10s));
  EXPECT_FALSE(b.try_take(t0));
}

TEST(TokenBucket, ZeroRateIsUnlimited) {
  broker::token_bucket b(0, 0);
  EXPECT_TRUE(b.unlimited());
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(b.try_take());
}

TEST(UserLimit, CountsPerUserAndFreesOnLeave) {
  broker::user_limit l(2);
  EXPECT_TRUE(l.try_enter("alice"));
  EXPECT_TRUE(l.try_enter("alice"));
  EXPECT_FALSE(l.try_enter("alice"));
  EXPECT_TRUE(l.try_enter("bob"));  // per user, not global
  EXPECT_EQ(l.count("alice"), 2u);
  l.leave("alice");
  EXPECT_EQ(l.count("alice"), 1u);
  EXPECT_TRUE(l.try_enter("alice"));
  l.leave("nobody");  // ignored
  EXPECT_EQ(l.count("nobody"), 0u);
}

TEST(UserLimit, ZeroIsUnlimited) {
  broker::user_limit l(0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(l.try_enter("alice"));
  EXPECT_EQ(l.count("alice"), 1000u);
}

TEST(TokenBucket, TakeOnCreditGoesIntoDebtAndSaysHowLongToWait) {
  using namespace std::chrono_literals;
  const auto t0 = broker::token_bucket::clock::now();
  broker::token_bucket b(100, 2, t0);  // 100/s: a token every 10 ms
  EXPECT_EQ(b.take_on_credit(t0).count(), 0);
  EXPECT_EQ(b.take_on_credit(t0).count(), 0);
  // Empty: one more is taken on credit; waiting repays it and refills one token (1/100 s of
  // tokens at 100/s, at least one): 20 ms.
  EXPECT_NEAR(static_cast<double>(b.take_on_credit(t0).count()), 20e6, 10);
  EXPECT_NEAR(static_cast<double>(b.take_on_credit(t0).count()), 30e6, 10);  // deeper debt
  EXPECT_FALSE(b.try_take(t0 + 10ms));  // still in debt
  EXPECT_TRUE(b.try_take(t0 + 30ms));   // repaid, one token back
  broker::token_bucket unlimited(0, 1, t0);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(unlimited.take_on_credit(t0).count(), 0);
}

broker::config limited(std::size_t per_user, double rate, double burst) {
  broker::config cfg;
  cfg.max_connections_per_user = per_user;
  cfg.send_rate = rate;
  cfg.send_burst = burst;
  cfg.send_rate_slows = false;  // these tests are about the "disconnect" policy
  return cfg;
}

TEST(SessionLimits, SendsOverTheBurstGetErrorThenClose) {
  // A rate of 1/s: the burst of 5 is all a test gets, however slow the machine.
  broker::broker b(limited(0, 1, 5));
  post_queue q;
  client c(b, q);
  ASSERT_EQ(c.connect().command, "CONNECTED");
  for (int i = 0; i < 5; ++i) {
    c.send(make("SEND", {{"destination", "/topic/a"}, {"receipt", std::to_string(i)}}, "x"));
  }
  EXPECT_EQ(c.take("RECEIPT").size(), 5u);
  c.send(make("SEND", {{"destination", "/topic/a"}, {"receipt", "over"}}, "x"));
  const stomp::frame e = c.take_one();
  EXPECT_EQ(e.command, "ERROR");
  EXPECT_EQ(e.get("message"), "send rate exceeded");
  EXPECT_EQ(e.get("receipt-id"), "over");
  EXPECT_EQ(c.conn->closes(), std::vector{close_reason::protocol_error});
  EXPECT_EQ(b.stats().send_rate_exceeded.load(), 1u);
}

TEST(SessionLimits, SendsInsideATransactionCountToo) {
  broker::broker b(limited(0, 1, 2));
  post_queue q;
  client c(b, q);
  ASSERT_EQ(c.connect().command, "CONNECTED");
  c.send(make("BEGIN", {{"transaction", "t"}}));
  for (int i = 0; i < 3; ++i)
    c.send(make("SEND", {{"destination", "/topic/a"}, {"transaction", "t"}}, "x"));
  const auto errors = c.take("ERROR");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].get("message"), "send rate exceeded");
}

TEST(SessionLimits, OtherFramesAreNotRateLimited) {
  broker::broker b(limited(0, 1, 1));
  post_queue q;
  client c(b, q);
  ASSERT_EQ(c.connect().command, "CONNECTED");
  for (int i = 0; i < 20; ++i) {
    const std::string id = std::to_string(i);
    c.send(make("SUBSCRIBE", {{"destination", "/topic/t" + id}, {"id", id}}));
  }
  c.send(make("SEND", {{"destination", "/topic/a"}, {"receipt", "r"}}, "x"));
  EXPECT_EQ(c.take_one().command, "RECEIPT");
  EXPECT_TRUE(c.conn->closes().empty());
}

TEST(SessionLimits, UserOverItsSessionLimitGetsErrorAtConnect) {
  broker::broker b(limited(2, 0, 0));
  post_queue q;
  client a1(b, q), a2(b, q), a3(b, q), bob(b, q);
  EXPECT_EQ(a1.connect("1.2", {{"login", "alice"}}).command, "CONNECTED");
  EXPECT_EQ(a2.connect("1.2", {{"login", "alice"}}).command, "CONNECTED");
  const stomp::frame refused = a3.connect("1.2", {{"login", "alice"}});
  EXPECT_EQ(refused.command, "ERROR");
  EXPECT_EQ(refused.get("message"), "too many connections");
  EXPECT_FALSE(a3.conn->closes().empty());
  EXPECT_EQ(bob.connect("1.2", {{"login", "bob"}}).command, "CONNECTED");
  EXPECT_EQ(b.stats().user_limit_refused.load(), 1u);
  // Existing sessions keep working.
  a1.send(make("SEND", {{"destination", "/topic/a"}, {"receipt", "r"}}, "x"));
  EXPECT_EQ(a1.take_one().command, "RECEIPT");
}

TEST(SessionLimits, ClosingASessionFreesItsPlace) {
  broker::broker b(limited(1, 0, 0));
  post_queue q;
  {
    client first(b, q);
    EXPECT_EQ(first.connect("1.2", {{"login", "alice"}}).command, "CONNECTED");
    first.send(make("DISCONNECT"));
    q.drain();
    first.session->on_closed(close_reason::normal);
  }
  client again(b, q);
  EXPECT_EQ(again.connect("1.2", {{"login", "alice"}}).command, "CONNECTED");
}

TEST(SessionLimits, RefusedSessionDoesNotHoldAPlace) {
  broker::broker b(limited(1, 0, 0));
  post_queue q;
  auto first = std::make_unique<client>(b, q);
  EXPECT_EQ(first->connect("1.2", {{"login", "alice"}}).command, "CONNECTED");
  client refused(b, q);
  EXPECT_EQ(refused.connect("1.2", {{"login", "alice"}}).command, "ERROR");
  refused.session->on_closed(close_reason::protocol_error);
  first->session->on_closed(close_reason::normal);
  client third(b, q);
  EXPECT_EQ(third.connect("1.2", {{"login", "alice"}}).command, "CONNECTED");
}

TEST(SessionLimits, AnonymousSessionsAreNotCounted) {
  broker::broker b(limited(1, 0, 0));
  post_queue q;
  client a(b, q), c(b, q);
  EXPECT_EQ(a.connect("1.2", {{"login", ""}}).command, "CONNECTED");
  EXPECT_EQ(c.connect("1.2", {{"login", ""}}).command, "CONNECTED");
}

}  // namespace
