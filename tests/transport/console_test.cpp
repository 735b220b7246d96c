// The web console's JSON API and page on the metrics listener (transport/console), through real
// sockets: STOMP clients make traffic, a Beast HTTP client reads the API and posts admin actions.
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <openssl/evp.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "auth/config.hpp"
#include "auth/password.hpp"
#include "tests/support/http_auth.hpp"
#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"
#include "transport/console/console_json.hpp"
#include "transport/metrics.hpp"

namespace {

using namespace test_support;
using namespace std::chrono_literals;
namespace net = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using header_list = std::vector<std::pair<std::string, std::string>>;

struct reply {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  json::value doc() const {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    return ec ? json::value() : v;
  }
};

reply call(std::uint16_t port, http::verb method, const std::string& target,
           const header_list& headers = {}) {
  net::io_context ioc;
  net::ip::tcp::socket socket(ioc);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req(method, target, 11);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [name, value] : headers) req.set(name, value);
  req.prepare_payload();
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  reply r{res.result_int(), res.body(), {}};
  for (const auto& field : res) r.headers[std::string(field.name_string())] = std::string(field.value());
  return r;
}

reply get(std::uint16_t port, const std::string& target) {
  return call(port, http::verb::get, target);
}

/// Users root (role admin) and alice (role user).
broker::config secured_broker() {
  auto hash = [](const char* pw) { return auth::hash_password(pw, auth::min_pbkdf2_iterations); };
  std::vector<auth::user_record> users{{"root", hash("root-pw"), {"admin"}},
                                       {"alice", hash("alice-pw"), {"user"}}};
  broker::config b;
  b.authenticator = auth::make_authenticator(std::move(users), {}, 0);
  return b;
}

/// A test_server plus its metrics listener (console included) on port 0.
struct with_console {
  explicit with_console(broker::config bcfg = {}) : s(loopback_config(), std::move(bcfg)) {
    transport::metrics_config cfg;
    cfg.port = 0;
    metrics = std::make_unique<transport::metrics_server>(ioc, s.server(), s.broker(), cfg);
    metrics->start();
    thread = std::thread([this] { ioc.run(); });
  }
  ~with_console() {
    metrics->stop();
    ioc.stop();
    thread.join();
    // An admin's login may still be on the broker's login thread, holding its HTTP session:
    // it must end before `ioc` does (the session's socket belongs to it), as app/main.cpp does.
    s.broker().stop_logins();
  }
  std::uint16_t port() const { return metrics->port(); }
  json::value api(const std::string& what) {
    const auto r = get(port(), "/api/v1/" + what);
    EXPECT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    return r.doc();
  }

  test_server s;
  net::io_context ioc;
  std::unique_ptr<transport::metrics_server> metrics;
  std::thread thread;
};

std::int64_t num(const json::value& v, std::initializer_list<const char*> path) {
  const json::value* at = &v;
  for (const char* key : path) at = &at->as_object().at(key);
  return at->to_number<std::int64_t>();
}

std::unique_ptr<client> connected_tcp(std::uint16_t port, const std::string& login,
                                      const std::string& passcode = {}) {
  auto c = make_tcp_client(port);
  std::vector<stomp::header> extra;
  if (!passcode.empty()) extra.push_back({"passcode", passcode});
  extra.push_back({"heart-beat", "5000,5000"});
  auto f = c->connect(extra, login);
  EXPECT_TRUE(f && f->command == "CONNECTED");
  return c;
}

void subscribe(client& c, const std::string& id, const std::string& destination) {
  c.send_frame(make_frame("SUBSCRIBE", {{"id", id}, {"destination", destination},
                                        {"receipt", "r-" + id}}));
  auto r = c.read_frame();
  ASSERT_TRUE(r && r->command == "RECEIPT");
}

void send_with_receipt(client& c, const std::string& destination, const std::string& body) {
  c.send_frame(make_frame("SEND", {{"destination", destination}, {"receipt", "p"}}, body));
  auto r = c.read_frame();
  ASSERT_TRUE(r && r->command == "RECEIPT");
}

TEST(ConsoleApi, OverviewCountsConnectionsSessionsAndMessages) {
  with_console m;
  const auto before = m.api("overview");
  auto sub = make_ws_client(m.s.ws_port());
  ASSERT_TRUE(sub->connect());
  auto pub = connected_tcp(m.s.tcp_port(), "bob");
  subscribe(*sub, "1", "/topic/t");
  for (int i = 0; i < 3; ++i) {
    send_with_receipt(*pub, "/topic/t", "x");
    ASSERT_TRUE(sub->read_frame());
  }
  const auto o = m.api("overview");
  EXPECT_EQ(num(o, {"connections", "open"}), 2);
  EXPECT_EQ(num(o, {"connections", "by_transport", "ws"}), 1);
  EXPECT_EQ(num(o, {"connections", "by_transport", "tcp"}), 1);
  EXPECT_EQ(num(o, {"sessions"}), 2);
  EXPECT_EQ(num(o, {"subscriptions"}), 1);
  EXPECT_EQ(num(o, {"messages", "published"}) - num(before, {"messages", "published"}), 3);
  EXPECT_EQ(num(o, {"messages", "delivered"}) - num(before, {"messages", "delivered"}), 3);
  EXPECT_GE(num(o, {"time_ms"}), num(before, {"time_ms"}));
  EXPECT_TRUE(o.as_object().at("ready").as_bool());
  EXPECT_FALSE(o.as_object().at("cluster").as_object().at("enabled").as_bool());
  EXPECT_EQ(std::string(o.as_object().at("version").as_string()), transport::version());
}

TEST(ConsoleApi, ConnectionsShowUserAddressSubscriptionsAndHeartBeats) {
  with_console m;
  auto alice = connected_tcp(m.s.tcp_port(), "alice");
  auto bob = make_ws_client(m.s.ws_port());
  ASSERT_TRUE(bob->connect({}, "bob"));
  subscribe(*alice, "a", "/topic/a");
  subscribe(*alice, "b", "/queue/b");
  const auto list = m.api("connections");
  EXPECT_EQ(num(list, {"total"}), 2);
  std::map<std::string, json::object> by_user;
  for (const auto& c : list.as_object().at("connections").as_array()) {
    by_user[std::string(c.as_object().at("user").as_string())] = c.as_object();
  }
  ASSERT_EQ(by_user.size(), 2u);
  const auto& a = by_user.at("alice");
  EXPECT_EQ(a.at("transport").as_string(), "tcp");
  EXPECT_EQ(a.at("subscriptions").to_number<int>(), 2);
  EXPECT_TRUE(a.at("connected").as_bool());
  EXPECT_TRUE(std::string(a.at("remote").as_string()).starts_with("127.0.0.1:"));
  // Agreed: the client's 5000 each way (we follow it down to heartbeat.min_ms); we wait
  // heartbeat_tolerance (3) intervals.
  EXPECT_EQ(a.at("heartbeat").as_object().at("send_ms").to_number<int>(), 5'000);
  EXPECT_EQ(a.at("heartbeat").as_object().at("expect_ms").to_number<int>(), 15'000);
  EXPECT_GT(a.at("id").to_number<std::int64_t>(), 0);
  EXPECT_EQ(by_user.at("bob").at("transport").as_string(), "ws");
  EXPECT_EQ(by_user.at("bob").at("subscriptions").to_number<int>(), 0);
  // Oldest first: alice connected before bob.
  EXPECT_EQ(list.as_object().at("connections").as_array()[0].as_object().at("user").as_string(),
            "alice");
}

TEST(ConsoleApi, DestinationsCountSubscribersAndMessages) {
  with_console m;
  auto a = connected_tcp(m.s.tcp_port(), "a");
  auto b = connected_tcp(m.s.tcp_port(), "b");
  subscribe(*a, "1", "/topic/news");
  subscribe(*b, "1", "/topic/news");
  subscribe(*b, "2", "/queue/jobs");
  subscribe(*a, "3", "/topic/news.*");
  auto pub = connected_tcp(m.s.tcp_port(), "p");
  for (int i = 0; i < 3; ++i) send_with_receipt(*pub, "/topic/news", "n");
  send_with_receipt(*pub, "/queue/jobs", "j");
  const auto list = m.api("destinations");
  std::map<std::string, json::object> by_name;
  for (const auto& d : list.as_object().at("destinations").as_array()) {
    by_name[std::string(d.as_object().at("name").as_string())] = d.as_object();
  }
  EXPECT_EQ(num(list, {"total"}), 3);
  const auto& news = by_name.at("/topic/news");
  EXPECT_EQ(news.at("kind").as_string(), "topic");
  EXPECT_EQ(news.at("subscribers").to_number<int>(), 2);
  EXPECT_EQ(news.at("messages_in").to_number<int>(), 3);
  EXPECT_EQ(news.at("messages_out").to_number<int>(), 6);
  const auto& jobs = by_name.at("/queue/jobs");
  EXPECT_EQ(jobs.at("kind").as_string(), "queue");
  EXPECT_EQ(jobs.at("subscribers").to_number<int>(), 1);
  EXPECT_EQ(jobs.at("messages_in").to_number<int>(), 1);
  EXPECT_EQ(jobs.at("messages_out").to_number<int>(), 1);
  EXPECT_EQ(by_name.at("/topic/news.*").at("kind").as_string(), "pattern");
}

TEST(ConsoleApi, InboxesShowStoredMessagesPerUser) {
  with_console m;  // development mode, in-memory SQLite store
  auto pub = connected_tcp(m.s.tcp_port(), "p");
  send_with_receipt(*pub, "/user/carol/queue/x", "1");
  send_with_receipt(*pub, "/user/carol/queue/y", "2");
  send_with_receipt(*pub, "/user/carol/queue/y", "3");
  send_with_receipt(*pub, "/user/dave/queue/x", "4");
  const auto list = m.api("inboxes");
  EXPECT_TRUE(list.as_object().at("available").as_bool());
  const auto& inboxes = list.as_object().at("inboxes").as_array();
  ASSERT_EQ(inboxes.size(), 2u);
  EXPECT_EQ(inboxes[0].as_object().at("user").as_string(), "carol");
  EXPECT_EQ(inboxes[0].as_object().at("messages").to_number<int>(), 3);
  EXPECT_EQ(inboxes[0].as_object().at("queues").to_number<int>(), 2);
  EXPECT_GE(inboxes[0].as_object().at("oldest_age_ms").to_number<std::int64_t>(), 0);
  EXPECT_EQ(inboxes[1].as_object().at("user").as_string(), "dave");
}

TEST(ConsoleApi, RecentCutsNameTheSilentPeer) {
  broker::config b;
  b.heartbeat_receive = 100ms;  // a silent peer is cut after 3 x 100 ms
  with_console m(std::move(b));
  auto quiet = make_tcp_client(m.s.tcp_port());
  auto f = quiet->connect({{"heart-beat", "100,0"}}, "erin");
  ASSERT_TRUE(f && f->command == "CONNECTED");
  ASSERT_TRUE(quiet->wait_closed());
  const auto deadline = std::chrono::steady_clock::now() + patience;
  json::value o;
  do {  // the cut is recorded as the connection finishes, just after the socket closed
    o = m.api("overview");
  } while (o.as_object().at("cuts").as_object().at("recent").as_array().empty() &&
           std::chrono::steady_clock::now() < deadline);
  const auto& cuts = o.as_object().at("cuts").as_object();
  ASSERT_EQ(cuts.at("recent").as_array().size(), 1u);
  const auto& cut = cuts.at("recent").as_array()[0].as_object();
  EXPECT_EQ(cut.at("reason").as_string(), "heartbeat_timeout");
  EXPECT_EQ(cut.at("user").as_string(), "erin");
  EXPECT_EQ(cut.at("transport").as_string(), "tcp");
  EXPECT_EQ(cuts.at("heartbeat_timeouts").to_number<int>(), 1);
}

TEST(ConsoleJson, ClusterGaugesAreReadFromTheClusterMetrics) {
  EXPECT_FALSE(transport::console::parse_cluster("").enabled);
  const auto c = transport::console::parse_cluster(
      "# HELP stompbox_cluster_redis_up 1 when up.\n# TYPE stompbox_cluster_redis_up gauge\n"
      "stompbox_cluster_redis_up 1\nstompbox_cluster_redis_rtt_seconds 0.00042\n");
  EXPECT_TRUE(c.enabled);
  EXPECT_TRUE(c.up);
  EXPECT_DOUBLE_EQ(c.rtt_seconds, 0.00042);
  EXPECT_FALSE(transport::console::parse_cluster("stompbox_cluster_redis_up 0\n").up);
}

TEST(ConsoleApi, InboxOwnersAreDecodedAndPurgedByName) {
  with_console m(secured_broker());
  m.s.broker().publish_to_user("a/b c", "/queue/x", "m");  // stored as "a%2Fb c/queue/x"
  m.s.broker().flush();
  const auto inboxes = m.api("inboxes").as_object().at("inboxes").as_array();
  ASSERT_EQ(inboxes.size(), 1u);
  EXPECT_EQ(inboxes[0].as_object().at("user").as_string(), "a/b c");
  const auto r = call(m.port(), http::verb::post, "/api/v1/inboxes/a%2Fb%20c/purge",
                      {{"Authorization", basic("root", "root-pw")}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(num(r.doc(), {"removed"}), 1);
  EXPECT_EQ(call(m.port(), http::verb::post, "/api/v1/inboxes/%zz/purge",
                 {{"Authorization", basic("root", "root-pw")}}).status, 400u);
}

TEST(ConsoleAdmin, CloseNeedsAnAdminAndTheClientSeesItClosed) {
  with_console m(secured_broker());
  auto alice = connected_tcp(m.s.tcp_port(), "alice", "alice-pw");
  const auto list = m.api("connections");
  const auto id = list.as_object().at("connections").as_array()[0].as_object().at("id")
                      .to_number<std::uint64_t>();
  const std::string target = "/api/v1/connections/" + std::to_string(id) + "/close";

  auto r = call(m.port(), http::verb::post, target);
  EXPECT_EQ(r.status, 401u) << r.body;
  EXPECT_FALSE(r.header("WWW-Authenticate").empty());
  r = call(m.port(), http::verb::post, target, {{"Authorization", basic("root", "wrong")}});
  EXPECT_EQ(r.status, 401u) << r.body;
  r = call(m.port(), http::verb::post, target, {{"Authorization", basic("alice", "alice-pw")}});
  EXPECT_EQ(r.status, 403u) << r.body;
  EXPECT_EQ(num(m.api("overview"), {"sessions"}), 1);  // none of those closed anything

  r = call(m.port(), http::verb::post, target, {{"Authorization", basic("root", "root-pw")}});
  EXPECT_EQ(r.status, 202u) << r.body;
  ASSERT_TRUE(alice->wait_closed());
  const auto& frames = alice->frames_before_close();
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.back().command, "ERROR");
  EXPECT_EQ(frames.back().get("message").value_or(""), "closed by an administrator");

  // The client sees the close before the server has let go of the connection; until then a
  // second close is answered 202 (still closing), after it 404.
  const auto listed = [&] {
    return !m.api("connections").as_object().at("connections").as_array().empty();
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (listed() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r = call(m.port(), http::verb::post, target, {{"Authorization", basic("root", "root-pw")}});
  EXPECT_EQ(r.status, 404u) << r.body;  // gone
}

TEST(ConsoleAdmin, ForeignOriginAndFormPostsAreRefused) {
  with_console m(secured_broker());
  auto alice = connected_tcp(m.s.tcp_port(), "alice", "alice-pw");
  const auto id = m.api("connections").as_object().at("connections").as_array()[0].as_object()
                      .at("id").to_number<std::uint64_t>();
  const std::string target = "/api/v1/connections/" + std::to_string(id) + "/close";
  const auto admin = basic("root", "root-pw");
  auto r = call(m.port(), http::verb::post, target,
                {{"Authorization", admin}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(r.status, 403u) << r.body;
  r = call(m.port(), http::verb::post, target,
           {{"Authorization", admin}, {"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r.status, 415u) << r.body;
  EXPECT_EQ(num(m.api("overview"), {"sessions"}), 1);
  // The page's own origin (same host:port) is allowed.
  r = call(m.port(), http::verb::post, target,
           {{"Authorization", admin}, {"Origin", "http://127.0.0.1:" + std::to_string(m.port())}});
  EXPECT_EQ(r.status, 202u) << r.body;
  EXPECT_TRUE(alice->wait_closed());
}

TEST(ConsoleAdmin, PurgeEmptiesOneUsersInbox) {
  with_console m(secured_broker());
  // Stored through the broker itself (the embedding application's call): no subscriber yet.
  for (int i = 0; i < 3; ++i) m.s.broker().publish_to_user("alice", "/queue/inbox", "m");
  m.s.broker().publish_to_user("bob", "/queue/inbox", "keep");
  m.s.broker().flush();
  auto r = call(m.port(), http::verb::post, "/api/v1/inboxes/alice/purge",
                {{"Authorization", basic("alice", "alice-pw")}});
  EXPECT_EQ(r.status, 403u) << r.body;
  r = call(m.port(), http::verb::post, "/api/v1/inboxes/alice/purge",
           {{"Authorization", basic("root", "root-pw")}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(num(r.doc(), {"removed"}), 3);
  m.s.broker().flush();
  const auto inboxes = m.api("inboxes").as_object().at("inboxes").as_array();
  ASSERT_EQ(inboxes.size(), 1u);
  EXPECT_EQ(inboxes[0].as_object().at("user").as_string(), "bob");
  // alice subscribes and gets nothing stored.
  auto alice = connected_tcp(m.s.tcp_port(), "alice", "alice-pw");
  subscribe(*alice, "1", "/user/queue/inbox");
  EXPECT_FALSE(alice->read_frame(300ms));
}

TEST(ConsolePage, ServedFromTheBinaryWithAContentSecurityPolicy) {
  with_console m;
  const auto page = get(m.port(), "/");
  EXPECT_EQ(page.status, 200u);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_TRUE(page.header("Content-Security-Policy").starts_with("default-src 'self'"));
  EXPECT_NE(page.body.find("/console/console.js"), std::string::npos);
  const auto chart = get(m.port(), "/console/uPlot.iife.min.js");
  ASSERT_EQ(chart.status, 200u);
  std::ifstream vendored(std::string(STOMPBOX_SOURCE_DIR) + "/third_party/uplot/uPlot.iife.min.js",
                         std::ios::binary);
  std::stringstream bytes;
  bytes << vendored.rdbuf();
  EXPECT_EQ(chart.body, bytes.str());
  EXPECT_EQ(get(m.port(), "/console/nope.js").status, 404u);
}

TEST(ConsolePage, MethodsAreChecked) {
  with_console m;
  EXPECT_EQ(call(m.port(), http::verb::post, "/api/v1/overview").status, 405u);
  EXPECT_EQ(get(m.port(), "/api/v1/connections/1/close").status, 405u);
  EXPECT_EQ(call(m.port(), http::verb::post, "/metrics").status, 405u);
  EXPECT_EQ(call(m.port(), http::verb::delete_, "/api/v1/overview").status, 405u);
  EXPECT_EQ(get(m.port(), "/api/v1/nothing").status, 404u);
}

}  // namespace
