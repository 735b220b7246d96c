// Every protocol violation gets its own ERROR (message header, text/plain body, receipt-id when
// the frame asked for a receipt) and closes the session; receipts come only after the effect.
#include <gtest/gtest.h>

#include "fake_connection.hpp"
#include "stomp/serializer.hpp"

namespace {

using namespace broker_test;
using broker::close_reason;

struct error_case {
  const char* name;
  std::vector<stomp::frame> setup;  // each must succeed (with a receipt)
  stomp::frame bad;                 // gets receipt:bad added
  const char* message;
};

// Keeps gtest from dumping the bytes of a case.
void PrintTo(const error_case& c, std::ostream* os) { *os << c.name; }

std::vector<error_case> cases() {
  return {
      {"SendWithoutDestination", {}, make("SEND"), "missing destination header"},
      {"UnknownPrefix", {}, make("SEND", {{"destination", "/exchange/x"}}),
       "unknown destination prefix"},
      {"DotDotDestination", {}, make("SEND", {{"destination", "/topic/a/../b"}}),
       "invalid destination"},
      {"ControlCharDestination", {}, make("SEND", {{"destination", "/queue/a\tb"}}),
       "invalid destination"},
      {"SendToWildcard", {}, make("SEND", {{"destination", "/topic/news.*"}}),
       "cannot send to a wildcard destination"},
      {"InvalidExpires", {}, make("SEND", {{"destination", "/topic/a"}, {"expires", "soon"}}),
       "invalid expires header"},
      {"SubscribeWithoutId", {}, make("SUBSCRIBE", {{"destination", "/topic/a"}}),
       "missing id header"},
      {"SubscribeWithoutDestination", {}, make("SUBSCRIBE", {{"id", "1"}}),
       "missing destination header"},
      {"WildcardQueue", {}, make("SUBSCRIBE", {{"destination", "/queue/*"}, {"id", "1"}}),
       "wildcards are not allowed in queue destinations"},
      {"DuplicateSubscriptionId",
       {make("SUBSCRIBE", {{"destination", "/topic/a"}, {"id", "1"}})},
       make("SUBSCRIBE", {{"destination", "/topic/b"}, {"id", "1"}}),
       "duplicate subscription id"},
      {"InvalidAckMode", {},
       make("SUBSCRIBE", {{"destination", "/topic/a"}, {"id", "1"}, {"ack", "sometimes"}}),
       "invalid ack mode"},
      {"InvalidPrefetch", {},
       make("SUBSCRIBE", {{"destination", "/queue/a"}, {"id", "1"}, {"prefetch-count", "lots"}}),
       "invalid prefetch-count header"},
      {"TooManySubscriptions",
       {make("SUBSCRIBE", {{"destination", "/topic/a"}, {"id", "1"}}),
        make("SUBSCRIBE", {{"destination", "/topic/b"}, {"id", "2"}})},
       make("SUBSCRIBE", {{"destination", "/topic/c"}, {"id", "3"}}), "too many subscriptions"},
      {"UnknownSubscription", {}, make("UNSUBSCRIBE", {{"id", "nope"}}), "unknown subscription"},
      {"UnsubscribeWithoutId", {}, make("UNSUBSCRIBE"), "missing id header"},
      {"UnknownAckId", {}, make("ACK", {{"id", "999"}}), "unknown ack id"},
      {"AckWithoutId", {}, make("NACK"), "missing id header"},
      {"BeginWithoutTransaction", {}, make("BEGIN"), "missing transaction header"},
      {"CommitWithoutTransaction", {}, make("COMMIT"), "missing transaction header"},
      {"TransactionAlreadyBegun", {make("BEGIN", {{"transaction", "t"}})},
       make("BEGIN", {{"transaction", "t"}}), "transaction already begun"},
      {"CommitUnknown", {}, make("COMMIT", {{"transaction", "t"}}), "unknown transaction"},
      {"AbortUnknown", {}, make("ABORT", {{"transaction", "t"}}), "unknown transaction"},
      {"SendInUnknownTransaction", {},
       make("SEND", {{"destination", "/topic/a"}, {"transaction", "t"}}), "unknown transaction"},
      {"TransactionTooLarge",
       {make("BEGIN", {{"transaction", "t"}}),
        make("SEND", {{"destination", "/topic/a"}, {"transaction", "t"}}),
        make("SEND", {{"destination", "/topic/a"}, {"transaction", "t"}})},
       make("SEND", {{"destination", "/topic/a"}, {"transaction", "t"}}),
       "transaction too large"},
      {"QueueFull",
       {make("SEND", {{"destination", "/queue/full"}}),
        make("SEND", {{"destination", "/queue/full"}})},
       make("SEND", {{"destination", "/queue/full"}}), "queue full"},
  };
}

struct Errors : ::testing::TestWithParam<error_case> {};

TEST_P(Errors, ErrorWithReceiptIdThenClose) {
  broker::config cfg;
  cfg.max_subscriptions_per_session = 2;
  cfg.max_transaction_frames = 2;
  cfg.queue_max_messages = 2;
  cfg.flow_control = false;  // QueueFull: the ERROR without flow control (see flow_control_test)
  broker::broker b{cfg};
  post_queue q;
  client c(b, q);
  c.connect();
  int n = 0;
  for (stomp::frame f : GetParam().setup) {
    const std::string receipt = "setup-" + std::to_string(n++);
    f.add("receipt", receipt);
    c.send(f);
    const stomp::frame reply = c.take_one();
    ASSERT_EQ(reply.command, "RECEIPT") << reply.get("message").value_or("") << " " << reply.body;
    EXPECT_EQ(reply.get("receipt-id"), receipt);
  }
  stomp::frame bad = GetParam().bad;
  bad.add("receipt", "bad");
  c.send(bad);
  const stomp::frame reply = c.take_one();
  EXPECT_EQ(reply.command, "ERROR");
  EXPECT_EQ(reply.get("message"), GetParam().message);
  EXPECT_EQ(reply.get("receipt-id"), "bad");
  EXPECT_EQ(reply.get("content-type"), "text/plain");
  EXPECT_FALSE(reply.body.empty());
  EXPECT_EQ(c.conn->closes(), std::vector{close_reason::protocol_error});
  // The session is over: nothing more is answered.
  c.send(make("SUBSCRIBE", {{"destination", "/topic/z"}, {"id", "z"}, {"receipt", "late"}}));
  EXPECT_TRUE(c.take().empty());
}

INSTANTIATE_TEST_SUITE_P(Broker, Errors, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ErrorBody, UnknownPrefixListsTheKnownOnes) {
  broker::broker b{broker::config{}};
  post_queue q;
  client c(b, q);
  c.connect();
  c.send(make("SEND", {{"destination", "/exchange/amq.topic/x"}}));
  const stomp::frame reply = c.take_one();
  EXPECT_NE(reply.body.find("/topic/"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("/queue/"), std::string::npos) << reply.body;
}

struct Receipts : ::testing::Test {
  broker::broker b{broker::config{}};
  post_queue q;
};

TEST_F(Receipts, SubscribeReceiptMeansTheSubscriptionIsLive) {
  client sub(b, q), pub(b, q);
  sub.connect();
  pub.connect();
  sub.send(make("SUBSCRIBE", {{"destination", "/topic/a"}, {"id", "s"}, {"receipt", "r"}}));
  EXPECT_EQ(sub.take_one().get("receipt-id"), "r");
  pub.send(make("SEND", {{"destination", "/topic/a"}}, "hi"));
  q.drain();
  EXPECT_EQ(sub.take_one().body, "hi");
}

TEST_F(Receipts, UnsubscribeReceiptMeansNoMoreMessages) {
  client sub(b, q), pub(b, q);
  sub.connect();
  pub.connect();
  sub.send(make("SUBSCRIBE", {{"destination", "/topic/a"}, {"id", "s"}}));
  sub.send(make("UNSUBSCRIBE", {{"id", "s"}, {"receipt", "u"}}));
  EXPECT_EQ(sub.take_one().get("receipt-id"), "u");
  pub.send(make("SEND", {{"destination", "/topic/a"}}, "hi"));
  q.drain();
  EXPECT_TRUE(sub.take().empty());
}

TEST_F(Receipts, SendReceiptComesAfterTheMessageIsQueued) {
  client pub(b, q), sub(b, q);
  pub.connect();
  sub.connect();
  pub.send(make("SEND", {{"destination", "/queue/jobs"}, {"receipt", "s1"}}, "job"));
  EXPECT_EQ(pub.take_one().get("receipt-id"), "s1");
  sub.send(make("SUBSCRIBE", {{"destination", "/queue/jobs"}, {"id", "0"}}));
  q.drain();
  EXPECT_EQ(sub.take_one().body, "job");
}

TEST_F(Receipts, DisconnectRunsEverythingBeforeThenReceiptThenClose) {
  client sub(b, q), c(b, q);
  sub.connect();
  sub.send(make("SUBSCRIBE", {{"destination", "/topic/a"}, {"id", "s"}}));
  c.connect();
  std::string bytes = stomp::serialize(make("SEND", {{"destination", "/topic/a"}}, "last"),
                                       stomp::version::v1_2);
  bytes += stomp::serialize(make("DISCONNECT", {{"receipt", "bye"}}), stomp::version::v1_2);
  bytes += stomp::serialize(make("SEND", {{"destination", "/topic/a"}}, "ignored"),
                            stomp::version::v1_2);
  c.raw(bytes);
  const stomp::frame reply = c.take_one();
  EXPECT_EQ(reply.command, "RECEIPT");
  EXPECT_EQ(reply.get("receipt-id"), "bye");
  EXPECT_EQ(c.conn->closes(), std::vector{close_reason::normal});
  q.drain();
  const auto got = sub.take("MESSAGE");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "last");
}

TEST_F(Receipts, DisconnectWithoutReceiptJustCloses) {
  client c(b, q);
  c.connect();
  c.send(make("DISCONNECT"));
  EXPECT_TRUE(c.take().empty());
  EXPECT_EQ(c.conn->closes(), std::vector{close_reason::normal});
}

}  // namespace
