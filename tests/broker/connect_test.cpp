// CONNECT/STOMP: version and heart-beat negotiation, CONNECTED headers, authentication, and what
// happens to frames before CONNECT.
#include <gtest/gtest.h>

#include "auth/authenticator.hpp"
#include "broker/version.hpp"
#include "fake_connection.hpp"

namespace {

using namespace broker_test;
using namespace std::chrono_literals;
using broker::close_reason;

struct Connect : ::testing::Test {
  broker::broker b{broker::config{}};
  post_queue q;
};

TEST_F(Connect, NegotiatesTheHighestCommonVersion) {
  client c12(b, q), c11(b, q), c10(b, q), any(b, q);
  EXPECT_EQ(c12.connect("1.0,1.1,1.2").get("version"), "1.2");
  EXPECT_EQ(c11.connect("1.1,1.0").get("version"), "1.1");
  EXPECT_EQ(c10.connect("").get("version"), "1.0");  // no accept-version: 1.0
  EXPECT_EQ(any.connect("1.2,2.0").get("version"), "1.2");
}

TEST_F(Connect, NoCommonVersionGetsErrorListingOurs) {
  client c(b, q);
  const stomp::frame reply = c.connect("2.0,3.1");
  EXPECT_EQ(reply.command, "ERROR");
  EXPECT_EQ(reply.get("message"), "unsupported version");
  EXPECT_EQ(reply.get("version"), "1.0,1.1,1.2");
  EXPECT_EQ(c.conn->closes(), std::vector{close_reason::protocol_error});
}

TEST_F(Connect, ConnectedCarriesVersionSessionServerHeartBeat) {
  client c(b, q);
  const stomp::frame reply = c.connect("1.2", {{"host", "example.org"}});
  EXPECT_EQ(reply.command, "CONNECTED");
  EXPECT_EQ(reply.get("version"), "1.2");
  EXPECT_EQ(reply.get("server"), std::string("stompbox/") + broker::version());
  ASSERT_TRUE(reply.has("session"));
  EXPECT_FALSE(reply.get("session")->empty());
  EXPECT_EQ(reply.get("heart-beat"), "0,0");  // client offered none
  EXPECT_FALSE(reply.has("user-name"));        // anonymous
  EXPECT_TRUE(c.conn->closes().empty());
}

TEST_F(Connect, SessionIdsAreUnique) {
  client a(b, q), c(b, q);
  EXPECT_NE(a.connect().get("session"), c.connect().get("session"));
}

TEST_F(Connect, StompCommandWorksLikeConnect) {
  client c(b, q);
  c.send(make("STOMP", {{"accept-version", "1.2"}, {"host", "h"}}));
  EXPECT_EQ(c.take_one().command, "CONNECTED");
}

TEST_F(Connect, DevelopmentModeTakesLoginAsUserName) {
  client c(b, q);
  EXPECT_EQ(c.connect("1.2", {{"login", "alice"}}).get("user-name"), "alice");
}

TEST_F(Connect, NegotiatesHeartBeatsAndArmsTheConnection) {
  client c(b, q);
  // We offer 10s,10s, down to 1s when asked. Client can send every 5s, wants ours every 20s.
  const stomp::frame reply = c.connect("1.2", {{"heart-beat", "5000,20000"}});
  EXPECT_EQ(reply.get("heart-beat"), "20000,5000");
  ASSERT_TRUE(c.conn->heart_beats());
  EXPECT_EQ(c.conn->heart_beats()->first, 20000ms);
  EXPECT_EQ(c.conn->heart_beats()->second, 15000ms);  // 5s x tolerance 3
}

TEST_F(Connect, HeartBeatsFollowTheClientDownToTheFloor) {
  client fast(b, q);
  EXPECT_EQ(fast.connect("1.2", {{"heart-beat", "0,1000"}}).get("heart-beat"), "1000,0");
  EXPECT_EQ(fast.conn->heart_beats(), std::make_pair(1000ms, 0ms));
  client faster(b, q);
  EXPECT_EQ(faster.connect("1.2", {{"heart-beat", "100,100"}}).get("heart-beat"), "1000,1000");
  broker::config cfg;
  cfg.heartbeat_min = 250ms;
  broker::broker b2{cfg};
  client floor250(b2, q);
  EXPECT_EQ(floor250.connect("1.2", {{"heart-beat", "0,100"}}).get("heart-beat"), "250,0");
}

TEST_F(Connect, ZeroHeartBeatsStayZero) {
  client c(b, q);
  EXPECT_EQ(c.connect("1.2", {{"heart-beat", "0,0"}}).get("heart-beat"), "0,0");
  EXPECT_EQ(c.conn->heart_beats(), std::make_pair(0ms, 0ms));
}

TEST_F(Connect, HeartBeatToleranceIsConfigurable) {
  broker::config cfg;
  cfg.heartbeat_receive = 4000ms;
  cfg.heartbeat_send = 0ms;
  cfg.heartbeat_tolerance = 1.5;
  broker::broker b2{cfg};
  client c(b2, q);
  EXPECT_EQ(c.connect("1.2", {{"heart-beat", "5000,1000"}}).get("heart-beat"), "0,5000");
  EXPECT_EQ(c.conn->heart_beats(), std::make_pair(0ms, 7500ms));
}

TEST_F(Connect, MalformedHeartBeatIsAnError) {
  client c(b, q);
  const stomp::frame reply = c.connect("1.2", {{"heart-beat", "soon"}});
  EXPECT_EQ(reply.command, "ERROR");
  EXPECT_EQ(reply.get("message"), "invalid heart-beat header");
}

TEST_F(Connect, FramesBeforeConnectAreRefused) {
  client c(b, q);
  c.send(make("SUBSCRIBE", {{"destination", "/topic/a"}, {"id", "0"}, {"receipt", "r1"}}));
  const stomp::frame reply = c.take_one();
  EXPECT_EQ(reply.command, "ERROR");
  EXPECT_EQ(reply.get("message"), "not connected");
  EXPECT_EQ(reply.get("receipt-id"), "r1");
  EXPECT_EQ(reply.get("content-type"), "text/plain");
  EXPECT_FALSE(reply.body.empty());
  EXPECT_EQ(c.conn->closes(), std::vector{close_reason::protocol_error});
}

TEST_F(Connect, SecondConnectIsRefused) {
  client c(b, q);
  c.connect();
  c.send(make("CONNECT", {{"accept-version", "1.2"}}));
  EXPECT_EQ(c.take_one().get("message"), "already connected");
  EXPECT_EQ(c.conn->closes(), std::vector{close_reason::protocol_error});
}

TEST_F(Connect, NothingIsProcessedAfterAnError) {
  client c(b, q);
  std::string bytes = "SEND\ndestination:/topic/a\n\n";
  bytes += '\0';
  bytes += "CONNECT\naccept-version:1.2\n\n";
  bytes += '\0';
  c.raw(bytes);
  EXPECT_EQ(c.take("CONNECTED").size(), 0u);
  EXPECT_EQ(c.conn->closes().size(), 1u);
}

TEST_F(Connect, ParserErrorsNameTheRule) {
  client c(b, q);
  c.raw(std::string_view("HELLO\n\n\0", 8));
  const stomp::frame reply = c.take_one();
  EXPECT_EQ(reply.command, "ERROR");
  EXPECT_FALSE(reply.get("message")->empty());
  EXPECT_EQ(c.conn->closes(), std::vector{close_reason::protocol_error});
}

TEST_F(Connect, PreConnectLimitsAreSmallerThanConnectedOnes) {
  const std::string body(100 * 1024, 'x');
  client before(b, q);
  before.send(make("CONNECT", {{"accept-version", "1.2"}}, body));
  EXPECT_EQ(before.take_one().command, "ERROR");
  EXPECT_EQ(before.conn->closes(), std::vector{close_reason::frame_too_large});

  client after(b, q);
  after.connect();
  after.send(make("SEND", {{"destination", "/topic/big"}, {"receipt", "r"}}, body));
  EXPECT_EQ(after.take_one().command, "RECEIPT");
  EXPECT_TRUE(after.conn->closes().empty());
}

// The session keeps no parser between reads (an idle connection would carry it): each later
// read parses with the negotiated version's escaping and the connected limits, also a frame
// split across reads.
TEST_F(Connect, LaterReadsParseWithTheNegotiatedVersionAndLimits) {
  client c(b, q);
  c.connect("1.2");
  c.send(make("SUBSCRIBE", {{"destination", "/topic/esc"}, {"id", "s"}}));
  std::string bytes = "SEND\ndestination:/topic/esc\nnote:a\\cb\n\n";
  bytes += std::string(100 * 1024, 'x');
  bytes += '\0';
  c.raw(std::string_view(bytes).substr(0, 20));
  c.raw(std::string_view(bytes).substr(20));
  q.drain();
  const stomp::frame m = c.take_one();
  ASSERT_EQ(m.command, "MESSAGE");
  EXPECT_EQ(m.get("note"), "a:b");
  EXPECT_EQ(m.body.size(), 100u * 1024);
  EXPECT_TRUE(c.conn->closes().empty());
}

TEST_F(Connect, ServerCommandsFromClientsAreRefused) {
  client c(b, q);
  c.connect();
  c.send(make("MESSAGE", {{"destination", "/topic/a"}}));
  const stomp::frame reply = c.take_one();
  EXPECT_EQ(reply.command, "ERROR");
  EXPECT_EQ(c.conn->closes(), std::vector{close_reason::protocol_error});
}

TEST_F(Connect, SlowConsumerGetsErrorAndClose) {
  client c(b, q);
  c.connect();
  c.session->on_slow_consumer();
  EXPECT_EQ(c.take_one().get("message"), "slow consumer");
  EXPECT_EQ(c.conn->closes(), std::vector{close_reason::slow_consumer});
}

auth::principal named(std::string name) {
  auth::principal p;
  p.name = std::move(name);
  return p;
}

// Accepts alice/secret and the bearer token "tok" (as bob); records what it was given.
class test_authenticator : public auth::authenticator {
 public:
  std::optional<auth::principal> authenticate(const auth::credentials& creds,
                                              std::error_code& ec) const override {
    last = creds;
    if (creds.login == "alice" && creds.passcode == "secret") return named("alice");
    if (creds.bearer == "tok") return named("bob");
    ec = std::make_error_code(std::errc::permission_denied);
    return std::nullopt;
  }
  mutable auth::credentials last;
};

struct Authenticated : Connect {
  Authenticated() {
    broker::config cfg;
    cfg.authenticator = authn;
    b2 = std::make_unique<broker::broker>(cfg);
  }
  std::shared_ptr<test_authenticator> authn = std::make_shared<test_authenticator>();
  std::unique_ptr<broker::broker> b2;
};

TEST_F(Authenticated, GoodPasswordConnects) {
  client c(*b2, q);
  EXPECT_EQ(c.connect("1.2", {{"login", "alice"}, {"passcode", "secret"}}).get("user-name"),
            "alice");
  EXPECT_EQ(authn->last.peer_address, "127.0.0.1:1");
}

TEST_F(Authenticated, BadPasswordIsRefused) {
  client c(*b2, q);
  const stomp::frame reply = c.connect("1.2", {{"login", "alice"}, {"passcode", "nope"}});
  EXPECT_EQ(reply.command, "ERROR");
  EXPECT_EQ(reply.get("message"), "access refused");
  EXPECT_EQ(c.conn->closes(), std::vector{close_reason::auth_failed});
}

TEST_F(Authenticated, BearerFromConnectHeader) {
  client c(*b2, q);
  EXPECT_EQ(c.connect("1.2", {{"Authorization", "Bearer tok"}}).get("user-name"), "bob");
  EXPECT_EQ(authn->last.bearer, "tok");
}

TEST_F(Authenticated, BearerFromTheHandshake) {
  client c(*b2, q, broker::peer_info{"ws", "10.0.0.1:5", "v12.stomp", "tok"});
  EXPECT_EQ(c.connect().get("user-name"), "bob");
}

class deny_secret : public auth::authorizer {
 public:
  bool allowed(const auth::principal&, auth::action, std::string_view d) const override {
    return d != "/topic/secret";
  }
};

TEST_F(Connect, AuthorizerRefusalIsAnError) {
  broker::config cfg;
  cfg.authorizer = std::make_shared<deny_secret>();
  broker::broker b2{cfg};
  client pub(b2, q), sub(b2, q);
  pub.connect();
  sub.connect();
  pub.send(make("SEND", {{"destination", "/topic/secret"}, {"receipt", "s"}}));
  EXPECT_EQ(pub.take_one().get("message"), "not authorized");
  sub.send(make("SUBSCRIBE", {{"destination", "/topic//secret"}, {"id", "1"}}));
  EXPECT_EQ(sub.take_one().get("message"), "not authorized");
}

}  // namespace
