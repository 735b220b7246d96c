#include "transport/server.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>

#include "transport/detail/connection_base.hpp"
#include "transport/detail/listener.hpp"
#include "transport/detail/server_state.hpp"
#include "transport/detail/tcp_connection.hpp"
#include "transport/detail/ws_connection.hpp"

namespace transport {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;

namespace detail {

namespace {

ssl::context make_tls_context(const server_config& cfg) {
  ssl::context ctx(ssl::context::tls_server);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use);
  try {
    ctx.use_certificate_chain_file(cfg.tls_cert);
    ctx.use_private_key_file(cfg.tls_key, ssl::context::pem);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot load TLS certificate '" + cfg.tls_cert + "' / key '" +
                             cfg.tls_key + "': " + e.what());
  }
  return ctx;
}

}  // namespace

}  // namespace detail

server::server(net::io_context& ioc, broker::broker& broker, server_config cfg)
    : state_(std::make_shared<detail::server_state>(ioc, broker, std::move(cfg))) {}

server::~server() {
  for (auto& l : listeners_) l->stop();
}

void server::start() {
  const auto& cfg = state_->config;
  if (!cfg.tls_cert.empty() || !cfg.tls_key.empty()) {
    if (cfg.tls_cert.empty() || cfg.tls_key.empty())
      throw std::runtime_error("TLS needs both tls_cert and tls_key");
    state_->tls.emplace(detail::make_tls_context(cfg));
  }
  auto state = state_;
  if (cfg.ws_enabled) {
    auto l = std::make_shared<detail::listener>(
        state_->ioc, cfg.ws_host, cfg.ws_port, cfg.listen_backlog,
        [state](net::ip::tcp::socket s) { detail::start_ws_connection(std::move(s), state); });
    state_->bound_ws_port = l->port();
    listeners_.push_back(std::move(l));
  }
  if (cfg.tcp_enabled) {
    auto l = std::make_shared<detail::listener>(
        state_->ioc, cfg.tcp_host, cfg.tcp_port, cfg.listen_backlog,
        [state](net::ip::tcp::socket s) { detail::start_tcp_connection(std::move(s), state); });
    state_->bound_tcp_port = l->port();
    listeners_.push_back(std::move(l));
  }
  for (auto& l : listeners_) l->run();
}

std::uint16_t server::ws_port() const noexcept { return state_->bound_ws_port.load(); }
std::uint16_t server::tcp_port() const noexcept { return state_->bound_tcp_port.load(); }

void server::stop() {
  for (auto& l : listeners_) l->stop();
  for (auto& c : state_->begin_stop()) c->stop();
}

std::size_t server::connection_count() const { return state_->live_count(); }

const stats& server::statistics() const noexcept { return state_->counters; }
const server_config& server::settings() const noexcept { return state_->config; }

const char* version() noexcept { return "0.1.0"; }

}  // namespace transport
