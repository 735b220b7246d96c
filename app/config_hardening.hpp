#pragma once

#include <toml++/toml.h>

#include "app/config.hpp"

namespace app::detail {

/// The [metrics] table, [log] format, and the limit keys of [limits] and [websocket]
/// (connections, per IP, per user, send rate, allowed origins) into `out`. Throws config_error
/// for a wrong type or range. Start-up only.
void read_hardening(const toml::table& root, settings& out);

/// Every byte budget of the broker (queues.max_bytes, limits.max_transaction_bytes,
/// limits.max_session_held_bytes, limits.max_held_bytes) holds at least one frame of
/// limits.max_frame_bytes, or is 0 (none): else a budget would refuse what the parser accepts.
/// Throws config_error naming both knobs. Start-up only.
void check_byte_budgets(const broker::config& b);

/// Throws config_error naming both keys when two limits contradict each other (a frame the
/// broker accepts could not cross WebSocket or wait behind another for its reader, a durable delivery window the pending cap would
/// cut), and checks the byte budgets (check_byte_budgets). Start-up only, after every read and
/// every flag.
void check_consistency(const settings& s);

}  // namespace app::detail
