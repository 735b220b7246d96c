#include "broker/stats.hpp"

#include <array>
#include <utility>

namespace broker {

void stats::frame_in(std::string_view command) noexcept {
  static constexpr std::array<std::pair<std::string_view, client_command>, 11> names = {{
      {"CONNECT", client_command::connect},
      {"STOMP", client_command::connect},
      {"SEND", client_command::send},
      {"SUBSCRIBE", client_command::subscribe},
      {"UNSUBSCRIBE", client_command::unsubscribe},
      {"ACK", client_command::ack},
      {"NACK", client_command::nack},
      {"BEGIN", client_command::begin},
      {"COMMIT", client_command::commit},
      {"ABORT", client_command::abort},
      {"DISCONNECT", client_command::disconnect},
  }};
  client_command c = client_command::other;
  for (const auto& [name, value] : names) {
    if (name == command) c = value;
  }
  frames_in[static_cast<std::size_t>(c)].fetch_add(1, std::memory_order_relaxed);
}

}  // namespace broker
