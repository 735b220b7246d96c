// TLS on both listeners with a self-signed certificate made at test time.
#include <filesystem>
#include <future>

#include <gtest/gtest.h>

#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"

namespace {

using namespace test_support;

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = make_self_signed_cert();
    auto cfg = loopback_config();
    cfg.tls_cert = files_.cert;
    cfg.tls_key = files_.key;
    server_ = std::make_unique<test_server>(cfg);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(files_.dir);
  }
  tls_files files_;
  std::unique_ptr<test_server> server_;
};

TEST_F(Tls, SecureWebSocketCarriesStomp) {
  ws_options opts;
  opts.tls = true;
  auto sub = make_ws_client(server_->ws_port(), opts);
  ASSERT_TRUE(sub->connect());
  EXPECT_EQ(subprotocol_of(*sub), "v12.stomp");
  sub->send_frame(make_frame("SUBSCRIBE", {{"id", "1"}, {"destination", "/topic/t"},
                                           {"receipt", "r"}}));
  ASSERT_TRUE(sub->read_frame());
  auto pub = make_tcp_client(server_->tcp_port(), true);
  ASSERT_TRUE(pub->connect());
  pub->send_frame(make_frame("SEND", {{"destination", "/topic/t"}}, "over tls"));
  auto m = sub->read_frame();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body, "over tls");
}

TEST_F(Tls, StompOverTlsConnects) {
  auto c = make_tcp_client(server_->tcp_port(), true);
  auto reply = c->connect();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, "CONNECTED");
}

TEST_F(Tls, ShutdownClosesSecureWebSocketWith1001) {
  ws_options opts;
  opts.tls = true;
  auto c = make_ws_client(server_->ws_port(), opts);
  ASSERT_TRUE(c->connect());
  auto stopped = std::async(std::launch::async, [&] { return server_->stop(); });
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(c->close_code(), 1001);
  EXPECT_TRUE(stopped.get());
}

TEST(TlsConfig, MissingCertificateFailsAtStart) {
  auto cfg = loopback_config();
  cfg.tls_cert = "/nonexistent/cert.pem";
  cfg.tls_key = "/nonexistent/key.pem";
  EXPECT_THROW(test_server s(cfg), std::runtime_error);
}

}  // namespace
