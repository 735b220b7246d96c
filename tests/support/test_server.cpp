#include "tests/support/test_server.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>

namespace test_support {

transport::server_config loopback_config() {
  transport::server_config cfg;
  cfg.ws_host = cfg.tcp_host = "127.0.0.1";
  cfg.ws_port = cfg.tcp_port = 0;
  return cfg;
}

test_server::test_server(transport::server_config cfg, broker::config bcfg, int threads)
    : broker_(std::make_unique<broker::broker>(std::move(bcfg))),
      server_(std::make_unique<transport::server>(ioc_, *broker_, std::move(cfg))) {
  server_->start();  // bound and listening when this returns
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
}

test_server::~test_server() { stop(); }

bool test_server::stop() {
  if (stopped_) return true;
  stopped_ = true;
  server_->stop();
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!ioc_.stopped() && std::chrono::steady_clock::now() < limit)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const bool clean = ioc_.stopped();
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  broker_->stop_logins();  // a login answer holds a connection of ioc_: done before ioc_ goes
  return clean;
}

tls_files make_self_signed_cert() {
  namespace fs = std::filesystem;
  static int counter = 0;
  const auto dir = fs::temp_directory_path() /
                   ("stompbox-tls-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  fs::create_directories(dir);
  tls_files out{dir.string(), (dir / "cert.pem").string(), (dir / "key.pem").string()};
  const std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout '" + out.key +
      "' -out '" + out.cert + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl req failed: " + cmd);
  return out;
}

}  // namespace test_support
