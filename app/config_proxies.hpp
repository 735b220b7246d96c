#pragma once

#include <toml++/toml.h>

#include "app/config.hpp"

namespace app::detail {

/// [proxies] trusted (addresses and CIDR ranges), [websocket] proxy_protocol and [tcp]
/// proxy_protocol into `out`. Throws config_error naming the key and the entry for a wrong
/// type or an entry that is neither an address nor a range. Start-up only.
void read_proxies(const toml::table& root, settings& out);

}  // namespace app::detail
