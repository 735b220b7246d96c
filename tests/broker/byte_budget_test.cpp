// Byte budgets (issue #14): what a peer makes the broker hold is charged to the server-wide
// budget (broker::held()) and released exactly when it goes; per-queue, per-transaction and
// per-session bounds in bytes; publishers paused at the server budget, resumed once relieved.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "broker/detail/stomp_session.hpp"
#include "broker/error.hpp"
#include "broker/message.hpp"
#include "broker/queue.hpp"
#include "fake_connection.hpp"
#include "stomp/serializer.hpp"

namespace {

using namespace broker_test;

constexpr std::size_t kib = 1024;

struct Budget : ::testing::Test {
  void start() { b = std::make_unique<broker::broker>(cfg); }
  client& connect() {
    clients.push_back(std::make_unique<client>(*b, q));
    clients.back()->connect();
    return *clients.back();
  }
  static stomp::frame send(const std::string& dest, std::size_t bytes,
                           std::initializer_list<std::pair<std::string, std::string>> extra = {}) {
    stomp::frame f = make("SEND", extra, std::string(bytes, 'x'));
    f.add("destination", dest);
    return f;
  }
  std::size_t used() const { return b->held().used(); }

  broker::config cfg;
  std::unique_ptr<broker::broker> b;
  post_queue q;
  std::vector<std::unique_ptr<client>> clients;
};

TEST(HeldSize, CountsBodyHeadersAndOverhead) {
  const stomp::frame f = make("SEND", {{"destination", "/queue/a"}}, std::string(1000, 'x'));
  EXPECT_EQ(broker::held_size(f),
            broker::held_overhead + 4 + 1000 + std::string("destination/queue/a").size());
}

TEST(QueueBytes, ChargedWaitingAndInFlightReleasedWhenAcked) {
  auto budget = std::make_shared<broker::byte_budget>(0);
  broker::byte_budget& held = *budget;
  {
    auto q = std::make_shared<broker::queue>("/queue/a", 100, nullptr, 0, budget);
    broker::message_ptr m;
    ASSERT_FALSE(broker::make_message(make("SEND", {}, std::string(kib, 'x')),
                                      broker::destination{}, "id-1", m));
    ASSERT_FALSE(q->enqueue(m));
    EXPECT_EQ(held.used(), broker::held_size(*m));
    EXPECT_EQ(q->waiting_bytes(), broker::held_size(*m));
    EXPECT_EQ(q->held_bytes(), held.used());
  }
  EXPECT_EQ(held.used(), 0u) << "a destroyed queue gives its bytes back";
}

TEST(QueueBytes, RefusesPastMaxBytesButAMessageAloneAlwaysFits) {
  auto budget = std::make_shared<broker::byte_budget>(0);
  auto q = std::make_shared<broker::queue>("/queue/a", 100, nullptr, 2 * kib, budget);
  auto msg = [](std::size_t n) {
    broker::message_ptr m;
    EXPECT_FALSE(broker::make_message(make("SEND", {}, std::string(n, 'x')), broker::destination{},
                                      "id", m));
    return m;
  };
  EXPECT_FALSE(q->enqueue(msg(10 * kib))) << "alone, over the bound: fits";
  EXPECT_EQ(q->enqueue(msg(10)), std::error_code(broker::error::queue_full));
  EXPECT_EQ(q->waiting(), 1u);
}

TEST_F(Budget, QueueMessagesAreChargedUntilConsumedAndAcked) {
  start();
  client& pub = connect();
  for (int i = 0; i < 5; ++i) pub.send(send("/queue/jobs", 10 * kib));
  q.drain();
  EXPECT_GE(used(), 50 * kib);
  client& con = connect();
  con.send(make("SUBSCRIBE", {{"destination", "/queue/jobs"}, {"id", "s"}, {"ack", "client"}}));
  q.drain();
  const auto messages = con.take("MESSAGE");
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_GE(used(), 50 * kib) << "in flight until acked";
  con.send(make("NACK", {{"id", std::string(*messages[0].get("ack"))}}));  // requeued copy
  q.drain();
  EXPECT_GE(used(), 40 * kib);
  for (const auto& m : con.take("MESSAGE")) {
    con.send(make("ACK", {{"id", std::string(*m.get("ack"))}}));
  }
  for (const auto& m : messages) con.send(make("ACK", {{"id", std::string(*m.get("ack"))}}));
  q.drain();
  EXPECT_EQ(used(), 0u);
}

TEST_F(Budget, QueueByteBoundPausesThePublisher) {
  cfg.queue_max_bytes = 20 * kib;
  start();
  client& pub = connect();
  for (int i = 0; i < 3; ++i) pub.send(send("/queue/jobs", 8 * kib));
  q.drain();
  EXPECT_EQ(pub.conn->paused(), 1) << "24 KiB waiting against a 20 KiB bound";
  client& con = connect();
  con.send(make("SUBSCRIBE", {{"destination", "/queue/jobs"}, {"id", "s"}}));
  q.drain();
  EXPECT_EQ(pub.conn->paused(), 0) << "drained: resumed";
  EXPECT_EQ(used(), 0u);
}

TEST_F(Budget, TransactionBytesAreBoundedChargedAndReleased) {
  cfg.max_transaction_bytes = 20 * kib;
  start();
  client& pub = connect();
  pub.send(make("BEGIN", {{"transaction", "t"}}));
  pub.send(send("/queue/jobs", 8 * kib, {{"transaction", "t"}}));
  pub.send(send("/queue/jobs", 8 * kib, {{"transaction", "t"}}));
  EXPECT_GE(used(), 16 * kib);
  pub.send(make("ABORT", {{"transaction", "t"}}));
  EXPECT_EQ(used(), 0u) << "ABORT releases";
  pub.send(make("BEGIN", {{"transaction", "u"}}));
  pub.send(send("/queue/jobs", 8 * kib, {{"transaction", "u"}}));
  pub.send(make("COMMIT", {{"transaction", "u"}}));
  q.drain();
  EXPECT_GE(used(), 8 * kib) << "committed: now held by the queue";
  pub.send(make("BEGIN", {{"transaction", "v"}}));
  for (int i = 0; i < 2; ++i) pub.send(send("/queue/x", 8 * kib, {{"transaction", "v"}}));
  EXPECT_TRUE(pub.take("ERROR").empty());
  pub.send(send("/queue/x", 8 * kib, {{"transaction", "v"}, {"receipt", "r"}}));
  const auto errors = pub.take("ERROR");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].get("message"), "transaction too large");
  EXPECT_EQ(errors[0].get("receipt-id"), "r");
  EXPECT_NE(errors[0].body.find("limits.max_transaction_bytes"), std::string::npos);
  q.drain();
  client& con = connect();
  con.send(make("SUBSCRIBE", {{"destination", "/queue/jobs"}, {"id", "s"}}));
  q.drain();
  EXPECT_EQ(used(), 0u) << "the closed session's transaction and the queue released all";
}

TEST_F(Budget, AnErrorReleasesTransactionsBeforeTheCloseCompletes) {
  start();
  client& pub = connect();
  pub.send(make("BEGIN", {{"transaction", "t"}}));
  pub.send(send("/queue/jobs", 8 * kib, {{"transaction", "t"}}));
  EXPECT_GE(used(), 8 * kib);
  pub.session->on_bytes("NOT-A-COMMAND\n\n");  // ERROR; the transport has not closed yet
  ASSERT_TRUE(pub.conn->closed());
  EXPECT_EQ(used(), 0u) << "held until close_ms for nothing";
}

TEST_F(Budget, OpenTransactionsPerSessionAreBounded) {
  cfg.max_transactions_per_session = 2;
  start();
  client& pub = connect();
  pub.send(make("BEGIN", {{"transaction", "a"}}));
  pub.send(make("BEGIN", {{"transaction", "b"}}));
  pub.send(make("BEGIN", {{"transaction", "c"}}));
  const stomp::frame e = pub.take_one();
  EXPECT_EQ(e.get("message"), "too many transactions");
  EXPECT_NE(e.body.find("limits.max_transactions_per_session"), std::string::npos);
}

TEST_F(Budget, SessionHeldBytesSpanTransactions) {
  cfg.max_transaction_bytes = 20 * kib;
  cfg.max_session_held_bytes = 30 * kib;
  start();
  client& pub = connect();
  pub.send(make("BEGIN", {{"transaction", "a"}}));
  pub.send(make("BEGIN", {{"transaction", "b"}}));
  for (int i = 0; i < 2; ++i) pub.send(send("/queue/x", 8 * kib, {{"transaction", "a"}}));
  pub.send(send("/queue/x", 8 * kib, {{"transaction", "b"}}));
  EXPECT_TRUE(pub.take("ERROR").empty());
  pub.send(send("/queue/x", 8 * kib, {{"transaction", "b"}}));
  const auto errors = pub.take("ERROR");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].get("message"), "session holds too much");
  EXPECT_NE(errors[0].body.find("limits.max_session_held_bytes"), std::string::npos);
  EXPECT_EQ(used(), 0u);
}

TEST_F(Budget, PartialFrameIsChargedAndReleased) {
  start();
  client& pub = connect();
  const std::string bytes =
      stomp::serialize(send("/queue/jobs", 64 * kib), stomp::version::v1_2);
  pub.raw(std::string_view(bytes).substr(0, 32 * kib));
  EXPECT_GE(used(), 30 * kib);
  pub.raw(std::string_view(bytes).substr(32 * kib));
  q.drain();
  EXPECT_GE(used(), 64 * kib) << "now a queued message";
  EXPECT_LT(used(), 66 * kib) << "the partial frame is no longer charged";
  pub.raw(std::string_view(bytes).substr(0, 16 * kib));
  pub.conn->close(broker::close_reason::peer_gone);
  pub.session->on_closed(broker::close_reason::peer_gone);
  EXPECT_LT(used(), 66 * kib) << "a closed session's partial frame is released";
}

TEST_F(Budget, ServerBudgetPausesQueuePublishersNotTopicsAndTickResumes) {
  cfg.max_held_bytes = 100 * kib;
  start();
  client& pub = connect();
  client& live = connect();
  for (int i = 0; i < 12; ++i) pub.send(send("/queue/jobs", 10 * kib));
  q.drain();
  EXPECT_TRUE(b->held().over());
  EXPECT_EQ(pub.conn->paused(), 1);
  live.send(send("/topic/news", 10 * kib));
  EXPECT_EQ(live.conn->paused(), 0) << "a topic SEND holds nothing: not paused";
  b->tick();
  q.drain();
  EXPECT_EQ(pub.conn->paused(), 1) << "still over: still paused";
  client& con = connect();
  con.send(make("SUBSCRIBE", {{"destination", "/queue/jobs"}, {"id", "s"}}));
  q.drain();
  EXPECT_TRUE(b->held().relieved());
  b->tick();
  q.drain();
  EXPECT_EQ(pub.conn->paused(), 0) << "relieved: resumed by the tick";
  EXPECT_EQ(b->stats().budget_pauses.load(), 1u);
}

TEST_F(Budget, ServerBudgetWithoutFlowControlRefusesNamingTheKnob) {
  cfg.max_held_bytes = 100 * kib;
  cfg.flow_control = false;
  start();
  client& pub = connect();
  for (int i = 0; i < 10; ++i) pub.send(send("/queue/jobs", 10 * kib));
  EXPECT_TRUE(pub.take("ERROR").empty()) << "the 10th passes the budget: accepted";
  pub.send(send("/queue/jobs", 10 * kib, {{"receipt", "r"}}));
  const auto errors = pub.take("ERROR");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].get("message"), "server memory full");
  EXPECT_EQ(errors[0].get("receipt-id"), "r");
  EXPECT_NE(errors[0].body.find("limits.max_held_bytes"), std::string::npos);
}

TEST_F(Budget, PartialFrameGrownWhileOverIsRefusedAfterPatience) {
  cfg.max_held_bytes = 100 * kib;
  start();
  client& pub = connect();
  for (int i = 0; i < 12; ++i) pub.send(send("/queue/jobs", 10 * kib));
  q.drain();
  ASSERT_TRUE(b->held().over());
  client& half = connect();
  const std::string bytes =
      stomp::serialize(send("/queue/other", 64 * kib), stomp::version::v1_2);
  half.raw(std::string_view(bytes).substr(0, 8 * kib));
  EXPECT_EQ(half.conn->paused(), 1);
  for (unsigned i = 0; i + 1 < broker::detail::stomp_session::partial_frame_patience; ++i) {
    b->tick();
    q.drain();
  }
  EXPECT_TRUE(half.take("ERROR").empty());
  b->tick();
  q.drain();
  const auto errors = half.take("ERROR");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].get("message"), "server memory full");
  EXPECT_TRUE(pub.take("ERROR").empty()) << "complete SENDs wait, never refused";
}

TEST_F(Budget, PublishApiToAQueueIsRefusedPastTheServerBudget) {
  cfg.max_held_bytes = 100 * kib;
  start();
  const auto publish = [this](std::string dest) {
    broker::publish_result out;
    b->api_publish(broker::credentials{"app", "", "", ""},
                   broker::publish_request{std::move(dest), {}, std::string(60 * kib, 'x')}, "",
                   [&](broker::publish_result r) { out = std::move(r); });
    return out.status;
  };
  EXPECT_EQ(publish("/queue/jobs"), broker::publish_status::accepted);
  EXPECT_EQ(publish("/queue/jobs"), broker::publish_status::accepted);  // passes the budget
  EXPECT_EQ(publish("/queue/jobs"), broker::publish_status::unavailable);
  EXPECT_EQ(publish("/topic/news"), broker::publish_status::accepted) << "topics hold nothing";
}

}  // namespace
