#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "broker/broker.hpp"
#include "transport/server.hpp"

namespace transport {

namespace detail {
class listener;
class metrics_connections;
}

/// Where the metrics and health endpoints listen. Loopback by default: the numbers tell a lot
/// about the traffic, so exposing them is a deliberate choice.
struct metrics_config {
  bool enabled = true;               ///< false: no metrics listener
  std::string host = "127.0.0.1";    ///< address it binds
  std::uint16_t port = 15692;        ///< 0 picks a free port (see metrics_server::port)
};

/// A small HTTP/1.1 server for operators, apart from the STOMP listeners:
///  - `GET /metrics`: Prometheus text (connections by transport, sessions, subscriptions, frames
///    by command, messages, store, disconnect and refusal reasons);
///  - `GET /healthz`: 200 "ok" while the process serves HTTP (liveness);
///  - `GET /readyz`: 200 when the STOMP listeners accept and broker::ready() (the durable store
///    is writable, the cluster link if any is up), else 503 (readiness: take the instance out
///    of the load balancer);
///  - the web console at `/` and its JSON API under `/api/v1/` (transport/console,
///    docs/console.md): read-only views, and admin actions for role "admin".
/// Runs on the caller's io_context. `srv` and `b` must outlive it. start()/stop() from one
/// thread; the rest is thread-safe.
class metrics_server {
 public:
  metrics_server(boost::asio::io_context& ioc, const server& srv, broker::broker& b,
                 metrics_config cfg);
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// Binds and accepts. Throws std::system_error when the address cannot be bound.
  void start();
  /// Stops accepting and closes the open connections (idle keep-alive ones included).
  void stop();
  /// The bound port (the real one when 0 was asked for); 0 before start().
  std::uint16_t port() const noexcept;

 private:
  boost::asio::io_context& ioc_;
  const server& server_;
  broker::broker& broker_;  // the console's admin actions purge inboxes
  metrics_config cfg_;
  std::shared_ptr<detail::listener> listener_;
  std::shared_ptr<detail::metrics_connections> connections_;
};

/// The Prometheus text /metrics serves for `srv` and `b`, now. Thread-safe.
std::string render_metrics(const server& srv, const broker::broker& b);

/// Whether /readyz answers 200: `srv` accepts and `b` is ready (store, cluster). Thread-safe.
bool ready(const server& srv, const broker::broker& b);

}  // namespace transport
