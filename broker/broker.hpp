#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "auth/authenticator.hpp"
#include "broker/connection.hpp"
#include "broker/session.hpp"
#include "stomp/frame.hpp"
#include "stomp/parser.hpp"

namespace broker {

/// Every broker-level setting, with its default. Transport-level ones (ports, TLS, pending-bytes
/// cap, timeouts) live in transport::server_config.
struct config {
  std::string server = "stompbox/0.1.0";  ///< CONNECTED `server` header
  stomp::limits frame_limits;             ///< after CONNECT (4 MiB frames)
  stomp::limits pre_connect_limits = stomp::pre_connect_limits();  ///< before CONNECT (64 KiB)
  /// Heart-beats we offer in CONNECTED: we can send every `heartbeat_send`, want to receive
  /// every `heartbeat_receive`. Zero disables.
  std::chrono::milliseconds heartbeat_send{10'000};
  std::chrono::milliseconds heartbeat_receive{10'000};
  /// A peer silent for this many negotiated intervals is disconnected (browsers throttle timers
  /// in background tabs; Spring uses 3).
  double heartbeat_tolerance = 3.0;
  std::size_t queue_max_messages = 100'000;     ///< messages waiting in one /queue/ without consumer
  std::size_t max_subscriptions_per_session = 1'000;
  std::size_t max_transaction_frames = 10'000;  ///< SENDs and ACKs held by one open transaction
  /// Who may log in; null means development mode (login taken as the user name, no password).
  std::shared_ptr<const auth::authenticator> authenticator;
  /// Who may subscribe or send where; null means the default rules.
  std::shared_ptr<const auth::authorizer> authorizer;
};

/// The broker: sessions, destinations, routing. Owns no threads and no sockets; every member is
/// thread-safe. Outlives every session it opened.
class broker {
 public:
  explicit broker(config cfg);
  ~broker();
  broker(const broker&) = delete;
  broker& operator=(const broker&) = delete;

  /// A new session talking through `conn` (the session keeps only a weak reference to it).
  std::shared_ptr<session> open_session(std::shared_ptr<connection> conn);

  /// Publishes as an application would with SEND, from any thread. `frame` is a SEND frame
  /// (destination required). Returns the message id, or an empty string when refused (unknown
  /// destination prefix).
  std::string publish(stomp::frame send);

  const config& settings() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace broker
