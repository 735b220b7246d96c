#pragma once

// Turns app::settings into the objects the broker is built from: the authenticator (users file
// and/or JWT), the authorizer ([[acl]] or the default rules) and the durable store (Redis with
// --cluster-redis, else SQLite in --data-dir). Start-up only.

#include <string>

#include "app/config.hpp"

namespace app {

/// True when neither a users file nor JWT is configured: any CONNECT is accepted (the broker's
/// development mode).
bool development_mode(const settings& s) noexcept;

/// Development mode only: listeners whose address was not given explicitly (flag or config)
/// bind 127.0.0.1, so an unauthenticated broker is not reachable from the network by accident.
void apply_development_defaults(settings& s);

/// The multi-line WARNING logged at start in development mode.
std::string development_warning(const settings& s);

/// Loads the users file and the JWT keys, opens the store, and fills s.broker's authenticator,
/// authorizer and store. Throws config_error (bad users file, unusable key) or
/// std::runtime_error (store cannot be opened).
void wire_broker(settings& s);

}  // namespace app
