#include "app/reload.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <memory>

#include "auth/users_file.hpp"

namespace app {
namespace {

void reload_users(const settings& s) {
  if (!s.logins || s.auth.users_file.empty()) return;
  try {
    auto users = std::make_shared<auth::users_file_authenticator>(
        auth::load_users(s.auth.users_file), s.auth.credential_cache);
    s.logins->replace_users(std::move(users));
    spdlog::info("users file {} reloaded (credential cache emptied)", s.auth.users_file.string());
  } catch (const std::exception& e) {
    spdlog::error("users file {} not reloaded, the previous users stay: {}",
                  s.auth.users_file.string(), e.what());
  }
}

}  // namespace

void reload_on_signal(boost::asio::signal_set& hup, transport::server& server, const settings& s) {
  hup.async_wait([&hup, &server, &s](const boost::system::error_code& ec, int sig) {
    if (ec) return;  // cancelled at shutdown
    if (server.settings().tls_cert.empty()) {
      spdlog::info("signal {}: no TLS configured, nothing to reload", sig);
    } else {
      spdlog::info("signal {}: reloading the TLS certificate", sig);
      server.reload_tls();
    }
    reload_users(s);
    reload_on_signal(hup, server, s);
  });
}

}  // namespace app
