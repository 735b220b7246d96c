// The operator endpoints: Prometheus text (a pure rendering of a snapshot, then the live
// listener after real traffic), /healthz, /readyz (503 when the store cannot write), the JSON log
// line format and the TLS certificate reload.
#include <array>
#include <filesystem>
#include <future>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/details/log_msg.h>

#include "app/logging.hpp"
#include "broker/store/sqlite_store.hpp"
#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"
#include "transport/detail/metrics_text.hpp"
#include "transport/metrics.hpp"

namespace {

using namespace test_support;
using namespace std::chrono_literals;

/// Sample lines of a Prometheus text by "name{labels}" (or "name").
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

TEST(MetricsText, FamiliesHaveHelpAndTypeAndPrefixedNames) {
  transport::detail::metrics_snapshot s;
  s.connections[0] = 3;  // ws
  s.refused[static_cast<std::size_t>(transport::refusal::origin)] = 2;
  s.frames_in[static_cast<std::size_t>(broker::client_command::send)] = 7;
  s.closes[static_cast<std::size_t>(broker::close_reason::heartbeat_timeout)] = 4;
  s.store.last_commit_latency = std::chrono::microseconds(1500);
  s.store.dropped_overflow = 5;
  s.store_writable = false;
  const std::string text = transport::detail::render_metrics(s);

  std::istringstream in(text);
  std::string line, help_of;
  std::map<std::string, std::string> types;
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      help_of = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t(line.substr(7));
      std::string name, type;
      t >> name >> type;
      EXPECT_EQ(name, help_of) << "TYPE without its HELP first: " << line;
      types[name] = type;
      const bool total = name.size() > 6 && name.substr(name.size() - 6) == "_total";
      EXPECT_EQ(total, type == "counter") << name;
      continue;
    }
    EXPECT_EQ(line.rfind("stompbox_", 0), 0u) << line;
    const std::string family = line.substr(0, line.find_first_of("{ "));
    EXPECT_TRUE(types.count(family)) << "sample before its TYPE: " << line;
  }
  const auto v = samples(text);
  EXPECT_EQ(v.at("stompbox_connections{transport=\"ws\"}"), 3);
  EXPECT_EQ(v.at("stompbox_connections{transport=\"sockjs\"}"), 0);
  EXPECT_EQ(v.at("stompbox_connections_refused_total{reason=\"origin\"}"), 2);
  EXPECT_EQ(v.at("stompbox_frames_in_total{command=\"SEND\"}"), 7);
  EXPECT_EQ(v.at("stompbox_session_closes_total{reason=\"heartbeat_timeout\"}"), 4);
  EXPECT_EQ(v.at("stompbox_heartbeat_disconnects_total"), 4);
  EXPECT_DOUBLE_EQ(v.at("stompbox_store_commit_latency_seconds"), 0.0015);
  EXPECT_EQ(v.at("stompbox_store_writable"), 0);
  EXPECT_EQ(v.at("stompbox_store_dropped_total{reason=\"overflow\"}"), 5);
}

/// A test_server plus the metrics listener on port 0, on an io_context of its own.
struct with_metrics {
  explicit with_metrics(broker::config bcfg = {}) : s(loopback_config(), std::move(bcfg)) {
    transport::metrics_config cfg;
    cfg.port = 0;
    metrics = std::make_unique<transport::metrics_server>(ioc, s.server(), s.broker(), cfg);
    metrics->start();
    thread = std::thread([this] { ioc.run(); });
  }
  ~with_metrics() {
    metrics->stop();
    ioc.stop();
    thread.join();
  }
  std::map<std::string, double> scrape() {
    auto [status, body] = http_get(metrics->port(), "/metrics");
    EXPECT_EQ(status, 200u);
    return samples(body);
  }

  test_server s;
  boost::asio::io_context ioc;
  std::unique_ptr<transport::metrics_server> metrics;
  std::thread thread;
};

TEST(MetricsEndpoint, CountersFollowTraffic) {
  with_metrics m;
  const auto before = m.scrape();
  auto sub = make_ws_client(m.s.ws_port());
  auto pub = make_tcp_client(m.s.tcp_port());
  ASSERT_TRUE(sub->connect());
  ASSERT_TRUE(pub->connect());
  sub->send_frame(make_frame("SUBSCRIBE", {{"id", "1"}, {"destination", "/topic/t"},
                                           {"receipt", "s"}}));
  ASSERT_TRUE(sub->read_frame());
  pub->send_frame(make_frame("SEND", {{"destination", "/topic/t"}, {"receipt", "p"}}, "x"));
  ASSERT_TRUE(pub->read_frame());
  ASSERT_TRUE(sub->read_frame());
  const auto after = m.scrape();

  EXPECT_EQ(after.at("stompbox_connections{transport=\"ws\"}"), 1);
  EXPECT_EQ(after.at("stompbox_connections{transport=\"tcp\"}"), 1);
  EXPECT_EQ(after.at("stompbox_sessions"), 2);
  EXPECT_EQ(after.at("stompbox_subscriptions"), 1);
  for (const char* counter :
       {"stompbox_frames_in_total{command=\"SEND\"}", "stompbox_frames_in_total{command=\"CONNECT\"}",
        "stompbox_frames_out_total{command=\"MESSAGE\"}", "stompbox_messages_published_total",
        "stompbox_messages_delivered_total", "stompbox_connections_accepted_total",
        "stompbox_sessions_opened_total"}) {
    EXPECT_GT(after.at(counter), before.at(counter)) << counter;
  }
  for (const char* present :
       {"stompbox_messages_dropped_total", "stompbox_messages_expired_total",
        "stompbox_messages_stored_total", "stompbox_store_appends_total",
        "stompbox_store_cancelled_total",
        "stompbox_slow_consumer_disconnects_total", "stompbox_auth_failures_total",
        "stompbox_connections_refused_total{reason=\"max_connections\"}",
        "stompbox_connections_refused_total{reason=\"fd_limit\"}",
        "stompbox_session_closes_total{reason=\"slow_consumer\"}"}) {
    EXPECT_TRUE(after.count(present)) << present;
  }

  pub.reset();
  const auto deadline = std::chrono::steady_clock::now() + patience;
  auto last = m.scrape();
  while (last.at("stompbox_session_closes_total{reason=\"peer_gone\"}") +
                 last.at("stompbox_session_closes_total{reason=\"normal\"}") ==
             0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    last = m.scrape();
  }
  EXPECT_EQ(last.at("stompbox_connections{transport=\"tcp\"}"), 0);
}

TEST(MetricsEndpoint, HealthAndReadiness) {
  with_metrics m;
  EXPECT_EQ(http_get(m.metrics->port(), "/healthz"), std::make_pair(200u, std::string("ok\n")));
  EXPECT_EQ(http_get(m.metrics->port(), "/readyz").first, 200u);
  EXPECT_EQ(m.scrape().at("stompbox_ready"), 1);  // the alerts' "not ready" reads this
  EXPECT_EQ(http_get(m.metrics->port(), "/nope").first, 404u);
  m.s.server().stop();
  EXPECT_EQ(http_get(m.metrics->port(), "/readyz").first, 503u);
  EXPECT_EQ(m.scrape().at("stompbox_ready"), 0);
  EXPECT_EQ(http_get(m.metrics->port(), "/healthz").first, 200u);
}

TEST(MetricsEndpoint, ShowsTheConnectionLimitAndVersion) {
  with_metrics m;
  const auto scraped = m.scrape();
  EXPECT_EQ(scraped.at("stompbox_connections_limit"),
            static_cast<double>(m.s.server().settings().max_connections));
  EXPECT_EQ(scraped.at(std::string("stompbox_build_info{version=\"") + transport::version() +
                       "\"}"),
            1);
}

TEST(MetricsEndpoint, StopClosesIdleKeepAliveConnections) {
  namespace net = boost::asio;
  namespace http = boost::beast::http;
  with_metrics m;
  net::io_context ioc;
  net::ip::tcp::socket scraper(ioc);
  scraper.connect({net::ip::make_address("127.0.0.1"), m.metrics->port()});
  http::request<http::empty_body> req(http::verb::get, "/healthz", 11);
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(true);
  http::write(scraper, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(scraper, buffer, res);
  ASSERT_TRUE(res.keep_alive());  // the server keeps the connection for the next scrape
  m.metrics->stop();
  // The idle connection is closed by stop(), not left to its read timeout.
  std::array<char, 16> byte{};
  boost::system::error_code ec;
  scraper.read_some(net::buffer(byte), ec);
  EXPECT_EQ(ec, net::error::eof);
}

TEST(MetricsEndpoint, NotReadyWhenTheStoreCannotWrite) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("stompbox-readyz-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  broker::store::sqlite_options o;
  o.data_dir = dir.string();
  o.max_page_count = 12;  // a few pages past the empty schema: "disk full" soon
  auto store = std::make_shared<broker::store::sqlite_store>(o);
  broker::config bcfg;
  bcfg.store = store;
  {
    with_metrics m(bcfg);
    EXPECT_EQ(http_get(m.metrics->port(), "/readyz").first, 200u);
    bool failed = false;
    for (int i = 0; i < 300 && !failed; ++i) {
      std::promise<std::error_code> done;
      store->append("q", "m" + std::to_string(i), std::string(1500, 'p'), 0,
                    [&](std::error_code ec, std::uint64_t) { done.set_value(ec); });
      failed = static_cast<bool>(done.get_future().get());
    }
    ASSERT_TRUE(failed) << "the tiny database never filled up";
    const auto [status, body] = http_get(m.metrics->port(), "/readyz");
    EXPECT_EQ(status, 503u);
    EXPECT_EQ(body, "store not writable\n");
    EXPECT_EQ(m.scrape().at("stompbox_store_writable"), 0);
  }
  store.reset();
  std::filesystem::remove_all(dir);
}

TEST(JsonLog, OneEscapedObjectPerLine) {
  app::json_log_formatter f;
  const std::string text = "quote \" backslash \\ newline \n tab \t bell \x07 bad \xff end";
  spdlog::details::log_msg msg("stompbox", spdlog::level::warn, text);
  spdlog::memory_buf_t buf;
  f.format(msg, buf);
  const std::string line(buf.data(), buf.size());
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line only";
  const std::regex shape(
      R"re(^\{"time":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z","level":"warning","thread":\d+,)re"
      R"re("message":"(.*)"\}\n$)re");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(line, m, shape)) << line;
  EXPECT_EQ(m[1].str(),
            R"(quote \" backslash \\ newline \n tab \t bell \u0007 bad \ufffd end)");
}

TEST(JsonLog, KeepsValidUtf8) {
  std::string out;
  app::append_json_escaped("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 \xc0\xaf \xed\xa0\x80", out);
  EXPECT_EQ(out, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd");
}

// --- TLS certificate reload --------------------------------------------------------------

/// The DER bytes of the certificate in PEM file `path`.
std::string der_of_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return {};
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  unsigned char* der = nullptr;
  const int n = i2d_X509(x, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  X509_free(x);
  return out;
}

/// The DER bytes of the certificate the server at `port` presents.
std::string der_presented(std::uint16_t port) {
  namespace net = boost::asio;
  net::io_context ioc;
  net::ssl::context ctx(net::ssl::context::tls_client);
  net::ssl::stream<net::ip::tcp::socket> s(ioc, ctx);
  s.next_layer().connect({net::ip::make_address("127.0.0.1"), port});
  s.handshake(net::ssl::stream_base::client);
  X509* x = SSL_get_peer_certificate(s.native_handle());
  unsigned char* der = nullptr;
  const int n = i2d_X509(x, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  X509_free(x);
  boost::system::error_code ignored;
  s.lowest_layer().close(ignored);
  return out;
}

TEST(TlsReload, NewConnectionsGetTheNewCertificateOldOnesKeepWorking) {
  namespace fs = std::filesystem;
  const auto a = make_self_signed_cert();
  const auto b = make_self_signed_cert();
  const std::string cert_a = der_of_file(a.cert), cert_b = der_of_file(b.cert);
  ASSERT_NE(cert_a, cert_b);
  auto cfg = loopback_config();
  cfg.tls_cert = a.cert;
  cfg.tls_key = a.key;
  {
    test_server s(cfg);
    EXPECT_EQ(der_presented(s.tcp_port()), cert_a);
    auto old = make_tcp_client(s.tcp_port(), true);
    ASSERT_TRUE(old->connect());

    // A broken renewal (key of another certificate) is refused; the old certificate stays.
    fs::copy_file(b.cert, a.cert, fs::copy_options::overwrite_existing);
    EXPECT_FALSE(s.server().reload_tls());
    EXPECT_EQ(der_presented(s.tcp_port()), cert_a);

    fs::copy_file(b.key, a.key, fs::copy_options::overwrite_existing);
    EXPECT_TRUE(s.server().reload_tls());
    EXPECT_EQ(der_presented(s.tcp_port()), cert_b);
    EXPECT_EQ(der_presented(s.ws_port()), cert_b);

    old->send_frame(make_frame("SEND", {{"destination", "/topic/x"}, {"receipt", "r"}}, "x"));
    auto r = old->read_frame();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->command, "RECEIPT");
  }
  fs::remove_all(a.dir);
  fs::remove_all(b.dir);
}

TEST(TlsDowngrade, ClientsBelowTls12AreRefused) {
  namespace net = boost::asio;
  const auto files = make_self_signed_cert();
  auto cfg = loopback_config();
  cfg.tls_cert = files.cert;
  cfg.tls_key = files.key;
  {
    test_server s(cfg);
    for (auto method : {net::ssl::context::tlsv1_client, net::ssl::context::tlsv11_client}) {
      net::io_context ioc;
      net::ssl::context ctx(method);
      // OpenSSL 3 hides TLS < 1.2 at its default security level: allow it for this client.
      SSL_CTX_set_security_level(ctx.native_handle(), 0);
      net::ssl::stream<net::ip::tcp::socket> c(ioc, ctx);
      c.next_layer().connect({net::ip::make_address("127.0.0.1"), s.tcp_port()});
      boost::system::error_code ec;
      c.handshake(net::ssl::stream_base::client, ec);
      EXPECT_TRUE(ec) << "a TLS 1.0/1.1 handshake succeeded";
    }
    EXPECT_FALSE(der_presented(s.tcp_port()).empty());  // TLS 1.2+ still works
  }
  std::filesystem::remove_all(files.dir);
}

TEST(TlsReload, WithoutTlsThereIsNothingToReload) {
  test_server s;
  EXPECT_FALSE(s.server().reload_tls());
}

}  // namespace
