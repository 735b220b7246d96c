#pragma once

#include <toml++/toml.h>

#include "app/config.hpp"

namespace app::detail {

/// The `[[history]]` tables (pattern, max_messages, max_age_seconds) into
/// out.broker.history, in file order. Throws config_error naming the table and key for an
/// unknown key, a wrong type, a pattern that is not a /topic/ destination, or a bound out of
/// range. Start-up only.
void read_history(const toml::table& root, settings& out);

}  // namespace app::detail
