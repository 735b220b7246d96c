// BEGIN/COMMIT/ABORT: transactional SENDs and ACKs take effect at COMMIT, in order, and never
// after ABORT or the end of the session.
#include <gtest/gtest.h>

#include "fake_connection.hpp"

namespace {

using namespace broker_test;

struct Transaction : ::testing::Test {
  Transaction() {
    sub.connect();
    sub.send(make("SUBSCRIBE", {{"destination", "/topic/t"}, {"id", "s"}}));
    pub.connect();
    pub.send(make("BEGIN", {{"transaction", "tx"}, {"receipt", "b"}}));
    EXPECT_EQ(pub.take_one().get("receipt-id"), "b");
  }
  void send_in_tx(std::string body) {
    pub.send(make("SEND", {{"destination", "/topic/t"}, {"transaction", "tx"}}, body));
  }
  std::vector<std::string> received() {
    q.drain();
    std::vector<std::string> out;
    for (const auto& m : sub.take("MESSAGE")) out.push_back(m.body);
    return out;
  }

  broker::broker b{broker::config{}};
  post_queue q;
  client sub{b, q};
  client pub{b, q};
};

using strings = std::vector<std::string>;

TEST_F(Transaction, SendsTakeEffectAtCommitInOrder) {
  send_in_tx("1");
  pub.send(make("SEND", {{"destination", "/topic/t"}}, "outside"));
  send_in_tx("2");
  EXPECT_EQ(received(), (strings{"outside"}));
  pub.send(make("COMMIT", {{"transaction", "tx"}, {"receipt", "c"}}));
  EXPECT_EQ(pub.take_one().get("receipt-id"), "c");
  EXPECT_EQ(received(), (strings{"1", "2"}));
}

TEST_F(Transaction, MessagesCarryNoTransactionHeader) {
  send_in_tx("1");
  pub.send(make("COMMIT", {{"transaction", "tx"}}));
  q.drain();
  EXPECT_FALSE(sub.take_one().has("transaction"));
}

TEST_F(Transaction, AbortDropsThem) {
  send_in_tx("1");
  pub.send(make("ABORT", {{"transaction", "tx"}, {"receipt", "a"}}));
  EXPECT_EQ(pub.take_one().get("receipt-id"), "a");
  EXPECT_TRUE(received().empty());
  pub.send(make("COMMIT", {{"transaction", "tx"}}));  // gone with the abort
  EXPECT_EQ(pub.take_one().get("message"), "unknown transaction");
}

TEST_F(Transaction, DisconnectDropsThem) {
  send_in_tx("1");
  pub.send(make("DISCONNECT"));
  EXPECT_TRUE(received().empty());
}

TEST_F(Transaction, TransactionIdsCanBeReusedAfterCommit) {
  pub.send(make("COMMIT", {{"transaction", "tx"}}));
  pub.send(make("BEGIN", {{"transaction", "tx"}, {"receipt", "again"}}));
  EXPECT_EQ(pub.take_one().get("receipt-id"), "again");
}

TEST_F(Transaction, SendInTransactionIsCheckedWhenItArrives) {
  pub.send(make("SEND", {{"destination", "/topic/a.*"}, {"transaction", "tx"}, {"receipt", "w"}}));
  const stomp::frame reply = pub.take_one();
  EXPECT_EQ(reply.get("message"), "cannot send to a wildcard destination");
  EXPECT_EQ(reply.get("receipt-id"), "w");
}

TEST_F(Transaction, AcksTakeEffectAtCommitAndNotAfterAbort) {
  client c(b, q);
  c.connect();
  c.send(make("SUBSCRIBE", {{"destination", "/queue/tx"}, {"id", "0"}, {"ack", "client-individual"}}));
  b.publish(make("SEND", {{"destination", "/queue/tx"}}, "a"));
  b.publish(make("SEND", {{"destination", "/queue/tx"}}, "b"));
  q.drain();
  const auto got = c.take("MESSAGE");
  ASSERT_EQ(got.size(), 2u);
  c.send(make("BEGIN", {{"transaction", "t1"}}));
  c.send(make("ACK", {{"id", std::string(*got[0].get("ack"))}, {"transaction", "t1"}}));
  c.send(make("COMMIT", {{"transaction", "t1"}}));
  c.send(make("BEGIN", {{"transaction", "t2"}}));
  c.send(make("ACK", {{"id", std::string(*got[1].get("ack"))}, {"transaction", "t2"}}));
  c.send(make("ABORT", {{"transaction", "t2"}}));
  c.send(make("DISCONNECT"));
  // "a" was acked at commit; "b"'s ack was aborted, so it comes back.
  client other(b, q);
  other.connect();
  other.send(make("SUBSCRIBE", {{"destination", "/queue/tx"}, {"id", "0"}}));
  q.drain();
  const auto again = other.take("MESSAGE");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].body, "b");
  EXPECT_EQ(again[0].get("redelivered"), "true");
}

TEST_F(Transaction, UnknownAckInTransactionIsRefusedEarly) {
  pub.send(make("ACK", {{"id", "77"}, {"transaction", "tx"}}));
  EXPECT_EQ(pub.take_one().get("message"), "unknown ack id");
}

}  // namespace
