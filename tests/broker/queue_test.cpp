// /queue/ routing: one consumer per message, round-robin, waiting, acks, redelivery, prefetch.
#include <gtest/gtest.h>

#include <chrono>

#include "fake_connection.hpp"

namespace {

using namespace broker_test;
using broker::close_reason;

struct Queue : ::testing::Test {
  client& consumer(std::string ack = "auto", std::string prefetch = "",
                   std::string versions = "1.2") {
    clients.push_back(std::make_unique<client>(b, q));
    client& c = *clients.back();
    c.connect(versions);
    stomp::frame sub = make("SUBSCRIBE", {{"destination", "/queue/jobs"}, {"id", "c"},
                                          {"ack", ack}});
    if (!prefetch.empty()) sub.add("prefetch-count", prefetch);
    c.send(sub);
    q.drain();
    return c;
  }
  void send_jobs(int n, std::string prefix = "job") {
    for (int i = 0; i < n; ++i) {
      b.publish(make("SEND", {{"destination", "/queue/jobs"}}, prefix + std::to_string(i)));
    }
    q.drain();
  }
  static std::vector<std::string> bodies(client& c) {
    std::vector<std::string> out;
    for (const auto& m : c.take("MESSAGE")) out.push_back(m.body);
    return out;
  }
  void ack(client& c, const stomp::frame& m, const char* command = "ACK") {
    c.send(make(command, {{"id", std::string(*m.get("ack"))}}));
    q.drain();
  }

  broker::broker b{broker::config{}};
  post_queue q;
  std::vector<std::unique_ptr<client>> clients;
};

using strings = std::vector<std::string>;

TEST_F(Queue, EachMessageGoesToOneConsumerRoundRobin) {
  client& a = consumer();
  client& c = consumer();
  send_jobs(4);
  EXPECT_EQ(bodies(a), (strings{"job0", "job2"}));
  EXPECT_EQ(bodies(c), (strings{"job1", "job3"}));
}

TEST_F(Queue, MessagesWaitForAConsumer) {
  send_jobs(3);
  client& a = consumer();
  EXPECT_EQ(bodies(a), (strings{"job0", "job1", "job2"}));
  send_jobs(1, "later");
  EXPECT_EQ(bodies(a), (strings{"later0"}));
}

TEST_F(Queue, AutoAckMessagesAreNotDroppableAndGoneOnceHanded) {
  client& a = consumer();
  send_jobs(1);
  ASSERT_EQ(a.conn->sent().size(), 2u);  // CONNECTED, MESSAGE
  EXPECT_FALSE(a.conn->sent().back().droppable);
  EXPECT_FALSE(a.take("MESSAGE").front().has("ack"));
  a.send(make("DISCONNECT"));
  client& c = consumer();
  EXPECT_TRUE(bodies(c).empty());
}

TEST_F(Queue, FullQueueAcceptsAgainOnceDrained) {
  broker::config cfg;
  cfg.queue_max_messages = 2;
  broker::broker small{cfg};
  EXPECT_FALSE(small.publish(make("SEND", {{"destination", "/queue/q"}})).empty());
  EXPECT_FALSE(small.publish(make("SEND", {{"destination", "/queue/q"}})).empty());
  EXPECT_TRUE(small.publish(make("SEND", {{"destination", "/queue/q"}})).empty());
  client c(small, q);
  c.connect();
  c.send(make("SUBSCRIBE", {{"destination", "/queue/q"}, {"id", "0"}}));
  q.drain();
  EXPECT_EQ(c.take("MESSAGE").size(), 2u);
  EXPECT_FALSE(small.publish(make("SEND", {{"destination", "/queue/q"}})).empty());
}

TEST_F(Queue, ClientIndividualAcksOnlyTheOneNamed) {
  client& a = consumer("client-individual");
  send_jobs(3);
  const auto got = a.take("MESSAGE");
  ASSERT_EQ(got.size(), 3u);
  ack(a, got[1]);
  a.send(make("DISCONNECT"));
  client& c = consumer();
  const auto again = c.take("MESSAGE");
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].body, "job0");
  EXPECT_EQ(again[1].body, "job2");
  EXPECT_EQ(again[0].get("redelivered"), "true");
  EXPECT_EQ(again[0].get("message-id"), got[0].get("message-id"));
}

TEST_F(Queue, ClientAckIsCumulative) {
  client& a = consumer("client");
  send_jobs(3);
  const auto got = a.take("MESSAGE");
  ASSERT_EQ(got.size(), 3u);
  ack(a, got[1]);  // settles job0 and job1
  a.send(make("DISCONNECT"));
  client& c = consumer();
  EXPECT_EQ(bodies(c), (strings{"job2"}));
}

TEST_F(Queue, AckIdsAreUniquePerDelivery) {
  client& a = consumer("client-individual");
  send_jobs(2);
  const auto got = a.take("MESSAGE");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[0].get("ack"), got[1].get("ack"));
}

TEST_F(Queue, NackRedeliversWithRedeliveredTrue) {
  client& a = consumer("client-individual");
  send_jobs(1);
  const stomp::frame first = a.take_one();
  EXPECT_FALSE(first.has("redelivered"));
  ack(a, first, "NACK");
  const stomp::frame again = a.take_one();  // the only consumer gets it back
  EXPECT_EQ(again.body, "job0");
  EXPECT_EQ(again.get("redelivered"), "true");
  EXPECT_NE(again.get("ack"), first.get("ack"));
}

TEST_F(Queue, NackPrefersAnotherConsumerInTurn) {
  client& a = consumer("client-individual");
  client& c = consumer("client-individual");
  send_jobs(1);
  ack(a, a.take_one(), "NACK");
  const stomp::frame again = c.take_one();
  EXPECT_EQ(again.body, "job0");
  EXPECT_EQ(again.get("redelivered"), "true");
}

TEST_F(Queue, UnsubscribeRequeuesUnackedAtTheHead) {
  client& a = consumer("client");
  send_jobs(2);
  EXPECT_EQ(a.take("MESSAGE").size(), 2u);
  a.send(make("UNSUBSCRIBE", {{"id", "c"}}));
  send_jobs(1, "new");
  client& c = consumer();
  const auto got = c.take("MESSAGE");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].body, "job0");
  EXPECT_EQ(got[1].body, "job1");
  EXPECT_EQ(got[2].body, "new0");
  EXPECT_EQ(got[1].get("redelivered"), "true");
  EXPECT_FALSE(got[2].has("redelivered"));
}

TEST_F(Queue, ConsumerGoneGivesMessagesToTheOthers) {
  client& a = consumer("client-individual");
  client& c = consumer("client-individual");
  send_jobs(2);
  EXPECT_EQ(bodies(a), (strings{"job0"}));
  a.session->on_closed(close_reason::peer_gone);  // socket dropped, no DISCONNECT
  q.drain();
  const auto got = c.take("MESSAGE");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].body, "job0");
  EXPECT_EQ(got[1].get("redelivered"), "true");
}

TEST_F(Queue, DeliveryDroppedByAClosedConnectionIsNotLost) {
  client& a = consumer("client-individual");
  a.conn->close(close_reason::peer_gone);  // posts to it are now dropped
  send_jobs(1);                             // posted to a, dropped at drain
  a.session->on_closed(close_reason::peer_gone);
  client& c = consumer();
  EXPECT_EQ(bodies(c), (strings{"job0"}));
}

TEST_F(Queue, DeliveryToADestroyedSessionIsNotLost) {
  client& a = consumer("client-individual");
  b.publish(make("SEND", {{"destination", "/queue/jobs"}}, "orphan"));
  a.session.reset();  // the transport dropped it without on_closed
  q.drain();
  client& c = consumer();
  const auto got = c.take("MESSAGE");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "orphan");
}

TEST_F(Queue, PrefetchCapsUnackedMessages) {
  client& a = consumer("client-individual", "1");
  send_jobs(3);
  const auto first = a.take("MESSAGE");
  ASSERT_EQ(first.size(), 1u);
  ack(a, first[0]);
  const auto second = a.take("MESSAGE");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].body, "job1");
}

TEST_F(Queue, RoundRobinSkipsConsumersAtTheirPrefetch) {
  client& a = consumer("client", "1");
  client& c = consumer("client", "2");
  send_jobs(4);
  EXPECT_EQ(bodies(a), (strings{"job0"}));
  EXPECT_EQ(bodies(c), (strings{"job1", "job2"}));
}

TEST_F(Queue, Stomp11AcksByMessageIdAndSubscription) {
  client& a = consumer("client-individual", "", "1.1");
  send_jobs(2);
  const auto got = a.take("MESSAGE");
  ASSERT_EQ(got.size(), 2u);
  a.send(make("ACK", {{"message-id", std::string(*got[0].get("message-id"))},
                      {"subscription", "c"}, {"receipt", "r"}}));
  EXPECT_EQ(a.take_one().command, "RECEIPT");
  a.send(make("ACK", {{"message-id", std::string(*got[0].get("message-id"))}}));
  EXPECT_EQ(a.take_one().get("message"), "missing id header");
}

TEST_F(Queue, ExpiredMessagesAreDroppedBeforeDispatch) {
  using namespace std::chrono;
  const auto past = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() - 1;
  b.publish(make("SEND", {{"destination", "/queue/jobs"}, {"expires", std::to_string(past)}}, "x"));
  send_jobs(1);
  client& a = consumer();
  EXPECT_EQ(bodies(a), (strings{"job0"}));
}

}  // namespace
