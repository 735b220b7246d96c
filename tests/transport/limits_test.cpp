// Admission limits and the Origin check, through real sockets: total and per-IP connection
// limits (503 on the upgrade, ERROR on TCP), sessions per user, SEND rate, the Origin
// allow-list, and the descriptor limit (EMFILE) in a child process.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "app/config.hpp"
#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"
#include "transport/detail/origin.hpp"

namespace {

using namespace test_support;
using namespace std::chrono_literals;

/// A raw loopback TCP connection, optionally from another loopback source address.
class raw_socket {
 public:
  explicit raw_socket(std::uint16_t port, const char* source = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (source) {
      sockaddr_in src{};
      src.sin_family = AF_INET;
      ::inet_pton(AF_INET, source, &src.sin_addr);
      ::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src);
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  }
  ~raw_socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  bool connected() const { return connected_; }
  void send(const std::string& bytes) { (void)!::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }

  /// Reads until the peer closes, `stop` is found, or `patience` passes. `timed_out` tells which.
  std::string read(const std::string& stop = {}, bool* timed_out = nullptr) {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + patience;
    if (timed_out) *timed_out = false;
    while (stop.empty() || got.find(stop) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        if (timed_out) *timed_out = true;
        break;
      }
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string upgrade_request(std::uint16_t port, const std::string& origin) {
  std::string r = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                  "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Protocol: v12.stomp\r\n";
  if (!origin.empty()) r += "Origin: " + origin + "\r\n";
  return r + "\r\n";
}

/// The status code of a WebSocket upgrade with `origin` (none when empty), and the body.
std::pair<int, std::string> try_upgrade(std::uint16_t port, const std::string& origin) {
  raw_socket s(port);
  s.send(upgrade_request(port, origin));
  const std::string reply = s.read("\r\n\r\n");
  if (reply.rfind("HTTP/1.1 ", 0) != 0) return {0, reply};
  const int status = std::stoi(reply.substr(9, 3));
  std::string body;
  if (status != 101) body = reply.substr(reply.find("\r\n\r\n") + 4) + s.read();
  return {status, body};
}

void wait_for_connections(test_server& s, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (s.server().connection_count() != n && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
}

bool receipt_works(client& c, const std::string& id) {
  c.send_frame(make_frame("SEND", {{"destination", "/topic/x"}, {"receipt", id}}, "hi"));
  auto r = c.read_frame();
  return r && r->command == "RECEIPT" && r->get("receipt-id") == id;
}

TEST(ConnectionLimits, OverTheTotalTcpGetsErrorAndWebSocketGets503) {
  auto cfg = loopback_config();
  cfg.max_connections = 2;
  test_server s(cfg);
  auto a = make_tcp_client(s.tcp_port());
  auto b = make_ws_client(s.ws_port());
  ASSERT_TRUE(a->connect());
  ASSERT_TRUE(b->connect());

  raw_socket tcp(s.tcp_port());
  const std::string error = tcp.read();  // until the server closes
  EXPECT_EQ(error.rfind("ERROR\nmessage:too many connections\n", 0), 0u) << error;
  EXPECT_NE(error.find('\0'), std::string::npos);

  const auto [status, body] = try_upgrade(s.ws_port(), "");
  EXPECT_EQ(status, 503);
  EXPECT_FALSE(body.empty());

  // The connections already open are untouched.
  EXPECT_TRUE(receipt_works(*a, "a"));
  EXPECT_TRUE(receipt_works(*b, "b"));
  const auto refused = s.server().statistics().refused[static_cast<std::size_t>(
      transport::refusal::max_connections)].load();
  EXPECT_EQ(refused, 2u);

  // A place freed is a place taken.
  a.reset();
  wait_for_connections(s, 1);
  auto c = make_tcp_client(s.tcp_port());
  auto reply = c->connect();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, "CONNECTED");
}

TEST(ConnectionLimits, PerIpLimitCountsOneAddressOnly) {
  auto cfg = loopback_config();
  cfg.max_connections_per_ip = 1;
  test_server s(cfg);
  auto first = make_tcp_client(s.tcp_port());
  ASSERT_TRUE(first->connect());

  raw_socket same(s.tcp_port());
  EXPECT_EQ(same.read().rfind("ERROR\nmessage:too many connections\n", 0), 0u);
  const auto [status, body] = try_upgrade(s.ws_port(), "");
  EXPECT_EQ(status, 503);
  EXPECT_NE(body.find("address"), std::string::npos) << body;

  // Another loopback address is another client.
  raw_socket other(s.tcp_port(), "127.0.0.2");
  ASSERT_TRUE(other.connected());
  other.send("CONNECT\naccept-version:1.2\nhost:h\n\n" + std::string(1, '\0'));
  EXPECT_EQ(other.read("\n\n").rfind("CONNECTED\n", 0), 0u);
  EXPECT_TRUE(receipt_works(*first, "still"));
}

TEST(ConnectionLimits, UserOverItsSessionLimitGetsErrorAtConnect) {
  broker::config bcfg;
  bcfg.max_connections_per_user = 1;
  test_server s(loopback_config(), bcfg);
  auto a = make_tcp_client(s.tcp_port());
  auto a_reply = a->connect({}, "alice");
  ASSERT_TRUE(a_reply);
  ASSERT_EQ(a_reply->command, "CONNECTED");
  auto again = make_ws_client(s.ws_port());
  auto refused = again->connect({}, "alice");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->command, "ERROR");
  EXPECT_EQ(refused->get("message"), "too many connections");
  EXPECT_TRUE(again->wait_closed());
  EXPECT_TRUE(receipt_works(*a, "a"));
}

TEST(ConnectionLimits, SendFloodGetsErrorThenClose) {
  broker::config bcfg;
  bcfg.send_rate = 1;  // the burst is all a test gets, however slow the machine
  bcfg.send_burst = 3;
  bcfg.send_rate_slows = false;  // send_rate_policy = "disconnect" (the default slows)
  test_server s(loopback_config(), bcfg);
  auto c = make_tcp_client(s.tcp_port());
  ASSERT_TRUE(c->connect());
  for (int i = 0; i < 10; ++i)
    c->send_frame(make_frame("SEND", {{"destination", "/topic/x"}}, "flood"));
  ASSERT_TRUE(c->wait_closed());
  const auto& frames = c->frames_before_close();
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.back().command, "ERROR");
  EXPECT_EQ(frames.back().get("message"), "send rate exceeded");
}

TEST(Origin, RulesOfTheCheck) {
  using transport::detail::origin_allowed;
  const std::vector<std::string> none;
  EXPECT_TRUE(origin_allowed("", "example.com", none));  // not a browser
  EXPECT_TRUE(origin_allowed("https://example.com", "example.com", none));
  EXPECT_TRUE(origin_allowed("https://example.com", "example.com:443", none));
  EXPECT_TRUE(origin_allowed("http://EXAMPLE.com:8080", "example.com:8080", none));
  EXPECT_FALSE(origin_allowed("http://example.com:8080", "example.com:9090", none));
  EXPECT_FALSE(origin_allowed("https://example.com", "example.com:80", none));
  EXPECT_FALSE(origin_allowed("https://evil.example", "example.com", none));
  EXPECT_FALSE(origin_allowed("https://example.com.evil.example", "example.com", none));
  EXPECT_FALSE(origin_allowed("null", "example.com", none));
  EXPECT_TRUE(origin_allowed("http://[::1]:15674", "[::1]:15674", none));
  const std::vector<std::string> listed{"https://app.example.com/", "null"};
  EXPECT_TRUE(origin_allowed("https://app.example.com", "api.example.com", listed));
  EXPECT_TRUE(origin_allowed("null", "api.example.com", listed));
  EXPECT_FALSE(origin_allowed("http://app.example.com", "api.example.com", listed));
  EXPECT_TRUE(origin_allowed("https://anything.example", "h", {"*"}));
}

TEST(Origin, LoopbackPagesOnlyWhenAskedFor) {
  using transport::detail::origin_allowed;
  const std::vector<std::string> none;
  for (const char* page : {"http://localhost:3000", "https://LOCALHOST:3443/", "http://127.0.0.1",
                           "http://127.0.0.1:5173", "http://[::1]:8080", "https://[::1]"}) {
    EXPECT_TRUE(origin_allowed(page, "127.0.0.1:15674", none, true)) << page;
    EXPECT_FALSE(origin_allowed(page, "127.0.0.1:15674", none, false)) << page;
  }
  for (const char* page : {"http://localhost.evil.example:3000", "http://127.0.0.1.evil.example",
                           "ws://localhost:3000", "file://localhost", "http://localhost:3000/x",
                           "http://localhost:30x0", "http://127.0.0.2:3000", "null"}) {
    EXPECT_FALSE(origin_allowed(page, "127.0.0.1:15674", none, true)) << page;
  }
}

TEST(Origin, RefusalDetailNamesOriginHostAndSettingEscaped) {
  const auto text = transport::detail::origin_refusal_detail("http://x\x1b[2J:3000", "h\r\n");
  EXPECT_EQ(text, "Origin \"http://x\\x1b[2J:3000\", Host \"h\\r\\n\": allow it with "
                  "websocket.allowed_origins or --allowed-origin");
}

TEST(Origin, CrossSiteUpgradeIsRefusedWith403) {
  test_server s;
  const auto port = std::to_string(s.ws_port());
  EXPECT_EQ(try_upgrade(s.ws_port(), "https://evil.example").first, 403);
  EXPECT_EQ(try_upgrade(s.ws_port(), "http://127.0.0.1:" + port).first, 101);  // same host
  EXPECT_EQ(try_upgrade(s.ws_port(), "").first, 101);  // no Origin: not a browser
  EXPECT_EQ(s.server().statistics().refused[static_cast<std::size_t>(
                transport::refusal::origin)].load(), 1u);
}

TEST(Origin, ListedOriginsAndStar) {
  auto cfg = loopback_config();
  cfg.allowed_origins = {"https://app.example.com"};
  test_server listed(cfg);
  EXPECT_EQ(try_upgrade(listed.ws_port(), "https://app.example.com").first, 101);
  EXPECT_EQ(try_upgrade(listed.ws_port(), "https://other.example.com").first, 403);
  cfg.allowed_origins = {"*"};
  test_server any(cfg);
  EXPECT_EQ(try_upgrade(any.ws_port(), "https://other.example.com").first, 101);
}

TEST(HeaderBomb, UpgradeWithHeadersOverTheLimitIsClosedWithoutUpgrade) {
  auto cfg = loopback_config();
  cfg.max_handshake_bytes = 4096;
  test_server s(cfg);
  raw_socket c(s.ws_port());
  std::string req = upgrade_request(s.ws_port(), "");
  std::string bomb;
  for (int i = 0; i < 200; ++i) bomb += "X-Bomb-" + std::to_string(i) + ": " + std::string(40, 'b') + "\r\n";
  req.insert(req.size() - 2, bomb);
  c.send(req);
  bool timed_out = false;
  const std::string reply = c.read({}, &timed_out);
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(reply.find("101"), std::string::npos) << reply;
  // The server is still fine.
  EXPECT_EQ(try_upgrade(s.ws_port(), "").first, 101);
}

std::string write_temp_toml(const std::string& text) {
  const std::string path = ::testing::TempDir() + "limits-" + std::to_string(::getpid()) + ".toml";
  std::ofstream(path) << text;
  return path;
}

TEST(LimitsConfig, KeysLoadFromTheFile) {
  app::settings s;
  app::load_config_file(write_temp_toml(R"(
[websocket]
allowed_origins = ["https://app.example.com", "null"]
[limits]
max_connections = 10
max_connections_per_ip = 3
max_connections_per_user = 2
send_rate = 50
send_burst = 75.5
send_rate_policy = "disconnect"
[metrics]
enabled = false
host = "0.0.0.0"
port = 9999
[log]
format = "json"
)"),
                        s);
  EXPECT_EQ(s.server.allowed_origins,
            (std::vector<std::string>{"https://app.example.com", "null"}));
  EXPECT_EQ(s.server.max_connections, 10u);
  EXPECT_EQ(s.server.max_connections_per_ip, 3u);
  EXPECT_EQ(s.broker.max_connections_per_user, 2u);
  EXPECT_EQ(s.broker.send_rate, 50.0);
  EXPECT_EQ(s.broker.send_burst, 75.5);
  EXPECT_FALSE(s.broker.send_rate_slows);
  EXPECT_FALSE(s.metrics.enabled);
  EXPECT_EQ(s.metrics.host, "0.0.0.0");
  EXPECT_EQ(s.metrics.port, 9999);
  EXPECT_EQ(s.log_format, "json");
}

TEST(LimitsConfig, BadValuesAreRefused) {
  app::settings s;
  EXPECT_THROW(app::load_config_file(write_temp_toml("[log]\nformat = \"xml\"\n"), s),
               app::config_error);
  EXPECT_THROW(app::load_config_file(write_temp_toml("[limits]\nsend_rate = -1\n"), s),
               app::config_error);
  EXPECT_THROW(
      app::load_config_file(write_temp_toml("[limits]\nsend_rate_policy = \"drop\"\n"), s),
      app::config_error);
  EXPECT_THROW(
      app::load_config_file(write_temp_toml("[websocket]\nallowed_origins = \"*\"\n"), s),
      app::config_error);
}

TEST(LimitsConfig, InconsistentLimitsAreRefusedNamingBothKeys) {
  auto refusal = [](const std::string& toml) -> std::string {
    std::string file = write_temp_toml(toml);
    std::string program = "stompbox", flag = "--config";
    char* argv[] = {program.data(), flag.data(), file.data()};
    app::settings s;
    try {
      app::parse_command_line(3, argv, s);
    } catch (const app::config_error& e) {
      return e.what();
    }
    return "";
  };
  const std::string ws = refusal("[websocket]\nmax_message_bytes = 1048576\n");
  EXPECT_NE(ws.find("websocket.max_message_bytes"), std::string::npos) << ws;
  EXPECT_NE(ws.find("limits.max_frame_bytes"), std::string::npos) << ws;
  const std::string window = refusal("[queues]\nmax_pending_bytes = 65536\n");
  EXPECT_NE(window.find("store.delivery_window_bytes"), std::string::npos) << window;
  EXPECT_NE(window.find("queues.max_pending_bytes"), std::string::npos) << window;
  const std::string behind =
      refusal("[queues]\nmax_pending_bytes = 2097152\n[store]\ndelivery_window_bytes = 1048576\n");
  EXPECT_NE(behind.find("queues.max_pending_bytes"), std::string::npos) << behind;
  EXPECT_NE(behind.find("limits.max_frame_bytes"), std::string::npos) << behind;
  // Lowered together, they agree; the defaults agree.
  EXPECT_EQ(refusal("[websocket]\nmax_message_bytes = 70000\n[limits]\nmax_frame_bytes = "
                    "65536\nmax_body_bytes = 60000\n[queues]\nmax_pending_bytes = 65536\n"
                    "[store]\ndelivery_window_bytes = 65536\n"),
            "");
  EXPECT_EQ(refusal(""), "");
}

// --- the descriptor limit, in a child process whose RLIMIT_NOFILE is lowered ---------------

/// CPU seconds (user + system) used so far by process `pid`, from /proc.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(all.substr(all.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

[[noreturn]] void run_limited_server(int port_pipe) {
  rlimit limit{64, 64};
  ::setrlimit(RLIMIT_NOFILE, &limit);
  try {
    auto cfg = loopback_config();
    cfg.ws_enabled = false;
    broker::broker b{broker::config{}};
    boost::asio::io_context ioc(1);
    transport::server srv(ioc, b, cfg);
    srv.start();
    const std::uint16_t port = srv.tcp_port();
    (void)!::write(port_pipe, &port, sizeof port);
    ioc.run();
  } catch (...) {
    ::_exit(1);
  }
  ::_exit(0);
}

TEST(FdLimit, PeersOverTheDescriptorLimitAreRefusedCleanlyWithoutSpinning) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) run_limited_server(pipe_fds[1]);
  ::close(pipe_fds[1]);
  std::uint16_t port = 0;
  pollfd p{pipe_fds[0], POLLIN, 0};
  ASSERT_GT(::poll(&p, 1, static_cast<int>(patience.count())), 0);
  ASSERT_EQ(::read(pipe_fds[0], &port, sizeof port), static_cast<ssize_t>(sizeof port));
  ::close(pipe_fds[0]);

  const std::string connect = "CONNECT\naccept-version:1.2\nhost:h\n\n" + std::string(1, '\0');
  std::vector<std::unique_ptr<raw_socket>> open;
  std::string refusal;
  bool hung = false;
  for (int i = 0; i < 200 && refusal.empty() && !hung; ++i) {
    auto s = std::make_unique<raw_socket>(port);
    s->send(connect);
    const std::string reply = s->read("\n\n", &hung);
    if (reply.rfind("CONNECTED", 0) == 0) {
      open.push_back(std::move(s));
    } else {
      refusal = reply.empty() ? "(closed)" : reply;
    }
  }
  EXPECT_FALSE(hung) << "a connection at the limit got no answer";
  ASSERT_FALSE(refusal.empty()) << "never reached the descriptor limit";
  EXPECT_TRUE(refusal == "(closed)" || refusal.rfind("ERROR\nmessage:too many connections", 0) == 0)
      << refusal;
  EXPECT_GT(open.size(), 10u);

  // More peers knock while the server is at its limit: it must not busy-loop on accept().
  std::vector<std::unique_ptr<raw_socket>> knocking;
  for (int i = 0; i < 20; ++i) knocking.push_back(std::make_unique<raw_socket>(port));
  const double before = cpu_seconds(child);
  std::this_thread::sleep_for(1s);
  const double used = cpu_seconds(child) - before;
  EXPECT_LT(used, 0.5) << "the server used " << used << " s of CPU in 1 s at the limit";

  // Open connections keep working.
  open.front()->send("SEND\ndestination:/topic/x\nreceipt:r\n\nhi" + std::string(1, '\0'));
  EXPECT_EQ(open.front()->read("\n\n").rfind("RECEIPT", 0), 0u);

  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
}

}  // namespace
