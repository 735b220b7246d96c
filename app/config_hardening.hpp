#pragma once

#include <toml++/toml.h>

#include "app/config.hpp"

namespace app::detail {

/// The [metrics] table, [log] format, and the limit keys of [limits] and [websocket]
/// (connections, per IP, per user, send rate, allowed origins) into `out`. Throws config_error
/// for a wrong type or range. Start-up only.
void read_hardening(const toml::table& root, settings& out);

/// Throws config_error naming both keys when two limits contradict each other (a frame the
/// broker accepts could not cross WebSocket, a durable delivery window the pending cap would
/// cut). Start-up only, after every read.
void check_consistency(const settings& s);

}  // namespace app::detail
