#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "broker/broker.hpp"
#include "transport/detail/admission.hpp"
#include "transport/detail/log_throttle.hpp"
#include "transport/detail/shared_timer.hpp"
#include "transport/detail/tls_context.hpp"
#include "transport/proxy/cidr_set.hpp"
#include "transport/sockjs/sockjs_table.hpp"
#include "transport/server.hpp"

namespace transport::detail {

class connection_base;

/// What every connection of one server shares: settings, broker, counters, TLS context and the
/// set of live connections (for stop()). Kept alive by the server and by each connection
/// (shared_ptr), so a connection closing after the server object is gone stays safe.
class server_state {
 public:
  server_state(boost::asio::io_context& ioc, broker::broker& b, server_config cfg);

  boost::asio::io_context& ioc;
  /// The event loops connections run on (server::run_connections_on), in turn; empty: ioc.
  std::vector<boost::asio::io_context*> loops;
  std::atomic<std::size_t> next_loop{0};
  /// The loop for the next connection.
  boost::asio::io_context& connection_loop() noexcept {
    if (loops.empty()) return ioc;
    return *loops[next_loop.fetch_add(1, std::memory_order_relaxed) % loops.size()];
  }
  broker::broker& broker;
  const server_config config;
  /// Every connection's deadline (CONNECT timeout, heart-beats, close): one Asio timer.
  const std::shared_ptr<shared_timer> deadlines = std::make_shared<shared_timer>(ioc);
  transport::stats counters;
  /// Loaded when tls_cert and tls_key are configured (start()); reloaded by server::reload_tls.
  tls_context tls;
  /// Places counted against max_connections and max_connections_per_ip (refusal.hpp): every
  /// accepted socket from accept to close, and every SockJS session.
  std::shared_ptr<admission> admitted =
      std::make_shared<admission>(config.max_connections, config.max_connections_per_ip);
  /// One log line a second per refusal reason.
  std::array<log_throttle, refusal_count> refusal_logs;
  /// config.trusted_proxies, parsed (throws std::invalid_argument at construction when an entry
  /// does not parse; app/config checks it first with a clearer message).
  const proxy::cidr_set trusted;
  /// One log line a second for connections without a valid PROXY protocol header.
  log_throttle bad_proxy_header_logs;
  /// One log line a second for PROXY protocol headers from untrusted peers (ignored).
  log_throttle untrusted_proxy_logs;
  /// True while the listeners accept (between server::start and server::stop).
  std::atomic<bool> listening{false};
  std::atomic<std::uint16_t> bound_ws_port{0};
  std::atomic<std::uint16_t> bound_tcp_port{0};
  /// SockJS sessions by id.
  sockjs_table sockjs;

  /// Adds a connection to the live set. Thread-safe. False when the server is stopping (the
  /// caller then closes it at once).
  bool add(const std::shared_ptr<connection_base>& c);
  /// Removes a connection from the live set. Thread-safe.
  void remove(const connection_base* c);
  /// How many connections are in the live set. Thread-safe.
  std::size_t live_count();
  /// Marks the server stopping and returns every live connection. Thread-safe.
  std::vector<std::shared_ptr<connection_base>> begin_stop();
  /// True after begin_stop(). Thread-safe.
  bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }

  /// Every live connection (strong references taken under the lock). Thread-safe.
  std::vector<std::shared_ptr<connection_base>> live();
  /// Keeps `c` among the recent cuts (bounded: server::max_recent_cuts). Thread-safe.
  void record_cut(connection_cut c);
  /// The recent cuts, newest first. Thread-safe.
  std::vector<connection_cut> recent_cuts() const;

  /// True at most once a second per caller kind, so floods of slow consumers log a few lines.
  bool may_log_slow_consumer() noexcept;

 private:
  std::mutex mu_;
  std::unordered_map<const connection_base*, std::weak_ptr<connection_base>> live_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::int64_t> last_slow_log_{0};
  mutable std::mutex cuts_mu_;
  std::deque<connection_cut> cuts_;  // newest at the front
};

}  // namespace transport::detail
