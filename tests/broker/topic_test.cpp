// /topic/ routing: fan-out, wildcards, MESSAGE headers, escaping per receiver, expiry.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "fake_connection.hpp"

namespace {

using namespace broker_test;

struct Topic : ::testing::Test {
  client& subscriber(std::string destination, std::string id = "sub-0",
                     std::string versions = "1.2") {
    clients.push_back(std::make_unique<client>(b, q));
    client& c = *clients.back();
    c.connect(versions);
    c.send(make("SUBSCRIBE", {{"destination", destination}, {"id", id}}));
    return c;
  }
  client& publisher() {
    clients.push_back(std::make_unique<client>(b, q));
    clients.back()->connect();
    return *clients.back();
  }
  void publish(client& p, std::string destination, std::string body = "x") {
    p.send(make("SEND", {{"destination", destination}}, body));
    q.drain();
  }

  broker::broker b{broker::config{}};
  post_queue q;
  std::vector<std::unique_ptr<client>> clients;
};

TEST_F(Topic, EverySubscriberGetsACopy) {
  client& a = subscriber("/topic/news", "a");
  client& c = subscriber("/topic/news", "c");
  client& other = subscriber("/topic/sport", "o");
  client& p = publisher();
  publish(p, "/topic/news", "hello");
  for (client* s : {&a, &c}) {
    const stomp::frame m = s->take_one();
    EXPECT_EQ(m.command, "MESSAGE");
    EXPECT_EQ(m.body, "hello");
    EXPECT_EQ(m.get("destination"), "/topic/news");
  }
  EXPECT_EQ(a.conn->sent().back().head.find("subscription:a"), 8u);
  EXPECT_TRUE(other.take().empty());
  EXPECT_TRUE(p.take().empty());
}

TEST_F(Topic, MessagesAreDroppableAndTextWhenUtf8) {
  client& s = subscriber("/topic/t");
  client& p = publisher();
  publish(p, "/topic/t", "caf\xc3\xa9");
  publish(p, "/topic/t", std::string("\xff\x00\x01", 3));
  const auto sent = s.conn->sent();
  ASSERT_EQ(sent.size(), 3u);  // CONNECTED, two MESSAGEs
  EXPECT_FALSE(sent[0].droppable);
  EXPECT_TRUE(sent[1].droppable);
  EXPECT_TRUE(sent[1].text);
  EXPECT_FALSE(sent[2].text);
  EXPECT_EQ(parse(sent[2], stomp::version::v1_2).body, std::string("\xff\x00\x01", 3));
}

TEST_F(Topic, DoubledSlashesReachTheSameTopic) {
  client& s = subscriber("/topic//a/b");
  client& p = publisher();
  publish(p, "/topic/a//b", "same");
  EXPECT_EQ(s.take_one().get("destination"), "/topic/a/b");
}

TEST_F(Topic, StarWildcardMatchesOneSegment) {
  client& s = subscriber("/topic/news.*");
  client& p = publisher();
  publish(p, "/topic/news.uk", "1");
  publish(p, "/topic/news/fr", "2");
  publish(p, "/topic/news", "no");
  publish(p, "/topic/news.uk.london", "no");
  const auto got = s.take("MESSAGE");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].get("destination"), "/topic/news.uk");
  EXPECT_EQ(got[1].get("destination"), "/topic/news/fr");
  EXPECT_EQ(got[1].get("subscription"), "sub-0");
}

TEST_F(Topic, HashWildcardMatchesZeroOrMoreSegments) {
  client& s = subscriber("/topic/a/#");
  client& p = publisher();
  for (std::string d : {"/topic/a", "/topic/a/b", "/topic/a/b/c", "/topic/a.b", "/topic/ab",
                        "/topic/b/a"}) {
    publish(p, d, d);
  }
  std::vector<std::string> bodies;
  for (const auto& m : s.take("MESSAGE")) bodies.push_back(m.body);
  EXPECT_EQ(bodies, (std::vector<std::string>{"/topic/a", "/topic/a/b", "/topic/a/b/c",
                                              "/topic/a.b"}));
}

TEST_F(Topic, WildcardAndExactSubscriptionsOfOneSessionEachGetACopy) {
  clients.push_back(std::make_unique<client>(b, q));
  client& s = *clients.back();
  s.connect();
  s.send(make("SUBSCRIBE", {{"destination", "/topic/x.y"}, {"id", "exact"}}));
  s.send(make("SUBSCRIBE", {{"destination", "/topic/x.#"}, {"id", "wild"}}));
  publish(publisher(), "/topic/x.y");
  std::set<std::string> subs;
  for (const auto& m : s.take("MESSAGE")) subs.insert(std::string(*m.get("subscription")));
  EXPECT_EQ(subs, (std::set<std::string>{"exact", "wild"}));
}

TEST_F(Topic, SenderHeadersPassThroughBrokerHeadersWin) {
  client& s = subscriber("/topic/a", "mine");
  client& p = publisher();
  p.send(make("SEND",
              {{"destination", "/topic/a"},
               {"content-type", "application/json"},
               {"simpOrigDestination", "/topic/orig"},
               {"x-dup", "first"},
               {"x-dup", "second"},
               {"message-id", "forged"},
               {"subscription", "forged"},
               {"ack", "forged"},
               {"redelivered", "true"},
               {"receipt", "r"},
               {"content-length", "2"}},
              "{}"));
  q.drain();
  const stomp::frame m = s.take_one();
  EXPECT_EQ(m.get("destination"), "/topic/a");
  EXPECT_NE(m.get("message-id"), "forged");
  EXPECT_EQ(m.get("subscription"), "mine");
  EXPECT_FALSE(m.has("ack"));  // auto ack
  EXPECT_FALSE(m.has("redelivered"));
  EXPECT_FALSE(m.has("receipt"));
  EXPECT_EQ(m.get("content-type"), "application/json");
  EXPECT_EQ(m.get("content-length"), "2");
  EXPECT_EQ(m.get("simpOrigDestination"), "/topic/orig");
  EXPECT_EQ(m.get("x-dup"), "first");
  int dups = 0;
  for (const auto& h : m.headers) dups += h.name == "x-dup";
  EXPECT_EQ(dups, 1);  // the parser keeps the first of a repeated header only
  EXPECT_EQ(m.body, "{}");
  EXPECT_EQ(p.take_one().command, "RECEIPT");
}

TEST_F(Topic, HeadersAreEscapedPerReceiverVersion) {
  client& v10 = subscriber("/topic/e", "s10", "1.0");
  client& v12 = subscriber("/topic/e", "s12", "1.2");
  client& p = publisher();
  p.send(make("SEND", {{"destination", "/topic/e"}, {"x-key", "a:b\\c"}}));
  q.drain();
  const auto raw10 = v10.conn->sent().back();
  const auto raw12 = v12.conn->sent().back();
  const std::string wire10 = raw10.head + *raw10.tail;
  const std::string wire12 = raw12.head + *raw12.tail;
  EXPECT_NE(wire10.find("x-key:a:b\\c\n"), std::string::npos) << wire10;
  EXPECT_NE(wire12.find("x-key:a\\cb\\\\c\n"), std::string::npos) << wire12;
  EXPECT_EQ(v10.take_one().get("x-key"), "a:b\\c");
  EXPECT_EQ(v12.take_one().get("x-key"), "a:b\\c");
  EXPECT_EQ(raw10.tail.get() != raw12.tail.get(), true);  // one tail per version
}

TEST_F(Topic, MessageIdsAreUnique) {
  client& s = subscriber("/topic/ids");
  client& p = publisher();
  for (int i = 0; i < 200; ++i) p.send(make("SEND", {{"destination", "/topic/ids"}}));
  q.drain();
  std::set<std::string> ids;
  for (const auto& m : s.take("MESSAGE")) ids.insert(std::string(*m.get("message-id")));
  EXPECT_EQ(ids.size(), 200u);
  // Another broker (a restart) never reuses them.
  broker::broker other{broker::config{}};
  client s2(other, q);
  s2.connect();
  s2.send(make("SUBSCRIBE", {{"destination", "/topic/ids"}, {"id", "0"}}));
  other.publish(make("SEND", {{"destination", "/topic/ids"}}));
  q.drain();
  EXPECT_FALSE(ids.contains(std::string(*s2.take_one().get("message-id"))));
}

TEST_F(Topic, ExpiredMessagesAreNotDelivered) {
  using namespace std::chrono;
  client& s = subscriber("/topic/exp");
  client& p = publisher();
  const auto now_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  p.send(make("SEND", {{"destination", "/topic/exp"}, {"expires", std::to_string(now_ms - 1000)}},
              "old"));
  p.send(make("SEND",
              {{"destination", "/topic/exp"}, {"expires", std::to_string(now_ms + 3'600'000)}},
              "fresh"));
  p.send(make("SEND", {{"destination", "/topic/exp"}, {"expires", "0"}}, "never"));
  q.drain();
  std::vector<std::string> bodies;
  for (const auto& m : s.take("MESSAGE")) bodies.push_back(m.body);
  EXPECT_EQ(bodies, (std::vector<std::string>{"fresh", "never"}));
}

TEST_F(Topic, Stomp10SubscriptionIdDefaultsToDestination) {
  clients.push_back(std::make_unique<client>(b, q));
  client& s = *clients.back();
  s.connect("");
  s.send(make("SUBSCRIBE", {{"destination", "/topic/old"}}));
  client& p = publisher();
  publish(p, "/topic/old");
  EXPECT_EQ(s.take_one().get("subscription"), "/topic/old");
  s.send(make("UNSUBSCRIBE", {{"destination", "/topic/old"}, {"receipt", "u"}}));
  EXPECT_EQ(s.take_one().command, "RECEIPT");
  publish(p, "/topic/old");
  EXPECT_TRUE(s.take().empty());
}

TEST_F(Topic, ClientAckOnATopicIsTracked) {
  clients.push_back(std::make_unique<client>(b, q));
  client& s = *clients.back();
  s.connect();
  s.send(make("SUBSCRIBE", {{"destination", "/topic/t"}, {"id", "0"}, {"ack", "client"}}));
  publish(publisher(), "/topic/t");
  const stomp::frame m = s.take_one();
  ASSERT_TRUE(m.has("ack"));
  s.send(make("ACK", {{"id", std::string(*m.get("ack"))}, {"receipt", "a"}}));
  EXPECT_EQ(s.take_one().command, "RECEIPT");
  s.send(make("ACK", {{"id", std::string(*m.get("ack"))}}));
  EXPECT_EQ(s.take_one().get("message"), "unknown ack id");
}

TEST_F(Topic, PublishFromTheApplication) {
  client& s = subscriber("/topic/app");
  const std::string id = b.publish(make("SEND", {{"destination", "/topic/app"}, {"k", "v"}}, "b"));
  EXPECT_FALSE(id.empty());
  q.drain();
  const stomp::frame m = s.take_one();
  EXPECT_EQ(m.get("message-id"), id);
  EXPECT_EQ(m.get("k"), "v");
  EXPECT_EQ(b.publish(make("SEND", {{"destination", "/exchange/x"}})), "");
  EXPECT_EQ(b.publish(make("SEND", {{"destination", "/topic/a.*"}})), "");
  EXPECT_EQ(b.publish(make("SEND")), "");
}

TEST_F(Topic, ClosedSessionsGetNothingAndLeaveNoSubscription) {
  client& s = subscriber("/topic/bye");
  client& p = publisher();
  s.send(make("DISCONNECT"));
  publish(p, "/topic/bye");
  EXPECT_TRUE(s.take().empty());
}

}  // namespace
