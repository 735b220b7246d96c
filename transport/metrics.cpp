#include "transport/metrics.hpp"

#include "transport/console/console_routes.hpp"
#include "transport/detail/listener.hpp"
#include "transport/detail/metrics_http.hpp"
#include "transport/detail/metrics_text.hpp"

namespace transport {

namespace {

// Prometheus text exposition format, version 0.0.4.
constexpr const char* prometheus_type = "text/plain; version=0.0.4; charset=utf-8";

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

}  // namespace

metrics_server::metrics_server(boost::asio::io_context& ioc, const server& srv,
                               broker::broker& b, metrics_config cfg)
    : ioc_(ioc), server_(srv), broker_(b), cfg_(std::move(cfg)) {}

metrics_server::~metrics_server() { stop(); }

void metrics_server::start() {
  const server* srv = &server_;
  const broker::broker* b = &broker_;
  auto console = std::make_shared<const console::context>(console::context{server_, broker_});
  detail::metrics_route route = [srv, b, console](detail::metrics_request req,
                                                  detail::metrics_answer answer) {
    const auto path = path_of(req.target);
    if (console::handles(path)) return console::route(console, std::move(req), std::move(answer));
    if (req.method == "POST") {
      return answer({405, "text/plain; charset=utf-8", "GET only\n", {{"Allow", "GET, HEAD"}}});
    }
    if (path == "/metrics") return answer({200, prometheus_type, render_metrics(*srv, *b), {}});
    if (path == "/healthz") return answer({200, "text/plain; charset=utf-8", "ok\n", {}});
    if (path == "/readyz") {
      if (ready(*srv, *b)) return answer({200, "text/plain; charset=utf-8", "ready\n", {}});
      const char* why = !srv->accepting()                  ? "not accepting connections\n"
                        : !b->durable_store().writable() ? "store not writable\n"
                                                         : "cluster link down\n";
      return answer({503, "text/plain; charset=utf-8", why, {}});
    }
    answer({404, "text/plain; charset=utf-8", "not found\n", {}});
  };
  connections_ = std::make_shared<detail::metrics_connections>();
  listener_ = std::make_shared<detail::listener>(
      ioc_, cfg_.host, cfg_.port, 64,
      [route, connections = connections_](boost::asio::ip::tcp::socket s) {
        detail::serve_metrics_http(std::move(s), route, connections);
      });
  listener_->run();
}

void metrics_server::stop() {
  if (listener_) listener_->stop();
  if (connections_) connections_->close_all();
}

std::uint16_t metrics_server::port() const noexcept { return listener_ ? listener_->port() : 0; }

std::string render_metrics(const server& srv, const broker::broker& b) {
  auto snapshot = detail::take_snapshot(srv.statistics(), b);
  snapshot.ready = ready(srv, b);
  snapshot.connections_limit = srv.settings().max_connections;
  return detail::render_metrics(snapshot) + b.cluster_metrics();
}

bool ready(const server& srv, const broker::broker& b) {
  return srv.accepting() && b.ready();  // the store writable, the cluster link (if any) up
}

}  // namespace transport
