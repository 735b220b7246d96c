#include "app/reload.hpp"

#include <spdlog/spdlog.h>

namespace app {

void reload_tls_on_signal(boost::asio::signal_set& hup, transport::server& server) {
  hup.async_wait([&hup, &server](const boost::system::error_code& ec, int sig) {
    if (ec) return;  // cancelled at shutdown
    if (server.settings().tls_cert.empty()) {
      spdlog::info("signal {}: no TLS configured, nothing to reload", sig);
    } else {
      spdlog::info("signal {}: reloading the TLS certificate", sig);
      server.reload_tls();
    }
    reload_tls_on_signal(hup, server);
  });
}

}  // namespace app
