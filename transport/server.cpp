#include "transport/server.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "broker/version.hpp"
#include "transport/detail/connection_base.hpp"
#include "transport/detail/listener.hpp"
#include "transport/detail/refusal.hpp"
#include "transport/detail/server_state.hpp"
#include "transport/detail/tcp_connection.hpp"
#include "transport/detail/ws_connection.hpp"
#include "transport/proxy/client_address.hpp"

namespace transport {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;

server::server(net::io_context& ioc, broker::broker& broker, server_config cfg)
    : state_(std::make_shared<detail::server_state>(ioc, broker, std::move(cfg))) {}

server::~server() {
  for (auto& l : listeners_) l->stop();
}

void server::run_connections_on(std::vector<net::io_context*> loops) {
  state_->loops = std::move(loops);
}

void server::start() {
  const auto& cfg = state_->config;
  if (!cfg.tls_cert.empty() || !cfg.tls_key.empty()) {
    if (cfg.tls_cert.empty() || cfg.tls_key.empty())
      throw std::runtime_error("TLS needs both tls_cert and tls_key");
    state_->tls.load(cfg.tls_cert, cfg.tls_key);
  }
  auto state = state_;
  if (cfg.ws_enabled) {
    auto l = std::make_shared<detail::listener>(
        state_->ioc, cfg.ws_host, cfg.ws_port, cfg.listen_backlog,
        [state](net::ip::tcp::socket s) { detail::accept_peer(std::move(s), state, true); });
    l->on_fd_limit([state](net::ip::tcp::socket& s) { detail::refuse_at_fd_limit(s, *state, true); });
    l->place_on([state]() -> net::io_context& { return state->connection_loop(); });
    state_->bound_ws_port = l->port();
    listeners_.push_back(std::move(l));
  }
  if (cfg.tcp_enabled) {
    auto l = std::make_shared<detail::listener>(
        state_->ioc, cfg.tcp_host, cfg.tcp_port, cfg.listen_backlog,
        [state](net::ip::tcp::socket s) { detail::accept_peer(std::move(s), state, false); });
    l->on_fd_limit([state](net::ip::tcp::socket& s) { detail::refuse_at_fd_limit(s, *state, false); });
    l->place_on([state]() -> net::io_context& { return state->connection_loop(); });
    state_->bound_tcp_port = l->port();
    listeners_.push_back(std::move(l));
  }
  for (auto& l : listeners_) l->run();
  state_->listening.store(true, std::memory_order_release);
}

std::uint16_t server::ws_port() const noexcept { return state_->bound_ws_port.load(); }
std::uint16_t server::tcp_port() const noexcept { return state_->bound_tcp_port.load(); }

void server::stop() {
  state_->listening.store(false, std::memory_order_release);
  for (auto& l : listeners_) l->stop();
  for (auto& c : state_->begin_stop()) c->stop();
}

std::size_t server::connection_count() const { return state_->live_count(); }

const stats& server::statistics() const noexcept { return state_->counters; }
const server_config& server::settings() const noexcept { return state_->config; }

bool server::reload_tls() noexcept {
  const auto& cfg = state_->config;
  if (!state_->tls) return false;
  try {
    state_->tls.load(cfg.tls_cert, cfg.tls_key);
  } catch (const std::exception& e) {
    spdlog::error("TLS reload failed, keeping the current certificate: {}", e.what());
    return false;
  }
  spdlog::info("TLS certificate reloaded from {}", cfg.tls_cert);
  return true;
}

namespace {

/// One describe_connections call: the summaries arrive from the strands; whoever drops the
/// last reference (the last strand to answer) calls `done`.
struct connection_gather {
  std::mutex mu;
  connection_list list;
  std::function<void(connection_list)> done;

  ~connection_gather() {
    // Oldest first by id, which counts up at accept. Not by age: each strand measures its
    // own age at a slightly different moment, so a younger connection described later can
    // look older.
    std::sort(list.connections.begin(), list.connections.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    done(std::move(list));
  }
};

}  // namespace

void server::describe_connections(std::size_t max,
                                  std::function<void(connection_list)> done) const {
  auto all = state_->live();
  const auto first = all.begin() + static_cast<std::ptrdiff_t>(std::min(max, all.size()));
  std::partial_sort(all.begin(), first, all.end(),
                    [](const auto& a, const auto& b) { return a->opened() < b->opened(); });
  auto gather = std::make_shared<connection_gather>();
  gather->list.total = all.size();
  gather->list.connections.reserve(static_cast<std::size_t>(first - all.begin()));
  gather->done = std::move(done);
  for (auto it = all.begin(); it != first; ++it) {
    (*it)->describe([gather](connection_summary s) {
      std::lock_guard lock(gather->mu);
      gather->list.connections.push_back(std::move(s));
    });
  }
}

bool server::close_connection(std::uint64_t id) const {
  for (const auto& c : state_->live()) {
    if (c->id() == id) {
      c->close_by_admin();
      return true;
    }
  }
  return false;
}

std::vector<connection_cut> server::recent_cuts() const { return state_->recent_cuts(); }

bool server::accepting() const noexcept {
  return state_->listening.load(std::memory_order_acquire);
}

const char* to_string(refusal r) noexcept {
  switch (r) {
    case refusal::max_connections: return "max_connections";
    case refusal::max_connections_per_ip: return "max_connections_per_ip";
    case refusal::fd_limit: return "fd_limit";
    case refusal::origin: return "origin";
  }
  return "unknown";
}

std::size_t transport_index(std::string_view name) noexcept {
  for (std::size_t i = 0; i < transport_names.size(); ++i) {
    if (name == transport_names[i]) return i;
  }
  return transport_names.size();
}

const char* version() noexcept { return broker::version(); }

}  // namespace transport
