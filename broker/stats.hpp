#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "broker/connection.hpp"

namespace broker {

/// Client frames counted in stats::frames_in.
enum class client_command {
  connect, send, subscribe, unsubscribe, ack, nack, begin, commit, abort, disconnect,
  other,  ///< anything else (refused as unexpected)
};

/// Server frames counted in stats::frames_out.
enum class server_command { connected, message, receipt, error };

/// Counters and gauges of one broker, for metrics (Prometheus). Every field is an atomic updated
/// where the event happens (relaxed order); read them from any thread. Lives as long as the
/// broker.
struct stats {
  using counter = std::atomic<std::uint64_t>;
  using gauge = std::atomic<std::int64_t>;
  static constexpr std::size_t client_commands = static_cast<std::size_t>(client_command::other) + 1;
  static constexpr std::size_t server_commands = static_cast<std::size_t>(server_command::error) + 1;
  static constexpr std::size_t close_reasons = static_cast<std::size_t>(close_reason::shutdown) + 1;

  counter sessions_opened{0};  ///< sessions ever opened
  gauge sessions{0};           ///< sessions open now
  gauge subscriptions{0};      ///< subscriptions active now (topics, queues, user destinations)
  std::array<counter, client_commands> frames_in{};   ///< by client_command
  std::array<counter, server_commands> frames_out{};  ///< by server_command
  counter messages_published{0};  ///< SENDs and API publishes accepted for routing
  counter messages_delivered{0};  ///< MESSAGE frames handed to connections
  counter messages_dropped{0};    ///< refused for a full queue or a store failure
  counter messages_expired{0};    ///< dropped because their `expires` passed
  counter messages_stored{0};     ///< durable user-queue appends committed
  counter auth_failures{0};       ///< failed logins (CONNECT and publish API)
  counter forbidden{0};           ///< SUBSCRIBE/SEND/publish refused by the authorizer
  counter tokens_expired{0};      ///< sessions closed because their credentials expired
  counter send_rate_exceeded{0};  ///< sessions closed for SENDs over config::send_rate
  counter user_limit_refused{0};  ///< CONNECTs refused by config::max_connections_per_user
  std::array<counter, close_reasons> closes{};  ///< sessions ended, by close_reason
  gauge paused_publishers{0};   ///< sessions whose reading is paused by flow control now
  counter publisher_pauses{0};  ///< times a session's reading was paused by flow control
  counter budget_pauses{0};     ///< times one was paused by config::max_held_bytes

  /// Counts one client frame by its command name.
  void frame_in(std::string_view command) noexcept;
  /// Counts one server frame.
  void frame_out(server_command c) noexcept {
    frames_out[static_cast<std::size_t>(c)].fetch_add(1, std::memory_order_relaxed);
  }
  /// Counts one ended session.
  void closed(close_reason why) noexcept {
    closes[static_cast<std::size_t>(why)].fetch_add(1, std::memory_order_relaxed);
  }
};

/// Adds one to a counter (relaxed: metrics need no ordering).
inline void bump(std::atomic<std::uint64_t>& c) noexcept { c.fetch_add(1, std::memory_order_relaxed); }

}  // namespace broker
