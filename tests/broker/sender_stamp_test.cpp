// config::stamp_sender: the broker names the sender in a header a client cannot forge.
#include <gtest/gtest.h>

#include "broker/message.hpp"
#include "user_fixture.hpp"

namespace {

using namespace broker_test;

struct SenderStamp : users {
  void start_stamping(bool on, std::string header = "user-name") {
    broker::config cfg;
    cfg.stamp_sender = on;
    cfg.sender_header = std::move(header);
    start(cfg);
  }
  /// `from` sends `body` to `destination` with `user-name:admin` (and x-sender:admin).
  void forge(client& from, const std::string& destination, const std::string& body,
             const std::string& tx = "") {
    stomp::frame f = make("SEND", {{"destination", destination},
                                   {"user-name", "admin"},
                                   {"x-sender", "admin"}},
                          body);
    if (!tx.empty()) f.add("transaction", tx);
    from.send(f);
    settle();
  }
  static std::vector<std::string> values(const stomp::frame& m, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& h : m.headers) {
      if (h.name == name) out.push_back(h.value);
    }
    return out;
  }
};

TEST_F(SenderStamp, EveryKindOfSendCarriesTheRealName) {
  start_stamping(true);
  client& bob = as("bob");
  subscribe(bob, "/topic/chat", "t");
  subscribe(bob, "/queue/work", "q");
  subscribe(bob, "/user/queue/inbox", "u");
  client& alice = as("alice");
  forge(alice, "/topic/chat", "topic");
  forge(alice, "/queue/work", "queue");
  forge(alice, "/user/bob/queue/inbox", "user");
  alice.send(make("BEGIN", {{"transaction", "tx"}}));
  forge(alice, "/topic/chat", "in a transaction", "tx");
  alice.send(make("COMMIT", {{"transaction", "tx"}}));
  settle();
  const auto msgs = bob.take("MESSAGE");
  ASSERT_EQ(msgs.size(), 4u);
  for (const auto& m : msgs) {
    EXPECT_EQ(values(m, "user-name"), strings{"alice"}) << m.body;
    EXPECT_EQ(values(m, "x-sender"), strings{"admin"}) << m.body;  // not the stamp's header
  }
}

TEST_F(SenderStamp, PublishApiCarriesTheCallersName) {
  start_stamping(true);
  client& bob = as("bob");
  subscribe(bob, "/topic/chat", "t");
  std::optional<broker::publish_result> r;
  b->api_publish(broker::credentials{"alice", "", "", "10.0.0.1:1"},
                 {"/topic/chat", {{"user-name", "admin"}}, "api"}, "",
                 [&](broker::publish_result res) { r = std::move(res); });
  settle();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, broker::publish_status::accepted) << r->error;
  const auto msgs = bob.take("MESSAGE");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(values(msgs[0], "user-name"), strings{"alice"});
}

TEST_F(SenderStamp, AnonymousSendersCarryNoName) {
  start_stamping(true);
  client& bob = as("bob");
  subscribe(bob, "/topic/chat", "t");
  forge(anonymous(), "/topic/chat", "who?");
  const auto msgs = bob.take("MESSAGE");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_TRUE(values(msgs[0], "user-name").empty());
}

TEST_F(SenderStamp, OffTheHeaderPassesThrough) {
  start_stamping(false);
  client& bob = as("bob");
  subscribe(bob, "/topic/chat", "t");
  forge(as("alice"), "/topic/chat", "as sent");
  const auto msgs = bob.take("MESSAGE");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(values(msgs[0], "user-name"), strings{"admin"});
}

TEST_F(SenderStamp, TheHeaderNameIsConfigurable) {
  start_stamping(true, "x-sender");
  client& bob = as("bob");
  subscribe(bob, "/topic/chat", "t");
  forge(as("alice"), "/topic/chat", "x");
  const auto msgs = bob.take("MESSAGE");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(values(msgs[0], "x-sender"), strings{"alice"});
  EXPECT_EQ(values(msgs[0], "user-name"), strings{"admin"});
}

TEST(SenderHeader, BrokerOwnedAndIllegalNamesAreRefused) {
  EXPECT_TRUE(broker::valid_sender_header("user-name"));
  EXPECT_TRUE(broker::valid_sender_header("x-sender"));
  EXPECT_TRUE(broker::valid_sender_header("JMSXUserID"));
  for (const char* bad : {"", "destination", "message-id", "subscription", "ack", "expires",
                          "content-length", "a:b", "a\nb", "a b"}) {
    EXPECT_FALSE(broker::valid_sender_header(bad)) << bad;
  }
}

}  // namespace
