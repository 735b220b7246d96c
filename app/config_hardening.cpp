#include "app/config_hardening.hpp"

#include <cstdint>
#include <limits>
#include <string>

namespace app::detail {

namespace {

template <class T>
void read_count(const toml::table& root, const char* path, T& out) {
  const auto node = root.at_path(path);
  if (!node) return;
  const auto v = node.value<std::int64_t>();
  if (!v || *v < 0 || static_cast<std::uint64_t>(*v) > std::numeric_limits<T>::max())
    throw config_error(std::string(path) + ": expected an integer in range");
  out = static_cast<T>(*v);
}

void read_rate(const toml::table& root, const char* path, double& out) {
  const auto node = root.at_path(path);
  if (!node) return;
  const auto v = node.value<double>();  // integers convert too
  if (!v || *v < 0) throw config_error(std::string(path) + ": expected a number >= 0");
  out = *v;
}

void read_text(const toml::table& root, const char* path, std::string& out) {
  const auto node = root.at_path(path);
  if (!node) return;
  const auto v = node.value<std::string>();
  if (!v) throw config_error(std::string(path) + ": expected a string");
  out = *v;
}

void read_origins(const toml::table& root, std::vector<std::string>& out) {
  const auto node = root.at_path("websocket.allowed_origins");
  if (!node) return;
  const auto* list = node.as_array();
  if (!list) throw config_error("websocket.allowed_origins: expected a list of strings");
  out.clear();
  for (const auto& item : *list) {
    const auto v = item.value<std::string>();
    if (!v) throw config_error("websocket.allowed_origins: expected a list of strings");
    out.push_back(*v);
  }
}

}  // namespace

void read_hardening(const toml::table& root, settings& out) {
  read_count(root, "limits.max_connections", out.server.max_connections);
  read_count(root, "limits.max_connections_per_ip", out.server.max_connections_per_ip);
  read_count(root, "limits.max_connections_per_user", out.broker.max_connections_per_user);
  read_rate(root, "limits.send_rate", out.broker.send_rate);
  read_rate(root, "limits.send_burst", out.broker.send_burst);
  std::string send_rate_policy = out.broker.send_rate_slows ? "slow" : "disconnect";
  read_text(root, "limits.send_rate_policy", send_rate_policy);
  if (send_rate_policy != "slow" && send_rate_policy != "disconnect")
    throw config_error("limits.send_rate_policy: expected slow or disconnect, got '" +
                       send_rate_policy + "'");
  out.broker.send_rate_slows = send_rate_policy == "slow";
  read_origins(root, out.server.allowed_origins);
  if (const auto enabled = root.at_path("metrics.enabled")) {
    const auto v = enabled.value<bool>();
    if (!v) throw config_error("metrics.enabled: expected true or false");
    out.metrics.enabled = *v;
  }
  read_text(root, "metrics.host", out.metrics.host);
  read_count(root, "metrics.port", out.metrics.port);
  read_text(root, "log.format", out.log_format);
  if (out.log_format != "text" && out.log_format != "json")
    throw config_error("log.format: expected text or json, got '" + out.log_format + "'");
}

void check_byte_budgets(const broker::config& b) {
  const std::size_t frame = b.frame_limits.max_frame;
  const auto check = [frame](const char* name, std::size_t value) {
    if (value != 0 && value < frame) {
      throw config_error(std::string(name) + " = " + std::to_string(value) +
                         " is less than one frame (limits.max_frame_bytes = " +
                         std::to_string(frame) + "); raise it or set 0 for no bound");
    }
  };
  check("queues.max_bytes", b.queue_max_bytes);
  check("limits.max_transaction_bytes", b.max_transaction_bytes);
  check("limits.max_session_held_bytes", b.max_session_held_bytes);
  check("limits.max_held_bytes", b.max_held_bytes);
}

namespace {

void require_at_least(std::size_t value, const char* key, std::size_t floor,
                      const char* floor_key, const char* why) {
  if (value >= floor) return;
  throw config_error(std::string(key) + " = " + std::to_string(value) + " is below " +
                     floor_key + " = " + std::to_string(floor) + ": " + why);
}

}  // namespace

void check_consistency(const settings& s) {
  const auto& frames = s.broker.frame_limits;
  require_at_least(s.server.max_message_bytes, "websocket.max_message_bytes", frames.max_frame,
                   "limits.max_frame_bytes",
                   "a frame the broker accepts could not arrive in one WebSocket message");
  require_at_least(s.server.max_pending_bytes, "queues.max_pending_bytes",
                   s.broker.delivery_window_bytes, "store.delivery_window_bytes",
                   "durable deliveries the window allows would cut their reader as slow");
  require_at_least(s.server.max_pending_bytes, "queues.max_pending_bytes", frames.max_frame,
                   "limits.max_frame_bytes",
                   "a reader could not have one frame waiting behind the one being written");
  check_byte_budgets(s.broker);
}

}  // namespace app::detail
