// The binary's settings: TOML file, flags over it, errors for typos.
#include "app/config.hpp"

#include <filesystem>
#include <fstream>

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
tolerance = 2.5
[queues]
max_pending_bytes = 65536
slow_consumer_policy = "drop_oldest"
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
