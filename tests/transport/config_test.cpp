// The binary's settings: TOML file, flags over it, errors for typos.
#include "app/config.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

class Config : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    path_ = fs::temp_directory_path() / ("stompbox-config-" + std::to_string(::getpid()) + ".toml");
    std::ofstream(path_) << text;
    return path_.string();
  }
  void TearDown() override { fs::remove(path_); }
  fs::path path_;
};

TEST_F(Config, FileSetsEveryGroup) {
  app::settings s;
  app::load_config_file(write(R"(
[server]
name = "edge-1"
threads = 3
[websocket]
host = "127.0.0.1"
port = 8080
path = "/stomp"
token_cookie = "tok"
[tcp]
enabled = false
port = 7000
[tls]
cert = "c.pem"
key = "k.pem"
[limits]
max_frame_bytes = 1000
max_subscriptions_per_session = 5
[limits.pre_connect]
max_frame_bytes = 500
[timeouts]
connect_ms = 1500
[heartbeat]
send_ms = 2000
min_ms = 250
tolerance = 2.5
[queues]
max_pending_bytes = 65536
slow_consumer_policy = "drop_oldest"
[store]
delivery_window_bytes = 65536
[log]
level = "debug"
)"), s);
  EXPECT_EQ(s.broker.server, "edge-1");
  EXPECT_EQ(s.threads, 3u);
  EXPECT_EQ(s.server.ws_host, "127.0.0.1");
  EXPECT_EQ(s.server.ws_port, 8080);
  EXPECT_EQ(s.server.ws_path, "/stomp");
  EXPECT_EQ(s.server.token_cookie, "tok");
  EXPECT_FALSE(s.server.tcp_enabled);
  EXPECT_EQ(s.server.tcp_port, 7000);
  EXPECT_EQ(s.server.tls_cert, "c.pem");
  EXPECT_EQ(s.broker.frame_limits.max_frame, 1000u);
  EXPECT_EQ(s.broker.pre_connect_limits.max_frame, 500u);
  EXPECT_EQ(s.broker.max_subscriptions_per_session, 5u);
  EXPECT_EQ(s.server.connect_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(s.broker.heartbeat_send, std::chrono::milliseconds(2000));
  EXPECT_DOUBLE_EQ(s.broker.heartbeat_tolerance, 2.5);
  EXPECT_EQ(s.broker.heartbeat_min, std::chrono::milliseconds(250));
  EXPECT_EQ(s.server.max_pending_bytes, 65536u);
  EXPECT_EQ(s.server.slow_consumer, transport::slow_consumer_policy::drop_oldest);
  EXPECT_EQ(s.log_level, "debug");
  // Untouched keys keep their defaults.
  EXPECT_EQ(s.broker.heartbeat_receive, std::chrono::milliseconds(10'000));
  EXPECT_EQ(s.server.max_message_bytes, 4u * 1024 * 1024 + 64 * 1024);
}

TEST_F(Config, UnknownKeyOrTableIsAnError) {
  app::settings s;
  EXPECT_THROW(app::load_config_file(write("[websocket]\nprot = 1\n"), s), app::config_error);
  EXPECT_THROW(app::load_config_file(write("[websockets]\nport = 1\n"), s), app::config_error);
  EXPECT_THROW(app::load_config_file(write("port = 1\n"), s), app::config_error);
}

TEST_F(Config, WrongTypeOrRangeIsAnError) {
  app::settings s;
  EXPECT_THROW(app::load_config_file(write("[websocket]\nport = \"x\"\n"), s), app::config_error);
  EXPECT_THROW(app::load_config_file(write("[websocket]\nport = 70000\n"), s), app::config_error);
  EXPECT_THROW(app::load_config_file(write("[queues]\nslow_consumer_policy = \"x\"\n"), s),
               app::config_error);
  EXPECT_THROW(app::load_config_file(write("[tcp\n"), s), app::config_error);
}

TEST_F(Config, HistoryTablesAreReadInOrderAndChecked) {
  app::settings s;
  app::load_config_file(write("[[history]]\npattern = \"/topic/room.*\"\nmax_messages = 50\n"
                              "max_age_seconds = 60\n[[history]]\npattern = \"/topic//a\"\n"),
                        s);
  ASSERT_EQ(s.broker.history.size(), 2u);
  EXPECT_EQ(s.broker.history[0].pattern, "/topic/room.*");
  EXPECT_EQ(s.broker.history[0].max_messages, 50u);
  EXPECT_EQ(s.broker.history[0].max_age, std::chrono::seconds(60));
  EXPECT_EQ(s.broker.history[1].pattern, "/topic/a");  // canonical
  EXPECT_EQ(s.broker.history[1].max_messages, 1000u);  // defaults
  EXPECT_EQ(s.broker.history[1].max_age, std::chrono::seconds(300));
  EXPECT_TRUE(app::settings{}.broker.history.empty());  // none by default
  for (const char* bad : {
           "[history]\npattern = \"/topic/a\"\n",                      // a table, not tables
           "[[history]]\nmax_messages = 5\n",                             // no pattern
           "[[history]]\npattern = \"/queue/a\"\n",                     // not a topic
           "[[history]]\npattern = \"/topic/a..b\"\n",                  // not a destination
           "[[history]]\npattern = \"/topic/a\"\nmax_messages = 0\n",  // at least 1
           "[[history]]\npattern = \"/topic/a\"\nmax_age_seconds = -1\n",
           "[[history]]\npattern = \"/topic/a\"\nmax_mesages = 5\n"}) {  // typo
    app::settings t;
    EXPECT_THROW(app::load_config_file(write(bad), t), app::config_error) << bad;
  }
}

// Shared in Redis then (cluster::redis_history, cluster.topic_recovery); a node's bound on the
// live messages a recovering SUBSCRIBE holds meanwhile is [limits] max_recovery_held_bytes.
TEST_F(Config, HistoryIsSharedWithAClusterAndItsRecoveryHoldIsBounded) {
  const auto file = write("[[history]]\npattern = \"/topic/a\"\n"
                          "[limits]\nmax_recovery_held_bytes = 12345\n");
  std::vector<std::string> args{"stompbox", "--config", file, "--cluster-redis",
                                "redis://127.0.0.1:6379"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app::settings s;
  app::parse_command_line(static_cast<int>(argv.size()), argv.data(), s);
  EXPECT_EQ(s.broker.history.size(), 1u);
  EXPECT_EQ(s.broker.max_recovery_held_bytes, 12345u);
  EXPECT_EQ(app::settings{}.broker.max_recovery_held_bytes, 4u * 1024 * 1024);  // default
}

TEST_F(Config, FlagsOverrideTheFile) {
  const auto file = write("[websocket]\nport = 1111\npath = \"/a\"\n[tcp]\nport = 2222\n");
  std::vector<std::string> args{"stompbox", "--config", file, "--ws", "127.0.0.1:3333",
                                "--threads", "2"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app::settings s;
  EXPECT_FALSE(app::parse_command_line(static_cast<int>(argv.size()), argv.data(), s));
  EXPECT_EQ(s.server.ws_host, "127.0.0.1");
  EXPECT_EQ(s.server.ws_port, 3333);
  EXPECT_EQ(s.server.ws_path, "/a");
  EXPECT_EQ(s.server.tcp_port, 2222);
  EXPECT_EQ(s.threads, 2u);
}

// docs/configuration.md shows a complete file with every key at its default: it must load, and
// change nothing.
TEST_F(Config, DocumentedFileLoadsAndHoldsTheDefaults) {
  std::ifstream doc(std::string(STOMPBOX_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(doc);
  const std::string text((std::istreambuf_iterator<char>(doc)), std::istreambuf_iterator<char>());
  const auto begin = text.find("```toml\n");
  ASSERT_NE(begin, std::string::npos);
  const auto end = text.find("```", begin + 8);
  app::settings s;
  app::load_config_file(write(text.substr(begin + 8, end - begin - 8)), s);
  const app::settings d;
  EXPECT_EQ(s.broker.server, d.broker.server);
  EXPECT_EQ(s.threads, d.threads);
  EXPECT_EQ(s.cluster_min_replicas, d.cluster_min_replicas);
  EXPECT_EQ(s.cluster_min_replicas_timeout, d.cluster_min_replicas_timeout);
  EXPECT_EQ(s.server.ws_host, d.server.ws_host);
  EXPECT_EQ(s.server.ws_port, d.server.ws_port);
  EXPECT_EQ(s.server.ws_path, d.server.ws_path);
  EXPECT_EQ(s.server.token_cookie, d.server.token_cookie);
  EXPECT_EQ(s.server.max_handshake_bytes, d.server.max_handshake_bytes);
  EXPECT_EQ(s.server.max_message_bytes, d.server.max_message_bytes);
  EXPECT_EQ(s.server.tcp_host, d.server.tcp_host);
  EXPECT_EQ(s.server.tcp_port, d.server.tcp_port);
  EXPECT_EQ(s.server.tcp_read_chunk, d.server.tcp_read_chunk);
  EXPECT_EQ(s.server.listen_backlog, d.server.listen_backlog);
  EXPECT_EQ(s.server.handshake_timeout, d.server.handshake_timeout);
  EXPECT_EQ(s.server.connect_timeout, d.server.connect_timeout);
  EXPECT_EQ(s.server.close_timeout, d.server.close_timeout);
  EXPECT_EQ(s.server.max_pending_bytes, d.server.max_pending_bytes);
  EXPECT_EQ(s.server.slow_consumer, d.server.slow_consumer);
  for (auto [got, want] : {std::pair{s.broker.frame_limits, d.broker.frame_limits},
                           std::pair{s.broker.pre_connect_limits, d.broker.pre_connect_limits}}) {
    EXPECT_EQ(got.max_command, want.max_command);
    EXPECT_EQ(got.max_header_line, want.max_header_line);
    EXPECT_EQ(got.max_headers, want.max_headers);
    EXPECT_EQ(got.max_body, want.max_body);
    EXPECT_EQ(got.max_frame, want.max_frame);
  }
  EXPECT_EQ(s.broker.max_subscriptions_per_session, d.broker.max_subscriptions_per_session);
  EXPECT_EQ(s.broker.max_transaction_frames, d.broker.max_transaction_frames);
  EXPECT_EQ(s.broker.heartbeat_send, d.broker.heartbeat_send);
  EXPECT_EQ(s.broker.heartbeat_receive, d.broker.heartbeat_receive);
  EXPECT_DOUBLE_EQ(s.broker.heartbeat_tolerance, d.broker.heartbeat_tolerance);
  EXPECT_EQ(s.broker.heartbeat_min, std::chrono::milliseconds(1000));
  EXPECT_EQ(s.broker.queue_max_messages, d.broker.queue_max_messages);
  EXPECT_EQ(s.broker.queue_max_bytes, d.broker.queue_max_bytes);
  EXPECT_EQ(s.broker.max_transaction_bytes, d.broker.max_transaction_bytes);
  EXPECT_EQ(s.broker.max_transactions_per_session, d.broker.max_transactions_per_session);
  EXPECT_EQ(s.broker.max_session_held_bytes, d.broker.max_session_held_bytes);
  EXPECT_EQ(s.broker.max_held_bytes, d.broker.max_held_bytes);
  EXPECT_EQ(s.broker.stamp_sender, d.broker.stamp_sender);
  EXPECT_EQ(s.broker.sender_header, d.broker.sender_header);
  EXPECT_EQ(s.log_level, d.log_level);
  EXPECT_EQ(s.server.trusted_proxies, d.server.trusted_proxies);
  EXPECT_EQ(s.server.ws_proxy_protocol, d.server.ws_proxy_protocol);
  EXPECT_EQ(s.server.tcp_proxy_protocol, d.server.tcp_proxy_protocol);
}

// [proxies] trusted and the proxy_protocol switches; an entry that is neither an address nor a
// CIDR range stops start-up with the entry named.
TEST_F(Config, ProxiesAreReadAndBadRangesRefused) {
  app::settings s;
  EXPECT_TRUE(s.server.trusted_proxies.empty());
  EXPECT_FALSE(s.server.ws_proxy_protocol);
  EXPECT_FALSE(s.server.tcp_proxy_protocol);
  app::load_config_file(write("[proxies]\ntrusted = [\"10.0.0.0/8\", \"127.0.0.1\", \"fd00::/8\"]\n"
                              "[websocket]\nproxy_protocol = true\n[tcp]\nproxy_protocol = true\n"),
                        s);
  EXPECT_EQ(s.server.trusted_proxies,
            (std::vector<std::string>{"10.0.0.0/8", "127.0.0.1", "fd00::/8"}));
  EXPECT_TRUE(s.server.ws_proxy_protocol);
  EXPECT_TRUE(s.server.tcp_proxy_protocol);
  for (const char* bad : {"10.0.0.0/33", "proxy.example.com", "10.0.0.1:80"}) {
    try {
      app::settings t;
      app::load_config_file(write(std::string("[proxies]\ntrusted = [\"") + bad + "\"]\n"), t);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const app::config_error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("proxies.trusted: '") + bad + "'"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_THROW(app::load_config_file(write("[proxies]\ntrusted = \"10.0.0.0/8\"\n"), s),
               app::config_error);
  EXPECT_THROW(app::load_config_file(write("[tcp]\nproxy_protocol = 1\n"), s), app::config_error);
}

TEST_F(Config, SenderStampingIsReadAndItsHeaderChecked) {
  const app::settings d;
  EXPECT_FALSE(d.broker.stamp_sender);
  EXPECT_EQ(d.broker.sender_header, "user-name");
  app::settings s;
  app::load_config_file(write("[messages]\nstamp_sender = true\nsender_header = \"x-sender\"\n"),
                        s);
  EXPECT_TRUE(s.broker.stamp_sender);
  EXPECT_EQ(s.broker.sender_header, "x-sender");
  for (const char* bad : {"destination", "message-id", "a b", ""}) {
    app::settings t;
    EXPECT_THROW(app::load_config_file(
                     write(std::string("[messages]\nsender_header = \"") + bad + "\"\n"), t),
                 app::config_error)
        << bad;
  }
}

// Each byte budget holds at least one frame of limits.max_frame_bytes (or is 0): checked at
// start-up, with both knobs named.
TEST_F(Config, ByteBudgetsSmallerThanOneFrameAreRefused) {
  const auto run = [this](const std::string& toml) {
    const auto file = write(toml);
    std::vector<std::string> args{"stompbox", "--config", file};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    app::settings s;
    app::parse_command_line(static_cast<int>(argv.size()), argv.data(), s);
    return s;
  };
  for (const char* key : {"[queues]\nmax_bytes", "[limits]\nmax_transaction_bytes",
                          "[limits]\nmax_session_held_bytes", "[limits]\nmax_held_bytes"}) {
    try {
      run(std::string(key) + " = 1000000\n");
      ADD_FAILURE() << key << " below one frame was accepted";
    } catch (const app::config_error& e) {
      EXPECT_NE(std::string(e.what()).find("limits.max_frame_bytes"), std::string::npos);
    }
  }
  const app::settings s = run(
      "[limits]\nmax_frame_bytes = 65536\nmax_body_bytes = 60000\nmax_transaction_bytes = "
      "65536\nmax_transactions_per_session = 3\nmax_session_held_bytes = 0\n"
      "max_held_bytes = 100000\n[queues]\nmax_bytes = 70000\n");
  EXPECT_EQ(s.broker.max_transaction_bytes, 65536u);
  EXPECT_EQ(s.broker.max_transactions_per_session, 3u);
  EXPECT_EQ(s.broker.max_session_held_bytes, 0u);
  EXPECT_EQ(s.broker.max_held_bytes, 100000u);
  EXPECT_EQ(s.broker.queue_max_bytes, 70000u);
}

TEST(HostPort, SplitsAndRejects) {
  std::string host;
  std::uint16_t port = 0;
  app::split_host_port("[::1]:61613", host, port);
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 61613);
  EXPECT_THROW(app::split_host_port("nohost", host, port), app::config_error);
  EXPECT_THROW(app::split_host_port("h:99999", host, port), app::config_error);
  EXPECT_THROW(app::split_host_port("h:12x", host, port), app::config_error);
}

}  // namespace
