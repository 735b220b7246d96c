#pragma once
// The web console's JSON (GET /api/v1/...), built from plain values copied out of the server
// and the broker: no lock, no I/O. Documented in docs/console.md.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/summary.hpp"
#include "transport/detail/metrics_text.hpp"
#include "transport/server.hpp"

namespace transport::console {

/// The cluster link as /metrics shows it (broker::cluster_metrics).
struct cluster_view {
  bool enabled = false;    ///< a cluster link is attached
  bool up = false;         ///< stompbox_cluster_redis_up
  double rtt_seconds = -1;  ///< stompbox_cluster_redis_rtt_seconds; -1: none yet
};

/// Reads the cluster gauges out of the cluster's Prometheus text (empty: no cluster). Pure.
cluster_view parse_cluster(std::string_view metrics_text);

/// What /api/v1/overview shows besides the metrics snapshot.
struct overview_extra {
  std::chrono::milliseconds uptime{0};
  std::int64_t now_ms = 0;  ///< wall clock, so a client computes rates between two answers
  bool ready = false;       ///< what /readyz answers
  cluster_view cluster;
  std::vector<connection_cut> cuts;
};

/// GET /api/v1/overview. Pure.
std::string overview_json(const detail::metrics_snapshot& s, const overview_extra& extra);

/// GET /api/v1/connections. Pure.
std::string connections_json(const connection_list& list);

/// GET /api/v1/destinations. Pure.
std::string destinations_json(const broker::destination_list& list);

/// GET /api/v1/inboxes; `now_ms` (wall clock) gives the oldest message's age. Pure.
std::string inboxes_json(const std::vector<broker::inbox_summary>& inboxes, std::int64_t now_ms);

}  // namespace transport::console
