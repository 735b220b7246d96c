// SockJS against the real broker and server on 127.0.0.1 port 0, with raw HTTP and WebSocket
// clients: info, every transport's frames, xhr_send, CORS, session timeout, bounded buffer.
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "stomp/serializer.hpp"
#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"
#include "tests/transport/sockjs_client.hpp"

namespace {

using namespace test_support;
using namespace sockjs_test;
using namespace std::chrono_literals;

constexpr auto origin = "http://app.example";  // what sockjs_client.hpp's requests send

/// The page at `origin` may use SockJS here (as a web app on another host would be configured).
transport::server_config sockjs_config() {
  auto cfg = loopback_config();
  cfg.allowed_origins = {origin};
  return cfg;
}

std::string stomp_bytes(const stomp::frame& f) { return stomp::serialize(f, stomp::version::v1_2); }

stomp::frame connect_frame() {
  return make_frame("CONNECT", {{"accept-version", "1.2"}, {"host", "/"}, {"login", "guest"}});
}

/// A poller through CONNECTED (and, when `destination` is set, a confirmed SUBSCRIBE).
void open_session(poller& p, const std::string& destination = {}) {
  ASSERT_EQ(p.poll(), "o\n");
  ASSERT_EQ(p.send(connect_frame()), 204u);
  auto connected = p.next_frame();
  ASSERT_TRUE(connected);
  ASSERT_EQ(connected->command, "CONNECTED");
  if (destination.empty()) return;
  ASSERT_EQ(p.send(make_frame("SUBSCRIBE", {{"id", "0"}, {"destination", destination},
                                            {"receipt", "sub"}})),
            204u);
  auto receipt = p.next_frame();
  ASSERT_TRUE(receipt);
  ASSERT_EQ(receipt->command, "RECEIPT");
}

/// Publishes `n` messages to `destination` from a TCP client, confirmed by a receipt.
void publish(test_server& s, const std::string& destination, int n, const std::string& body) {
  auto c = make_tcp_client(s.tcp_port());
  ASSERT_TRUE(c->connect());
  for (int i = 0; i < n; ++i) c->send_frame(make_frame("SEND", {{"destination", destination}}, body));
  c->send_frame(make_frame("DISCONNECT", {{"receipt", "bye"}}));
  auto r = c->read_frame();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->command, "RECEIPT");
}

/// Waits (bounded by `patience`) until `ready()` holds.
template <class Ready>
bool eventually(Ready ready) {
  const auto limit = std::chrono::steady_clock::now() + patience;
  while (!ready()) {
    if (std::chrono::steady_clock::now() > limit) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TEST(Sockjs, InfoAnswersWithCorsForTheCallersOrigin) {
  test_server s(sockjs_config());
  const auto r = call(s.ws_port(), "GET", "/sockjs/info?t=1");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("content-type"), "application/json; charset=UTF-8");
  EXPECT_EQ(r.header("access-control-allow-origin"), origin);
  EXPECT_EQ(r.header("access-control-allow-credentials"), "true");
  EXPECT_NE(r.header("cache-control").find("no-store"), std::string::npos);
  EXPECT_EQ(r.body.rfind(R"({"websocket":true,"cookie_needed":false,"origins":["*:*"],"entropy":)", 0),
            0u);
  EXPECT_EQ(r.header("set-cookie"), "");  // cookie_needed is false: no JSESSIONID
}

TEST(Sockjs, OriginsOutsideTheAllowListAreRefused) {
  test_server s(sockjs_config());
  raw_http foreign(s.ws_port());
  foreign.send(request("GET", "/sockjs/info", {}, {}, "http://evil.example"));
  ASSERT_TRUE(foreign.read_to_close());
  EXPECT_EQ(parse_reply(foreign.data()).status, 403u);
  raw_http no_origin(s.ws_port());  // not a browser: allowed, as on the WebSocket endpoint
  no_origin.send(request("POST", "/sockjs/000/o/xhr", {}, {}, ""));
  ASSERT_TRUE(no_origin.read_to_close());
  EXPECT_EQ(parse_reply(no_origin.data()).body, "o\n");
  EXPECT_EQ(s.server().statistics().refused[static_cast<std::size_t>(transport::refusal::origin)], 1u);
}

TEST(Sockjs, PreflightAnswers204WithMethodsAndAskedHeaders) {
  test_server s(sockjs_config());
  const auto r = call(s.ws_port(), "OPTIONS", "/sockjs/000/pre/xhr_send", {},
                      {{"Access-Control-Request-Method", "POST"},
                       {"Access-Control-Request-Headers", "content-type"}});
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(r.header("access-control-allow-methods"), "OPTIONS, POST");
  EXPECT_EQ(r.header("access-control-allow-headers"), "content-type");
  EXPECT_EQ(r.header("access-control-allow-origin"), origin);
  EXPECT_EQ(r.header("access-control-max-age"), "31536000");
  EXPECT_EQ(call(s.ws_port(), "OPTIONS", "/sockjs/info").header("access-control-allow-methods"),
            "OPTIONS, GET");
}

TEST(Sockjs, WelcomePageErrorsAndUnknownPaths) {
  test_server s(sockjs_config());
  EXPECT_EQ(call(s.ws_port(), "GET", "/sockjs").body, "Welcome to SockJS!\n");
  EXPECT_EQ(call(s.ws_port(), "GET", "/sockjs/").body, "Welcome to SockJS!\n");
  EXPECT_EQ(call(s.ws_port(), "GET", "/sockjs/iframe.html").status, 404u);
  EXPECT_EQ(call(s.ws_port(), "POST", "/sockjs/a.b/c/xhr").status, 404u);
  EXPECT_EQ(call(s.ws_port(), "POST", "/sockjs/000/x/jsonp").status, 404u);
  EXPECT_EQ(call(s.ws_port(), "GET", "/sockjs/000/x/xhr").status, 405u);
  EXPECT_EQ(call(s.ws_port(), "GET", "/sockjs/000/x/websocket").status, 400u);
  EXPECT_EQ(call(s.ws_port(), "GET", "/sockjs/websocket").status, 400u);
  // xhr_send to a session nobody opened; empty and malformed bodies.
  EXPECT_EQ(call(s.ws_port(), "POST", "/sockjs/000/none/xhr_send", R"(["x"])").status, 404u);
  poller p(s.ws_port(), "bodies");
  ASSERT_EQ(p.poll(), "o\n");
  auto empty = call(s.ws_port(), "POST", p.base() + "/xhr_send", "");
  EXPECT_EQ(empty.status, 500u);
  EXPECT_EQ(empty.body, "Payload expected.");
  auto broken = call(s.ws_port(), "POST", p.base() + "/xhr_send", R"(["x")");
  EXPECT_EQ(broken.status, 500u);
  EXPECT_EQ(broken.body, "Broken JSON encoding.");
}

TEST(Sockjs, XhrPollingCarriesAFullStompConversation) {
  test_server s(sockjs_config());
  poller p(s.ws_port(), "poll1");
  open_session(p, "/topic/sockjs.poll");
  ASSERT_EQ(p.send(make_frame("SEND", {{"destination", "/topic/sockjs.poll"}},
                              "h\u00e9llo \"q\" \U0001F600")),
            204u);
  auto m = p.next_frame();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->command, "MESSAGE");
  EXPECT_EQ(m->body, "h\u00e9llo \"q\" \U0001F600");  // escaped on the wire, bytes intact
  ASSERT_EQ(p.send(make_frame("DISCONNECT", {{"receipt", "bye"}})), 204u);
  auto r = p.next_frame();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command, "RECEIPT");
  // The session has ended: its id answers the close frame, again and again.
  EXPECT_FALSE(p.next_frame());
  EXPECT_EQ(p.last_close(), "c[3000,\"Go away!\"]\n");
  EXPECT_EQ(p.poll(), "c[3000,\"Go away!\"]\n");
  EXPECT_TRUE(s.stop());
}

TEST(Sockjs, PollResponsesCarryCorsAndJavascriptType) {
  test_server s(sockjs_config());
  raw_http h(s.ws_port());
  h.send(request("POST", "/sockjs/000/cors/xhr"));
  ASSERT_TRUE(h.read_to_close());
  const auto r = parse_reply(h.data());
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "o\n");
  EXPECT_EQ(r.header("content-type"), "application/javascript; charset=UTF-8");
  EXPECT_EQ(r.header("access-control-allow-origin"), origin);
  EXPECT_EQ(r.header("access-control-allow-credentials"), "true");
}

TEST(Sockjs, XhrStreamingSendsPreludeThenFramesUntilTheByteLimit) {
  auto cfg = sockjs_config();
  cfg.sockjs_stream_bytes_limit = 4096;
  test_server s(cfg);
  poller p(s.ws_port(), "stream1");
  raw_http stream(s.ws_port());
  stream.send(request("POST", p.base() + "/xhr_streaming"));
  const std::string prelude = std::string(2048, 'h') + "\n";
  ASSERT_TRUE(stream.read_until([&](const std::string& d) {
    return d.find(prelude + "o\n") != std::string::npos;
  }));
  EXPECT_EQ(parse_reply(stream.data()).header("access-control-allow-origin"), origin);
  ASSERT_EQ(p.send(connect_frame()), 204u);
  ASSERT_TRUE(stream.read_until([](const std::string& d) { return d.find("a[\"CONNECTED") != std::string::npos; }));
  // A second response while this one is open is turned away.
  EXPECT_EQ(p.poll(), "c[2010,\"Another connection still open\"]\n");
  // Past the byte limit the response ends; the next one continues the session (no second `o`).
  ASSERT_EQ(p.send(make_frame("SUBSCRIBE", {{"id", "0"}, {"destination", "/topic/sockjs.s"}})), 204u);
  ASSERT_EQ(p.send(make_frame("SEND", {{"destination", "/topic/sockjs.s"}}, std::string(5000, 'x'))),
            204u);
  ASSERT_TRUE(stream.read_to_close());
  EXPECT_NE(stream.data().find("a[\"MESSAGE\\n"), std::string::npos);
  raw_http again(s.ws_port());
  again.send(request("POST", p.base() + "/xhr_streaming"));
  ASSERT_EQ(p.send(make_frame("DISCONNECT", {{"receipt", "bye"}})), 204u);
  ASSERT_TRUE(again.read_to_close());
  EXPECT_EQ(again.data().find("\no\n"), std::string::npos);
  EXPECT_NE(again.data().find("a[\"RECEIPT\\nreceipt-id:bye"), std::string::npos);
  EXPECT_NE(again.data().find("c[3000,\"Go away!\"]\n"), std::string::npos);
}

TEST(Sockjs, EventSourceSendsDataEvents) {
  test_server s(sockjs_config());
  raw_http es(s.ws_port());
  es.send(request("GET", "/sockjs/000/es1/eventsource"));
  ASSERT_TRUE(es.read_until([](const std::string& d) { return d.find("data: o\r\n\r\n") != std::string::npos; }));
  const auto r = parse_reply(es.data());
  EXPECT_EQ(r.header("content-type"), "text/event-stream; charset=UTF-8");
  EXPECT_EQ(r.body, "\r\ndata: o\r\n\r\n");
  poller p(s.ws_port(), "es1");
  ASSERT_EQ(p.send(connect_frame()), 204u);
  ASSERT_TRUE(es.read_until([](const std::string& d) { return d.find("data: a[\"CONNECTED\\n") != std::string::npos; }));
}

TEST(Sockjs, SessionWebSocketCarriesSockjsFrames) {
  test_server s(sockjs_config());
  ws_options opts;
  opts.target = "/sockjs/000/ws1/websocket";
  opts.protocol_lines = {};
  auto ws = make_ws_client(s.ws_port(), opts);
  EXPECT_EQ(ws->read_chunk(patience), "o");
  ws->send_bytes(json_array({stomp_bytes(connect_frame())}));
  auto connected = ws->read_chunk(patience);
  ASSERT_TRUE(connected);
  auto messages = messages_of(*connected);
  ASSERT_TRUE(messages);
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ(frames_of(messages->front()).at(0).command, "CONNECTED");
  ws->send_bytes(json_array({stomp_bytes(make_frame("DISCONNECT", {{"receipt", "bye"}}))}));
  auto receipt = messages_of(ws->read_chunk(patience).value_or(""));
  ASSERT_TRUE(receipt);
  EXPECT_EQ(frames_of(receipt->at(0)).at(0).command, "RECEIPT");
  EXPECT_EQ(ws->read_chunk(patience), "c[3000,\"Go away!\"]");
  EXPECT_TRUE(ws->wait_closed());
}

TEST(Sockjs, SessionWebSocketClosesOnBrokenJson) {
  test_server s(sockjs_config());
  ws_options opts;
  opts.target = "/sockjs/000/ws2/websocket";
  auto ws = make_ws_client(s.ws_port(), opts);
  EXPECT_EQ(ws->read_chunk(patience), "o");
  ws->send_bytes("[\"CONNECT");
  EXPECT_EQ(ws->read_chunk(patience), "c[1002,\"protocol_error\"]");
  EXPECT_TRUE(ws->wait_closed());
}

TEST(Sockjs, RawWebSocketCarriesPlainStomp) {
  test_server s(sockjs_config());
  ws_options opts;
  opts.target = "/sockjs/websocket";
  auto ws = make_ws_client(s.ws_port(), opts);
  auto reply = ws->connect();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, "CONNECTED");
}

TEST(Sockjs, IdleResponsesGetHeartbeatFrames) {
  auto cfg = sockjs_config();
  cfg.sockjs_heartbeat = 100ms;
  test_server s(cfg);
  poller p(s.ws_port(), "hb");
  ASSERT_EQ(p.poll(), "o\n");
  EXPECT_EQ(p.poll(), "h\n");  // a long poll with nothing to say ends with a heart-beat
  raw_http stream(s.ws_port());
  stream.send(request("POST", p.base() + "/xhr_streaming"));
  EXPECT_TRUE(stream.read_until([](const std::string& d) { return d.find("\nh\nh\n") != std::string::npos; }));
  ws_options opts;
  opts.target = "/sockjs/000/hbws/websocket";
  auto ws = make_ws_client(s.ws_port(), opts);
  EXPECT_EQ(ws->read_chunk(patience), "o");
  EXPECT_EQ(ws->read_chunk(patience), "h");
}

TEST(Sockjs, PollerThatStopsPollingIsDroppedWithItsFramesCounted) {
  auto cfg = sockjs_config();
  cfg.sockjs_session_timeout = 3s;
  test_server s(cfg);
  poller p(s.ws_port(), "gone");
  open_session(p, "/topic/sockjs.gone");
  publish(s, "/topic/sockjs.gone", 3, "lost");
  // Nobody polls: the session ends after the timeout and its three MESSAGEs are dropped.
  const auto& stats = s.server().statistics();
  ASSERT_TRUE(eventually([&] { return stats.open.load() == 0; }));
  EXPECT_EQ(stats.dropped_frames.load(), 3u);
  EXPECT_EQ(p.poll(), "c[1000,\"peer_gone\"]\n");
  EXPECT_EQ(call(s.ws_port(), "POST", p.base() + "/xhr_send", R"(["x"])").status, 404u);
}

TEST(Sockjs, BufferOverTheCapIsASlowConsumer) {
  auto cfg = sockjs_config();
  cfg.sockjs_max_buffered_bytes = 4096;
  test_server s(cfg);
  poller p(s.ws_port(), "slow");
  open_session(p, "/topic/sockjs.slow");
  publish(s, "/topic/sockjs.slow", 8, std::string(1024, 'm'));
  const auto& stats = s.server().statistics();
  ASSERT_TRUE(eventually([&] { return stats.slow_consumers.load() == 1; }));
  // The client learns why on its next polls: the ERROR, then the close frame.
  std::optional<stomp::frame> f;
  while ((f = p.next_frame()) && f->command == "MESSAGE") {
  }
  ASSERT_TRUE(f);
  EXPECT_EQ(f->command, "ERROR");
  EXPECT_FALSE(p.next_frame());
  EXPECT_EQ(p.last_close(), "c[1002,\"slow_consumer\"]\n");
}

TEST(Sockjs, StopClosesSessionsWithoutAResponseAtOnce) {
  test_server s(sockjs_config());
  poller p(s.ws_port(), "stop");
  open_session(p);
  EXPECT_TRUE(s.stop());
}

}  // namespace
