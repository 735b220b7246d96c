#include "broker/connection.hpp"

namespace broker {

const char* to_string(close_reason r) noexcept {
  switch (r) {
    case close_reason::normal: return "normal";
    case close_reason::peer_gone: return "peer_gone";
    case close_reason::protocol_error: return "protocol_error";
    case close_reason::frame_too_large: return "frame_too_large";
    case close_reason::auth_failed: return "auth_failed";
    case close_reason::heartbeat_timeout: return "heartbeat_timeout";
    case close_reason::connect_timeout: return "connect_timeout";
    case close_reason::slow_consumer: return "slow_consumer";
    case close_reason::server_error: return "server_error";
    case close_reason::shutdown: return "shutdown";
  }
  return "unknown";
}

}  // namespace broker
