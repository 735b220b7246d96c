#pragma once

#include <boost/asio/signal_set.hpp>

#include "transport/server.hpp"

namespace app {

/// Reloads the TLS certificate and key each time `hup` (a signal_set holding SIGHUP) fires, as
/// certbot and friends expect after renewing: new connections get the new certificate, open
/// ones keep theirs. A failed reload is logged and the old certificate stays. `hup` and
/// `server` must outlive the io_context's run.
void reload_tls_on_signal(boost::asio::signal_set& hup, transport::server& server);

}  // namespace app
