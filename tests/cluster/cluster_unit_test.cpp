// The cluster module's pure parts (Redis URLs: redis_options_test.cpp): channel names and globs, envelopes.
#include <gtest/gtest.h>

#include "broker/destination.hpp"
#include "broker/message.hpp"
#include "cluster/channels.hpp"
#include "cluster/envelope.hpp"
#include "cluster/redis/script.hpp"

namespace {

broker::message_ptr make(const std::string& dest, std::string body, std::string id = "m-1") {
  broker::destination d;
  EXPECT_FALSE(broker::parse_destination(dest, d));
  stomp::frame send;
  send.command = "SEND";
  send.add("destination", dest);
  send.add("x-custom", "a:b");
  send.body = std::move(body);
  broker::message_ptr m;
  EXPECT_FALSE(broker::make_message(std::move(send), d, std::move(id), m));
  return m;
}

// What Redis' SCRIPT LOAD answers for the same text (SHA1, lowercase hex).
TEST(LuaScript, ShaIsWhatRedisNamesTheScriptBy) {
  EXPECT_EQ(cluster::redis::script("return 1").sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  EXPECT_EQ(cluster::redis::script("").sha, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(cluster::redis::script("return 1").text, "return 1");
}

TEST(Channels, ExactNames) {
  EXPECT_EQ(cluster::topic_channel(0, "/topic/news.uk"), "stompbox:0:t:/topic/news.uk");
  EXPECT_EQ(cluster::user_channel(2, "a%2Fb"), "stompbox:2:u:a%2Fb");
  EXPECT_EQ(cluster::queue_stream(0, "/queue/jobs"), "stompbox:0:q:/queue/jobs");
  EXPECT_EQ(cluster::queue_channel(3, "/queue/jobs"), "stompbox:3:qn:/queue/jobs");
}

// A queue's announcements arrive on the same connection as topic and user envelopes.
TEST(Channels, QueueOfChannelRecognisesOnlyQueueChannelsOfItsDb) {
  EXPECT_EQ(cluster::queue_of_channel(3, cluster::queue_channel(3, "/queue/a")), "/queue/a");
  EXPECT_EQ(cluster::queue_of_channel(0, cluster::queue_channel(3, "/queue/a")), "");
  EXPECT_EQ(cluster::queue_of_channel(3, cluster::topic_channel(3, "/topic/a")), "");
  EXPECT_EQ(cluster::queue_of_channel(3, cluster::queue_stream(3, "/queue/a")), "");
}

TEST(Channels, GlobsOverApproximateStompWildcards) {
  EXPECT_EQ(cluster::topic_glob(0, "/topic/news.*"), "stompbox:0:t:/topic/news.*");
  EXPECT_EQ(cluster::topic_glob(0, "/topic/a.*.c"), "stompbox:0:t:/topic/a.*.c");
  EXPECT_EQ(cluster::topic_glob(0, "/topic/a.#"), "stompbox:0:t:/topic/a*");  // also "a"
  EXPECT_EQ(cluster::topic_glob(0, "/topic/#.b"), "stompbox:0:t:/topic/*b");
  EXPECT_EQ(cluster::topic_glob(0, "/topic/a.#.b"), "stompbox:0:t:/topic/a*b");
  EXPECT_EQ(cluster::topic_glob(0, "/topic/*.#"), "stompbox:0:t:/topic/*");
  EXPECT_EQ(cluster::topic_glob(1, "/topic/a/*"), "stompbox:1:t:/topic/a/*");
}

TEST(Channels, GlobEscapesLiteralGlobCharacters) {
  EXPECT_EQ(cluster::topic_glob(0, "/topic/x[1]?.*"), "stompbox:0:t:/topic/x\\[1\\]\\?.*");
}

TEST(Envelope, RoundTripKeepsIdHeadersAndBinaryBody) {
  const std::string body("a\0b\xff\n\0", 6);
  const auto m = make("/topic/news.uk", body, "node1-42");
  cluster::envelope e;
  ASSERT_TRUE(cluster::decode_envelope(cluster::encode_envelope("abc123", m, 0), e));
  EXPECT_EQ(e.origin, "abc123");
  EXPECT_EQ(e.seq, 0u);
  EXPECT_EQ(e.msg->id, "node1-42");
  EXPECT_EQ(e.msg->target.name, "/topic/news.uk");
  EXPECT_EQ(e.msg->target.kind, broker::destination_kind::topic);
  EXPECT_EQ(e.msg->wire->common().body, body);
  EXPECT_EQ(e.msg->wire->common().get("x-custom"), "a:b");
}

TEST(Envelope, UserQueueKeepsOwnerAndSeq) {
  const auto m = make("/user/bob%2Fx/queue/n", "hi");
  cluster::envelope e;
  ASSERT_TRUE(cluster::decode_envelope(cluster::encode_envelope("n", m, 77), e));
  EXPECT_EQ(e.seq, 77u);
  EXPECT_EQ(e.msg->target.kind, broker::destination_kind::user_queue);
  EXPECT_EQ(e.msg->target.owner, "bob/x");
  EXPECT_EQ(e.msg->target.name, "/user/queue/n");
  EXPECT_EQ(e.msg->target.resolved(), m->target.resolved());
}

TEST(Envelope, RefusesGarbage) {
  const auto good = cluster::encode_envelope("n", make("/topic/t", "x"), 0);
  cluster::envelope e;
  EXPECT_FALSE(cluster::decode_envelope("", e));
  EXPECT_FALSE(cluster::decode_envelope("SBX2" + good.substr(4), e));
  EXPECT_FALSE(cluster::decode_envelope(good.substr(0, good.find('\n')), e));
  EXPECT_FALSE(cluster::decode_envelope("SBX1 n x /topic/t\n" + good.substr(good.find('\n') + 1), e));
  EXPECT_FALSE(cluster::decode_envelope("SBX1 n 0 /nowhere\n" + good.substr(good.find('\n') + 1), e));
  EXPECT_FALSE(cluster::decode_envelope(good.substr(0, good.size() - 1), e));  // frame cut
}

}  // namespace
