#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "broker/broker.hpp"
#include "transport/server.hpp"

namespace test_support {

/// transport::server_config for tests: both listeners on 127.0.0.1, port 0.
transport::server_config loopback_config();

/// The real broker and server in-process, on an io_context run by background threads. Ready
/// (bound and accepting) when the constructor returns. The destructor stops everything.
class test_server {
 public:
  explicit test_server(transport::server_config cfg = loopback_config(),
                       broker::config bcfg = {}, int threads = 2);
  ~test_server();
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  std::uint16_t ws_port() const { return server_->ws_port(); }
  std::uint16_t tcp_port() const { return server_->tcp_port(); }
  transport::server& server() { return *server_; }
  broker::broker& broker() { return *broker_; }

  /// server.stop(), then waits until the io_context runs out of work. True when it did on its
  /// own (every connection closed), false when it had to be stopped after a generous limit.
  bool stop();

 private:
  // Order matters: the io_context (and any connection its handlers still hold) goes before
  // the broker.
  std::unique_ptr<broker::broker> broker_;
  boost::asio::io_context ioc_;
  std::unique_ptr<transport::server> server_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

/// A self-signed certificate and key (PEM) made with the openssl CLI in a fresh temp directory.
struct tls_files {
  std::string dir;
  std::string cert;
  std::string key;
};
tls_files make_self_signed_cert();

}  // namespace test_support
