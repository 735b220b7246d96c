#pragma once

#include <boost/asio/signal_set.hpp>

#include "app/config.hpp"
#include "transport/server.hpp"

namespace app {

/// Reloads on each SIGHUP `hup` (a signal_set holding SIGHUP) receives:
/// - the TLS certificate and key, as certbot and friends expect after renewing: new connections
///   get the new certificate, open ones keep theirs;
/// - the users file (when one is configured): logins from then on are checked against the new
///   file, with an empty credential cache, so a changed password takes effect at once (open
///   sessions stay).
/// A failed reload is logged and the old certificate or users stay. `hup`, `server` and `s`
/// must outlive the io_context's run.
void reload_on_signal(boost::asio::signal_set& hup, transport::server& server, const settings& s);

}  // namespace app
