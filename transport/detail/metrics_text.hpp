#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "broker/stats.hpp"
#include "broker/store/store.hpp"
#include "transport/server.hpp"

namespace broker {
class broker;
}

namespace transport::detail {

/// The numbers one scrape of /metrics shows, copied out of the live counters (transport::stats,
/// broker::stats, the store's stats) at one moment. Plain values: rendering needs no lock.
struct metrics_snapshot {
  std::array<std::int64_t, transport_names.size()> connections{};  ///< open, by transport
  std::uint64_t accepted = 0;                                       ///< sockets accepted
  std::array<std::uint64_t, refusal_count> refused{};               ///< by transport::refusal
  std::uint64_t refused_user_limit = 0;   ///< CONNECTs over max_connections_per_user
  std::uint64_t slow_consumers = 0;       ///< closed by the pending-bytes cap
  std::uint64_t dropped_frames = 0;       ///< discarded by drop_oldest
  std::int64_t sessions = 0;
  std::uint64_t sessions_opened = 0;
  std::int64_t subscriptions = 0;
  std::array<std::uint64_t, broker::stats::client_commands> frames_in{};
  std::array<std::uint64_t, broker::stats::server_commands> frames_out{};
  std::uint64_t published = 0, delivered = 0, dropped = 0, expired = 0, stored = 0;
  std::uint64_t auth_failures = 0, forbidden = 0, tokens_expired = 0, send_rate_exceeded = 0;
  std::int64_t paused_publishers = 0;  ///< sessions paused by flow control now
  std::uint64_t publisher_pauses = 0;  ///< flow-control pauses ever
  std::uint64_t held_bytes = 0;        ///< broker::broker::held().used()
  std::uint64_t held_bytes_limit = 0;  ///< its limit (limits.max_held_bytes; 0 = none)
  std::uint64_t budget_pauses = 0;     ///< sessions paused by that budget, ever
  std::array<std::uint64_t, broker::stats::close_reasons> closes{};  ///< by close_reason
  broker::store::store_stats store;
  bool store_writable = true;
  bool ready = true;                     ///< what /readyz answers (200 = true)
  std::uint64_t connections_limit = 0;   ///< server_config::max_connections (0 = none)
};

/// Copies the counters of `transport_stats`, `b` and its store. Thread-safe.
metrics_snapshot take_snapshot(const stats& transport_stats, const broker::broker& b);

/// Prometheus text exposition format 0.0.4: `# HELP` and `# TYPE` per family, counters ending
/// in `_total`, every name prefixed `stompbox_`. Pure function.
std::string render_metrics(const metrics_snapshot& s);

}  // namespace transport::detail
