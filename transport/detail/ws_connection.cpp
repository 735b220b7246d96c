#include "transport/detail/ws_connection.hpp"

#include <array>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <fmt/format.h>

#include "transport/detail/bearer.hpp"
#include "transport/detail/origin.hpp"
#include "transport/detail/refusal.hpp"
#include "transport/detail/connection_base.hpp"
#include "transport/detail/endpoint.hpp"
#include "transport/detail/http_api.hpp"
#include "transport/detail/server_state.hpp"
#include "transport/sockjs/sockjs_http.hpp"
#include "transport/sockjs/sockjs_websocket.hpp"
#include "transport/detail/subprotocol.hpp"
#include "transport/detail/ws_socket.hpp"
#include "transport/proxy/client_address.hpp"

namespace transport::detail {

std::uint16_t close_code(broker::close_reason why) noexcept {
  namespace ws = boost::beast::websocket;
  using broker::close_reason;
  switch (why) {
    case close_reason::normal:
    case close_reason::peer_gone:
      return ws::close_code::normal;
    case close_reason::shutdown:
      return ws::close_code::going_away;
    case close_reason::protocol_error:
    case close_reason::auth_failed:
    case close_reason::slow_consumer:
      return ws::close_code::protocol_error;
    case close_reason::frame_too_large:
      return ws::close_code::too_big;
    case close_reason::heartbeat_timeout:
    case close_reason::connect_timeout:
      return ws::close_code::policy_error;
    case close_reason::server_error:
      return ws::close_code::internal_error;
  }
  return ws::close_code::internal_error;
}

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::size_t max_gather_bytes = 64 * 1024;  // per gathered WebSocket message

/// STOMP over WebSocket on a plain or TLS stream (Beast "flex" pattern: one template). The same
/// object reads the HTTP request, answers it or upgrades, then carries STOMP.
template <class Next>
class ws_connection final : public connection_base {
  static constexpr bool is_tls = !std::is_same_v<Next, ws_socket>;

 public:
  template <class... Args>
  ws_connection(tcp::socket&& socket, const std::shared_ptr<server_state>& server,
                std::string remote, Args&&... args)
      : connection_base(socket.get_executor(), server, is_tls ? "wss" : "ws",
                        remote.empty() ? remote_of(socket) : std::move(remote)),
        ws_(make_next(std::move(socket), std::forward<Args>(args)...)) {}

 private:
  using request_parser = http::request_parser<http::empty_body>;

  template <class... Args>
  static Next make_next(tcp::socket&& socket, Args&&... args) {
    if constexpr (is_tls) {
      return Next(std::move(socket), std::forward<Args>(args)...);
    } else {
      return ws_socket(std::move(socket));
    }
  }

  std::shared_ptr<ws_connection> self() {
    return std::static_pointer_cast<ws_connection>(shared_from_this());
  }

  void run() override {
    error_code ec;
    beast::get_lowest_layer(ws_).set_option(tcp::no_delay(true), ec);
    if constexpr (is_tls) {
      ws_.next_layer().async_handshake(ssl::stream_base::server,
                                       [self = self()](const error_code& e) {
                                         if (e) return self->handshake_failed(e, "tls handshake");
                                         self->read_request();
                                       });
    } else {
      read_request();
    }
  }

  void read_request() {
    parser_ = std::make_unique<request_parser>();
    parser_->header_limit(static_cast<std::uint32_t>(server().config.max_handshake_bytes));
    parser_->body_limit(boost::none);  // head only: whoever reads a body sets its own limit
    // The head only: a SockJS xhr_send has a body, which serve_sockjs_http reads.
    http::async_read_header(ws_.next_layer(), buffer_, *parser_,
                     [self = self()](const error_code& ec, std::size_t) {
                       if (ec) return self->handshake_failed(ec, "http read");
                       self->on_request();
                     });
  }

  void on_request() {
    const auto& req = parser_->get();
    const auto& cfg = server().config;
    const auto path = target_path({req.target().data(), req.target().size()});
    if (!name_client(req)) return;
    if (websocket::is_upgrade(req) && !origin_ok(req)) return refuse_origin(req);
    if (path == cfg.ws_path && websocket::is_upgrade(req)) return accept(req);
    if (cfg.sockjs_enabled) {
      const auto route = parse_sockjs_route(path, cfg.sockjs_path);
      if (route.what != sockjs_route::kind::none) return on_sockjs(req, route);
    }
    if (cfg.api_enabled && is_api_path(path, cfg.api_path)) return on_api();
    if (path == cfg.ws_path) return respond(http::status::upgrade_required, "WebSocket only\n");
    if (path == "/" && (req.method() == http::verb::get || req.method() == http::verb::head)) {
      return respond(http::status::ok,
                     fmt::format("stompbox {} \u2014 STOMP over WebSocket at {}, STOMP over TCP "
                                 "at {}\n",
                                 transport::version(), cfg.ws_path,
                                 server().bound_tcp_port.load()));
    }
    respond(http::status::not_found, "not found\n");
  }

  // From a trusted proxy (the per-IP count was deferred, proxy/client_address.hpp) the client
  // is named by Forwarded / X-Forwarded-For: peer().remote becomes it before anything (the
  // SockJS and API code, the session, the rate limiter, logs) reads it, and its place is
  // counted against its own address. False when that address is over its limit (503 sent).
  bool name_client(const http::request<http::empty_body>& req) {
    auto ticket = take_ticket();
    const bool deferred = ticket && ticket.ip().empty();
    if (!deferred) {
      hold(std::move(ticket));
      return true;
    }
    auto sv = [](beast::string_view s) { return std::string_view(s.data(), s.size()); };
    proxy::forwarding_headers headers;
    auto [fb, fe] = req.equal_range(http::field::forwarded);
    for (auto it = fb; it != fe; ++it) headers.forwarded.push_back(sv(it->value()));
    auto [xb, xe] = req.equal_range("X-Forwarded-For");
    for (auto it = xb; it != xe; ++it) headers.x_forwarded_for.push_back(sv(it->value()));
    const auto client = client_behind_proxy(server(), peer().remote, headers);
    if (client.found) mutable_peer().remote = client.ip;
    const auto refused = shared_server()->admitted->rekey(ticket, client.ip);
    hold(std::move(ticket));
    if (!refused) return true;
    count_refusal(*shared_server(), *refused, peer().remote);
    respond(http::status::service_unavailable, refusal_body(*refused));
    return false;
  }

  // The publish API (http_api.hpp) takes the stream over, as SockJS's HTTP transports do.
  void on_api() {
    serve_api_http(shared_server(), std::move(*parser_),
                   make_sockjs_stream(std::move(ws_.next_layer()), std::move(buffer_),
                                      take_ticket()),
                   beast::get_lowest_layer(ws_).get_executor(), peer().remote);
    parser_.reset();
    finish(broker::close_reason::normal);  // no session: only leaves the live set
  }

  // Under the SockJS prefix: the WebSocket transports upgrade here (the raw one carries plain
  // STOMP, the session one SockJS frames); everything else is HTTP, served by the SockJS code,
  // which takes the stream over.
  void on_sockjs(const http::request<http::empty_body>& req, const sockjs_route& route) {
    const bool session_ws = route.what == sockjs_route::kind::session &&
                            route.transport == "websocket";
    if (websocket::is_upgrade(req) && (session_ws || route.what == sockjs_route::kind::raw_websocket)) {
      mutable_peer().transport = "sockjs";
      if (session_ws) {
        sockjs_ = std::make_unique<sockjs_websocket>(beast::get_lowest_layer(ws_).get_executor(),
                                                     server().config.sockjs_heartbeat);
      }
      return accept(req);
    }
    serve_sockjs_http(shared_server(), std::move(*parser_),
                      make_sockjs_stream(std::move(ws_.next_layer()), std::move(buffer_),
                                      take_ticket()),
                      beast::get_lowest_layer(ws_).get_executor(), peer().remote);
    parser_.reset();
    finish(broker::close_reason::normal);  // no session: only leaves the live set
  }

  void send(broker::outgoing frame) override {
    connection_base::send(sockjs_ ? sockjs_websocket::wrap(frame) : std::move(frame));
  }

  void close(broker::close_reason why) override {
    if (sockjs_ && reading()) connection_base::send(sockjs_websocket::control(sockjs_close_frame(why)));
    connection_base::close(why);
  }

  void start_sockjs() {
    connection_base::send(sockjs_websocket::control(std::string(sockjs_open_frame)));
    sockjs_->start_heartbeat(weak_from_this(), [this] {
      connection_base::send(sockjs_websocket::control(std::string(sockjs_heartbeat_frame)));
    });
  }

  void fill_peer(const http::request<http::empty_body>& req) {
    auto sv = [](beast::string_view s) { return std::string_view(s.data(), s.size()); };
    std::vector<std::string_view> offered;
    auto [pb, pe] = req.equal_range(http::field::sec_websocket_protocol);
    for (auto it = pb; it != pe; ++it) offered.push_back(sv(it->value()));
    token_sources tokens;
    tokens.authorization = sv(req[http::field::authorization]);
    tokens.target = sv(req.target());
    auto [cb, ce] = req.equal_range(http::field::cookie);
    for (auto it = cb; it != ce; ++it) tokens.cookies.push_back(sv(it->value()));
    tokens.cookie_name = server().config.token_cookie;
    mutable_peer().subprotocol = std::string(select_subprotocol(offered));
    mutable_peer().bearer_token = bearer_token(tokens);
  }

  void accept(const http::request<http::empty_body>& req) {
    fill_peer(req);
    ws_.set_option(websocket::stream_base::decorator(
        [proto = peer().subprotocol](websocket::response_type& res) {
          res.set(http::field::server, std::string("stompbox/") + transport::version());
          if (!proto.empty()) res.set(http::field::sec_websocket_protocol, proto);
        }));
    ws_.read_message_max(server().config.max_message_bytes);
    ws_.auto_fragment(false);  // one outgoing = one WebSocket frame
    ws_.async_accept(req, [self = self()](const error_code& ec) {
      self->parser_.reset();
      if (ec) return self->handshake_failed(ec, "websocket accept");
      self->buffer_.clear();
      self->buffer_.shrink_to_fit();
      self->open_session();
      if (self->sockjs_) self->start_sockjs();
      self->do_read();
    });
  }

  // Cross-site WebSocket hijacking: a page elsewhere must not use the visitor's cookies here.
  bool origin_ok(const http::request<http::empty_body>& req) const {
    const auto origin = req[http::field::origin];
    const auto host = req[http::field::host];
    return origin_allowed({origin.data(), origin.size()}, {host.data(), host.size()},
                          server().config.allowed_origins, server().config.loopback_origins);
  }

  void refuse_origin(const http::request<http::empty_body>& req) {
    const auto origin = req[http::field::origin];
    const auto host = req[http::field::host];
    count_refusal(*shared_server(), refusal::origin, peer().remote,
                  origin_refusal_detail({origin.data(), origin.size()}, {host.data(), host.size()}));
    respond(http::status::forbidden, "origin not allowed\n");
  }

  void respond(http::status status, std::string body) {
    const auto& req = parser_->get();
    response_ = std::make_unique<http::response<http::string_body>>(status, req.version());
    response_->set(http::field::server, std::string("stompbox/") + transport::version());
    response_->set(http::field::content_type, "text/plain; charset=utf-8");
    response_->keep_alive(false);
    response_->body() = std::move(body);
    response_->prepare_payload();
    if (req.method() == http::verb::head) response_->body().clear();
    http::async_write(ws_.next_layer(), *response_,
                      [self = self()](const error_code& ec, std::size_t) {
                        if (ec) return self->handshake_failed(ec, "http write");
                        self->end_http();
                      });
  }

  void end_http() {
    if constexpr (is_tls) {
      ws_.next_layer().async_shutdown(
          [self = self()](const error_code&) { self->finish(broker::close_reason::normal); });
    } else {
      error_code ec;
      ws_.next_layer().shutdown(tcp::socket::shutdown_send, ec);
      finish(broker::close_reason::normal);
    }
  }

  // An idle connection waits for a message's first byte with a one-byte read, then reads the
  // rest: Beast's async_read would allocate about 1.5 KiB of buffer before any byte arrives,
  // and most connections are idle most of the time (docs/benchmarks.md, idle).
  void do_read() {
    if (!may_read()) return;  // closing, or paused by flow control (restart_read resumes)
    ws_.async_read_some(buffer_, 1, [self = self()](const error_code& ec, std::size_t) {
      if (ec || self->ws_.is_message_done()) return self->on_read(ec);
      self->ws_.async_read(self->buffer_,
                           [self](const error_code& e, std::size_t) { self->on_read(e); });
    });
  }

  void on_read(const error_code& ec) {
    if (ec == websocket::error::closed) {
      const bool clean = ws_.reason().code == websocket::close_code::normal;
      return on_read_error(ec, clean ? broker::close_reason::normal
                                     : broker::close_reason::peer_gone);
    }
    // Beast has already sent close 1009 for a message over read_message_max.
    if (ec == websocket::error::message_too_big) return finish(broker::close_reason::frame_too_large);
    if (ec) return on_read_error(ec, broker::close_reason::peer_gone);
    auto data = buffer_.cdata();
    const std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    if (!sockjs_) {
      deliver_read(bytes);
    } else if (std::vector<std::string> messages; sockjs_websocket::unwrap(bytes, messages)) {
      for (const auto& m : messages) deliver_read(m);
    } else {
      close(broker::close_reason::protocol_error);  // not SockJS JSON: sockjs-node closes too
    }
    // Give the buffer back after every message: idle connections hold no read buffer.
    buffer_.clear();
    buffer_.shrink_to_fit();
    do_read();
  }

  void restart_read() override { do_read(); }

  // Several queued STOMP frames go out as one WebSocket message (one header, one gathered
  // write) when the peer is behind: STOMP clients parse a message as a byte stream (stomp.js,
  // Spring's StompDecoder, stomp.py). SockJS frames stay one per message (its framing says so),
  // text and binary never mix, and a cap of 1 frame restores one frame per message.
  void start_write() override {
    buffers_.clear();
    const bool text = queue_.front().text;
    const std::size_t max_frames =
        sockjs_ ? 1 : std::max<std::size_t>(1, server().config.ws_frames_per_message);
    std::size_t bytes = 0;
    in_flight_ = 0;
    while (in_flight_ < queue_.size() && in_flight_ < max_frames && bytes < max_gather_bytes &&
           queue_[in_flight_].text == text) {
      const auto& f = queue_[in_flight_++];
      buffers_.emplace_back(f.head.data(), f.head.size());
      if (f.tail && !f.tail->empty()) buffers_.emplace_back(f.tail->data(), f.tail->size());
      bytes += f.size();
    }
    ws_.text(text);
    ws_.async_write(buffers_, [self = self()](const error_code& ec, std::size_t) {
      if (self->buffers_.capacity() > 64) self->buffers_ = {};
      self->on_write_done(ec);
    });
  }

  void start_shutdown() override {
    ws_.async_close(websocket::close_reason(close_code(reason())),
                    [self = self()](const error_code&) { self->finish(self->reason()); });
  }

  void cut() noexcept override {
    error_code ec;
    beast::get_lowest_layer(ws_).close(ec);
  }

  websocket::stream<Next> ws_;
  beast::flat_buffer buffer_;
  // Handshake only, so on the heap: an open connection holds neither.
  std::unique_ptr<request_parser> parser_;
  std::unique_ptr<http::response<http::string_body>> response_;  // page / 404 only
  std::unique_ptr<sockjs_websocket> sockjs_;  // SockJS framing ({prefix}/{s}/{id}/websocket)
  std::vector<net::const_buffer> buffers_;    // the gathered write in flight
};

}  // namespace

void start_ws_connection(tcp::socket socket, const std::shared_ptr<server_state>& server,
                         admission_ticket ticket, std::string remote) {
  std::shared_ptr<connection_base> c;
  if (server->tls) {
    c = std::make_shared<ws_connection<ssl::stream<tcp::socket>>>(
        std::move(socket), server, std::move(remote), *server->tls.current());
  } else {
    c = std::make_shared<ws_connection<ws_socket>>(std::move(socket), server, std::move(remote));
  }
  c->hold(std::move(ticket));
  c->start();
}

}  // namespace transport::detail
