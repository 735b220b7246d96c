#pragma once
// The web console on the metrics listener (docs/console.md):
//   GET  /                      the page (Content-Security-Policy: self only)
//   GET  /console/<file>        its script, styles and the vendored uPlot
//   GET  /api/v1/overview | connections | destinations | inboxes     JSON, read-only
//   POST /api/v1/connections/{id}/close | /api/v1/inboxes/{user}/purge   role "admin" only
// Reads need nothing more than reaching the listener (loopback by default, as /metrics);
// writes need the credentials of a principal with role "admin" (Basic or Bearer, the broker's
// authenticator), an allowed Origin when a browser sends one, and no form Content-Type.

#include <chrono>
#include <memory>
#include <string_view>

#include "broker/broker.hpp"
#include "transport/detail/metrics_http.hpp"
#include "transport/server.hpp"

namespace transport::console {

/// What the console reads and acts on. Outlives every request (owned by metrics_server).
struct context {
  const server& srv;
  broker::broker& b;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

/// Shared by the listener's route and every request still in flight.
using context_ptr = std::shared_ptr<const context>;

/// Most connections and destinations one answer lists (the oldest / busiest first); the
/// answer's `total` gives the full count.
inline constexpr std::size_t max_listed = 1000;

/// True for the paths the console answers: "/", "/console/...", "/api/...".
bool handles(std::string_view path) noexcept;

/// Answers one console request (at once, or after gathering from the connections' strands).
void route(const context_ptr& ctx, detail::metrics_request req, detail::metrics_answer answer);

}  // namespace transport::console
