// Publisher flow control: a SEND that fills a /queue/ (or a session's store backlog) is accepted
// and pauses reading from the publisher; the queue draining to its low watermark resumes it.
// flow_control = false keeps ERROR "queue full".
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "user_fixture.hpp"

namespace {

using namespace broker_test;

struct FlowControl : ::testing::Test {
  explicit FlowControl(std::size_t bound = 20) {
    cfg.queue_max_messages = bound;
    b = std::make_unique<broker::broker>(cfg);
  }
  client& connect() {
    clients.push_back(std::make_unique<client>(*b, q));
    clients.back()->connect();
    return *clients.back();
  }
  // `n` SENDs with receipts in one read (as one TCP read can carry many frames).
  static std::string sends(int from, int n) {
    std::string bytes;
    for (int i = from; i < from + n; ++i) {
      bytes += stomp::serialize(make("SEND", {{"destination", "/queue/jobs"},
                                              {"receipt", "r" + std::to_string(i)}},
                                     "m" + std::to_string(i)),
                                stomp::version::v1_2);
    }
    return bytes;
  }
  // Frames received since the last take, counted by command.
  static std::map<std::string, std::vector<stomp::frame>> by_command(client& c) {
    std::map<std::string, std::vector<stomp::frame>> out;
    for (auto& f : c.take()) out[f.command].push_back(std::move(f));
    return out;
  }
  client& consumer(const std::string& prefetch) {
    client& c = connect();
    c.send(make("SUBSCRIBE", {{"destination", "/queue/jobs"}, {"id", "s"}, {"ack", "client"},
                              {"prefetch-count", prefetch}}));
    q.drain();
    return c;
  }
  void ack(client& c, const stomp::frame& m) {
    c.send(make("ACK", {{"id", std::string(*m.get("ack"))}}));
    q.drain();
  }

  broker::config cfg;
  std::unique_ptr<broker::broker> b;
  post_queue q;
  std::vector<std::unique_ptr<client>> clients;
};

TEST_F(FlowControl, SendAtTheBoundIsReceiptedAndPausesReading) {
  client& pub = connect();
  pub.raw(sends(0, 19));
  q.drain();
  EXPECT_EQ(pub.conn->paused(), 0);
  EXPECT_EQ(pub.take("RECEIPT").size(), 19u);
  pub.raw(sends(19, 1));  // the 20th fills the queue
  q.drain();
  EXPECT_EQ(pub.conn->paused(), 1);
  auto got = by_command(pub);
  EXPECT_EQ(got["RECEIPT"].size(), 1u);
  EXPECT_TRUE(got["ERROR"].empty());
  EXPECT_FALSE(pub.conn->closed());
  EXPECT_EQ(b->stats().paused_publishers.load(), 1);
  EXPECT_EQ(b->stats().publisher_pauses.load(), 1u);
}

TEST_F(FlowControl, TheRestOfTheReadIsAcceptedInOrderAndPausesOnce) {
  client& pub = connect();
  pub.raw(sends(0, 25));  // passes the bound of 20 within one read
  q.drain();
  EXPECT_EQ(pub.take("RECEIPT").size(), 25u);
  EXPECT_EQ(pub.conn->pauses(), 1);
  EXPECT_EQ(pub.conn->paused(), 1);
  client& c = consumer("0");
  const auto messages = c.take("MESSAGE");
  ASSERT_EQ(messages.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(messages[i].body, "m" + std::to_string(i));
}

TEST_F(FlowControl, ResumesOnlyOnceDrainedToTheLowWatermark) {
  client& pub = connect();
  pub.raw(sends(0, 20));
  q.drain();
  ASSERT_EQ(pub.conn->paused(), 1);
  client& c = consumer("1");  // takes one: 19 wait, above 18 (90%)
  auto first = c.take("MESSAGE");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(pub.conn->paused(), 1);
  ack(c, first[0]);  // the next goes out: 18 wait
  EXPECT_EQ(pub.conn->paused(), 0);
  EXPECT_EQ(b->stats().paused_publishers.load(), 0);
  pub.raw(sends(20, 1));  // reading again: accepted, 19 wait, still not full
  q.drain();
  EXPECT_EQ(pub.take("RECEIPT").size(), 21u);
  EXPECT_EQ(pub.conn->paused(), 0);
}

TEST_F(FlowControl, ClosingWhilePausedLeavesTheWaitingList) {
  client& pub = connect();
  pub.raw(sends(0, 20));
  q.drain();
  ASSERT_EQ(pub.conn->paused(), 1);
  pub.conn->close(broker::close_reason::peer_gone);  // the peer went away while paused
  pub.session->on_closed(broker::close_reason::peer_gone);
  EXPECT_EQ(b->stats().paused_publishers.load(), 0);
  pub.session.reset();
  client& c = consumer("0");  // drains the queue: no waiter left to wake
  EXPECT_EQ(c.take("MESSAGE").size(), 20u);
  EXPECT_EQ(pub.conn->paused(), 1);  // never resumed: it was gone
}

TEST_F(FlowControl, APeerIgnoringBackPressureMeetsTheHardBound) {
  // hard_max = bound + max(bound, 4096): one read carrying more than that is refused at it.
  client& pub = connect();
  pub.raw(sends(0, 20 + 4096 + 1));
  q.drain();
  auto got = by_command(pub);
  EXPECT_EQ(got["RECEIPT"].size(), 20u + 4096u);
  const auto& errors = got["ERROR"];
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].get("message"), "queue full");
  EXPECT_TRUE(pub.conn->closed());
}

struct FlowControlOff : FlowControl {
  FlowControlOff() {
    cfg.flow_control = false;
    b = std::make_unique<broker::broker>(cfg);
  }
};

TEST_F(FlowControlOff, TheSendOverTheBoundGetsQueueFullAndTheClose) {
  client& pub = connect();
  pub.raw(sends(0, 21));
  q.drain();
  auto got = by_command(pub);
  EXPECT_EQ(got["RECEIPT"].size(), 20u);
  const auto& errors = got["ERROR"];
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].get("message"), "queue full");
  EXPECT_EQ(errors[0].get("receipt-id"), "r20");
  EXPECT_TRUE(pub.conn->closed());
  EXPECT_EQ(pub.conn->pauses(), 0);
}

struct StoreBacklog : users {};

TEST_F(StoreBacklog, DurableSendsPastTheBoundPauseUntilTheStoreCommits) {
  broker::config cfg;
  cfg.max_stores_in_flight = 3;
  start(cfg);
  client& pub = as("backend");
  std::string bytes;
  for (int i = 0; i < 3; ++i) {
    bytes += stomp::serialize(make("SEND", {{"destination", "/user/alice/queue/inbox"},
                                            {"receipt", "r" + std::to_string(i)}}, "d"),
                              stomp::version::v1_2);
  }
  pub.raw(bytes);  // no drain yet: the commits' RECEIPTs have not come back
  EXPECT_EQ(pub.conn->paused(), 1);
  settle();
  EXPECT_EQ(pub.conn->paused(), 0);
  auto got = FlowControl::by_command(pub);
  EXPECT_EQ(got["RECEIPT"].size(), 3u);
  EXPECT_TRUE(got["ERROR"].empty());
  EXPECT_EQ(b->stats().messages_stored.load(), 3u);
}

}  // namespace
