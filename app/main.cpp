// The stompbox binary: wiring only. Settings come from app/config; behaviour from the modules.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include <termios.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "app/config.hpp"
#include "app/logging.hpp"
#include "app/reload.hpp"
#include "app/wiring.hpp"
#include "auth/password.hpp"
#include "broker/broker.hpp"
#include "cluster/redis_history.hpp"
#include "cluster/redis_link.hpp"
#include "transport/server.hpp"

namespace {

namespace net = boost::asio;

// After SIGTERM/SIGINT: wait for the connections to close (WebSocket 1001, flushed), at most
// the close timeout plus this, then stop the cluster link and the io_context regardless. A
// peer that never answers our close is cut at the close timeout; the margin lets its session's
// last give-backs reach Redis before the link goes (equal timeouts raced: cluster.queue_competing).
constexpr auto shutdown_margin = std::chrono::seconds(1);

/// Polls until every connection has closed or the grace period is over, then runs `done`.
void wait_for_drain(net::steady_timer& timer, transport::server& server,
                    std::chrono::steady_clock::time_point deadline, std::function<void()> done) {
  if (server.connection_count() == 0) return done();
  if (std::chrono::steady_clock::now() >= deadline) {
    spdlog::warn("{} connections still open after the grace period", server.connection_count());
    return done();
  }
  timer.expires_after(std::chrono::milliseconds(20));
  timer.async_wait([&timer, &server, deadline, done = std::move(done)](
                       const boost::system::error_code& ec) {
    if (!ec) wait_for_drain(timer, server, deadline, done);
  });
}

// The broker owns no timers: token expiry and queue expiry run from here, once a second.
void schedule_tick(net::steady_timer& timer, broker::broker& broker) {
  timer.expires_after(std::chrono::seconds(1));
  timer.async_wait([&timer, &broker](const boost::system::error_code& ec) {
    if (ec) return;
    broker.tick();
    schedule_tick(timer, broker);
  });
}

/// With --cluster-redis: the link to the other nodes over Redis, started and attached to `b`.
std::shared_ptr<cluster::redis_link> start_cluster(net::io_context& ioc, broker::broker& b,
                                                   const app::settings& s) {
  if (s.cluster_redis.empty()) return nullptr;
  const cluster::redis::options& ep = s.cluster_redis_options;  // parsed with the settings
  auto link = std::make_shared<cluster::redis_link>(
      ioc, ep, b,
      cluster::link_options{.queue_claim_after = s.cluster_queue_claim,
                            .min_replicas = static_cast<int>(s.cluster_min_replicas),
                            .min_replicas_timeout = s.cluster_min_replicas_timeout});
  link->start();
  b.attach_cluster(link);
  spdlog::info("cluster: node {} on {}", link->node_id(), cluster::redis::printable(ep));
  return link;
}

/// `stompbox passwd`: reads a password on stdin (not echoed on a terminal), prints its hash.
int passwd(int argc) {
  if (argc > 2) {
    std::fprintf(stderr, "usage: stompbox passwd  (reads the password on standard input)\n");
    return 2;
  }
  termios saved{};
  const bool tty = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (tty) {
    std::fprintf(stderr, "password: ");
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  const int code = auth::passwd_main(std::cin, std::cout, std::cerr);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fprintf(stderr, "\n");
  }
  return code;
}

int run(const app::settings& s) {
  // In a cluster the topic history is shared in Redis (one source of truth), not in memory.
  broker::config broker_config = s.broker;
  std::shared_ptr<cluster::redis_history> shared_history;
  if (!s.cluster_redis.empty() && !s.broker.history.empty()) {
    shared_history = std::make_shared<cluster::redis_history>(s.broker.history,
                                                              s.cluster_redis_options.db);
    broker_config.history_store = shared_history;
  }
  // The broker outlives the io_context: handlers still queued at exit hold connections, whose
  // sessions need the broker when they are destroyed.
  broker::broker broker(std::move(broker_config));
  // One event loop per I/O thread. This one (the main thread's) also runs the timers, signals,
  // the cluster link and the metrics; connections are placed on all of them in turn. A loop of
  // its own per thread, rather than one shared by every thread, keeps a connection's handlers
  // and its socket on one thread, and a burst of deliveries queued on a loop is written in
  // batches instead of being taken a frame at a time by whichever thread is idle.
  net::io_context ioc(1);
  std::vector<std::unique_ptr<net::io_context>> more_loops;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  std::vector<net::io_context*> loops{&ioc};
  for (unsigned i = 1; i < s.threads; ++i) {
    loops.push_back(more_loops.emplace_back(std::make_unique<net::io_context>(1)).get());
    keep_running.push_back(net::make_work_guard(*loops.back()));
  }
  // Attached before the listeners open: every session's subscriptions reach the other nodes.
  std::shared_ptr<cluster::redis_link> cluster = start_cluster(ioc, broker, s);
  if (shared_history) shared_history->attach(cluster);
  transport::server server(ioc, broker, s.server);
  if (loops.size() > 1) server.run_connections_on(loops);
  server.start();  // throws when a port cannot be bound
  const char* scheme = s.server.tls_cert.empty() ? "" : "s";
  if (s.server.ws_enabled)
    spdlog::info("listening: STOMP over WebSocket at ws{}://{}:{}{}", scheme, s.server.ws_host,
                 server.ws_port(), s.server.ws_path);
  if (s.server.tcp_enabled)
    spdlog::info("listening: STOMP over TCP{} at {}:{}", *scheme ? "+TLS" : "", s.server.tcp_host,
                 server.tcp_port());
  std::unique_ptr<transport::metrics_server> metrics;
  if (s.metrics.enabled) {
    metrics = std::make_unique<transport::metrics_server>(ioc, server, broker, s.metrics);
    metrics->start();
    spdlog::info("listening: metrics at http://{}:{}/metrics (and /healthz, /readyz, the web "
                 "console at /)",
                 s.metrics.host, metrics->port());
  }

  net::signal_set hup(ioc, SIGHUP);  // TLS certificate renewed, users file edited: reload them
  app::reload_on_signal(hup, server, s);
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  net::steady_timer drain(ioc);
  net::steady_timer tick(ioc);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: stopping", sig);
    server.stop();
    hup.cancel();
    if (metrics) metrics->stop();
    tick.cancel();
    // The cluster link goes after the sessions: their last ACKs and give-backs reach Redis.
    const auto grace = s.server.close_timeout + shutdown_margin;
    wait_for_drain(drain, server, std::chrono::steady_clock::now() + grace, [&] {
      if (cluster) cluster->stop();
      // Connections left after the grace period keep the io_context busy: stop it once the
      // link has had its time to settle and disconnect.
      if (server.connection_count() > 0) {
        drain.expires_after(std::chrono::seconds(3));
        drain.async_wait([&ioc](const boost::system::error_code&) { ioc.stop(); });
      }
    });
  });

  schedule_tick(tick, broker);

  std::vector<std::thread> threads;
  for (auto& loop : more_loops) threads.emplace_back([&l = *loop] { l.run(); });
  ioc.run();
  // The main loop ends once every connection has closed (or was given up on): the other loops
  // finish what is queued on them and end too, or are stopped with what was given up on.
  keep_running.clear();
  if (server.connection_count() > 0) {
    for (auto& loop : more_loops) loop->stop();
  }
  for (auto& t : threads) t.join();
  // Login threads post their answers to connection strands of `ioc`: they end before it does.
  broker.stop_logins();
  // The link's timers and strand belong to `ioc`: it must go before `ioc` does, and the broker
  // (which outlives both) must not keep it.
  if (cluster) broker.attach_cluster(nullptr);
  if (shared_history) shared_history->attach(nullptr);
  cluster.reset();
  broker.flush();  // durable appends still in the store's queue are committed before exit
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "passwd") return passwd(argc);
  app::settings settings;
  try {
    if (auto code = app::parse_command_line(argc, argv, settings)) return *code;
    app::apply_development_defaults(settings);
    app::wire_broker(settings);  // reads the users file and keys, opens the store
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stompbox: %s\n", e.what());
    return 2;
  }
  app::setup_logging(settings.log_format, settings.log_level);
  try {
    if (app::development_mode(settings)) spdlog::warn("{}", app::development_warning(settings));
    return run(settings);
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
}
