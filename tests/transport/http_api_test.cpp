// The HTTP publish API (POST /api/v1/publish) through real sockets: a Beast HTTP client posts,
// a STOMP client subscribed on the same server receives.
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "auth/config.hpp"
#include "auth/password.hpp"
#include "tests/support/http_auth.hpp"
#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"

namespace {

using namespace test_support;
namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using header_list = std::vector<std::pair<std::string, std::string>>;

struct reply {
  unsigned status = 0;
  std::string body;
  std::string allow;
  std::string www_authenticate;
  /// A field of the JSON body ("" when absent or not JSON).
  std::string json(const char* key) const {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object() || !v.as_object().contains(key)) return {};
    const auto* s = v.as_object().at(key).if_string();
    return s ? std::string(*s) : std::string();
  }
};

reply read_reply(tcp::socket& socket) {
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  do {  // interim 1xx answers (100 Continue) come before the real one
    res = {};
    http::read(socket, buffer, res);
  } while (res.result_int() / 100 == 1);
  return {res.result_int(), res.body(), std::string(res[http::field::allow]),
          std::string(res[http::field::www_authenticate])};
}

template <class Body>
reply exchange(std::uint16_t port, http::request<Body>& req, const header_list& headers) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.prepare_payload();
  http::write(socket, req);
  return read_reply(socket);
}

reply post(std::uint16_t port, std::string body, const header_list& headers = {},
           const std::string& target = "/api/v1/publish", http::verb verb = http::verb::post) {
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::content_type, "application/json");  // `headers` may replace it
  req.body() = std::move(body);
  return exchange(port, req, headers);
}

std::string publish_json(const std::string& destination, const std::string& body) {
  return R"({"destination":")" + destination + R"(","headers":{"content-type":"text/plain"},)" +
         R"("body":")" + body + R"("})";
}

/// Logs in as `login` and subscribes to `destination` (receipt awaited).
std::unique_ptr<client> subscriber(test_server& s, const std::string& login,
                                   const std::string& destination,
                                   const std::string& passcode = {}) {
  auto c = make_tcp_client(s.tcp_port());
  std::vector<stomp::header> extra;
  if (!passcode.empty()) extra.push_back({"passcode", passcode});
  auto connected = c->connect(extra, login);
  EXPECT_TRUE(connected && connected->command == "CONNECTED");
  c->send_frame(make_frame("SUBSCRIBE", {{"id", "1"}, {"destination", destination},
                                         {"receipt", "r1"}}));
  auto receipt = c->read_frame();
  EXPECT_TRUE(receipt && receipt->command == "RECEIPT");
  return c;
}

std::string header_of(const stomp::frame& f, const std::string& name) {
  for (const auto& h : f.headers)
    if (h.name == name) return h.value;
  return {};
}

std::string b64url(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

const std::string jwt_secret = "0123456789abcdef0123456789abcdef";

/// An HS256 token for `user` with `roles`, valid for an hour.
std::string token_for(const std::string& user, const std::string& roles_json) {
  const auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch() + std::chrono::hours(1))
                       .count();
  const std::string input = b64url(R"({"alg":"HS256","typ":"JWT"})") + "." +
                            b64url(R"({"sub":")" + user + R"(","roles":)" + roles_json +
                                   R"(,"exp":)" + std::to_string(exp) + "}");
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), jwt_secret.data(), static_cast<int>(jwt_secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + b64url(std::string_view(reinterpret_cast<char*>(mac), len));
}

/// Users alice (role user) and backend (role publisher), and JWT HS256; default rules.
broker::config secured_broker() {
  auto hash = [](const char* pw) { return auth::hash_password(pw, auth::min_pbkdf2_iterations); };
  std::vector<auth::user_record> users{{"alice", hash("alice-pw"), {"user"}},
                                       {"backend", hash("backend-pw"), {"publisher"}}};
  auth::jwt_config jwt;
  jwt.hmac_secret = jwt_secret;
  broker::config b;
  b.authenticator = auth::make_authenticator(std::move(users), std::move(jwt), 0);
  return b;
}

TEST(PublishApi, AcceptedMessageReachesTheUserQueue) {
  test_server s;  // development mode: anyone may publish anywhere
  auto alice = subscriber(s, "alice", "/user/queue/notifications");
  const auto r = post(s.ws_port(), publish_json("/user/alice/queue/notifications", "hello"));
  ASSERT_EQ(r.status, 202u) << r.body;
  ASSERT_FALSE(r.json("message_id").empty());
  auto m = alice->read_frame();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->command, "MESSAGE");
  EXPECT_EQ(m->body, "hello");
  EXPECT_EQ(header_of(*m, "message-id"), r.json("message_id"));
  EXPECT_EQ(header_of(*m, "destination"), "/user/queue/notifications");
  EXPECT_EQ(header_of(*m, "content-type"), "text/plain");
}

TEST(PublishApi, AcceptedMessageReachesTopicSubscribers) {
  test_server s;
  auto c = subscriber(s, "bob", "/topic/news");
  const auto r = post(s.ws_port(), R"({"destination":"/topic/news","body":"{\"n\":1}"})");
  ASSERT_EQ(r.status, 202u) << r.body;
  auto m = c->read_frame();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body, R"({"n":1})");
  EXPECT_EQ(header_of(*m, "message-id"), r.json("message_id"));
}

TEST(PublishApi, BadRequestsGet400WithAReason) {
  test_server s;
  for (const std::string body : {"not json", "[1,2]", R"({"body":"x"})", R"({"destination":5})",
                                 R"({"destination":"/topic/a","headers":{"x":1}})",
                                 R"({"destination":"/topic/a","extra":true})",
                                 R"({"destination":"/nowhere/x"})"}) {
    const auto r = post(s.ws_port(), body);
    EXPECT_EQ(r.status, 400u) << body;
    EXPECT_FALSE(r.json("error").empty()) << body << " -> " << r.body;
  }
}

TEST(PublishApi, MissingOrWrongCredentialsGet401) {
  test_server s(loopback_config(), secured_broker());
  const auto none = post(s.ws_port(), publish_json("/topic/a", "x"));
  EXPECT_EQ(none.status, 401u);
  EXPECT_NE(none.www_authenticate.find("Bearer"), std::string::npos);
  EXPECT_EQ(post(s.ws_port(), publish_json("/topic/a", "x"),
                 {{"Authorization", basic("backend", "wrong")}}).status, 401u);
  EXPECT_EQ(post(s.ws_port(), publish_json("/topic/a", "x"),
                 {{"Authorization", "Bearer not.a.token"}}).status, 401u);
  EXPECT_EQ(post(s.ws_port(), publish_json("/topic/a", "x"),
                 {{"Authorization", "Basic !!!"}}).status, 401u);
}

TEST(PublishApi, OnlyPublishersMaySendToAnotherUsersQueue) {
  test_server s(loopback_config(), secured_broker());
  auto bob_queue = "/user/bob/queue/notifications";
  const auto as_user = post(s.ws_port(), publish_json(bob_queue, "x"),
                            {{"Authorization", basic("alice", "alice-pw")}});
  EXPECT_EQ(as_user.status, 403u) << as_user.body;
  EXPECT_EQ(post(s.ws_port(), publish_json(bob_queue, "x"),
                 {{"Authorization", basic("backend", "backend-pw")}}).status, 202u);
}

TEST(PublishApi, PublisherBearerTokenDeliversToTheUser) {
  test_server s(loopback_config(), secured_broker());
  auto alice = subscriber(s, "alice", "/user/queue/notifications", "alice-pw");
  const auto r = post(s.ws_port(), publish_json("/user/alice/queue/notifications", "by-token"),
                      {{"Authorization", "Bearer " + token_for("svc", R"(["publisher"])")}});
  ASSERT_EQ(r.status, 202u) << r.body;
  auto m = alice->read_frame();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body, "by-token");
  const auto user = post(s.ws_port(), publish_json("/user/alice/queue/notifications", "x"),
                         {{"Authorization", "Bearer " + token_for("eve", R"(["user"])")}});
  EXPECT_EQ(user.status, 403u);
}

TEST(PublishApi, OversizedBodyGets413) {
  auto cfg = loopback_config();
  cfg.api_max_body_bytes = 1000;
  test_server s(cfg);
  // Announced too large: refused from the head, the body is never sent.
  {
    http::request<http::empty_body> req(http::verb::post, "/api/v1/publish", 11);
    req.set(http::field::content_type, "application/json");
    req.content_length(100'000'000);
    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect({net::ip::make_address("127.0.0.1"), s.ws_port()});
    http::request_serializer<http::empty_body> sr(req);
    http::write_header(socket, sr);
    const auto r = read_reply(socket);
    EXPECT_EQ(r.status, 413u);
    EXPECT_FALSE(r.json("error").empty());
  }
  // Chunked, no length announced: the parser's body limit.
  http::request<http::string_body> req(http::verb::post, "/api/v1/publish", 11);
  req.body() = publish_json("/topic/a", std::string(2000, 'x'));
  req.set(http::field::content_type, "application/json");
  req.chunked(true);
  http::request_serializer<http::string_body> sr(req);
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect({net::ip::make_address("127.0.0.1"), s.ws_port()});
  req.set(http::field::host, "127.0.0.1");
  http::write(socket, sr);
  EXPECT_EQ(read_reply(socket).status, 413u);
}

// Over Beast's default request body limit (1 MiB), under api_max_body_bytes (4 MiB + 64 KiB).
TEST(PublishApi, LargeBodyUnderTheLimitIsAccepted) {
  test_server s;
  auto c = subscriber(s, "bob", "/topic/big");
  const auto r = post(s.ws_port(), publish_json("/topic/big", std::string(3'000'000, 'z')));
  ASSERT_EQ(r.status, 202u) << r.body;
  auto m = c->read_frame();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body.size(), 3'000'000u);
}

TEST(PublishApi, IdempotencyKeyPublishesOnce) {
  test_server s;
  auto c = subscriber(s, "bob", "/topic/orders");
  const header_list key{{"Idempotency-Key", "order-42"}};
  const auto first = post(s.ws_port(), publish_json("/topic/orders", "once"), key);
  const auto again = post(s.ws_port(), publish_json("/topic/orders", "once"), key);
  ASSERT_EQ(first.status, 202u);
  ASSERT_EQ(again.status, 202u);
  EXPECT_EQ(first.json("message_id"), again.json("message_id"));
  const auto other = post(s.ws_port(), publish_json("/topic/orders", "next"));
  ASSERT_EQ(other.status, 202u);
  EXPECT_NE(other.json("message_id"), first.json("message_id"));
  // Delivery is in order: the retry would sit between the two.
  auto m1 = c->read_frame();
  auto m2 = c->read_frame();
  ASSERT_TRUE(m1 && m2);
  EXPECT_EQ(m1->body, "once");
  EXPECT_EQ(m2->body, "next");
}

TEST(PublishApi, IdempotencyKeyOnAUserQueueStoresOnce) {
  test_server s;
  const header_list key{{"Idempotency-Key", "n-1"}};
  const auto dest = "/user/carol/queue/inbox";
  const auto first = post(s.ws_port(), publish_json(dest, "stored"), key);
  const auto again = post(s.ws_port(), publish_json(dest, "stored"), key);
  ASSERT_EQ(first.status, 202u);
  EXPECT_EQ(first.json("message_id"), again.json("message_id"));
  ASSERT_EQ(post(s.ws_port(), publish_json(dest, "after")).status, 202u);
  // Carol was offline: both stored messages are replayed, the retry not among them.
  auto carol = subscriber(s, "carol", "/user/queue/inbox");
  auto m1 = carol->read_frame();
  auto m2 = carol->read_frame();
  ASSERT_TRUE(m1 && m2);
  EXPECT_EQ(m1->body, "stored");
  EXPECT_EQ(m2->body, "after");
}

TEST(PublishApi, OtherMethodsGet405AndOtherPaths404) {
  test_server s;
  const auto get = post(s.ws_port(), "", {}, "/api/v1/publish", http::verb::get);
  EXPECT_EQ(get.status, 405u);
  EXPECT_EQ(get.allow, "POST");
  EXPECT_EQ(post(s.ws_port(), "", {}, "/api/v1/publish", http::verb::put).status, 405u);
  EXPECT_EQ(post(s.ws_port(), publish_json("/topic/a", "x"), {}, "/api/v2/other").status, 404u);
}

// A page elsewhere could POST text/plain or a form to a local broker without a preflight.
TEST(PublishApi, OnlyJsonContentIsAccepted) {
  test_server s;
  const auto body = publish_json("/topic/a", "x");
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded",
                           "multipart/form-data; boundary=x", "application/jsonp"}) {
    const auto r = post(s.ws_port(), body, {{"Content-Type", type}});
    EXPECT_EQ(r.status, 415u) << type;
    EXPECT_FALSE(r.json("error").empty());
  }
  EXPECT_EQ(post(s.ws_port(), body, {{"Content-Type", "Application/JSON; charset=utf-8"}}).status,
            202u);
}

// `fetch(url, {mode: 'no-cors', body: blob})` sends no Content-Type, and needs no preflight.
TEST(PublishApi, MissingContentTypeIsRefused) {
  test_server s;
  http::request<http::string_body> req(http::verb::post, "/api/v1/publish", 11);
  req.body() = publish_json("/topic/a", "x");
  const auto r = exchange(s.ws_port(), req, {});
  EXPECT_EQ(r.status, 415u);
  EXPECT_FALSE(r.json("error").empty());
}

// The WebSocket's Origin rule: same host, listed origins and requests without Origin pass.
TEST(PublishApi, DisallowedOriginIsRefusedWith403) {
  auto cfg = loopback_config();
  cfg.allowed_origins = {"https://app.example"};
  test_server s(cfg);
  const auto body = publish_json("/topic/a", "x");
  const auto evil = post(s.ws_port(), body, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(evil.status, 403u);
  EXPECT_FALSE(evil.json("error").empty());
  EXPECT_EQ(post(s.ws_port(), body, {{"Origin", "https://app.example"}}).status, 202u);
  EXPECT_EQ(post(s.ws_port(), body, {{"Origin", "http://127.0.0.1"}}).status, 202u);  // same host
  EXPECT_EQ(post(s.ws_port(), body).status, 202u);
}

TEST(PublishApi, DisabledApiIsNotFound) {
  auto cfg = loopback_config();
  cfg.api_enabled = false;
  test_server s(cfg);
  EXPECT_EQ(post(s.ws_port(), publish_json("/topic/a", "x")).status, 404u);
}

TEST(PublishApi, ExpectContinueIsAnswered) {
  test_server s;
  auto c = subscriber(s, "bob", "/topic/big");
  const auto r = post(s.ws_port(), publish_json("/topic/big", std::string(100'000, 'y')),
                      {{"Expect", "100-continue"}});
  ASSERT_EQ(r.status, 202u);  // the client reads past the interim 100 response
  auto m = c->read_frame();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body.size(), 100'000u);
}

}  // namespace
