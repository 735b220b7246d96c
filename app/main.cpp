// The stompbox binary: wiring only. Settings come from app/config; behaviour from the modules.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "app/config.hpp"
#include "broker/broker.hpp"
#include "transport/server.hpp"

namespace {

namespace net = boost::asio;

// After SIGTERM/SIGINT: wait for the connections to close (WebSocket 1001, flushed), at most
// this long, then stop the io_context regardless.
constexpr auto shutdown_grace = std::chrono::seconds(5);

/// Polls until every connection has closed or the grace period is over.
void wait_for_drain(net::steady_timer& timer, transport::server& server, net::io_context& ioc,
                    std::chrono::steady_clock::time_point deadline) {
  if (server.connection_count() == 0) return;  // nothing left: io_context runs out of work
  if (std::chrono::steady_clock::now() >= deadline) {
    spdlog::warn("{} connections still open after the grace period", server.connection_count());
    ioc.stop();
    return;
  }
  timer.expires_after(std::chrono::milliseconds(20));
  timer.async_wait([&timer, &server, &ioc, deadline](const boost::system::error_code& ec) {
    if (!ec) wait_for_drain(timer, server, ioc, deadline);
  });
}

int run(const app::settings& s) {
  // The broker outlives the io_context: handlers still queued at exit hold connections, whose
  // sessions need the broker when they are destroyed.
  broker::broker broker(s.broker);
  net::io_context ioc(static_cast<int>(s.threads));
  transport::server server(ioc, broker, s.server);
  server.start();  // throws when a port cannot be bound
  const char* scheme = s.server.tls_cert.empty() ? "" : "s";
  if (s.server.ws_enabled)
    spdlog::info("listening: STOMP over WebSocket at ws{}://{}:{}{}", scheme, s.server.ws_host,
                 server.ws_port(), s.server.ws_path);
  if (s.server.tcp_enabled)
    spdlog::info("listening: STOMP over TCP{} at {}:{}", *scheme ? "+TLS" : "", s.server.tcp_host,
                 server.tcp_port());

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  net::steady_timer drain(ioc);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: stopping", sig);
    server.stop();
    wait_for_drain(drain, server, ioc, std::chrono::steady_clock::now() + shutdown_grace);
  });

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < s.threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Later: the `stompbox passwd` subcommand is dispatched here, before the server flags are
  // parsed (argv[1] == "passwd").
  app::settings settings;
  try {
    if (auto code = app::parse_command_line(argc, argv, settings)) return *code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stompbox: %s\n", e.what());
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(settings.log_level));
  try {
    return run(settings);
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
}
