// Every example frame of the STOMP 1.2 specification, parsed whole, byte by byte and split at
// every point (https://stomp.github.io/stomp-specification-1.2.html).
#include <gtest/gtest.h>

#include "stomp/negotiation.hpp"
#include "tests/stomp/feed.hpp"

namespace stomp::test {
namespace {

frame make(std::string command, std::vector<header> headers, std::string body = {}) {
  return frame{std::move(command), std::move(headers), std::move(body)};
}

TEST(SpecExamples, Connect) {
  EXPECT_EQ(parse_one("CONNECT\naccept-version:1.2\nhost:stomp.github.org\n\n" + bytes("\0"),
                      version::v1_0),
            make("CONNECT", {{"accept-version", "1.2"}, {"host", "stomp.github.org"}}));
}

TEST(SpecExamples, StompFrame) {
  EXPECT_EQ(parse_one("STOMP\naccept-version:1.2\nhost:stomp.github.org\n\n" + bytes("\0"),
                      version::v1_0),
            make("STOMP", {{"accept-version", "1.2"}, {"host", "stomp.github.org"}}));
}

TEST(SpecExamples, ConnectWithOldVersionsNegotiates11) {
  const frame f =
      parse_one("CONNECT\naccept-version:1.0,1.1,2.0\nhost:stomp.github.org\n\n" + bytes("\0"),
                version::v1_0);
  EXPECT_EQ(negotiate_version(f.get("accept-version")), version::v1_1);
  EXPECT_EQ(f.get("host"), "stomp.github.org");
}

TEST(SpecExamples, Connected) {
  EXPECT_EQ(parse_one("CONNECTED\nversion:1.2\n\n" + bytes("\0")),
            make("CONNECTED", {{"version", "1.2"}}));
}

TEST(SpecExamples, ErrorForUnsupportedVersion) {
  EXPECT_EQ(parse_one("ERROR\nversion:1.2,2.1\ncontent-type:text/plain\n\nSupported protocol "
                      "versions are 1.2 2.1" +
                      bytes("\0")),
            make("ERROR", {{"version", "1.2,2.1"}, {"content-type", "text/plain"}},
                 "Supported protocol versions are 1.2 2.1"));
}

TEST(SpecExamples, SendWithContentType) {
  EXPECT_EQ(parse_one("SEND\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\n" +
                      bytes("\0")),
            make("SEND", {{"destination", "/queue/a"}, {"content-type", "text/plain"}},
                 "hello queue a\n"));
}

TEST(SpecExamples, SendWithReceipt) {
  EXPECT_EQ(
      parse_one("SEND\ndestination:/queue/a\nreceipt:message-12345\n\nhello queue a" + bytes("\0")),
      make("SEND", {{"destination", "/queue/a"}, {"receipt", "message-12345"}}, "hello queue a"));
}

TEST(SpecExamples, SubscribeWithAck) {
  EXPECT_EQ(parse_one("SUBSCRIBE\nid:0\ndestination:/queue/foo\nack:client\n\n" + bytes("\0")),
            make("SUBSCRIBE", {{"id", "0"}, {"destination", "/queue/foo"}, {"ack", "client"}}));
}

TEST(SpecExamples, Unsubscribe) {
  EXPECT_EQ(parse_one("UNSUBSCRIBE\nid:0\n\n" + bytes("\0")), make("UNSUBSCRIBE", {{"id", "0"}}));
}

TEST(SpecExamples, AckAndNack) {
  for (const std::string command : {"ACK", "NACK"}) {
    EXPECT_EQ(parse_one(command + "\nid:12345\ntransaction:tx1\n\n" + bytes("\0")),
              make(command, {{"id", "12345"}, {"transaction", "tx1"}}));
  }
}

TEST(SpecExamples, Transactions) {
  for (const std::string command : {"BEGIN", "COMMIT", "ABORT"}) {
    EXPECT_EQ(parse_one(command + "\ntransaction:tx1\n\n" + bytes("\0")),
              make(command, {{"transaction", "tx1"}}));
  }
}

TEST(SpecExamples, TransactionSequenceInOneBuffer) {
  const parse_result r =
      parse_all_ways("BEGIN\ntransaction:tx1\n\n" + bytes("\0") +
                     "SEND\ndestination:/queue/a\ntransaction:tx1\n\nmessage in a transaction" +
                     bytes("\0") + "COMMIT\ntransaction:tx1\n\n" + bytes("\0"));
  ASSERT_EQ(r.frames.size(), 3u);
  EXPECT_EQ(r.frames[1].body, "message in a transaction");
  EXPECT_EQ(r.frames[2].command, "COMMIT");
}

// The spec's DISCONNECT and RECEIPT examples have no blank line before the NUL.
TEST(SpecExamples, DisconnectWithReceipt) {
  EXPECT_EQ(parse_one("DISCONNECT\nreceipt:77\n" + bytes("\0")),
            make("DISCONNECT", {{"receipt", "77"}}));
  EXPECT_EQ(parse_one("DISCONNECT\nreceipt:77\n\n" + bytes("\0")),
            make("DISCONNECT", {{"receipt", "77"}}));
}

TEST(SpecExamples, Receipt) {
  EXPECT_EQ(parse_one("RECEIPT\nreceipt-id:77\n" + bytes("\0")),
            make("RECEIPT", {{"receipt-id", "77"}}));
  EXPECT_EQ(parse_one("RECEIPT\nreceipt-id:message-12345\n\n" + bytes("\0")),
            make("RECEIPT", {{"receipt-id", "message-12345"}}));
}

TEST(SpecExamples, Message) {
  EXPECT_EQ(parse_one("MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\n"
                      "content-type:text/plain\n\nhello queue a" +
                      bytes("\0")),
            make("MESSAGE",
                 {{"subscription", "0"},
                  {"message-id", "007"},
                  {"destination", "/queue/a"},
                  {"content-type", "text/plain"}},
                 "hello queue a"));
}

TEST(SpecExamples, RepeatedHeaderFirstWins) {
  const frame f = parse_one(
      "MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\nfoo:World\nfoo:Hello\n\n" +
      bytes("\0"));
  EXPECT_EQ(f.get("foo"), "World");
  EXPECT_EQ(f.headers.size(), 4u);  // the repeat is dropped (the spec lets us ignore it)
}

TEST(SpecExamples, ErrorWithContentLengthBody) {
  const std::string body =
      "The message:\n-----\nMESSAGE\ndestined:/queue/a\nreceipt:message-12345\n\n"
      "Hello queue a!\n-----\nDid not contain a destination header, which is REQUIRED\n"
      "for message propagation.\n";
  const frame f = parse_one(
      "ERROR\nreceipt-id:message-12345\ncontent-type:text/plain\n"
      "content-length:170\nmessage:malformed frame received\n\n" +
      body + bytes("\0"));
  EXPECT_EQ(f.command, "ERROR");
  EXPECT_EQ(f.get("content-length"), "170");
  EXPECT_EQ(f.get("message"), "malformed frame received");
  EXPECT_EQ(f.body, body);
}

TEST(SpecExamples, HeartBeatsInConnectAndConnected) {
  const frame connect = parse_one(
      "CONNECT\naccept-version:1.2\nhost:stomp.github.org\nheart-beat:0,1000\n\n" + bytes("\0"),
      version::v1_0);
  const frame connected =
      parse_one("CONNECTED\nversion:1.2\nheart-beat:5000,2000\n\n" + bytes("\0"));
  const auto client = parse_heart_beat(*connect.get("heart-beat"));
  const auto server = parse_heart_beat(*connected.get("heart-beat"));
  ASSERT_TRUE(client && server);
  using std::chrono::milliseconds;
  // The client never sends; it wants to hear from the server every max(1000, 5000) ms.
  EXPECT_EQ(negotiate_heart_beat(*client, *server),
            (heart_beat{milliseconds(0), milliseconds(5000)}));
  EXPECT_EQ(negotiate_heart_beat(*server, *client),
            (heart_beat{milliseconds(5000), milliseconds(0)}));
}

TEST(SpecExamples, HeartBeatEolsBetweenFrames) {
  const parse_result r =
      parse_all_ways("\n\r\n" + bytes("SEND\ndestination:/a\n\nx\0") + "\n\n\r\n\n" +
                     bytes("SEND\ndestination:/b\n\ny\0") + "\r\n");
  ASSERT_EQ(r.frames.size(), 2u);
  EXPECT_EQ(r.frames[0].body, "x");
  EXPECT_EQ(r.frames[1].body, "y");
  EXPECT_EQ(r.buffered, 0u);
  EXPECT_EQ(r.last, parse_status::need_more);
}

}  // namespace
}  // namespace stomp::test
